"""The real host process set up for the Binance simulator: settings file, vault with one simulator
account, activation, topic snapshots, `kill -9` and restart. Frames over pipes, as Chrome does it.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tests.support import services
from tests.support.config import PASSWORD, SMALL_KDF
from tests.support.config import write_config as write_settings
from tests.support.hostproc import HostError, HostProcess
from tests.support.wait import eventually

__all__ = ["PASSWORD", "SMALL_KDF", "Desk", "HostError", "write_config"]

TOPICS = ["status", "positions", "orders", "account", "log"]
# No risk limit gets in a scripted trader's way (the sizes are tiny anyway).
RISK = {"confirm_above_notional": None, "max_orders_per_minute": 10_000}


def write_config(home: Path, sim_url: str, **extra: Any) -> None:
    """The host's settings for the simulator at `sim_url` (`extra` adds or overrides settings)."""
    write_settings(
        home,
        {
            "vault_kdf": SMALL_KDF,
            "simulators": {"binance": sim_url},
            "watchlist": ["BTCUSDT", "ETHUSDT"],
            "risk": RISK,
            "status_interval_s": 1.0,
            **extra,
        },
    )


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

    def wait_connected(self, timeout: float = 30.0) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            b = self.broker_state()
            return b if b.get("state") == "live" else None

        return eventually(probe, timeout, "live", every=0.05)

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
        services.crash(self.home)  # the service holds the host's state: it crashes too
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
