"""Normalised broker events: what every adapter emits and core code consumes.

Core code (orders, positions, ASL, stream) only ever handles the types in this module; each
adapter translates its wire protocol into them. All prices, quantities and money are `Decimal`.
Quantities are unsigned; direction is `side` for orders and fills, and the sign of
`PositionEvent.quantity` (+ long, - short) for positions in one-way mode. In hedge mode each
position side is its own position (`position_side` LONG/SHORT) and its quantity is still signed
(+ for LONG, - for SHORT) so sums over sides give the net exposure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sidedesk.domain.orders import OrderStatus, OrderType, PositionSide, Side, TimeInForce, WorkingType


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"
    AUTH_FAILED = "auth_failed"  # credentials revoked/expired: stop, do not retry in a loop


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    account_id: str
    state: ConnectionState
    attempt: int = 0
    detail: str = ""
    next_retry_s: float | None = None
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class OrderEvent:
    account_id: str
    symbol: str
    order_id: str
    client_id: str
    side: Side
    type: OrderType
    status: OrderStatus
    quantity: Decimal
    filled: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    avg_price: Decimal | None = None
    reduce_only: bool = False
    close_position: bool = False
    position_side: PositionSide = PositionSide.BOTH
    time_in_force: TimeInForce | None = None
    is_conditional: bool = False  # an algo/conditional order still waiting for its trigger
    callback_rate_pct: Decimal | None = None
    activation_price: Decimal | None = None
    working_type: WorkingType | None = None
    triggered_order_id: str | None = None  # the regular order a conditional one became
    reject_reason: str | None = None
    update_time_ms: int = 0
    event_time_ms: int = 0

    @property
    def dedup_key(self) -> tuple[str, str, str, Decimal, int]:
        # DESIGN: duplicates and out-of-order events change nothing (id + status + filled + time)
        return (self.order_id, self.status.value, str(self.is_conditional), self.filled, self.update_time_ms)


@dataclass(frozen=True, slots=True)
class FillEvent:
    account_id: str
    symbol: str
    order_id: str
    client_id: str
    trade_id: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    position_side: PositionSide = PositionSide.BOTH
    realized_pnl: Decimal | None = None  # as the exchange reports it, if it does
    is_maker: bool = False
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """The exchange's view of one position (snapshot or update); quantity signed, 0 = flat."""

    account_id: str
    symbol: str
    position_side: PositionSide
    quantity: Decimal
    entry_price: Decimal
    unrealized_pnl: Decimal | None = None
    break_even_price: Decimal | None = None
    mark_price: Decimal | None = None
    liquidation_price: Decimal | None = None
    leverage: int | None = None
    margin: Decimal | None = None
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class BalanceEvent:
    account_id: str
    asset: str
    wallet_balance: Decimal
    available: Decimal | None = None
    equity: Decimal | None = None  # wallet + unrealized, where the broker reports it
    margin_used: Decimal | None = None
    reason: str = ""
    ts_ms: int = 0


@dataclass(frozen=True, slots=True)
class QuoteEvent:
    symbol: str
    bid: Decimal | None = None
    ask: Decimal | None = None
    mark: Decimal | None = None
    last: Decimal | None = None
    ts_ms: int = 0
    account_id: str = ""  # empty: market data shared by every account of the broker


@dataclass(frozen=True, slots=True)
class NoticeEvent:
    """A message from the broker meant for the trader (e.g. Volumetrica's LogMsg): shown in the
    panel's log, journaled, never acted on."""

    account_id: str
    message: str
    level: str = "info"  # info | warning | error
    ts_ms: int = 0


BrokerEvent = (
    ConnectionEvent | OrderEvent | FillEvent | PositionEvent | BalanceEvent | QuoteEvent | NoticeEvent
)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The exchange's full state for reconciliation after every (re)connect."""

    account_id: str
    balances: tuple[BalanceEvent, ...]
    positions: tuple[PositionEvent, ...]
    open_orders: tuple[OrderEvent, ...]  # regular and conditional (is_conditional=True)
    hedge_mode: bool = False
    # when the snapshot was *started* (exchange or wall ms): anything that changed after it is
    # newer than the snapshot and must survive it (an order placed while it was being read)
    ts_ms: int = 0


EventSink = Callable[[BrokerEvent], None]
