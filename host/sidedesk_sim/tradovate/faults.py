"""Fault injection for the Tradovate simulator, armed through the control plane. Pure bookkeeping.

Each fault fires `count` times, then disarms. `target` is an endpoint in lower case
(`order/placeorder`), `auth` for `auth/accesstokenrequest`, a socket kind (`trading`, `md`) or `*`.
Penalty tickets are armed on `Auth` (they carry their own state).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal[
    "reject",  # answer an order endpoint with failureReason/failureText (nothing executes)
    "http_429",  # REST: HTTP 429 with an empty body; WS: {"s":429,"i":id} (nothing executes)
    "lose_reply",  # WS: execute the request, then close the socket instead of answering
    "mute_heartbeat",  # the next `count` sockets of `target` kind never send `h`
]
KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]
FAILURE_REASONS = frozenset(
    {
        "AccountClosed",
        "AdvancedTrailingStopUnsupported",
        "AnotherCommandPending",
        "BackMonthProhibited",
        "ExecutionProviderNotConfigured",
        "ExecutionProviderUnavailable",
        "InvalidContract",
        "InvalidPrice",
        "LiquidationOnly",
        "LiquidationOnlyBeforeExpiration",
        "MaxOrderQtyIsNotSpecified",
        "MaxOrderQtyLimitReached",
        "MaxPosLimitMisconfigured",
        "MaxPosLimitReached",
        "MaxTotalPosLimitReached",
        "MultipleAccountPlanRequired",
        "NoQuote",
        "NotEnoughLiquidity",
        "OtherExecutionRelated",
        "ParentRejected",
        "RiskCheckTimeout",
        "SessionClosed",
        "TooLate",
        "TradingLocked",
        "TrailingStopNonOrderQtyModify",
        "Unauthorized",
        "UnknownReason",
        "Unsupported",
    }
)


@dataclass
class Fault:
    kind: FaultKind
    target: str = "*"
    count: int = 1
    reason: str = "UnknownReason"
    text: str = "Rejected by the simulator"
    id: int = 0

    def matches(self, target: str) -> bool:
        return self.target in ("*", target)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Faults:
    active: list[Fault] = field(default_factory=list)
    _next_id: int = 1

    def arm(self, spec: dict[str, Any]) -> Fault:
        """Validate and arm a fault; raises ValueError (changing nothing) on bad input."""
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        target = spec.get("target", "*")
        count = spec.get("count", 1)
        reason = spec.get("failureReason", "UnknownReason")
        text = spec.get("failureText", "Rejected by the simulator")
        if not isinstance(target, str) or not target:
            raise ValueError("target must be a non-empty string")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be an integer ≥ 1")
        if reason not in FAILURE_REASONS:
            raise ValueError(f"failureReason {reason!r} is not a Tradovate FailureReason")
        if not isinstance(text, str):
            raise ValueError("failureText must be a string")
        fault = Fault(kind, target.lower(), count, reason, text, self._next_id)
        self._next_id += 1
        self.active.append(fault)
        return fault

    def take(self, kind: str, target: str) -> Fault | None:
        """The first armed fault of `kind` for `target`, consuming one of its `count`."""
        for f in self.active:
            if f.kind == kind and f.matches(target):
                f.count -= 1
                if f.count <= 0:
                    self.active.remove(f)
                return f
        return None

    def clear(self) -> None:
        self.active.clear()
