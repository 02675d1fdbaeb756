"""Time sync with the exchange (binance.md §3.2): signed requests carry our idea of server time.

Each sample is (local send time, server time, local receive time); the server read its clock about
half-way through the round trip, so offset = server − midpoint. The median of several samples
rejects the odd slow round trip. A resync is due periodically and whenever the exchange says the
timestamp was outside the recvWindow (-1021). `ClockSync` is pure; `sync` is the small async shell.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Sample:
    sent_ms: float
    server_ms: int
    received_ms: float

    @property
    def rtt_ms(self) -> float:
        return self.received_ms - self.sent_ms

    @property
    def offset_ms(self) -> float:
        return self.server_ms - (self.sent_ms + self.received_ms) / 2


@dataclass
class ClockSync:
    resync_every_ms: float = 15 * 60_000  # drift of a PC clock stays far below recvWindow in 15 min
    max_rtt_ms: float = 5_000  # a sample slower than this says more about the network than the clock
    offset_ms: float = 0.0
    synced_at_ms: float | None = None
    stale: bool = True
    last_rtt_ms: float | None = None
    _samples: list[Sample] = field(default_factory=list)

    def add_samples(self, samples: list[Sample], now_ms: float) -> bool:
        """Adopt the median offset of the usable samples; False (state unchanged) if none is usable."""
        good = [s for s in samples if 0 <= s.rtt_ms <= self.max_rtt_ms]
        if not good:
            return False
        self._samples = good
        self.offset_ms = statistics.median(s.offset_ms for s in good)
        self.last_rtt_ms = statistics.median(s.rtt_ms for s in good)
        self.synced_at_ms = now_ms
        self.stale = False
        return True

    def server_now_ms(self, local_ms: float) -> int:
        return int(local_ms + self.offset_ms)

    def mark_stale(self) -> None:
        """The exchange rejected a timestamp (-1021): sync again before the next signed request."""
        self.stale = True

    def needs_resync(self, now_ms: float) -> bool:
        return self.stale or self.synced_at_ms is None or now_ms - self.synced_at_ms >= self.resync_every_ms


def local_ms() -> float:
    return time.time() * 1000


async def sync(
    clock: ClockSync,
    fetch_server_ms: Callable[[], Awaitable[int]],
    *,
    samples: int = 5,
    now: Callable[[], float] = local_ms,
) -> bool:
    """Take `samples` round trips to the exchange's time endpoint and update `clock`."""
    taken: list[Sample] = []
    for _ in range(samples):
        sent = now()
        server = await fetch_server_ms()
        taken.append(Sample(sent, server, now()))
    return clock.add_samples(taken, now())
