"""Value types of the engine: order requests, order/algo state, views, events, outcomes.

`Order` and `AlgoOrder` are mutable inside the engine; everything the engine hands out (query
results, event payloads, `Outcome.order`) is a *copy*, so callers may keep it.
Times are epoch milliseconds. Money, prices and quantities are `Decimal`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from .enums import (
    AccountUpdateReason,
    AlgoStatus,
    ExecType,
    ExpireReason,
    OrderStatus,
    OrderType,
    PositionSide,
    RejectReason,
    Side,
    TimeInForce,
    WorkingType,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class OrderSpec:
    """A new order as a front-end parsed it (already filter-checked by the front-end).

    - `quantity`: required unless `close_position`.
    - `price`: LIMIT, STOP, TAKE_PROFIT.
    - `stop_price`: the trigger price of STOP/STOP_MARKET/TAKE_PROFIT/TAKE_PROFIT_MARKET.
    - `time_in_force`: None = GTC for limit-like orders; ignored for market-like orders.
    - `position_side`: BOTH in one-way mode (default), LONG/SHORT required in hedge mode.
    - `reduce_only`: one-way mode only (hedge mode rejects it: REDUCE_ONLY_NOT_ALLOWED).
    - `close_position`: STOP_MARKET/TAKE_PROFIT_MARKET only, without quantity; closes the whole
      position at trigger time, expires when that position is gone.
    - `activation_price`/`callback_rate` (percent, 1 = 1 %): TRAILING_STOP_MARKET only.
    - `client_id`: None = the engine generates a 22-character id.
    """

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    reduce_only: bool = False
    close_position: bool = False
    position_side: PositionSide = PositionSide.BOTH
    working_type: WorkingType = WorkingType.CONTRACT_PRICE
    activation_price: Decimal | None = None
    callback_rate: Decimal | None = None
    price_protect: bool = False
    client_id: str | None = None


@dataclass
class Order:
    """A regular (matching-engine) order. `type` is LIMIT or MARKET; `orig_type` is the type the
    client asked for (differs when the order came from a triggered algo order, e.g. STOP_MARKET)."""

    order_id: int
    client_id: str
    account_id: str
    symbol: str
    side: Side
    type: OrderType
    orig_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    price: Decimal  # 0 for MARKET
    position_side: PositionSide
    reduce_only: bool
    close_position: bool
    working_type: WorkingType
    price_protect: bool
    create_ms: int
    update_ms: int
    stop_price: Decimal = ZERO  # trigger price of the algo order it came from
    activation_price: Decimal | None = None
    callback_rate: Decimal | None = None
    algo_id: int | None = None  # set when created by a triggered algo order
    status: OrderStatus = OrderStatus.NEW
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO  # Σ fill price × qty × multiplier
    commission: Decimal = ZERO  # Σ commission of its fills
    realized_pnl: Decimal = ZERO  # Σ realized P&L of its fills
    expire_reason: ExpireReason = ExpireReason.NONE
    amend_count: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.executed_qty

    @property
    def avg_price(self) -> Decimal:
        """Average fill price (0 when nothing filled); not rounded."""
        if self.executed_qty == ZERO:
            return ZERO
        return self.cum_quote / self.executed_qty

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def snapshot(self) -> Order:
        return replace(self)


@dataclass
class AlgoOrder:
    """A conditional order held by the engine's algo service until its condition is met."""

    algo_id: int
    client_id: str
    account_id: str
    symbol: str
    side: Side
    type: OrderType
    position_side: PositionSide
    time_in_force: TimeInForce
    quantity: Decimal  # 0 with close_position
    price: Decimal  # limit price of STOP/TAKE_PROFIT, else 0
    trigger_price: Decimal  # 0 for trailing stops (see `trailing_stop_price`)
    working_type: WorkingType
    price_protect: bool
    reduce_only: bool
    close_position: bool
    create_ms: int
    update_ms: int
    activation_price: Decimal | None = None  # trailing only (None = activate at placement)
    callback_rate: Decimal | None = None  # trailing only, percent
    activated: bool = False  # trailing: the extreme has reached the activation price
    extreme: Decimal | None = None  # trailing: max (SELL) / min (BUY) working price since placement
    status: AlgoStatus = AlgoStatus.NEW
    trigger_ms: int = 0
    order_id: int | None = None  # the regular order created on trigger
    actual_type: OrderType | None = None  # its type (MARKET/LIMIT)
    executed_qty: Decimal = ZERO  # of that order
    avg_price: Decimal = ZERO  # of that order
    reason: str = ""  # failure text (Binance `rm`), e.g. "Reduce Only reject"

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def trailing_stop_price(self) -> Decimal | None:
        """Trailing: the price at which it would trigger now (None before activation)."""
        if self.type is not OrderType.TRAILING_STOP_MARKET or not self.activated or self.extreme is None:
            return None
        assert self.callback_rate is not None
        rate = self.callback_rate / Decimal(100)
        if self.side is Side.SELL:
            return self.extreme * (Decimal(1) - rate)
        return self.extreme * (Decimal(1) + rate)

    def snapshot(self) -> AlgoOrder:
        return replace(self)


@dataclass(frozen=True)
class Fill:
    """One execution of one order (also the `trades` query row)."""

    trade_id: int
    order_id: int
    account_id: str
    symbol: str
    side: Side
    position_side: PositionSide
    qty: Decimal
    price: Decimal
    quote_qty: Decimal  # price × qty × multiplier
    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal  # before commission
    maker: bool
    time_ms: int


@dataclass(frozen=True)
class PositionView:
    """One position row (one-way: BOTH per symbol; hedge: LONG and SHORT per symbol).

    `amount` is signed (negative = short; hedge SHORT rows are negative too, as on Binance).
    """

    symbol: str
    position_side: PositionSide
    amount: Decimal
    entry_price: Decimal
    break_even_price: Decimal
    mark_price: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal  # accumulated, before fees, since the position was opened
    notional: Decimal  # signed: amount × mark × multiplier
    leverage: int
    initial_margin: Decimal
    maint_margin: Decimal
    open_order_initial_margin: Decimal
    margin_asset: str
    margin_type: str  # "cross" (isolated is not modelled)
    update_ms: int


@dataclass(frozen=True)
class BalanceView:
    """Per asset. Cross margin: margin balance = wallet + unrealized P&L of positions in this asset."""

    asset: str
    wallet_balance: Decimal
    unrealized_pnl: Decimal
    margin_balance: Decimal
    initial_margin: Decimal  # position + open-order initial margin
    position_initial_margin: Decimal
    open_order_initial_margin: Decimal
    maint_margin: Decimal
    available_balance: Decimal  # margin balance − initial margin (may be negative)
    max_withdraw_amount: Decimal  # min(wallet, available), never negative
    update_ms: int


@dataclass(frozen=True)
class AccountSummary:
    """Totals over all assets (valued 1:1: multi-asset valuation is not modelled)."""

    account_id: str
    hedge_mode: bool
    total_wallet_balance: Decimal
    total_unrealized_pnl: Decimal
    total_margin_balance: Decimal
    total_initial_margin: Decimal
    total_position_initial_margin: Decimal
    total_open_order_initial_margin: Decimal
    total_maint_margin: Decimal
    available_balance: Decimal
    max_withdraw_amount: Decimal
    assets: tuple[BalanceView, ...]
    positions: tuple[PositionView, ...]
    update_ms: int


@dataclass(frozen=True)
class BookLevel:
    price: Decimal
    qty: Decimal


@dataclass(frozen=True)
class MarketSnapshot:
    symbol: str
    last_price: Decimal
    mark_price: Decimal
    index_price: Decimal
    funding_rate: Decimal
    next_funding_ms: int
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    book_update_id: int
    time_ms: int


# ---- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderUpdate:
    """A regular order changed (Binance ORDER_TRADE_UPDATE; with TRADE also TRADE_LITE).

    `order` is the state after the change. `fill` is set for `ExecType.TRADE` only.
    """

    time_ms: int
    account_id: str
    exec_type: ExecType
    order: Order
    fill: Fill | None = None


@dataclass(frozen=True)
class AlgoUpdate:
    """An algo order changed status (Binance ALGO_UPDATE). `algo` is the state after it."""

    time_ms: int
    account_id: str
    algo: AlgoOrder


@dataclass(frozen=True)
class BalanceChange:
    asset: str
    wallet_balance: Decimal
    cross_wallet_balance: Decimal
    balance_change: Decimal  # change other than realized P&L and commission (deposits etc.)


@dataclass(frozen=True)
class AccountUpdate:
    """Balances and/or positions changed (Binance ACCOUNT_UPDATE). Only touched rows are listed."""

    time_ms: int
    account_id: str
    reason: AccountUpdateReason
    balances: tuple[BalanceChange, ...]
    positions: tuple[PositionView, ...]


@dataclass(frozen=True)
class ConfigUpdate:
    """Leverage of a symbol changed (Binance ACCOUNT_CONFIG_UPDATE `ac`)."""

    time_ms: int
    account_id: str
    symbol: str
    leverage: int


@dataclass(frozen=True)
class PositionModeUpdate:
    time_ms: int
    account_id: str
    hedge_mode: bool


@dataclass(frozen=True)
class MarkPriceUpdate:
    """Mark price changed. Front-ends with periodic mark streams sample `Engine.market()`."""

    time_ms: int
    symbol: str
    mark_price: Decimal
    index_price: Decimal
    funding_rate: Decimal
    next_funding_ms: int


@dataclass(frozen=True)
class BookTickerUpdate:
    time_ms: int
    symbol: str
    update_id: int
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal


@dataclass(frozen=True)
class AggTrade:
    """A market trade: synthetic flow each price step, and every taker fill of an account."""

    time_ms: int
    symbol: str
    agg_id: int
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    buyer_is_maker: bool


EngineEvent = (
    OrderUpdate
    | AlgoUpdate
    | AccountUpdate
    | ConfigUpdate
    | PositionModeUpdate
    | MarkPriceUpdate
    | BookTickerUpdate
    | AggTrade
)


@dataclass(frozen=True)
class Reject:
    """A refused request: a neutral reason plus a human-readable detail (never secret)."""

    reason: RejectReason
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    """Result of every mutating engine call.

    - `reject` is None when the request was accepted.
    - `order`: the regular order's state at the end of the call (e.g. FILLED for a MARKET order;
      the NEW state is in the first `OrderUpdate` of `events`).
    - `algo`: the algo order's state at the end of the call (conditional orders, algo cancels).
    - `events`: everything the call produced, in order — including market events of the
      implicit `advance(now_ms)` that every mutating call performs first.
    """

    events: tuple[EngineEvent, ...] = ()
    order: Order | None = None
    algo: AlgoOrder | None = None
    reject: Reject | None = None
    orders: tuple[Order, ...] = field(default_factory=tuple)  # cancel_all: the canceled orders
    algos: tuple[AlgoOrder, ...] = field(default_factory=tuple)  # cancel_all_algos

    @property
    def ok(self) -> bool:
        return self.reject is None


class EngineError(Exception):
    """Raised by *queries* (never by mutating calls) for an unknown account or symbol."""

    def __init__(self, reject: Reject) -> None:
        super().__init__(f"{reject.reason.value}: {reject.detail}")
        self.reject = reject
