"""The broker-neutral interface: what every adapter implements and the events core code sees.

Core code (orders, positions, ASL, stream) only ever handles the types in this module; each
adapter translates its wire protocol into them. All prices, quantities and money are `Decimal`.
Quantities are unsigned; direction is `side` for orders and fills, and the sign of
`PositionEvent.quantity` (+ long, - short) for positions in one-way mode. In hedge mode each
position side is its own position (`position_side` LONG/SHORT) and its quantity is still signed
(+ for LONG, - for SHORT) so sums over sides give the net exposure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from sidedesk.api.errors import ErrorCode


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


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"
    AUTH_FAILED = "auth_failed"  # credentials revoked/expired: stop, do not retry in a loop


@dataclass(frozen=True, slots=True)
class Capabilities:
    native_trailing_stop: bool
    hedge_mode: bool
    reduce_only: bool
    modify_order: bool
    # conditional orders are held apart from regular ones (Binance's algo orders)
    separate_conditional_orders: bool
    fractional_quantity: bool
    # trailing callback bounds in percent, where the broker has native trailing stops
    min_callback_pct: Decimal | None = None
    max_callback_pct: Decimal | None = None
    quantity_unit: str = "base"  # "base" (coins), "contracts", "shares"


@dataclass(frozen=True, slots=True)
class InstrumentRules:
    """Everything pre-flight validation needs about one symbol (from exchangeInfo or equivalent)."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step_size: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    price_precision: int
    quantity_precision: int
    min_price: Decimal = Decimal(0)
    max_price: Decimal = Decimal(0)  # 0 = no limit
    percent_up: Decimal | None = None  # PERCENT_PRICE multiplierUp
    percent_down: Decimal | None = None
    max_num_orders: int | None = None
    max_num_algo_orders: int | None = None
    contract_multiplier: Decimal = Decimal(1)  # value of a 1.0 price move per unit of quantity
    trading: bool = True


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


class BrokerError(Exception):
    """A broker said no (or could not be asked). `code` is a host API error code."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        broker_code: int | str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.broker_code = broker_code
        self.retry_after_s = retry_after_s


# -- normalised events ------------------------------------------------------------------------


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


@runtime_checkable
class Broker(Protocol):
    """One connected broker account. Events go to the sink given at construction."""

    broker: str  # "binance", "tradovate", ...
    account_id: str
    capabilities: Capabilities

    async def connect(self) -> None:
        """Open every connection, sync time, load instruments, start streams; raise BrokerError."""
        ...

    async def close(self) -> None: ...

    def instruments(self) -> dict[str, InstrumentRules]: ...

    async def place(self, order: OrderRequest) -> OrderAck: ...

    async def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_id: str | None = None,
        conditional: bool = False,
    ) -> OrderAck: ...

    async def modify(
        self, symbol: str, order_id: str, *, quantity: Decimal, price: Decimal, side: Side
    ) -> OrderAck: ...

    async def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel every open order (regular and conditional), for one symbol or all; returns the count."""
        ...

    async def lookup(self, symbol: str, client_id: str, *, conditional: bool = False) -> OrderEvent | None:
        """Find an order by client id (resolves unknown outcomes); None if the exchange never saw it."""
        ...

    async def snapshot(self) -> AccountSnapshot: ...

    async def set_leverage(self, symbol: str, leverage: int) -> None: ...

    async def subscribe_quotes(self, symbols: list[str]) -> None: ...


@dataclass
class EventLog:
    """A small in-memory sink for tests and tools that want to read what an adapter emitted."""

    events: list[BrokerEvent] = field(default_factory=list)

    def __call__(self, event: BrokerEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[BrokerEvent]) -> list[BrokerEvent]:
        return [e for e in self.events if isinstance(e, kind)]
