"""A seeded random scenario: the scripted trader's actions interleaved with injected faults. Pure.

The same seed always gives the same plan, so a failing scenario is replayed with its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

ACTIONS = ("open", "open", "open", "limit", "cancel", "close", "cancel_all", "flatten", "price")
# "Drops at every protocol step": the WS API methods the host uses, each can lose its connection.
DROP_METHODS = (
    "order.place",
    "order.cancel",
    "algoOrder.place",
    "algoOrder.cancel",
    "order.status",
    "v2/account.position",
    "v2/account.balance",
    "userDataStream.start",
)
LOSE_METHODS = ("order.place", "algoOrder.place", "order.cancel", "algoOrder.cancel")
ROUTES = ("*", "ws-api", "private", "market", "public", "stream")
FAULTS = (
    "drop_at_method",
    "drop_after_frames",
    "disconnect",
    "lose_reply",
    "duplicate_events",
    "reorder_events",
    "delay_events",
    "clock_skew",
    "rate_limit",
    "listenkey_expiry",
    "rotation",
    "host_kill",
)
SYMBOLS = {"BTCUSDT": ("0.002", "0.003", "0.005"), "ETHUSDT": ("0.02", "0.05", "0.1")}


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # an action or a fault
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def is_fault(self) -> bool:
        return self.kind in FAULTS


def action(rng: random.Random) -> Step:
    kind = rng.choice(ACTIONS)
    symbol = rng.choice(sorted(SYMBOLS))
    if kind in ("open", "limit"):
        return Step(
            kind, {"symbol": symbol, "side": rng.choice(("BUY", "SELL")), "qty": rng.choice(SYMBOLS[symbol])}
        )
    if kind == "close":
        return Step(kind, {"symbol": symbol, "fraction": rng.choice(("0.5", "1"))})
    if kind == "price":
        return Step(kind, {"symbol": symbol, "move_bp": rng.choice((-40, -15, 15, 40))})
    if kind == "cancel":
        return Step(kind, {"pick": rng.random()})
    return Step(kind)


def fault(rng: random.Random, kind: str) -> Step:
    if kind == "drop_at_method":
        return Step(kind, {"method": rng.choice(DROP_METHODS)})
    if kind == "drop_after_frames":
        return Step(
            kind,
            {"target": rng.choice(("ws-api", "private", "market", "public")), "frames": rng.randint(1, 4)},
        )
    if kind == "disconnect":
        return Step(kind, {"target": rng.choice(ROUTES)})
    if kind == "lose_reply":
        return Step(kind, {"method": rng.choice(LOSE_METHODS)})
    if kind in ("duplicate_events", "reorder_events"):
        return Step(kind, {"count": rng.randint(1, 6)})
    if kind == "delay_events":
        return Step(kind, {"ms": rng.choice((50, 200, 600))})
    if kind == "clock_skew":
        return Step(kind, {"ms": rng.choice((-9000, -6000, 7000, 15000))})
    if kind == "rate_limit":
        return Step(kind, {"status": rng.choice((429, 418)), "ban_ms": rng.choice((300, 700))})
    return Step(kind)


def plan(seed: int, steps: int = 10, faults: tuple[str, ...] = FAULTS) -> list[Step]:
    """About a third faults (drawn from `faults`); each is followed by actions that run into it.
    At most one host kill per scenario."""
    rng = random.Random(seed)
    out: list[Step] = [
        Step("open", {"symbol": "BTCUSDT", "side": rng.choice(("BUY", "SELL")), "qty": "0.003"})
    ]
    killed = False
    while len(out) < steps:
        if rng.random() < 0.4:
            kind = rng.choice(faults)
            if kind == "host_kill" and killed:
                kind = "lose_reply"
            killed |= kind == "host_kill"
            out.append(fault(rng, kind))
            out.append(action(rng))
        out.append(action(rng))
    out.append(Step("flatten") if rng.random() < 0.3 else action(rng))
    return out
