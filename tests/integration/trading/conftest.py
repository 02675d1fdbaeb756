"""Shared fixtures for the trading tests: the Binance simulator on a background thread, the real
host process (frames over pipes, as Chrome runs it) with a simulator account activated, and a
bounded `eventually` poll. Nothing here sleeps blindly; every wait has a deadline.

The host wrapper keeps every frame it reads: the latest payload and `seq` of each topic (topics
carry full tables, so the latest push is the panel's state), the per-topic history, and the raw
bytes of every reply and event, so a module can assert at teardown that the API secret never
crossed the native port (and never reached the log file).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import select
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sidedesk_sim.binance import BinanceSim
from tests.hostproc import HostProcess

T = TypeVar("T")
D = Decimal
PASSWORD = "correct horse battery staple 9"
SMALL_KDF = {"memory_kib": 64, "iterations": 1, "lanes": 1}
TOPICS = ["status", "positions", "orders", "account", "quotes", "log", "asl"]
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"]
# No limit in a test's way unless the test sets one (restored by `Desk.reset_risk`).
OPEN_RISK: dict[str, Any] = {
    "max_order_notional": None,
    "max_position_notional": None,
    "max_orders_per_minute": 10_000,
    "confirm_above_notional": None,
}


def eventually(probe: Callable[[], T | None], timeout: float = 5.0, what: str = "condition") -> T:
    """Poll `probe` (every 20 ms) until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(0.02)


# -- the simulator ------------------------------------------------------------------------------------


class ControlError(AssertionError):
    def __init__(self, status: int, body: Any, what: str) -> None:
        super().__init__(f"{what} -> {status}: {body}")
        self.status = status
        self.body = body


class Sim:
    """`BinanceSim` on its own loop in a daemon thread; the test talks to it over HTTP only,
    except `on_loop`, used to read the engine's own figures where no endpoint shows them."""

    def __init__(self, seed: int = 7, *, calm: bool = True) -> None:
        self.seed = seed
        self.calm = calm
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="trading-sim", daemon=True)
        self.sim: BinanceSim | None = None

    def start(self) -> Sim:
        self._thread.start()
        self.sim = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self

    async def _start(self) -> BinanceSim:
        sim = await BinanceSim(seed=self.seed).start()
        if self.calm:  # prices move only where a test moves them: exact figures are knowable
            for symbol in sim.engine.instruments:
                sim.engine.set_volatility(symbol, D(0))
        return sim

    def stop(self) -> None:
        if self.sim is not None:
            asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(15)
        self.loop.close()

    @property
    def s(self) -> BinanceSim:
        assert self.sim is not None
        return self.sim

    @property
    def url(self) -> str:
        return self.s.rest_url

    def key(self, account: str = "main") -> dict[str, str]:
        return next(
            k for k in self.s.info()["keys"] if k["type"] == "hmac" and k.get("account", "main") == account
        )

    def on_loop(self, fn: Callable[[], T]) -> T:
        fut: Future[T] = Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return fut.result(10)

    # -- control plane (HTTP, like any outside tool) ----------------------------------------------
    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.s.control_url + path
        data = None
        if method == "GET" and body:
            url += "?" + urllib.parse.urlencode(body)
        elif body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ControlError(exc.code, exc.read().decode("utf-8", "replace"), f"{method} {path}") from None

    def price(self, symbol: str, price: str, mark: str | None = None) -> dict[str, Any]:
        body = {"symbol": symbol, "price": price}
        if mark is not None:
            body["mark"] = mark
        out: dict[str, Any] = self.control("POST", "/price", body)
        return out

    def market(self, symbol: str) -> dict[str, Any]:
        out: dict[str, Any] = self.control("GET", "/market", {"symbol": symbol})
        return out

    def open_orders(self, account: str = "main") -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = self.control("GET", "/orders", {"account": account})
        return out

    def order_log(self, account: str = "main") -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.control("GET", "/order-log", {"account": account})
        return out

    # -- the exchange's own REST endpoints (signed, as a second client of the same account) -------
    def rest(self, path: str, params: dict[str, Any] | None = None, account: str = "main") -> Any:
        key = self.key(account)
        q = {**(params or {}), "timestamp": self.s.now_ms(), "recvWindow": 5000}
        query = urllib.parse.urlencode(q)
        sig = hmac.new(key["secret"].encode(), query.encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(
            f"{self.url}{path}?{query}&signature={sig}", headers={"X-MBX-APIKEY": key["apiKey"]}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def positions(self, symbol: str | None = None, account: str = "main") -> list[dict[str, Any]]:
        """Open positions as /fapi/v3/positionRisk reports them."""
        rows: list[dict[str, Any]] = self.rest("/fapi/v3/positionRisk", account=account)
        return [r for r in rows if D(r["positionAmt"]) != 0 and symbol in (None, r["symbol"])]

    def leverage(self, symbol: str, account: str = "main") -> int:
        rows = self.rest("/fapi/v1/symbolConfig", {"symbol": symbol}, account=account)
        return int(rows[0]["leverage"])


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    s = Sim().start()
    try:
        yield s
    finally:
        s.stop()


# -- the host ---------------------------------------------------------------------------------------


class HostError(AssertionError):
    def __init__(self, type_: str, error: dict[str, Any]) -> None:
        super().__init__(f"{type_}: {error.get('code')}: {error.get('message')} {error.get('details')}")
        self.code = str(error.get("code"))
        self.message = str(error.get("message"))
        self.details: dict[str, Any] = error.get("details") or {}


@dataclass
class Push:
    seq: int
    payload: Any
    at: float  # time.monotonic() when the test read it
    snapshot: bool = False  # from a `subscribe` reply (same seq as the last push), not an event


def write_config(home: Path, sim_url: str | None, **extra: Any) -> None:
    config: dict[str, Any] = {
        "vault_kdf": SMALL_KDF,
        "watchlist": SYMBOLS,
        "risk": OPEN_RISK,
        "asl_enabled": False,
        **extra,
    }
    if sim_url is not None:
        config["simulators"] = {"binance": sim_url}
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")


class Desk(HostProcess):
    """The real host. Every frame read is recorded (raw bytes, per-topic history, latest)."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.raw: list[bytes] = []
        self.history: dict[str, list[Push]] = {}
        self.account_id = ""

    # -- frames ---------------------------------------------------------------------------------
    def read_wire(self, timeout: float = 10.0) -> bytes:
        body = super().read_wire(timeout)
        self.raw.append(body)
        return body

    def read_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        frame = super().read_frame(timeout)
        if frame.get("type") == "event":
            self.history.setdefault(frame["topic"], []).append(
                Push(int(frame["seq"]), frame["payload"], time.monotonic())
            )
        return frame

    def pump(self, seconds: float = 0.0) -> None:
        """Read every frame that arrives within `seconds` (at least what is already waiting)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + seconds
        while True:
            if not self._unpacked:  # events of a batch already read come first
                wait = max(0.0, deadline - time.monotonic())
                ready, _, _ = select.select([fd], [], [], wait)
                if not ready:
                    return
            frame = self.read_frame(5.0)
            if frame.get("type") != "event":
                self._buffered.append(frame)

    def until(self, probe: Callable[[], T | None], timeout: float = 5.0, what: str = "condition") -> T:
        """`eventually`, reading the host's pushes between probes."""

        def step() -> T | None:
            self.pump(0.02)
            return probe()

        return eventually(step, timeout, what)

    def latest(self, topic: str) -> Any:
        self.pump()
        pushes = self.history.get(topic)
        return pushes[-1].payload if pushes else None

    def pushes(self, topic: str) -> list[Push]:
        return list(self.history.get(topic, []))

    def forget(self) -> None:
        """Drop buffered event frames (their payloads are kept in `history`)."""
        self._buffered = [f for f in self._buffered if f.get("type") != "event"]

    # -- requests -------------------------------------------------------------------------------
    def reply(
        self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        out = self.request(type_, payload, timeout)
        self.forget()
        return out

    def call(
        self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        """The `ok` payload; an error reply raises `HostError`."""
        out = self.reply(type_, payload, timeout)
        if out.get("error") is not None:
            raise HostError(type_, out["error"])
        ok: dict[str, Any] = out.get("ok") or {}
        return ok

    def error(self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 20.0) -> HostError:
        """Send a request that must fail; returns the error."""
        out = self.reply(type_, payload, timeout)
        assert out.get("error") is not None, f"{type_} should have failed, got {out.get('ok')}"
        return HostError(type_, out["error"])

    def subscribe(self, *topics: str) -> dict[str, Any]:
        snaps = self.call("subscribe", {"topics": list(topics) or TOPICS})["snapshots"]
        for topic, snap in snaps.items():  # a snapshot is the panel's state as much as a push
            self.history.setdefault(topic, []).append(
                Push(int(snap["seq"]), snap["payload"], time.monotonic(), snapshot=True)
            )
        return {k: v["payload"] for k, v in snaps.items()}

    # -- setup ----------------------------------------------------------------------------------
    def create_vault(self) -> None:
        self.call("vault.create", {"password": PASSWORD})

    def put_account(self, key: dict[str, str], name: str = "sim", environment: str = "simulator") -> str:
        entry = {"broker": "binance", "name": name, "environment": environment, "auth": "hmac",
                 "api_key": key["apiKey"], "secret": key["secret"]}  # fmt: skip
        return str(self.call("vault.put", {"entry": entry})["entry"]["id"])

    def activate(self, account_id: str) -> dict[str, Any]:
        row = self.call("accounts.activate", {"account_id": account_id}, timeout=30)
        self.account_id = account_id
        return row

    def wait_marks(self, symbols: list[str], timeout: float = 10.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            self.pump(0.02)
            quotes = (self.latest("quotes") or {}).get("quotes", {})
            return quotes if all(quotes.get(s, {}).get("mark") for s in symbols) else None

        return eventually(probe, timeout, f"marks of {symbols}")

    def wait_mark(self, symbol: str, mark: str, timeout: float = 5.0) -> None:
        """Until the host's quote for `symbol` carries this mark (orders are sized against it)."""

        def probe() -> bool:
            self.pump(0.02)
            q = (self.latest("quotes") or {}).get("quotes", {}).get(symbol, {})
            return q.get("mark") is not None and D(q["mark"]) == D(mark)

        eventually(probe, timeout, f"{symbol} mark {mark} in the quotes topic")

    def set_risk(self, **limits: Any) -> dict[str, Any]:
        out: dict[str, Any] = self.call("risk.set", {"limits": {**OPEN_RISK, **limits}})["limits"]
        return out

    def reset_risk(self) -> None:
        self.set_risk()

    # -- trading shortcuts --------------------------------------------------------------------------
    def place(self, **ticket: Any) -> dict[str, Any]:
        source = ticket.pop("source", "panel")
        confirmed = ticket.pop("confirmed", False)
        return self.call("order.place", {"ticket": ticket, "source": source, "confirmed": confirmed})

    def position(self, symbol: str, side: str = "BOTH") -> dict[str, Any] | None:
        rows = (self.latest("positions") or {}).get("positions", [])
        return next((p for p in rows if p["symbol"] == symbol and p["position_side"] == side), None)

    def open_orders(self, symbol: str) -> list[dict[str, Any]]:
        return [o for o in (self.latest("orders") or {}).get("orders", []) if o["symbol"] == symbol]

    # -- lifecycle ----------------------------------------------------------------------------------
    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def assert_no_secret(self, secret: str) -> None:
        """The API secret is in no reply, no event and no log line."""
        self.pump()
        leaks = [b[:200] for b in self.raw if secret.encode() in b]
        assert not leaks, f"the API secret crossed the native port: {leaks[:2]}"
        logs = sorted((self.home / "logs").glob("*"))
        assert any(p.name == "host.log" for p in logs), "the host wrote no log file"
        for path in logs:
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), f"secret in {path.name}"


def start_desk(home: Path, sim: Sim | None, *, account: str = "main", **config: Any) -> Desk:
    """A host with a vault holding the simulator's HMAC key for `account`, activated and
    subscribed to every topic, with marks for the watchlist."""
    home.mkdir(parents=True, exist_ok=True)
    write_config(home, sim.url if sim is not None else None, **config)
    desk = Desk(home)
    try:
        desk.create_vault()
        if sim is not None:
            account_id = desk.put_account(sim.key(account))
            desk.activate(account_id)
            desk.subscribe(*TOPICS)
            desk.wait_marks(config.get("watchlist", SYMBOLS))
    except BaseException:
        desk.stop()
        raise
    return desk


@pytest.fixture(scope="module")
def desk(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """One host per module, trading the simulator's `main` account (ASL off; risk wide open)."""
    d = start_desk(tmp_path_factory.mktemp("home"), sim)
    try:
        yield d
        d.assert_no_secret(sim.key()["secret"])
    finally:
        d.stop()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
