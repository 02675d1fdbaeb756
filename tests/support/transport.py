"""A native transport with no panel behind it: the services are driven directly, as a handler
would call them (what `runtime.Host` needs of a transport, and nothing more)."""

from __future__ import annotations

from typing import Any

from sidedesk.native.transport import Counters


class NullTransport:
    def __init__(self) -> None:
        self.counters = Counters()

    def write_body(self, body: bytes) -> None:
        pass

    def start_reader(self, loop: Any, deliver: Any) -> None:
        return None
