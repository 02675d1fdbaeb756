"""Drive the real host process against the Binance simulator for the ASL integration tests.

`SimThread` runs the simulator on its own event loop in a background thread and talks to its
`/_sim/` control plane over HTTP like any outside tool. `Desk` is one host process (frames over
pipes, as Chrome runs it) that keeps every pushed `asl` and `log` event. Every wait is a bounded
poll (`eventually`).
"""

from __future__ import annotations

import asyncio
import json
import select
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sidedesk_sim.binance.sim import BinanceSim
from tests.hostproc import HostProcess

T = TypeVar("T")
ACCOUNT = "main"  # the simulator account of its built-in key
PASSWORD = "correct horse battery staple 9"
SMALL_KDF = {"memory_kib": 64, "iterations": 1, "lanes": 1}
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"]
TOPICS = ["asl", "log", "quotes", "positions"]


class ControlError(AssertionError):
    pass


def eventually(probe: Callable[[], T | None], timeout: float, what: str, every: float = 0.02) -> T:
    """Poll `probe` until it returns something truthy (returned); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(every)


class SimThread:
    """The simulator on a background event loop; `control()` is its HTTP control plane."""

    def __init__(self, seed: int = 7) -> None:
        self.sim = BinanceSim(seed=seed)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="asl-sim", daemon=True)

    def start(self) -> SimThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sim.start(), self.loop).result(15)
        for symbol in SYMBOLS:  # prices move only where a test puts them
            self.control("POST", "/volatility", {"symbol": symbol, "volatility": 0})
        return self

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(15)
            self.loop.close()

    @property
    def rest_url(self) -> str:
        return self.sim.rest_url

    def key(self) -> dict[str, str]:
        keys = self.sim.info()["keys"]
        key: dict[str, str] = next(k for k in keys if k.get("account") == ACCOUNT and k.get("type") == "hmac")
        return key

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control-plane call; a 4xx/5xx raises with the simulator's message."""
        url = self.sim.control_url + path
        data = None
        if method == "GET" and body:
            url += "?" + "&".join(f"{k}={v}" for k, v in body.items())
        elif body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            body_text = exc.read().decode(errors="replace")
            raise ControlError(f"{method} {path} -> {exc.code}: {body_text}") from None

    # -- shortcuts ------------------------------------------------------------------------------
    def price(self, symbol: str, price: Decimal | str) -> None:
        self.control("POST", "/price", {"symbol": symbol, "price": str(price)})

    def order_log(self, symbol: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.control("GET", "/order-log", {"account": ACCOUNT})
        return [r for r in rows if symbol is None or r["symbol"] == symbol]

    def algos(self, symbol: str) -> list[dict[str, Any]]:
        """Open algo (conditional) orders of the account for `symbol`, as Binance's REST shows them."""
        rows = self.control("GET", "/orders", {"account": ACCOUNT})["algoOrders"]
        return [a for a in rows if a["symbol"] == symbol]

    def cancel_algo(self, client_algo_id: str) -> None:
        self.control("POST", "/cancel", {"account": ACCOUNT, "clientAlgoId": client_algo_id})


class HostError(AssertionError):
    def __init__(self, type_: str, error: dict[str, Any]) -> None:
        super().__init__(f"{type_}: {error.get('code')}: {error.get('message')} {error.get('details')}")
        self.code = str(error.get("code"))
        self.message = str(error.get("message"))
        self.details = error.get("details")


def write_config(home: Path, sim_url: str, **extra: Any) -> None:
    config = {
        "vault_kdf": SMALL_KDF,
        "simulators": {"binance": sim_url},
        "watchlist": SYMBOLS,
        "risk": {"confirm_above_notional": None, "max_orders_per_minute": 10_000},
        **extra,
    }
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")


class Desk(HostProcess):
    """One host process that keeps every pushed `asl` and `log` event, in order."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.asl: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self.marks: dict[str, Decimal] = {}

    # -- frames ---------------------------------------------------------------------------------
    def _keep(self, frame: dict[str, Any]) -> None:
        if frame.get("type") != "event":
            self._buffered.append(frame)
            return
        topic, payload = frame.get("topic"), frame.get("payload")
        if topic == "asl" and isinstance(payload, dict) and "transition" in payload:
            self.asl.append(payload)
        elif topic == "log" and isinstance(payload, dict):
            self.logs.append(payload)
        elif topic == "quotes" and isinstance(payload, dict):
            for symbol, q in payload.get("quotes", {}).items():
                if q.get("mark"):
                    self.marks[symbol] = Decimal(q["mark"])

    def pump(self) -> None:
        """Take every frame the host has written so far (never blocks on an idle pipe)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while select.select([fd], [], [], 0)[0]:
            self._keep(self.read_frame(10.0))

    def call(
        self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        """The reply's `ok` payload; an error reply raises `HostError` (code, message, details)."""
        reply = self.request(type_, payload, timeout)
        frames, self._buffered = self._buffered, []
        for frame in frames:
            self._keep(frame)
        if reply.get("error") is not None:
            raise HostError(type_, reply["error"])
        ok: dict[str, Any] = reply.get("ok") or {}
        return ok

    # -- setup ----------------------------------------------------------------------------------
    def create_account(self, api_key: str, secret: str) -> str:
        self.call("vault.create", {"password": PASSWORD})
        entry = {
            "broker": "binance",
            "name": "sim",
            "environment": "simulator",
            "auth": "hmac",
            "api_key": api_key,
            "secret": secret,
        }
        return str(self.call("vault.put", {"entry": entry})["entry"]["id"])

    def subscribe(self) -> dict[str, Any]:
        snaps = self.call("subscribe", {"topics": TOPICS})["snapshots"]
        return {k: v["payload"] for k, v in snaps.items()}

    def wait_mark(self, symbol: str, timeout: float = 10.0) -> Decimal:
        def probe() -> Decimal | None:
            self.pump()
            return self.marks.get(symbol)

        return eventually(probe, timeout, f"a {symbol} mark from the host")

    def wait_mark_at(self, symbol: str, price: Decimal, timeout: float = 10.0) -> None:
        """Until the host's quotes show `symbol`'s mark at `price` (it saw the move)."""

        def probe() -> bool:
            self.pump()
            return self.marks.get(symbol) == price

        eventually(probe, timeout, f"the host to see {symbol} mark {price}")

    # -- asl events -----------------------------------------------------------------------------
    def asl_for(self, symbol: str) -> list[dict[str, Any]]:
        self.pump()
        return [e for e in self.asl if e["symbol"] == symbol]

    def wait_asl(
        self, symbol: str, pred: Callable[[dict[str, Any]], bool], timeout: float, what: str, since: int = 0
    ) -> dict[str, Any]:
        """The first `asl` event for `symbol` (from index `since` of its events) matching `pred`."""

        def probe() -> dict[str, Any] | None:
            return next((e for e in self.asl_for(symbol)[since:] if pred(e)), None)

        return eventually(probe, timeout, what)

    def logs_matching(self, text: str) -> list[str]:
        self.pump()
        return [str(e.get("message", "")) for e in self.logs if text in str(e.get("message", ""))]


def start_desk(sim: SimThread, home: Path, **config: Any) -> tuple[Desk, str]:
    """A host on `home` with the simulator's account active; returns it and the account id."""
    write_config(home, sim.rest_url, **config)
    desk = Desk(home)
    try:
        key = sim.key()
        account_id = desk.create_account(key["apiKey"], key["secret"])
        desk.call("accounts.activate", {"account_id": account_id}, timeout=30)
        desk.subscribe()
        for symbol in SYMBOLS:
            desk.wait_mark(symbol)
    except BaseException:
        desk.stop()
        raise
    return desk, account_id


# -- trading helpers ---------------------------------------------------------------------------

TICKS = {
    "BTCUSDT": Decimal("0.10"),
    "ETHUSDT": Decimal("0.01"),
    "SOLUSDT": Decimal("0.0100"),
    "BNBUSDT": Decimal("0.010"),
    "XRPUSDT": Decimal("0.0001"),
    "DOGEUSDT": Decimal("0.000010"),
}


def to_tick(price: Decimal, symbol: str, rounding: str) -> Decimal:
    tick = TICKS[symbol]
    return (price / tick).to_integral_value(rounding=rounding) * tick


def pct_from(entry: Decimal, pct: str, symbol: str) -> Decimal:
    """`entry` moved by `pct` percent (signed), on the symbol's tick."""
    return to_tick(entry * (1 + Decimal(pct) / 100), symbol, "ROUND_HALF_EVEN")


def is_confirmed(tag: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["transition"] == "confirmed" and e["stop_tag"] == tag


def open_position(desk: Desk, symbol: str, side: str, quantity: str, **ticket: Any) -> dict[str, Any]:
    """Market order through the host; returns the `asl` event of the confirmed hard stop."""
    n0 = len(desk.asl_for(symbol))
    order = {"symbol": symbol, "side": side, "type": "MARKET", "quantity": quantity, **ticket}
    desk.call("order.place", {"ticket": order})
    return desk.wait_asl(symbol, is_confirmed("0"), 5, f"{symbol}: hard stop confirmed", since=n0)


def only_algo(sim: SimThread, symbol: str, timeout: float = 5.0, not_id: str | None = None) -> dict[str, Any]:
    """The one open algo order of `symbol` (waits until exactly one, other than `not_id`, is open)."""

    def probe() -> dict[str, Any] | None:
        algos = sim.algos(symbol)
        if len(algos) == 1 and algos[0]["clientAlgoId"] != not_id:
            return algos[0]
        return None

    return eventually(probe, timeout, f"exactly one open {symbol} algo order")


def shape(algo: dict[str, Any]) -> tuple[str, str, bool, bool]:
    """(type, side, reduce-only, close-position) of an open algo order."""
    return (algo["orderType"], algo["side"], algo["reduceOnly"], algo["closePosition"])


def algo_rows(sim: SimThread, symbol: str, since: int = 0) -> list[tuple[str, str, str, str]]:
    """(clientAlgoId, type, side, status) of the symbol's algo rows in the order log, from `since`."""
    return [
        (r["clientAlgoId"], r["type"], r["side"], r["status"])
        for r in sim.order_log(symbol)[since:]
        if r["kind"] == "algo"
    ]
