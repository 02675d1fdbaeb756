"""Orders as the core sees them: sides, types, statuses, one request and the exchange's answer.

All prices and quantities are `Decimal`; quantities are unsigned and direction is `side`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class PositionSide(StrEnum):
    BOTH = "BOTH"  # one-way mode
    LONG = "LONG"
    SHORT = "SHORT"


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"

    @property
    def is_conditional(self) -> bool:
        return self not in (OrderType.MARKET, OrderType.LIMIT)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"  # post-only
    DAY = "DAY"


class WorkingType(StrEnum):
    MARK_PRICE = "MARK_PRICE"
    CONTRACT_PRICE = "CONTRACT_PRICE"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    TRIGGERED = "TRIGGERED"  # a conditional order fired and became a regular order
    UNKNOWN = "UNKNOWN"  # the reply was lost; reconciling by client id

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)

    @property
    def is_final(self) -> bool:
        return self in (
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
            OrderStatus.TRIGGERED,
        )


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order as the core wants it; adapters translate it to their wire form."""

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    client_id: str
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    reduce_only: bool = False
    position_side: PositionSide = PositionSide.BOTH
    working_type: WorkingType = WorkingType.MARK_PRICE
    callback_rate_pct: Decimal | None = None
    activation_price: Decimal | None = None
    price_protect: bool = False
    # closes the whole position: where the venue has a route that closes a position and cancels
    # its working orders in one command (Tradovate's liquidatePosition, Volumetrica's
    # FLAT_CANCEL), the adapter sends it there so the venue itself takes the position's stops
    # down with it (issue #21)
    closes_position: bool = False


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The exchange's synchronous answer to place/cancel/modify."""

    order_id: str
    client_id: str
    status: OrderStatus
    filled: Decimal = Decimal(0)
    avg_price: Decimal | None = None
    is_conditional: bool = False
    update_time_ms: int = 0
    # time.perf_counter_ns() when this request's frame was handed to the socket (0: unknown);
    # the host reports intent-in -> frame-out latency from it
    sent_ns: int = 0
