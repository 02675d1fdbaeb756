"""The real host process set up for the Binance simulator: settings file, vault with one simulator
account, activation, topic snapshots, `kill -9` and restart. Frames over pipes, as Chrome does it.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.hostproc import HostProcess

T = TypeVar("T")
SMALL_KDF = {"memory_kib": 64, "iterations": 1, "lanes": 1}
PASSWORD = "correct horse battery staple 9"
TOPICS = ["status", "positions", "orders", "account", "log"]
# No risk limit gets in a scripted trader's way (the sizes are tiny anyway).
RISK = {"confirm_above_notional": None, "max_orders_per_minute": 10_000}


class HostError(AssertionError):
    def __init__(self, type_: str, error: dict[str, Any]) -> None:
        super().__init__(f"{type_}: {error.get('code')}: {error.get('message')}")
        self.code = str(error.get("code"))
        self.message = str(error.get("message"))
        self.details = error.get("details")


def write_config(home: Path, sim_url: str, **extra: Any) -> None:
    config = {
        "vault_kdf": SMALL_KDF,
        "simulators": {"binance": sim_url},
        "watchlist": ["BTCUSDT", "ETHUSDT"],
        "risk": RISK,
        "status_interval_s": 1.0,
        **extra,
    }
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")


def wait_until(probe: Callable[[], T | None], timeout: float, what: str, every: float = 0.05) -> T:
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


class Desk(HostProcess):
    """One host process. `events` keeps every pushed `log` event (the corrections it explains)."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.logs: list[dict[str, Any]] = []

    # -- requests -----------------------------------------------------------------------------------
    def call(
        self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        """The reply's `ok` payload; an error reply raises `HostError` (code, message)."""
        reply = self.request(type_, payload, timeout)
        self._keep_logs()
        if "error" in reply and reply["error"] is not None:
            raise HostError(type_, reply["error"])
        ok: dict[str, Any] = reply.get("ok") or {}
        return ok

    def _keep_logs(self) -> None:
        """Drop buffered pushes (snapshots are asked for explicitly) but keep the `log` events."""
        for frame in self._buffered:
            if frame.get("type") == "event" and frame.get("topic") == "log":
                self.logs.append(frame["payload"])
        self._buffered.clear()

    def topics(self, *names: str) -> dict[str, Any]:
        """Fresh snapshots of these topics (what a panel that opens now would show)."""
        snaps = self.call("subscribe", {"topics": list(names) or TOPICS})["snapshots"]
        return {k: v["payload"] for k, v in snaps.items()}

    # -- setup -------------------------------------------------------------------------------------
    def create_account(self, api_key: str, secret: str, name: str = "sim") -> str:
        self.call("vault.create", {"password": PASSWORD})
        entry = {"broker": "binance", "name": name, "environment": "simulator", "auth": "hmac",
                 "api_key": api_key, "secret": secret}  # fmt: skip
        return str(self.call("vault.put", {"entry": entry})["entry"]["id"])

    def activate(self, account_id: str) -> dict[str, Any]:
        row = self.call("accounts.activate", {"account_id": account_id}, timeout=30)
        self.topics(*TOPICS)
        return row

    def unlock(self) -> None:
        """After a restart: unlocking reconnects the account the trader last used."""
        self.call("vault.unlock", {"password": PASSWORD})

    def broker_state(self) -> dict[str, Any]:
        brokers = self.topics("status")["status"]["brokers"]
        return brokers[0] if brokers else {}

    def wait_connected(self, timeout: float = 15.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            b = self.broker_state()
            return b if b.get("state") == "live" else None

        return wait_until(probe, timeout, "live")

    # -- trading -----------------------------------------------------------------------------------
    def market(self, side: str, qty: str, symbol: str = "BTCUSDT", **kw: Any) -> dict[str, Any]:
        ticket = {"symbol": symbol, "side": side, "type": "MARKET", "quantity": qty, **kw}
        return self.call("order.place", {"ticket": ticket})

    def limit(self, side: str, qty: str, price: str, symbol: str = "BTCUSDT") -> dict[str, Any]:
        ticket = {"symbol": symbol, "side": side, "type": "LIMIT", "quantity": qty, "price": price}
        return self.call("order.place", {"ticket": ticket})

    # -- lifecycle -----------------------------------------------------------------------------------
    def kill9(self) -> None:
        """What a crash (or Chrome's SIGKILL) does: no shutdown hook runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
