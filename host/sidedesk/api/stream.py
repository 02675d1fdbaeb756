"""The push stream to a panel: topics, per-topic sequence numbers, snapshots on subscribe, and
coalesced pushes (the pure decision is `core/coalesce.py`; this is its timer-driven shell)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from sidedesk.api.wire import TOPICS, batch, event
from sidedesk.core.coalesce import Coalescer

log = logging.getLogger(__name__)

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
        self.hub: Hub | None = None

    def provide_snapshot(self, topic: str, fn: SnapshotFn) -> None:
        self._snapshots[topic] = fn

    def snapshot(self, topic: str) -> Any:
        fn = self._snapshots.get(topic) or (self.hub.providers.get(topic) if self.hub is not None else None)
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


class Hub:
    """Every panel's stream, and the topics' snapshot providers they share: the services publish
    here once, and each attached stream (one per native session) numbers and coalesces its own."""

    def __init__(self) -> None:
        self.streams: list[Stream] = []
        self.providers: dict[str, SnapshotFn] = {}

    def attach(self, stream: Stream) -> None:
        stream.hub = self
        self.streams.append(stream)

    def detach(self, stream: Stream) -> None:
        if stream in self.streams:
            self.streams.remove(stream)
        stream.close()

    def provide_snapshot(self, topic: str, fn: SnapshotFn) -> None:
        self.providers[topic] = fn

    def publish(self, topic: str, payload: Any) -> None:
        for stream in self.streams:
            stream.publish(topic, payload)
