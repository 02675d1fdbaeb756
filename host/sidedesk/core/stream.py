"""Topics, per-topic sequence numbers and coalescing of high-frequency pushes.

`Coalescer` is pure: it decides, given the clock, whether a push goes out now or waits, and
keeps only the latest value of a waiting topic. `Stream` is the thin shell that owns the
subscriptions, the snapshot providers and the timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sidedesk.api.wire import TOPICS, batch, event

log = logging.getLogger(__name__)

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


SnapshotFn = Callable[[], Any]


class Stream:
    """Publishes topic updates to the one native port, with sequence numbers and coalescing."""

    def __init__(self, send: Callable[[dict[str, Any]], None], clock: Callable[[], float]) -> None:
        self._send = send
        self._clock = clock
        self.coalescer = Coalescer()
        self.subscribed: set[str] = set()
        self.seq: dict[str, int] = dict.fromkeys(TOPICS, 0)
        self.pushes: dict[str, int] = dict.fromkeys(TOPICS, 0)
        self._snapshots: dict[str, SnapshotFn] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self.send_errors = 0
        self.batches = 0
        self._recent: dict[str, deque[float]] = {t: deque(maxlen=512) for t in TOPICS}

    def provide_snapshot(self, topic: str, fn: SnapshotFn) -> None:
        self._snapshots[topic] = fn

    def snapshot(self, topic: str) -> Any:
        fn = self._snapshots.get(topic)
        return fn() if fn is not None else None

    def subscribe(self, topics: list[str]) -> dict[str, dict[str, Any]]:
        """Subscribe and return `{topic: {"seq", "payload"}}`; deltas continue from that seq."""
        out = {}
        for topic in topics:
            self.subscribed.add(topic)
            self.coalescer.drop(topic)  # the snapshot supersedes anything waiting
            out[topic] = {"seq": self.seq[topic], "payload": self.snapshot(topic)}
        return out

    def unsubscribe(self, topics: list[str]) -> None:
        for topic in topics:
            self.subscribed.discard(topic)
            self.coalescer.drop(topic)

    def publish(self, topic: str, payload: Any) -> None:
        """`payload` may be a zero-argument callable: it is built only when a push goes out, so a
        coalesced topic at tick rate costs one payload per push, not one per tick."""
        if topic not in self.subscribed:
            return
        if self.coalescer.offer(topic, payload, self._clock()):
            self._push(topic, payload)
        else:
            self._arm_timer()

    def _event(self, topic: str, payload: Any) -> dict[str, Any] | None:
        """Number one push and build its frame. The sequence number moves first, so a push that
        fails to go out shows as a gap on the panel (which then asks for a snapshot)."""
        self.seq[topic] += 1
        self.pushes[topic] += 1
        self._recent[topic].append(self._clock())
        try:
            return event(topic, self.seq[topic], payload() if callable(payload) else payload)
        except Exception:
            self.send_errors += 1
            log.exception("building the %s payload failed", topic)
            return None

    def _emit(self, frame: dict[str, Any], what: str) -> None:
        try:
            self._send(frame)
        except Exception as exc:  # a closed pipe or a payload JSON cannot carry
            self.send_errors += 1
            log.warning("push of %s failed: %s", what, exc)

    def _push(self, topic: str, payload: Any) -> None:
        ev = self._event(topic, payload)
        if ev is not None:
            self._emit(ev, f"{topic} (seq {ev['seq']})")

    def _arm_timer(self) -> None:
        deadline = self.coalescer.next_deadline()
        if deadline is None:
            return
        if self._timer is not None:
            if self._timer_at <= deadline:
                return
            self._timer.cancel()  # a topic became due sooner than the armed flush
        loop = asyncio.get_running_loop()
        delay = max(0.0, deadline - self._clock())
        self._timer_at = deadline
        self._timer = loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        """Push every topic whose slot has come; a burst of several goes out as one `batch`
        frame (`{"type": "batch", "events": [...]}`), each event keeping its own seq."""
        self._timer = None
        events = [
            ev
            for topic, payload in self.coalescer.due(self._clock())
            if topic in self.subscribed and (ev := self._event(topic, payload)) is not None
        ]
        if len(events) == 1:
            self._emit(events[0], f"{events[0]['topic']} (seq {events[0]['seq']})")
        elif events:
            self.batches += 1
            self._emit(batch(events), f"a batch of {len(events)}")
        self._arm_timer()

    def rates(self, window_s: float = 10.0) -> dict[str, float]:
        """Pushes per second per topic over the last `window_s` seconds."""
        since = self._clock() - window_s
        return {t: round(sum(1 for x in q if x >= since) / window_s, 2) for t, q in self._recent.items()}

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
