"""Neutral vocabulary of the simulated exchange.

Values are spelled like Binance's because that was the first front-end, but nothing here is
Binance-specific: every front-end maps these to its own wire names and error codes.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL: the sign of the position change a fill causes."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    STOP = "STOP"
    TAKE_PROFIT = "TAKE_PROFIT"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"

    @property
    def is_conditional(self) -> bool:
        """Conditional types live as algo orders until triggered."""
        return self not in (OrderType.MARKET, OrderType.LIMIT)

    @property
    def triggered_type(self) -> OrderType:
        """The regular order type a conditional order becomes when it triggers."""
        if self in (OrderType.STOP, OrderType.TAKE_PROFIT, OrderType.LIMIT):
            return OrderType.LIMIT
        return OrderType.MARKET


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"  # post-only
    GTE_GTC = "GTE_GTC"  # internal: close-position conditionals, expire when the position is gone


class PositionSide(StrEnum):
    BOTH = "BOTH"
    LONG = "LONG"
    SHORT = "SHORT"


class WorkingType(StrEnum):
    MARK_PRICE = "MARK_PRICE"
    CONTRACT_PRICE = "CONTRACT_PRICE"  # last traded price


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class ExecType(StrEnum):
    """What happened to an order in one `OrderUpdate` event."""

    NEW = "NEW"
    TRADE = "TRADE"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    AMENDMENT = "AMENDMENT"


class ExpireReason(IntEnum):
    """Why an order expired (Binance `er`); NONE while the order is alive or was filled/canceled."""

    NONE = 0
    IOC_NOT_FILLED = 2
    REDUCE_ONLY_KNOCKED_OUT = 4  # reduce-only with no position left to reduce
    GTE_UNSATISFIED = 6
    MARKET_NOT_FILLED = 9  # the synthetic book ran out


class AlgoStatus(StrEnum):
    NEW = "NEW"  # placed, waiting for its condition
    TRIGGERING = "TRIGGERING"  # condition met, being sent to the matching engine
    TRIGGERED = "TRIGGERED"  # the regular order exists (`AlgoOrder.order_id`)
    FINISHED = "FINISHED"  # that regular order is final (filled, canceled or expired)
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"  # system-cancelled (close-position order whose position is gone)
    REJECTED = "REJECTED"  # the regular order was refused at trigger time (e.g. margin)

    @property
    def is_open(self) -> bool:
        """Open = still counts against limits and can be cancelled."""
        return self in (AlgoStatus.NEW, AlgoStatus.TRIGGERING)


class AccountUpdateReason(StrEnum):
    ORDER = "ORDER"
    DEPOSIT = "DEPOSIT"
    WITHDRAW = "WITHDRAW"
    ADJUSTMENT = "ADJUSTMENT"


class RejectReason(StrEnum):
    """Why the engine refused a request. Front-ends map each to their own error code.

    Exchange *filters* (tick, step, min notional, percent price, precision) are not here:
    front-ends check them with the `Instrument.check_*` helpers, which return `FilterFailure`.
    """

    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    ACCOUNT_EXISTS = "ACCOUNT_EXISTS"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # no such open order / algo order (or it is already final)
    INVALID_QUANTITY = "INVALID_QUANTITY"  # missing or not > 0
    INVALID_PRICE = "INVALID_PRICE"  # LIMIT-like order without a price > 0
    MISSING_STOP_PRICE = "MISSING_STOP_PRICE"  # stop/take-profit without a trigger price > 0
    INVALID_CALLBACK_RATE = "INVALID_CALLBACK_RATE"  # trailing: outside [0.1, 20] percent
    INVALID_TIME_IN_FORCE = "INVALID_TIME_IN_FORCE"
    CONDITIONAL_NOT_ALLOWED = "CONDITIONAL_NOT_ALLOWED"  # conditional type where only LIMIT/MARKET go
    POSITION_SIDE_MISMATCH = "POSITION_SIDE_MISMATCH"  # LONG/SHORT in one-way, BOTH in hedge mode
    REDUCE_ONLY_NOT_ALLOWED = "REDUCE_ONLY_NOT_ALLOWED"  # reduce-only sent in hedge mode
    REDUCE_ONLY_REJECTED = "REDUCE_ONLY_REJECTED"  # nothing (or not enough, hedge) to reduce
    REDUCE_ONLY_WOULD_FLIP = "REDUCE_ONLY_WOULD_FLIP"  # with same-side open orders it exceeds the position
    CLOSE_POSITION_NOT_ALLOWED = "CLOSE_POSITION_NOT_ALLOWED"  # only STOP_MARKET/TAKE_PROFIT_MARKET
    CLOSE_POSITION_WITH_QUANTITY = "CLOSE_POSITION_WITH_QUANTITY"
    CLOSE_POSITION_SIDE_INVALID = "CLOSE_POSITION_SIDE_INVALID"  # hedge BUY+LONG / SELL+SHORT
    CLOSE_POSITION_EXISTS = "CLOSE_POSITION_EXISTS"  # same-direction close-all of that type is open
    NO_POSITION_FOR_GTE = "NO_POSITION_FOR_GTE"  # close-position without a position to close
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"  # withdrawal above the available balance
    WOULD_TRIGGER_IMMEDIATELY = "WOULD_TRIGGER_IMMEDIATELY"
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"  # per symbol, regular + algo
    MAX_ALGO_ORDERS = "MAX_ALGO_ORDERS"  # per account, all symbols
    DUPLICATE_CLIENT_ID = "DUPLICATE_CLIENT_ID"  # among open orders (or open algo orders)
    MODIFY_ONLY_LIMIT = "MODIFY_ONLY_LIMIT"
    NO_NEED_TO_MODIFY = "NO_NEED_TO_MODIFY"
    POSITION_MODE_UNCHANGED = "POSITION_MODE_UNCHANGED"
    POSITION_MODE_OPEN_ORDERS = "POSITION_MODE_OPEN_ORDERS"
    POSITION_MODE_OPEN_POSITION = "POSITION_MODE_OPEN_POSITION"
    INVALID_LEVERAGE = "INVALID_LEVERAGE"  # outside 1..Instrument.max_leverage
    LEVERAGE_INSUFFICIENT_MARGIN = (
        "LEVERAGE_INSUFFICIENT_MARGIN"  # lower leverage needs more margin than there is
    )
    INVALID_AMOUNT = "INVALID_AMOUNT"  # admin operations: bad balance/position values


class FilterFailure(StrEnum):
    """Neutral result of an `Instrument.check_*` helper (None means the value passes)."""

    NOT_POSITIVE = "NOT_POSITIVE"
    PRICE_BELOW_MIN = "PRICE_BELOW_MIN"
    PRICE_ABOVE_MAX = "PRICE_ABOVE_MAX"
    PRICE_NOT_ON_TICK = "PRICE_NOT_ON_TICK"
    PRICE_TOO_PRECISE = "PRICE_TOO_PRECISE"  # more decimals than the price precision allows
    QTY_BELOW_MIN = "QTY_BELOW_MIN"
    QTY_ABOVE_MAX = "QTY_ABOVE_MAX"
    QTY_NOT_ON_STEP = "QTY_NOT_ON_STEP"
    QTY_TOO_PRECISE = "QTY_TOO_PRECISE"
    NOTIONAL_TOO_SMALL = "NOTIONAL_TOO_SMALL"
    PRICE_ABOVE_MULTIPLIER_UP = "PRICE_ABOVE_MULTIPLIER_UP"
    PRICE_BELOW_MULTIPLIER_DOWN = "PRICE_BELOW_MULTIPLIER_DOWN"
