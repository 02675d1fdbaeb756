"""Fault injection for the simulator (armed through the control plane). Pure bookkeeping.

Each fault fires `count` times and then disarms. Targets name a WS API method (`order.place`), a REST
route (`POST /fapi/v1/order`), a connection kind (`ws-api`, `public`, `market`, `private`, `legacy`,
`stream` = any stream connection) or `*` for anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal[
    "drop_after_frames",  # close a connection abruptly after it has sent N more frames
    "drop_at_method",  # close the WS API connection when this method arrives (not executed)
    "delay",  # hold the reply (or user events, target "user_events") for `ms`
    "lose_reply",  # execute, then answer 503 "unknown" instead of the real reply
    "duplicate_user_events",  # send each of the next N user events twice
    "reorder_user_events",  # swap each of the next N pairs of consecutive user events
]
KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]
STREAM_KINDS = frozenset({"public", "market", "private", "legacy"})


@dataclass
class Fault:
    kind: FaultKind
    target: str = "*"
    count: int = 1
    frames: int = 0  # drop_after_frames
    ms: int = 0  # delay
    status: int = 503  # lose_reply
    id: int = 0

    def matches(self, target: str) -> bool:
        if self.target in ("*", target):
            return True
        return self.target == "stream" and target in STREAM_KINDS

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Faults:
    active: list[Fault] = field(default_factory=list)
    _next_id: int = 1

    def arm(self, spec: dict[str, Any]) -> Fault:
        """Validate and arm a fault from its JSON description; raises ValueError on bad input."""
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        target = spec.get("target", "*")
        count = spec.get("count", 1)
        frames = spec.get("frames", 0)
        ms = spec.get("ms", 0)
        status = spec.get("status", 503)
        for name, value in (("count", count), ("frames", frames), ("ms", ms), ("status", status)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        if not isinstance(target, str) or not target:
            raise ValueError("target must be a non-empty string")
        if count < 1:
            raise ValueError("count must be ≥ 1")
        if kind == "drop_after_frames" and frames < 1:
            raise ValueError("drop_after_frames needs frames ≥ 1")
        if kind == "delay" and ms < 1:
            raise ValueError("delay needs ms ≥ 1")
        if kind == "lose_reply" and not 500 <= status <= 599:
            raise ValueError("lose_reply status must be 5xx")
        fault = Fault(kind, target, count, frames, ms, status, self._next_id)
        self._next_id += 1
        self.active.append(fault)
        return fault

    def take(self, kind: str, target: str) -> Fault | None:
        """The first armed fault of `kind` for `target`; consumes one of its `count`."""
        for f in self.active:
            if f.kind == kind and f.matches(target):
                f.count -= 1
                if f.count <= 0:
                    self.active.remove(f)
                return f
        return None

    def peek(self, kind: str, target: str) -> Fault | None:
        return next((f for f in self.active if f.kind == kind and f.matches(target)), None)

    def clear(self) -> None:
        self.active.clear()

    def transform_user_events(self, frames: list[str]) -> list[str]:
        """Apply duplicate / reorder faults to one account's outgoing user events (in order)."""
        out: list[str] = []
        i = 0
        while i < len(frames):
            if i + 1 < len(frames) and self.take("reorder_user_events", "user_events") is not None:
                out.extend([frames[i + 1], frames[i]])
                i += 2
                continue
            out.append(frames[i])
            if self.take("duplicate_user_events", "user_events") is not None:
                out.append(frames[i])
            i += 1
        return out
