"""Requests to Alpaca, built from neutral values (brokers.md §3.1-§3.4). Pure.

`order_body` maps an `OrderRequest` to `POST /v2/orders`; anything Alpaca cannot express is a
`RequestError` with a message for the trader (post-only, take-profit orders, trailing activation
prices, fractional IOC/FOK). Fractional quantities are DAY orders on Alpaca, so a GTC request
with a fractional quantity is sent as DAY (it expires at the close; the caller is told via
`tif_note`). Outside regular hours a LIMIT order is sent as an extended-hours DAY order.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sidedesk.domain import OrderRequest, OrderType, Side, TimeInForce


class RequestError(ValueError):
    pass


def headers(key_id: str, secret: str) -> dict[str, str]:
    return {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret}


def num(d: Decimal) -> str:
    n = d.normalize()
    return f"{n:f}"


def is_fractional(qty: Decimal) -> bool:
    return qty != qty.to_integral_value()


_TYPES = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP_MARKET: "stop",
    OrderType.STOP_LIMIT: "stop_limit",
    OrderType.TRAILING_STOP_MARKET: "trailing_stop",
}


def time_in_force(order: OrderRequest) -> str:
    tif = order.time_in_force
    fractional = is_fractional(order.quantity)
    if tif is TimeInForce.GTX:
        raise RequestError("Alpaca has no post-only orders; send a plain limit order")
    if tif in (TimeInForce.IOC, TimeInForce.FOK):
        if order.type not in (OrderType.MARKET, OrderType.LIMIT):
            raise RequestError(f"{tif.value} applies to market and limit orders only on Alpaca")
        if fractional:
            raise RequestError(
                f"fractional share orders are DAY orders on Alpaca; {tif.value} needs whole shares"
            )
        return tif.value.lower()
    if order.type is OrderType.MARKET or tif is TimeInForce.DAY or fractional:
        return "day"
    return "gtc"


def order_body(order: OrderRequest, *, extended_hours: bool = False) -> dict[str, Any]:
    otype = _TYPES.get(order.type)
    if otype is None:
        raise RequestError(
            f"{order.type.value} orders do not exist on Alpaca "
            "(take-profit exists only inside bracket orders)"
        )
    if not order.quantity.is_finite() or order.quantity <= 0:
        raise RequestError("the quantity must be a positive number of shares")
    body: dict[str, Any] = {
        "symbol": order.symbol,
        "qty": num(order.quantity),
        "side": "buy" if order.side is Side.BUY else "sell",
        "type": otype,
        "time_in_force": time_in_force(order),
        "client_order_id": order.client_id,
    }
    if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        if order.price is None:
            raise RequestError("a limit order needs a price")
        body["limit_price"] = num(order.price)
    if order.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
        if order.stop_price is None:
            raise RequestError("a stop order needs a stop price")
        body["stop_price"] = num(order.stop_price)
    if order.type is OrderType.TRAILING_STOP_MARKET:
        if order.callback_rate_pct is None:
            raise RequestError("a trailing stop needs a trail percentage")
        if order.activation_price is not None:
            raise RequestError("Alpaca trailing stops start trailing at once (no activation price)")
        if is_fractional(order.quantity):
            raise RequestError("Alpaca trailing stops take whole shares only")
        body["trail_percent"] = num(order.callback_rate_pct)
    if extended_hours:
        if order.type is not OrderType.LIMIT:
            raise RequestError("outside regular hours Alpaca takes limit orders only")
        body["time_in_force"] = "day"
        body["extended_hours"] = True
    return body


def replace_stop_body(order: OrderRequest) -> dict[str, Any]:
    """PATCH body moving an existing stop to `order`'s price, quantity and client id."""
    if order.stop_price is None:
        raise RequestError("a stop order needs a stop price")
    body: dict[str, Any] = {
        "qty": num(order.quantity),
        "stop_price": num(order.stop_price),
        "client_order_id": order.client_id,
        "time_in_force": time_in_force(order),
    }
    if order.type is OrderType.STOP_LIMIT and order.price is not None:
        body["limit_price"] = num(order.price)
    return body


def replace_limit_body(quantity: Decimal, price: Decimal) -> dict[str, Any]:
    return {"qty": num(quantity), "limit_price": num(price)}


def notional_body(symbol: str, side: Side, notional: Decimal, client_id: str) -> dict[str, Any]:
    """A market order for a dollar amount (Alpaca's `notional`; DAY only, at least $1)."""
    if not notional.is_finite() or notional < 1:
        raise RequestError("a notional order is at least $1")
    return {
        "symbol": symbol,
        "notional": f"{notional.quantize(Decimal('0.01')):f}",
        "side": "buy" if side is Side.BUY else "sell",
        "type": "market",
        "time_in_force": "day",
        "client_order_id": client_id,
    }


# -- streams -----------------------------------------------------------------------------------


def trading_auth(key_id: str, secret: str) -> str:
    """The current documented form (the simulator and Alpaca also accept the legacy one)."""
    return json.dumps({"action": "auth", "key": key_id, "secret": secret})


def trading_listen(streams: list[str]) -> str:
    return json.dumps({"action": "listen", "data": {"streams": streams}})


def data_auth(key_id: str, secret: str) -> str:
    return json.dumps({"action": "auth", "key": key_id, "secret": secret})


def data_subscribe(symbols: list[str], action: str = "subscribe") -> str:
    return json.dumps({"action": action, "trades": symbols, "quotes": symbols})
