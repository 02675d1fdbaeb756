"""Coalescing of high-frequency pushes, as a pure value: given the clock, does a push go out
now or wait, keeping only the latest value of a waiting topic. The shell that owns the
subscriptions, sequence numbers and the timer is `api/stream.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Topics whose updates may arrive at tick rate; at most 1/interval pushes per second each.
DEFAULT_MIN_INTERVAL = {"quotes": 0.1, "positions": 0.1, "account": 0.1, "status": 0.1}


@dataclass
class Coalescer:
    min_interval: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIN_INTERVAL))
    _last_sent: dict[str, float] = field(default_factory=dict)
    _pending: dict[str, Any] = field(default_factory=dict)
    offered: int = 0
    sent: int = 0

    def offer(self, topic: str, payload: Any, now: float) -> bool:
        """True: send `payload` now. False: it replaced any waiting value and waits for `due`."""
        self.offered += 1
        gap = self.min_interval.get(topic, 0.0)
        last = self._last_sent.get(topic)
        if topic not in self._pending and (last is None or now - last >= gap):
            self._last_sent[topic] = now
            self.sent += 1
            return True
        self._pending[topic] = payload
        return False

    def next_deadline(self) -> float | None:
        times = [self._last_sent.get(t, 0.0) + self.min_interval.get(t, 0.0) for t in self._pending]
        return min(times) if times else None

    def due(self, now: float) -> list[tuple[str, Any]]:
        out = []
        for topic in list(self._pending):
            if now - self._last_sent.get(topic, 0.0) >= self.min_interval.get(topic, 0.0):
                out.append((topic, self._pending.pop(topic)))
                self._last_sent[topic] = now
                self.sent += 1
        return out

    def drop(self, topic: str) -> None:
        self._pending.pop(topic, None)
