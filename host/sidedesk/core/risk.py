"""Pre-trade risk checks: per-order notional cap, per-symbol position cap, orders-per-minute cap, and a
confirmation threshold. Pure: numbers in, a decision out.

Orders that only reduce exposure (reduce-only closes, flatten, protective stops) are always allowed:
a risk limit must never stop a trader from getting out. A hotkey above the confirmation threshold is
refused (a keystroke cannot show a dialog); the panel asks instead.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Action = Literal["allow", "confirm", "refuse"]
Source = Literal["panel", "hotkey", "asl"]


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """None disables a check. Notionals are in the instrument's quote currency (USDT, USD, ...)."""

    max_order_notional: Decimal | None = None
    max_position_notional: Decimal | None = None  # per symbol, |position| after the order
    max_orders_per_minute: int | None = None
    confirm_above_notional: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("max_order_notional", "max_position_notional", "confirm_above_notional"):
            v = getattr(self, name)
            if v is not None and (not v.is_finite() or v <= 0):
                raise ValueError(f"{name} must be a positive amount or unset")
        if self.max_orders_per_minute is not None and self.max_orders_per_minute <= 0:
            raise ValueError("max_orders_per_minute must be a positive whole number or unset")


@dataclass(frozen=True, slots=True)
class RiskDecision:
    action: Action
    reason: str = ""
    limit: str = ""  # which limit decided, for the UI: "order_notional", "position", "rate", "confirm"


@dataclass
class OrderRate:
    """Timestamps of recent new orders (sliding 60 s window)."""

    window_ms: int = 60_000
    _times: deque[int] = field(default_factory=deque)

    def count(self, now_ms: int) -> int:
        while self._times and now_ms - self._times[0] >= self.window_ms:
            self._times.popleft()
        return len(self._times)

    def record(self, now_ms: int) -> None:
        self._times.append(now_ms)


def _m(d: Decimal) -> str:
    return f"{d.quantize(Decimal('0.01')):f}"


def evaluate(
    limits: RiskLimits,
    *,
    order_notional: Decimal,
    position_notional_after: Decimal,
    reduces_only: bool,
    source: Source,
    orders_last_minute: int,
    quote: str,
    confirmed: bool = False,
) -> RiskDecision:
    """Decide on one new order. `position_notional_after` is |position + order| × price for the symbol."""
    if reduces_only:
        return RiskDecision("allow", "reduces exposure")
    if limits.max_orders_per_minute is not None and orders_last_minute >= limits.max_orders_per_minute:
        return RiskDecision(
            "refuse",
            f"{orders_last_minute} orders in the last minute reach the limit of "
            f"{limits.max_orders_per_minute}; wait a moment or raise the limit in Setup",
            "rate",
        )
    if limits.max_order_notional is not None and order_notional > limits.max_order_notional:
        return RiskDecision(
            "refuse",
            f"order value {_m(order_notional)} {quote} is above the per-order cap of "
            f"{_m(limits.max_order_notional)} {quote}",
            "order_notional",
        )
    if limits.max_position_notional is not None and position_notional_after > limits.max_position_notional:
        return RiskDecision(
            "refuse",
            f"the position would be worth {_m(position_notional_after)} {quote}, above the per-symbol cap of "
            f"{_m(limits.max_position_notional)} {quote}",
            "position",
        )
    if limits.confirm_above_notional is not None and order_notional > limits.confirm_above_notional:
        if source == "hotkey":
            return RiskDecision(
                "refuse",
                f"order value {_m(order_notional)} {quote} is above the confirmation threshold of "
                f"{_m(limits.confirm_above_notional)} {quote}; place it from the panel",
                "confirm",
            )
        if source == "panel" and not confirmed:
            return RiskDecision(
                "confirm",
                f"order value {_m(order_notional)} {quote} is above "
                f"{_m(limits.confirm_above_notional)} {quote}: confirm to send",
                "confirm",
            )
    return RiskDecision("allow")
