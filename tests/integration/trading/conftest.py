"""Shared fixtures for the trading tests: the Binance simulator on a background thread, the real
host process (frames over pipes, as Chrome runs it) with a simulator account activated, and a
bounded `eventually` poll (tests.support.wait). Nothing here sleeps blindly; every wait has a deadline.

The host wrapper keeps every frame it reads: the latest payload and `seq` of each topic (topics
carry full tables, so the latest push is the panel's state), the per-topic history, and the raw
bytes of every reply and event, so a module can assert at teardown that the API secret never
crossed the native port (and never reached the log file).
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support import services
from tests.support.config import PASSWORD, SMALL_KDF
from tests.support.config import write_config as write_settings
from tests.support.hostproc import READ_S, HostError, HostProcess
from tests.support.simthread import BinanceSimThread, ControlError
from tests.support.wait import WAIT_S, eventually

__all__ = ["PASSWORD", "SMALL_KDF", "ControlError", "HostError", "Sim", "eventually"]

T = TypeVar("T")
D = Decimal
TOPICS = ["status", "positions", "orders", "account", "quotes", "log", "asl"]
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"]
# No limit in a test's way unless the test sets one (restored by `Desk.reset_risk`).
OPEN_RISK: dict[str, Any] = {
    "max_order_notional": None,
    "max_position_notional": None,
    "max_orders_per_minute": 10_000,
    "confirm_above_notional": None,
}

# The Binance simulator on its own thread; the tests talk to it over HTTP (and `on_loop` reads the
# engine's own figures where no endpoint shows them).
Sim = BinanceSimThread


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    s = Sim(seed=7).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(autouse=True)
def _each_test_starts_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module shares one simulator (and often one host): every test starts on a flat account
    (no position, no order: the exchange wipes it and the module's `desk` sees it) with the
    simulator's faults, skew, limits and bans back to normal, whatever the tests before it did."""
    if "sim" in request.fixturenames:
        sim: Sim = request.getfixturevalue("sim")
        sim.reset()
        eventually(sim.wipe, what="the shared account flat on the exchange")
        if "desk" in request.fixturenames:
            desk: Desk = request.getfixturevalue("desk")
            desk.reset_risk()
            desk.until(lambda: desk.flat(), what="the host's books flat")
    yield


# -- the host ---------------------------------------------------------------------------------------


@dataclass
class Push:
    seq: int
    payload: Any
    at: float  # time.monotonic() when the test read it
    snapshot: bool = False  # from a `subscribe` reply (same seq as the last push), not an event


def write_config(home: Path, sim_url: str | None, **extra: Any) -> None:
    """The host's settings for the simulator at `sim_url` (None: no simulator); `extra` overrides."""
    config: dict[str, Any] = {
        "vault_kdf": SMALL_KDF,
        "watchlist": SYMBOLS,
        "risk": OPEN_RISK,
        "asl_enabled": False,
        **extra,
    }
    if sim_url is not None:
        config["simulators"] = {"binance": sim_url}
    write_settings(home, config)


class Desk(HostProcess):
    """The real host. Every frame read is recorded (raw bytes, per-topic history, latest)."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.raw: list[bytes] = []
        self.history: dict[str, list[Push]] = {}
        self.account_id = ""

    # -- frames ---------------------------------------------------------------------------------
    def read_wire(self, timeout: float = READ_S) -> bytes:
        body = super().read_wire(timeout)
        self.raw.append(body)
        return body

    def read_frame(self, timeout: float = READ_S) -> dict[str, Any]:
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

    def until(self, probe: Callable[[], T | None], timeout: float = WAIT_S, what: str = "condition") -> T:
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

    def wait_marks(self, symbols: list[str], timeout: float = WAIT_S) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            self.pump(0.02)
            quotes = (self.latest("quotes") or {}).get("quotes", {})
            return quotes if all(quotes.get(s, {}).get("mark") for s in symbols) else None

        return eventually(probe, timeout, f"marks of {symbols}")

    def wait_mark(self, symbol: str, mark: str, timeout: float = WAIT_S) -> None:
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

    def flat(self) -> bool:
        """No position and no open order in the host's topics."""
        return not (self.latest("positions") or {}).get("positions") and not (
            self.latest("orders") or {}
        ).get("orders")

    def open_orders(self, symbol: str) -> list[dict[str, Any]]:
        return [o for o in (self.latest("orders") or {}).get("orders", []) if o["symbol"] == symbol]

    # -- lifecycle ----------------------------------------------------------------------------------
    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        services.crash(self.home)  # the service holds the host's state: it crashes too
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
