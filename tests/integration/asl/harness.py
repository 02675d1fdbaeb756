"""Drive the real host process against the Binance simulator for the ASL integration tests.

`SimThread` runs the simulator on its own event loop in a background thread and talks to its
`/_sim/` control plane over HTTP like any outside tool (tests/support/simthread.py). `Desk` is one
host process (frames over pipes, as Chrome runs it) that keeps every pushed `asl` and `log` event.
Every wait is a bounded poll (`eventually`, tests/support/wait.py).
"""

from __future__ import annotations

import select
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.config import PASSWORD, SMALL_KDF
from tests.support.config import write_config as write_settings
from tests.support.hostproc import HostError, HostProcess
from tests.support.simthread import BinanceSimThread, ControlError
from tests.support.wait import WAIT_S, eventually

__all__ = ["PASSWORD", "SMALL_KDF", "ControlError", "HostError", "eventually"]

ACCOUNT = "main"  # the simulator account of its built-in key
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"]
TOPICS = ["asl", "log", "quotes", "positions"]


class SimThread(BinanceSimThread):
    """The simulator on a background event loop, trading the built-in key's account (`main`)."""

    def __init__(self, seed: int = 7) -> None:
        super().__init__(seed)

    def start(self) -> SimThread:
        super().start()
        return self


def write_config(home: Path, sim_url: str, **extra: Any) -> None:
    """The host's settings for the simulator at `sim_url` (`extra` adds or overrides settings)."""
    write_settings(
        home,
        {
            "vault_kdf": SMALL_KDF,
            "simulators": {"binance": sim_url},
            "watchlist": SYMBOLS,
            "risk": {"confirm_above_notional": None, "max_orders_per_minute": 10_000},
            **extra,
        },
    )


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
        """Every topic; the snapshots count like events (a quote that came before the
        subscription is only in its snapshot)."""
        snaps = self.call("subscribe", {"topics": TOPICS})["snapshots"]
        out = {k: v["payload"] for k, v in snaps.items()}
        for topic, payload in out.items():
            if topic in ("quotes", "positions"):
                self._keep({"type": "event", "topic": topic, "payload": payload})
        return out

    def wait_mark(self, symbol: str, timeout: float = WAIT_S) -> Decimal:
        def probe() -> Decimal | None:
            self.pump()
            return self.marks.get(symbol)

        return eventually(probe, timeout, f"a {symbol} mark from the host")

    def wait_mark_at(self, symbol: str, price: Decimal, timeout: float = WAIT_S) -> None:
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


def start_desk(
    sim: SimThread, home: Path, *, sim_account: str | None = None, **config: Any
) -> tuple[Desk, str]:
    """A host on `home` with the simulator's account active (the built-in one, or a new account
    named `sim_account` that no other test trades); returns it and the account id."""
    write_config(home, sim.rest_url, **config)
    desk = Desk(home)
    try:
        key = sim.new_account(sim_account) if sim_account is not None else sim.key()
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
    return desk.wait_asl(symbol, is_confirmed("0"), WAIT_S, f"{symbol}: hard stop confirmed", since=n0)


def only_algo(
    sim: SimThread, symbol: str, timeout: float = WAIT_S, not_id: str | None = None, account: str = "main"
) -> dict[str, Any]:
    """The one open algo order of `symbol` (waits until exactly one, other than `not_id`, is open)."""

    def probe() -> dict[str, Any] | None:
        algos = sim.algos(symbol, account)
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
        for r in sim.order_log(symbol=symbol)[since:]
        if r["kind"] == "algo"
    ]
