"""Pre-trade risk checks: per-order notional cap, per-symbol position cap, orders-per-minute cap, and a
confirmation threshold. Pure: numbers in, a decision out.

Orders that only reduce exposure (reduce-only closes, flatten, protective stops) are always allowed:
a risk limit must never stop a trader from getting out. Above the confirmation threshold an order
from the panel or a hotkey is not sent until the trader confirms it (the extension asks in the
panel and on the minimised bar, then sends it again with `confirmed`); ASL's own orders never ask.
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
    """None disables a check. Notionals are in the instrument's quote currency (USDT, USD, ...), the
    contract multiplier included (1 MES at 6 000 is 30 000 USD)."""

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
    threshold = limits.confirm_above_notional
    if threshold is not None and order_notional > threshold and source != "asl" and not confirmed:
        return RiskDecision(
            "confirm",
            f"order value {_m(order_notional)} {quote} is above the confirmation threshold of "
            f"{_m(threshold)} {quote}: confirm to send",
            "confirm",
        )
    return RiskDecision("allow")
