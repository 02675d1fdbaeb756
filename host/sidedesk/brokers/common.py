"""Small pieces every adapter shares: how a socket's state reads as an account's, and handing
events to the host without letting a consumer's bug break the connection."""

from __future__ import annotations

import logging

from sidedesk.domain import BrokerEvent, ConnectionState, EventSink

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
