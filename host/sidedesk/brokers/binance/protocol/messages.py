"""Request builders and the WS API envelope (binance.md §2, §6, §7). Pure.

A builder returns a `WsCall` or `RestCall`: method, unsigned params in the order we send them, the
security class and the rate-limit cost. `encode_ws` / `encode_rest` add apiKey, timestamp,
recvWindow and the signature. Decimals are always sent as JSON strings in plain notation, so the
signature payload and the JSON the server parses can never disagree.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sidedesk.brokers.binance.protocol.fields import ParseError
from sidedesk.brokers.binance.protocol.ratelimit import RateLimitInfo, parse_rate_limits
from sidedesk.brokers.binance.protocol.signing import (
    ParamValue,
    Signer,
    render_value,
    rest_payload,
    ws_payload,
)
from sidedesk.domain import OrderRequest, OrderType, PositionSide, TimeInForce
from sidedesk.net import jsonfast

Security = Literal["none", "user_stream", "signed"]
CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
DEFAULT_RECV_WINDOW = 5000


class RequestError(ValueError):
    """An order that cannot be expressed on this endpoint (caught before anything is sent)."""


@dataclass(frozen=True, slots=True)
class WsCall:
    method: str
    params: dict[str, ParamValue]
    security: Security
    weight: int = 1  # REQUEST_WEIGHT
    orders: int = 0  # ORDERS pools
    # True for requests whose effect is unknown if the reply is lost (never blindly re-sent)
    mutates: bool = False


@dataclass(frozen=True, slots=True)
class RestCall:
    http_method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str
    params: dict[str, ParamValue]
    security: Security
    weight: int = 1
    mutates: bool = False


def _client_id(value: str, what: str) -> str:
    if not CLIENT_ID_RE.match(value):
        raise RequestError(f"{what} {value!r} must be 1-36 characters of A-Z a-z 0-9 . : / _ -")
    return value


def _tif(tif: TimeInForce | None) -> str:
    tif = tif or TimeInForce.GTC
    if tif is TimeInForce.DAY:
        raise RequestError("Binance futures has no DAY time in force; use GTC, IOC, FOK or GTX")
    return tif.value


def _position_params(order: OrderRequest, params: dict[str, ParamValue]) -> None:
    """Hedge mode (LONG/SHORT) must not carry reduceOnly (-1106); one-way sends it as a string."""
    if order.position_side is PositionSide.BOTH:
        if order.reduce_only:
            params["reduceOnly"] = "true"
    else:
        params["positionSide"] = order.position_side.value


def _positive(value: Decimal | None, what: str) -> Decimal:
    if value is None or not value.is_finite() or value <= 0:
        raise RequestError(f"{what} must be a positive number")
    return value


# -- WS API: trading ------------------------------------------------------------------------------


def order_place(order: OrderRequest, *, resp_type: Literal["ACK", "RESULT"] = "ACK") -> WsCall:
    """`order.place`: LIMIT and MARKET only since 2025-12-09 (conditional types → `algo_order_place`)."""
    if order.type.is_conditional:
        raise RequestError(f"{order.type.value} orders go through algoOrder.place")
    params: dict[str, ParamValue] = {
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
    }
    params["quantity"] = _positive(order.quantity, "quantity")
    if order.type is OrderType.LIMIT:
        params["price"] = _positive(order.price, "limit price")
        params["timeInForce"] = _tif(order.time_in_force)
    elif order.price is not None:
        raise RequestError("a market order takes no price")
    _position_params(order, params)
    params["newClientOrderId"] = _client_id(order.client_id, "client order id")
    params["newOrderRespType"] = resp_type
    return WsCall("order.place", params, "signed", weight=0, orders=1, mutates=True)


_ALGO_TYPES = {
    OrderType.STOP_MARKET: "STOP_MARKET",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT_MARKET",
    OrderType.STOP_LIMIT: "STOP",
    OrderType.TAKE_PROFIT_LIMIT: "TAKE_PROFIT",
    OrderType.TRAILING_STOP_MARKET: "TRAILING_STOP_MARKET",
}
# Binance derivatives change log, 2026-10-23 (https://developers.binance.com/docs/derivatives/change-log):
# the maximum callbackRate of TRAILING_STOP_MARKET (algoOrder.place, POST /fapi/v1/algoOrder) went
# from 10 to 20; the minimum stays 0.1 (where 1 = 1 %).
MIN_CALLBACK = Decimal("0.1")
MAX_CALLBACK = Decimal(20)


def algo_order_place(order: OrderRequest) -> WsCall:
    """`algoOrder.place` (algoType CONDITIONAL). Note the algo names: triggerPrice, activatePrice,
    clientAlgoId (binance.md §6.1: `activationPrice` would be silently ignored).

    OrderRequest has no close-position flag, so quantity 0 on a STOP_MARKET / TAKE_PROFIT_MARKET
    means "close the whole position" (`closePosition=true`, no quantity, no reduceOnly).
    """
    kind = _ALGO_TYPES.get(order.type)
    if kind is None:
        raise RequestError(f"{order.type.value} is not a conditional order type")
    params: dict[str, ParamValue] = {
        "algoType": "CONDITIONAL",
        "symbol": order.symbol,
        "side": order.side.value,
        "type": kind,
    }
    close_all = order.quantity == 0 and order.type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
    if close_all:
        params["closePosition"] = "true"
    else:
        params["quantity"] = _positive(order.quantity, "quantity")
    if order.type is OrderType.TRAILING_STOP_MARKET:
        rate = _positive(order.callback_rate_pct, "callback rate")
        if not MIN_CALLBACK <= rate <= MAX_CALLBACK:
            raise RequestError(
                f"the trailing callback rate must be between {MIN_CALLBACK} % and {MAX_CALLBACK} %"
            )
        params["callbackRate"] = rate
        if order.activation_price is not None:
            params["activatePrice"] = _positive(order.activation_price, "activation price")
    else:
        params["triggerPrice"] = _positive(order.stop_price, "trigger price")
    if order.type in (OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT):
        params["price"] = _positive(order.price, "limit price")
        params["timeInForce"] = _tif(order.time_in_force)
    if close_all:
        if order.position_side is not PositionSide.BOTH:
            params["positionSide"] = order.position_side.value
    else:
        _position_params(order, params)
    params["workingType"] = order.working_type.value
    if order.price_protect:
        params["priceProtect"] = "true"
    params["clientAlgoId"] = _client_id(order.client_id, "client algo id")
    return WsCall("algoOrder.place", params, "signed", weight=0, orders=1, mutates=True)


def _order_ref(params: dict[str, ParamValue], order_id: str | None, client_id: str | None, key: str) -> None:
    if order_id:
        params["orderId"] = int(order_id) if order_id.isdigit() else order_id
    elif client_id:
        params[key] = client_id
    else:
        raise RequestError("give an order id or a client id")


def order_cancel(symbol: str, *, order_id: str | None = None, client_id: str | None = None) -> WsCall:
    params: dict[str, ParamValue] = {"symbol": symbol}
    _order_ref(params, order_id, client_id, "origClientOrderId")
    return WsCall("order.cancel", params, "signed", weight=1, mutates=True)


def order_modify(symbol: str, order_id: str, *, side: str, quantity: Decimal, price: Decimal) -> WsCall:
    """`order.modify`: LIMIT orders only; side, quantity and price are all mandatory (§6.7)."""
    params: dict[str, ParamValue] = {"symbol": symbol}
    _order_ref(params, order_id, None, "origClientOrderId")
    params["side"] = side
    params["quantity"] = _positive(quantity, "quantity")
    params["price"] = _positive(price, "price")
    return WsCall("order.modify", params, "signed", weight=0, orders=1, mutates=True)


def order_status(symbol: str, *, order_id: str | None = None, client_id: str | None = None) -> WsCall:
    params: dict[str, ParamValue] = {"symbol": symbol}
    _order_ref(params, order_id, client_id, "origClientOrderId")
    return WsCall("order.status", params, "signed", weight=1)


def algo_order_cancel(*, algo_id: str | None = None, client_algo_id: str | None = None) -> WsCall:
    params: dict[str, ParamValue] = {}
    if algo_id:
        params["algoId"] = int(algo_id) if algo_id.isdigit() else algo_id
    elif client_algo_id:
        params["clientAlgoId"] = client_algo_id
    else:
        raise RequestError("give an algo id or a client algo id")
    return WsCall("algoOrder.cancel", params, "signed", weight=1, mutates=True)


# -- WS API: session, account, user-data stream ----------------------------------------------------


def session_logon() -> WsCall:
    return WsCall("session.logon", {}, "signed", weight=2)


def account_status() -> WsCall:
    return WsCall("v2/account.status", {}, "signed", weight=5)


def account_position(symbol: str | None = None) -> WsCall:
    return WsCall("v2/account.position", {"symbol": symbol} if symbol else {}, "signed", weight=5)


def account_balance() -> WsCall:
    return WsCall("v2/account.balance", {}, "signed", weight=5)


def user_stream_start() -> WsCall:
    return WsCall("userDataStream.start", {}, "user_stream", weight=1)


def user_stream_ping() -> WsCall:
    return WsCall("userDataStream.ping", {}, "user_stream", weight=1)


def user_stream_stop() -> WsCall:
    return WsCall("userDataStream.stop", {}, "user_stream", weight=1)


# -- REST -----------------------------------------------------------------------------------------


def exchange_info() -> RestCall:
    return RestCall("GET", "/fapi/v1/exchangeInfo", {}, "none", weight=1)


def server_time() -> RestCall:
    return RestCall("GET", "/fapi/v1/time", {}, "none", weight=1)


def change_leverage(symbol: str, leverage: int) -> RestCall:
    if not 1 <= leverage <= 125:
        raise RequestError("leverage must be a whole number from 1 to 125")
    return RestCall(
        "POST", "/fapi/v1/leverage", {"symbol": symbol, "leverage": leverage}, "signed", mutates=True
    )


def symbol_config(symbol: str | None = None) -> RestCall:
    """Per-symbol leverage and margin type (GET /fapi/v1/symbolConfig, weight 5)."""
    return RestCall("GET", "/fapi/v1/symbolConfig", {"symbol": symbol} if symbol else {}, "signed", weight=5)


def get_position_mode() -> RestCall:
    return RestCall("GET", "/fapi/v1/positionSide/dual", {}, "signed", weight=30)


def set_position_mode(hedge: bool) -> RestCall:
    return RestCall("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": hedge}, "signed", mutates=True)


def open_orders(symbol: str | None = None) -> RestCall:
    # weight 1 with a symbol, 40 without (binance.md §7)
    return RestCall(
        "GET", "/fapi/v1/openOrders", {"symbol": symbol} if symbol else {}, "signed", 1 if symbol else 40
    )


def open_algo_orders(symbol: str | None = None) -> RestCall:
    params: dict[str, ParamValue] = {"symbol": symbol} if symbol else {}
    return RestCall("GET", "/fapi/v1/openAlgoOrders", params, "signed", 1 if symbol else 40)


def get_algo_order(*, algo_id: str | None = None, client_algo_id: str | None = None) -> RestCall:
    params: dict[str, ParamValue] = {}
    if algo_id:
        params["algoId"] = algo_id
    elif client_algo_id:
        params["clientAlgoId"] = client_algo_id
    else:
        raise RequestError("give an algo id or a client algo id")
    return RestCall("GET", "/fapi/v1/algoOrder", params, "signed", weight=1)


def cancel_all_open_orders(symbol: str) -> RestCall:
    return RestCall("DELETE", "/fapi/v1/allOpenOrders", {"symbol": symbol}, "signed", mutates=True)


def cancel_all_algo_open_orders(symbol: str) -> RestCall:
    return RestCall("DELETE", "/fapi/v1/algoOpenOrders", {"symbol": symbol}, "signed", mutates=True)


def listen_key_start() -> RestCall:
    return RestCall("POST", "/fapi/v1/listenKey", {}, "user_stream")


def listen_key_keepalive() -> RestCall:
    return RestCall("PUT", "/fapi/v1/listenKey", {}, "user_stream")


def listen_key_close() -> RestCall:
    return RestCall("DELETE", "/fapi/v1/listenKey", {}, "user_stream")


# -- encoding -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    signer: Signer

    def __repr__(self) -> str:  # never print key material
        return f"Credentials(kind={self.signer.kind})"


def _json_value(value: ParamValue) -> str | int:
    # ints stay JSON ints (timestamp, ids); everything else is sent as the string we signed
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return render_value(value)


def ws_params(
    call: WsCall,
    creds: Credentials,
    *,
    timestamp: int,
    recv_window: int = DEFAULT_RECV_WINDOW,
    logged_on: bool = False,
) -> dict[str, ParamValue]:
    """The params of one WS request with auth added. After `session.logon` a signed request still
    carries `timestamp` (and `recvWindow`) but no apiKey/signature (binance.md §2.4)."""
    params = dict(call.params)
    if call.security == "user_stream":
        params["apiKey"] = creds.api_key
    elif call.security == "signed":
        params["timestamp"] = timestamp
        if call.method != "session.logon":
            params["recvWindow"] = recv_window
        if call.method == "session.logon" or not logged_on:
            params["apiKey"] = creds.api_key
            params["signature"] = creds.signer.sign(ws_payload(params))
    return params


def encode_ws(request_id: str | int, method: str, params: Mapping[str, ParamValue]) -> str:
    body: dict[str, Any] = {"id": request_id, "method": method}
    if params:
        body["params"] = {k: _json_value(v) for k, v in params.items()}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class RestRequest:
    http_method: str
    path_and_query: str  # path, then `?query` if any (everything travels in the query string)
    headers: dict[str, str]

    def __repr__(self) -> str:  # the header holds the API key
        return f"RestRequest({self.http_method} {self.path_and_query.split('?')[0]})"


def encode_rest(
    call: RestCall,
    creds: Credentials | None,
    *,
    timestamp: int = 0,
    recv_window: int = DEFAULT_RECV_WINDOW,
) -> RestRequest:
    """All params go in the query string (allowed for every method), `signature` last (§3.1)."""
    params: dict[str, str] = {k: render_value(v) for k, v in call.params.items()}
    headers: dict[str, str] = {}
    if call.security != "none":
        if creds is None:
            raise RequestError(f"{call.path} needs an API key")
        headers["X-MBX-APIKEY"] = creds.api_key
    if call.security == "signed":
        assert creds is not None
        params["recvWindow"] = str(recv_window)
        params["timestamp"] = str(timestamp)
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")
    if call.security == "signed":
        assert creds is not None
        sig = creds.signer.sign(rest_payload(query))
        query = f"{query}&signature={urllib.parse.quote(sig, safe='')}" if query else f"signature={sig}"
    return RestRequest(call.http_method, f"{call.path}?{query}" if query else call.path, headers)


# -- WS API replies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WsReply:
    id: str | int | None
    status: int
    result: Any = None
    error_code: int | None = None
    error_msg: str = ""
    retry_after_ms: int | None = None  # absolute epoch ms (error.data.retryAfter), when given
    rate_limits: tuple[RateLimitInfo, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error_code is None and 200 <= self.status < 300


def parse_ws_reply(text: str | bytes) -> WsReply | ParseError:
    """One WS API frame. Never raises: unreadable frames come back as `ParseError`."""
    try:
        data = jsonfast.loads(text)
    except (ValueError, UnicodeDecodeError):
        return ParseError("not JSON", _clip(text))
    if not isinstance(data, dict) or "status" not in data:
        return ParseError("not a WS API reply", _clip(text))
    status, rid = data.get("status"), data.get("id")
    if not isinstance(status, int) or isinstance(status, bool) or not isinstance(rid, str | int | type(None)):
        return ParseError("bad status or id", _clip(text))
    limits = parse_rate_limits(data.get("rateLimits"))
    err = data.get("error")
    if isinstance(err, dict):
        code = err.get("code")
        data_field = err.get("data")
        retry = data_field.get("retryAfter") if isinstance(data_field, dict) else None
        return WsReply(
            rid,
            status,
            None,
            code if isinstance(code, int) and not isinstance(code, bool) else 0,
            str(err.get("msg", "")),
            retry if isinstance(retry, int) and not isinstance(retry, bool) else None,
            limits,
        )
    if status >= 300:
        return WsReply(rid, status, None, 0, "no error body", None, limits)
    return WsReply(rid, status, data.get("result"), rate_limits=limits)


def _clip(text: str | bytes, n: int = 300) -> str:
    s = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return s[:n]
