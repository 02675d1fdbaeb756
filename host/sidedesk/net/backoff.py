"""Reconnect timing: exponential back-off with full jitter, and sleep/wake detection. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """delay(n) = U(0, min(cap, base * 2**n)): full jitter spreads a fleet of reconnects out
    (AWS architecture blog, "Exponential Backoff and Jitter"), so a server restart is not
    followed by every client arriving in the same instant."""

    base_s: float = 0.5
    cap_s: float = 30.0
    max_attempts: int | None = None  # None: retry for as long as the account is active

    def ceiling(self, attempt: int) -> float:
        return min(self.cap_s, self.base_s * float(2 ** min(attempt, 32)))

    def delay(self, attempt: int, rand: float) -> float:
        """`attempt` counts failures so far (0 for the first retry); `rand` is uniform in [0, 1)."""
        return rand * self.ceiling(attempt)

    def exhausted(self, attempt: int) -> bool:
        return self.max_attempts is not None and attempt >= self.max_attempts


@dataclass(slots=True)
class WakeDetector:
    """A monotonic clock stops while the machine sleeps and the wall clock does not, so a wall
    gap much larger than the monotonic gap between two ticks means we just woke up: every
    connection is then presumed dead and reconnected at once instead of waiting for a timeout."""

    threshold_s: float = 5.0
    _last_wall: float | None = None
    _last_mono: float | None = None

    def tick(self, wall: float, mono: float) -> bool:
        woke = False
        if self._last_wall is not None and self._last_mono is not None:
            woke = (wall - self._last_wall) - (mono - self._last_mono) > self.threshold_s
        self._last_wall, self._last_mono = wall, mono
        return woke
