"""Binance order parameters → neutral `OrderSpec`, with Binance's validation and error codes. Pure.

Covers binance.md §6: which types go to which endpoint (-4120), hedge/one-way rules (-4061, -1106),
client-id regex/length (-1100/-4015), exchange filters (§7.2) and the mapping of the engine's neutral
reject reasons to Binance codes.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sidedesk_sim.binance.errors import BinanceError, mandatory
from sidedesk_sim.binance.params import Params
from sidedesk_sim.engine import (
    FilterFailure,
    Instrument,
    OrderSpec,
    OrderType,
    PositionSide,
    RejectReason,
    Side,
    TimeInForce,
    WorkingType,
)

CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
CLIENT_ID_RANGE = "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"
ORDER_TYPES = {t.value for t in OrderType}
REGULAR_TYPES = {"LIMIT", "MARKET"}
ALGO_TYPES = ORDER_TYPES - REGULAR_TYPES
TIFS = {"GTC", "IOC", "FOK", "GTX"}
# Binance derivatives change log, 2026-10-23 (https://developers.binance.com/docs/derivatives/change-log):
# the maximum callbackRate of TRAILING_STOP_MARKET (algoOrder.place, POST /fapi/v1/algoOrder) went
# from 10 to 20; the minimum stays 0.1 (where 1 = 1 %).
MIN_CALLBACK, MAX_CALLBACK = Decimal("0.1"), Decimal("20")


def check_client_id(name: str, value: str | None) -> None:
    if value is None:
        return
    if len(value) > 36:
        raise BinanceError(-4015)
    if not CLIENT_ID_RE.match(value):
        raise BinanceError(-1100, name, CLIENT_ID_RANGE)


def _side(p: Params) -> Side:
    return Side(p.enum("side", ("BUY", "SELL"), -1117))


def _position_side(p: Params, hedge: bool) -> PositionSide:
    v = p.opt("positionSide")
    if v is None:
        if hedge:
            raise BinanceError(-4061)
        return PositionSide.BOTH
    if v not in ("BOTH", "LONG", "SHORT"):
        raise BinanceError(-4060, msg="Invalid position side.")
    ps = PositionSide(v)
    if (hedge and ps is PositionSide.BOTH) or (not hedge and ps is not PositionSide.BOTH):
        raise BinanceError(-4061)
    return ps


def _reduce_only(p: Params, hedge: bool) -> bool:
    if "reduceOnly" not in p:
        return False
    if hedge:
        # observed wording is lower-case 'reduceonly' (binance.md §6.3)
        raise BinanceError(-1106, "reduceonly")
    return p.boolean("reduceOnly")


def filter_error(failure: FilterFailure, *, what: str, inst: Instrument) -> BinanceError:
    """Map a neutral filter failure to Binance's code; `what` is 'price', 'stopPrice' or 'quantity'."""
    f = FilterFailure
    if failure is f.NOT_POSITIVE:
        if what == "quantity":
            return BinanceError(-4003)
        if what == "price":
            return BinanceError(-4001, msg="Price less than 0.")
        return BinanceError(-4006, msg="Stop price less than zero.")
    table = {
        f.PRICE_BELOW_MIN: -4013,
        f.PRICE_ABOVE_MAX: -4002,
        f.PRICE_NOT_ON_TICK: -4014,
        f.PRICE_TOO_PRECISE: -1111,
        f.QTY_BELOW_MIN: -4004,
        f.QTY_ABOVE_MAX: -4005,
        f.QTY_NOT_ON_STEP: -4023,
        f.QTY_TOO_PRECISE: -1111,
        f.PRICE_ABOVE_MULTIPLIER_UP: -4016,
        f.PRICE_BELOW_MULTIPLIER_DOWN: -4024,
    }
    if failure is f.NOTIONAL_TOO_SMALL:
        return BinanceError(-4164, f"{inst.min_notional:f}")
    return BinanceError(table[failure])


def check_filters(spec: OrderSpec, inst: Instrument, mark: Decimal, best_opposite: Decimal) -> None:
    """PRICE_FILTER, LOT_SIZE / MARKET_LOT_SIZE, MIN_NOTIONAL and PERCENT_PRICE (binance.md §7.2)."""
    market_like = spec.type in (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET,
                                OrderType.TRAILING_STOP_MARKET)  # fmt: skip
    if spec.price is not None and spec.type in (OrderType.LIMIT, OrderType.STOP, OrderType.TAKE_PROFIT):
        fail = inst.check_price(spec.price)
        if fail is not None:
            raise filter_error(fail, what="price", inst=inst)
    if spec.quantity is not None:
        fail = inst.check_qty(spec.quantity, market=market_like)
        if fail is not None:
            raise filter_error(fail, what="quantity", inst=inst)
    if spec.quantity is not None:
        ref = spec.price if spec.type in (OrderType.LIMIT, OrderType.STOP, OrderType.TAKE_PROFIT) else mark
        assert ref is not None
        if spec.type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET) and spec.stop_price is not None:
            ref = spec.stop_price
        fail = inst.check_notional(ref, spec.quantity, reduce_only=spec.reduce_only or spec.close_position)
        if fail is not None:
            raise filter_error(fail, what="quantity", inst=inst)
    # PERCENT_PRICE only at placement of LIMIT orders: the algo service checks nothing before trigger
    if spec.type is OrderType.LIMIT and spec.price is not None:
        fail = inst.check_percent_price(spec.side, spec.price, mark)
        if fail is not None:
            raise filter_error(fail, what="price", inst=inst)
    # MARKET: the counterparty's best price must itself be inside PERCENT_PRICE (binance.md §7.2, -4131)
    if (
        spec.type is OrderType.MARKET
        and best_opposite > 0
        and inst.check_percent_price(spec.side, best_opposite, mark) is not None
    ):
        raise BinanceError(-4131)


def parse_regular(p: Params, inst: Instrument, hedge: bool) -> OrderSpec:
    """order.place / POST /fapi/v1/order: LIMIT and MARKET only since 2025-12-09."""
    type_ = p.req("type")
    if type_ in ALGO_TYPES:
        raise BinanceError(-4120)
    if type_ not in REGULAR_TYPES:
        raise BinanceError(-1116)
    side = _side(p)
    ps = _position_side(p, hedge)
    reduce_only = _reduce_only(p, hedge)
    if p.opt("closePosition") is not None and p.boolean("closePosition"):
        raise BinanceError(
            -4136, type_, "true", msg=f"Target strategy invalid for orderType {type_},closePosition true"
        )
    client_id = p.opt("newClientOrderId")
    if "newClientOrderId" in p.raw() and client_id is None:
        raise BinanceError(-1118, msg="New client order ID was empty.")
    check_client_id("newClientOrderId", client_id)
    quantity = p.req_decimal("quantity")
    tif: TimeInForce | None = None
    price: Decimal | None = None
    if type_ == "LIMIT":
        tif = TimeInForce(p.enum("timeInForce", TIFS, -1115))
        price = p.req_decimal("price")
    else:
        if p.opt("price") is not None:
            raise BinanceError(-1106, "price")
        if p.opt("timeInForce") is not None and p.opt("timeInForce") not in TIFS:
            raise BinanceError(-1115)
    resp = p.opt("newOrderRespType")
    if resp is not None and resp not in ("ACK", "RESULT"):
        raise BinanceError(-1136)
    return OrderSpec(
        symbol=inst.symbol,
        side=side,
        type=OrderType(type_),
        quantity=quantity,
        price=price,
        time_in_force=tif,
        reduce_only=reduce_only,
        position_side=ps,
        client_id=client_id,
    )


def parse_algo(p: Params, inst: Instrument, hedge: bool) -> OrderSpec:
    """algoOrder.place / POST /fapi/v1/algoOrder (algoType=CONDITIONAL). Note the renamed params:
    `triggerPrice` (not stopPrice), `activatePrice` (not activationPrice), `clientAlgoId`."""
    algo_type = p.req("algoType")
    if algo_type != "CONDITIONAL":
        raise BinanceError(-1130, "algoType")
    side = _side(p)
    type_ = p.req("type")
    if type_ not in ORDER_TYPES:
        raise BinanceError(-1116)
    if type_ in REGULAR_TYPES:
        raise BinanceError(-1116)
    otype = OrderType(type_)
    ps = _position_side(p, hedge)
    reduce_only = _reduce_only(p, hedge)
    close_position = p.boolean("closePosition")
    if close_position and otype not in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
        raise BinanceError(-4136, msg=f"Target strategy invalid for orderType {type_},closePosition true")
    client_id = p.opt("clientAlgoId")
    check_client_id("clientAlgoId", client_id)
    quantity = p.decimal("quantity")
    if close_position:
        if quantity is not None:
            raise BinanceError(-4137)
        if reduce_only:
            raise BinanceError(-1106, "reduceonly")
    elif quantity is None:
        raise mandatory("quantity")
    price: Decimal | None = None
    tif: TimeInForce | None = None
    if otype in (OrderType.STOP, OrderType.TAKE_PROFIT):
        price = p.req_decimal("price")
        tif = TimeInForce(p.enum("timeInForce", TIFS, -1115, default="GTC"))
    elif p.opt("price") is not None:
        raise BinanceError(-1106, "price")
    stop_price: Decimal | None = None
    activation: Decimal | None = None
    callback: Decimal | None = None
    if otype is OrderType.TRAILING_STOP_MARKET:
        callback = p.req_decimal("callbackRate")
        if not MIN_CALLBACK <= callback <= MAX_CALLBACK:
            raise BinanceError(-1130, "callbackRate")
        activation = p.decimal("activatePrice")
        # `activationPrice` (the legacy name) is silently ignored, as on Binance (binance.md §6.1)
    else:
        stop_price = p.req_decimal("triggerPrice")
        if stop_price <= 0:
            raise BinanceError(-4006, msg="Stop price less than zero.")
    wt = p.enum("workingType", ("MARK_PRICE", "CONTRACT_PRICE"), -4031, default="CONTRACT_PRICE")
    return OrderSpec(
        symbol=inst.symbol,
        side=side,
        type=otype,
        quantity=quantity,
        price=price,
        stop_price=stop_price,
        time_in_force=tif,
        reduce_only=reduce_only,
        close_position=close_position,
        position_side=ps,
        working_type=WorkingType(wt),
        activation_price=activation,
        callback_rate=callback,
        price_protect=p.boolean("priceProtect"),
        client_id=client_id,
    )


_MISSING_TRIGGER = "Mandatory parameter 'triggerPrice' was not sent, was empty/null, or malformed."

# RejectReason -> Binance (code, message override or None)
_REJECTS: dict[RejectReason, tuple[int, str | None]] = {
    RejectReason.UNKNOWN_SYMBOL: (-1121, None),
    RejectReason.UNKNOWN_ORDER: (-2011, None),
    RejectReason.INVALID_QUANTITY: (-4003, None),
    RejectReason.INVALID_PRICE: (-4001, "Price less than 0."),
    RejectReason.MISSING_STOP_PRICE: (-1102, _MISSING_TRIGGER),
    RejectReason.INVALID_CALLBACK_RATE: (-1130, "Data sent for parameter 'callbackRate' is not valid."),
    RejectReason.INVALID_TIME_IN_FORCE: (-1115, None),
    RejectReason.CONDITIONAL_NOT_ALLOWED: (-4120, None),
    RejectReason.POSITION_SIDE_MISMATCH: (-4061, None),
    RejectReason.REDUCE_ONLY_NOT_ALLOWED: (-1106, "Parameter 'reduceonly' sent when not required."),
    RejectReason.REDUCE_ONLY_REJECTED: (-2022, None),
    RejectReason.REDUCE_ONLY_WOULD_FLIP: (-4118, None),
    RejectReason.CLOSE_POSITION_NOT_ALLOWED: (-4136, None),
    RejectReason.CLOSE_POSITION_WITH_QUANTITY: (-4137, None),
    RejectReason.CLOSE_POSITION_SIDE_INVALID: (-4136, None),
    RejectReason.CLOSE_POSITION_EXISTS: (-4130, None),
    RejectReason.NO_POSITION_FOR_GTE: (-2022, None),
    RejectReason.INSUFFICIENT_MARGIN: (-2019, None),
    RejectReason.INSUFFICIENT_BALANCE: (-2018, None),
    RejectReason.WOULD_TRIGGER_IMMEDIATELY: (-2021, None),
    RejectReason.POST_ONLY_WOULD_TAKE: (-5022, None),
    RejectReason.FOK_NOT_FILLED: (-5021, None),
    RejectReason.MAX_OPEN_ORDERS: (-2025, None),
    RejectReason.MAX_ALGO_ORDERS: (-4045, None),
    RejectReason.DUPLICATE_CLIENT_ID: (-4116, None),
    RejectReason.MODIFY_ONLY_LIMIT: (-5025, None),
    RejectReason.NO_NEED_TO_MODIFY: (-5027, None),
    RejectReason.POSITION_MODE_UNCHANGED: (-4059, None),
    RejectReason.POSITION_MODE_OPEN_ORDERS: (-4067, None),
    RejectReason.POSITION_MODE_OPEN_POSITION: (-4068, None),
    RejectReason.INVALID_LEVERAGE: (-4028, None),
    RejectReason.LEVERAGE_INSUFFICIENT_MARGIN: (-2028, None),
    RejectReason.INVALID_AMOUNT: (-1130, None),
}  # fmt: skip


def reject_error(reason: RejectReason, *, detail: str = "", context: str = "") -> BinanceError:
    """Map a neutral engine reject to Binance. `context` tweaks codes that depend on the endpoint
    ('cancel' → -2011, 'query' → -2013, 'leverage' → -4028 with the value in `detail`)."""
    if reason is RejectReason.UNKNOWN_ORDER:
        return BinanceError(-2013) if context == "query" else BinanceError(-2011)
    if reason is RejectReason.INVALID_LEVERAGE:
        return BinanceError(-4028, detail) if detail else BinanceError(-4028)
    code, msg = _REJECTS.get(reason, (-2010, None))
    if (
        reason is RejectReason.CLOSE_POSITION_NOT_ALLOWED
        or reason is RejectReason.CLOSE_POSITION_SIDE_INVALID
    ):
        msg = detail or "Target strategy invalid for orderType, closePosition true"
    return BinanceError(code, msg=msg) if msg else BinanceError(code)
