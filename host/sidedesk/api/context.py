"""What a handler is given: the connection it answers (`Session`) and the services it may use.

No handler reaches for a host object: each names the service it needs from `Services`, which
the composition root (`sidedesk/main.py`) builds once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sidedesk.api.stream import Stream
    from sidedesk.app.books import Books
    from sidedesk.app.entry import OrderEntry
    from sidedesk.app.links import AccountLinks
    from sidedesk.app.notices import Notices
    from sidedesk.app.protection import ProtectionService
    from sidedesk.app.recorder import Recorder
    from sidedesk.app.settings import Settings
    from sidedesk.app.status import Status
    from sidedesk.localstream.service import LocalStream
    from sidedesk.vault.service import VaultService


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Metrics:
    errors: int = 0
    handler_us: deque[float] = field(default_factory=lambda: deque(maxlen=2048))
    native_rtt_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))


class Counters(Protocol):
    frames_in: int
    frames_out: int
    bytes_in: int
    bytes_out: int
    bad_frames: int


class Session(Protocol):
    """One connection to a panel: its push stream and its own figures."""

    stream: Stream
    metrics: Metrics
    started: float

    def clock(self) -> float: ...

    @property
    def counters(self) -> Counters: ...

    def capabilities(self) -> list[str]: ...

    def vault_state(self) -> str: ...


@dataclass(frozen=True)
class Services:
    settings: Settings
    vault: VaultService
    books: Books
    links: AccountLinks
    entry: OrderEntry
    protection: ProtectionService
    status: Status
    notices: Notices
    localstream: LocalStream
    recorder: Recorder

    async def close(self) -> None:
        """Stop in the order that loses nothing: engines, then links, then the journal."""
        await self.protection.close()
        await self.links.close()
        self.entry.close()
        await self.localstream.stop()
        self.recorder.close()
        self.vault.lock()


@dataclass(frozen=True)
class Ctx:
    session: Session
    services_fn: Callable[[], Services]

    @property
    def services(self) -> Services:
        """Built on first use (after `hello`), so the first reply never waits for them."""
        return self.services_fn()
