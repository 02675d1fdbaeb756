"""Broker-neutral, deterministic simulated exchange engine (no sockets, no clock).

Front-ends (Binance now; Tradovate/Volumetrica/Alpaca later) translate their wire protocol into
calls on `Engine` and translate its `Outcome`s and events back. Time is always an argument in
epoch milliseconds; prices, quantities and money are `Decimal`.

Quick tour::

    eng = Engine(default_instruments(), seed=1, start_ms=now)
    eng.create_account("alice", {"USDT": Decimal(10_000)})
    out = eng.submit_order("alice", OrderSpec("BTCUSDT", Side.BUY, OrderType.MARKET,
                                              quantity=Decimal("0.01")), now_ms=now)
    if out.reject: ...                     # out.reject.reason is a RejectReason
    for ev in out.events: ...              # OrderUpdate / AlgoUpdate / AccountUpdate / market events
    events = eng.advance(now + 1000)       # prices move, triggers fire, resting orders fill

Mutating calls (`create_account`, `set_hedge_mode`, `set_leverage`, `deposit`, `set_position`,
`submit_order`, `cancel_order`, `cancel_all`, `cancel_algo`, `cancel_all_algos`, `modify_order`)
never raise for a refused request: they return `Outcome` with `reject`. Queries raise
`EngineError` for an unknown account or symbol. Event order inside an `Outcome` follows the
exchange: e.g. a MARKET order gives OrderUpdate(NEW), OrderUpdate(TRADE)…, AccountUpdate(ORDER);
a triggered algo order gives AlgoUpdate(TRIGGERING), AlgoUpdate(TRIGGERED), the regular order's
updates and AccountUpdate, then AlgoUpdate(FINISHED) once that order is final.
"""

from __future__ import annotations

from .core import Engine
from .enums import (
    AccountUpdateReason,
    AlgoStatus,
    ExecType,
    ExpireReason,
    FilterFailure,
    OrderStatus,
    OrderType,
    PositionSide,
    RejectReason,
    Side,
    TimeInForce,
    WorkingType,
)
from .instruments import Instrument, default_instruments
from .model import (
    AccountSummary,
    AccountUpdate,
    AggTrade,
    AlgoOrder,
    AlgoUpdate,
    BalanceChange,
    BalanceView,
    BookLevel,
    BookTickerUpdate,
    ConfigUpdate,
    EngineError,
    EngineEvent,
    Fill,
    MarketSnapshot,
    MarkPriceUpdate,
    Order,
    OrderSpec,
    OrderUpdate,
    Outcome,
    PositionModeUpdate,
    PositionView,
    Reject,
)
from .prices import PathSegment, parse_path

__all__ = [
    "AccountSummary",
    "AccountUpdate",
    "AccountUpdateReason",
    "AggTrade",
    "AlgoOrder",
    "AlgoStatus",
    "AlgoUpdate",
    "BalanceChange",
    "BalanceView",
    "BookLevel",
    "BookTickerUpdate",
    "ConfigUpdate",
    "Engine",
    "EngineError",
    "EngineEvent",
    "ExecType",
    "ExpireReason",
    "Fill",
    "FilterFailure",
    "Instrument",
    "MarkPriceUpdate",
    "MarketSnapshot",
    "Order",
    "OrderSpec",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "Outcome",
    "PathSegment",
    "PositionModeUpdate",
    "PositionSide",
    "PositionView",
    "Reject",
    "RejectReason",
    "Side",
    "TimeInForce",
    "WorkingType",
    "default_instruments",
    "parse_path",
]
