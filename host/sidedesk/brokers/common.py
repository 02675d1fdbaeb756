"""Small pieces every adapter shares: how a socket's state reads as an account's, handing events to
the host without letting a consumer's bug break the connection, and the host settings a broker's
config is built from besides its vault entry."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sidedesk.domain import BrokerError, BrokerEvent, ConnectionState, EventSink

log = logging.getLogger(__name__)

# net.ws.ResilientWebSocket states -> the neutral connection state
WS_STATES: dict[str, ConnectionState] = {
    "connecting": ConnectionState.CONNECTING,
    "connected": ConnectionState.CONNECTED,
    "reconnecting": ConnectionState.RECONNECTING,
    "stopped": ConnectionState.DISCONNECTED,
    "gave_up": ConnectionState.DISCONNECTED,
    "auth_failed": ConnectionState.AUTH_FAILED,
}


def safe_emit(sink: EventSink, ev: BrokerEvent) -> None:
    try:
        sink(ev)
    except Exception:  # a consumer bug must not break the connection
        log.exception("event sink failed for %s", type(ev).__name__)


@dataclass(frozen=True, slots=True)
class Settings:
    """Host settings beyond the vault entry. Simulator accounts get their URLs from here
    (`simulators.binance` = the simulator's base URL, e.g. `http://127.0.0.1:8765`), so a vault
    entry never carries a machine-specific address."""

    simulators: Mapping[str, str] = field(default_factory=dict)
    volumetrica_contracts: Mapping[str, int] = field(default_factory=dict)

    def simulator(self, broker: str, start: str) -> str:
        """The configured simulator base URL for `broker`; `start` says how to run one."""
        base = self.simulators.get(broker)
        if not base:
            raise BrokerError(
                "invalid",
                f"this account points at the simulator, but no simulator is configured for {broker} "
                f"(start one with {start})",
            )
        return base


def origin(base: str) -> tuple[str, str]:
    """`http://127.0.0.1:PORT` -> ("http://127.0.0.1:PORT", "ws://127.0.0.1:PORT")."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BrokerError("invalid", f"simulator URL {base!r} must look like http://127.0.0.1:PORT")
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"
