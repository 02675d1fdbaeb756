"""Request builders: one per method, the algo renames, hedge/one-way rules, and the reply envelope."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from sidedesk.brokers.binance.protocol import messages as m
from sidedesk.brokers.binance.protocol.fields import ParseError
from sidedesk.brokers.binance.protocol.signing import make_signer
from sidedesk.domain import OrderRequest, OrderType, PositionSide, Side, TimeInForce, WorkingType

D = Decimal
CREDS = m.Credentials("k" * 64, make_signer("s" * 64))


def req(**kw: object) -> OrderRequest:
    base: dict[str, object] = {
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "quantity": D("0.010"),
        "client_id": "sdm0000000000001",
        "price": D("60000.0"),
    }
    base.update(kw)
    return OrderRequest(**base)  # type: ignore[arg-type]


def test_limit_one_way() -> None:
    call = m.order_place(req(time_in_force=TimeInForce.GTX))
    assert call.method == "order.place" and call.weight == 0 and call.orders == 1 and call.mutates
    assert call.params == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": D("0.010"),
        "price": D("60000.0"),
        "timeInForce": "GTX",
        "newClientOrderId": "sdm0000000000001",
        "newOrderRespType": "ACK",
    }


def test_market_reduce_only_one_way_sends_string_true() -> None:
    call = m.order_place(req(type=OrderType.MARKET, price=None, reduce_only=True, side=Side.SELL))
    assert (
        call.params["reduceOnly"] == "true"
        and "price" not in call.params
        and "timeInForce" not in call.params
    )
    frame = json.loads(m.encode_ws(1, call.method, m.ws_params(call, CREDS, timestamp=1)))
    assert frame["params"]["quantity"] == "0.010" and frame["params"]["reduceOnly"] == "true"
    assert frame["params"]["timestamp"] == 1 and isinstance(frame["params"]["recvWindow"], int)


def test_hedge_mode_sends_position_side_and_never_reduce_only() -> None:
    call = m.order_place(
        req(
            type=OrderType.MARKET,
            price=None,
            side=Side.SELL,
            reduce_only=True,
            position_side=PositionSide.LONG,
        )
    )
    assert call.params["positionSide"] == "LONG" and "reduceOnly" not in call.params


@pytest.mark.parametrize(
    ("kw", "msg"),
    [
        ({"type": OrderType.STOP_MARKET, "stop_price": D(1)}, "algoOrder.place"),
        ({"price": None}, "limit price"),
        ({"quantity": D(0)}, "quantity"),
        ({"quantity": D("-1")}, "quantity"),
        ({"type": OrderType.MARKET}, "no price"),
        ({"time_in_force": TimeInForce.DAY}, "DAY"),
        ({"client_id": "bad id!"}, "1-36"),
        ({"client_id": "x" * 37}, "1-36"),
    ],
)
def test_order_place_refuses(kw: dict[str, object], msg: str) -> None:
    with pytest.raises(m.RequestError, match=msg):
        m.order_place(req(**kw))


def test_algo_stop_market_uses_algo_names() -> None:
    call = m.algo_order_place(
        req(type=OrderType.STOP_MARKET, price=None, side=Side.SELL, stop_price=D("58000.0"), reduce_only=True)
    )
    p = call.params
    assert call.method == "algoOrder.place" and p["algoType"] == "CONDITIONAL" and p["type"] == "STOP_MARKET"
    assert p["triggerPrice"] == D("58000.0") and "stopPrice" not in p
    assert p["clientAlgoId"] == "sdm0000000000001" and "newClientOrderId" not in p
    assert p["reduceOnly"] == "true" and p["workingType"] == "MARK_PRICE"


@pytest.mark.parametrize(
    ("ours", "theirs"), [(OrderType.STOP_LIMIT, "STOP"), (OrderType.TAKE_PROFIT_LIMIT, "TAKE_PROFIT")]
)
def test_algo_limit_variants(ours: OrderType, theirs: str) -> None:
    p = m.algo_order_place(req(type=ours, stop_price=D("61000"), time_in_force=TimeInForce.GTC)).params
    assert p["type"] == theirs and p["price"] == D("60000.0") and p["timeInForce"] == "GTC"


def test_algo_take_profit_market_close_position() -> None:
    p = m.algo_order_place(
        req(
            type=OrderType.TAKE_PROFIT_MARKET,
            price=None,
            quantity=D(0),
            side=Side.SELL,
            stop_price=D("70000"),
            position_side=PositionSide.LONG,
            working_type=WorkingType.CONTRACT_PRICE,
        )
    ).params
    assert p["closePosition"] == "true" and "quantity" not in p and "reduceOnly" not in p
    assert p["positionSide"] == "LONG" and p["workingType"] == "CONTRACT_PRICE"


def test_algo_trailing_uses_activate_price() -> None:
    p = m.algo_order_place(
        req(
            type=OrderType.TRAILING_STOP_MARKET,
            price=None,
            side=Side.SELL,
            callback_rate_pct=D("1.5"),
            activation_price=D("61000"),
            reduce_only=True,
            price_protect=True,
        )
    ).params
    assert p["callbackRate"] == D("1.5") and p["activatePrice"] == D("61000")
    assert "activationPrice" not in p and "triggerPrice" not in p and p["priceProtect"] == "true"


@pytest.mark.parametrize("rate", [D("0.05"), D("20.5"), None])
def test_trailing_callback_bounds(rate: Decimal | None) -> None:
    with pytest.raises(m.RequestError):
        m.algo_order_place(req(type=OrderType.TRAILING_STOP_MARKET, price=None, callback_rate_pct=rate))


@pytest.mark.parametrize("rate", [D("0.1"), D("10.5"), D("20")])
def test_trailing_callback_up_to_20_since_2026_10_23(rate: Decimal) -> None:
    """Binance's derivatives change log, 2026-10-23: callbackRate max 10 -> 20."""
    p = m.algo_order_place(
        req(type=OrderType.TRAILING_STOP_MARKET, price=None, callback_rate_pct=rate)
    ).params
    assert p["callbackRate"] == rate


def test_algo_refuses_regular_types_and_missing_trigger() -> None:
    with pytest.raises(m.RequestError):
        m.algo_order_place(req())
    with pytest.raises(m.RequestError, match="trigger"):
        m.algo_order_place(req(type=OrderType.STOP_MARKET, price=None))


def test_cancel_modify_status_and_algo_cancel() -> None:
    assert m.order_cancel("BTCUSDT", order_id="123").params == {"symbol": "BTCUSDT", "orderId": 123}
    assert m.order_cancel("BTCUSDT", client_id="sdm1").params == {
        "symbol": "BTCUSDT",
        "origClientOrderId": "sdm1",
    }
    assert m.order_status("BTCUSDT", client_id="c").method == "order.status"
    mod = m.order_modify("BTCUSDT", "7", side="BUY", quantity=D("0.01"), price=D("60010.0"))
    assert mod.params == {
        "symbol": "BTCUSDT",
        "orderId": 7,
        "side": "BUY",
        "quantity": D("0.01"),
        "price": D("60010.0"),
    }
    assert mod.orders == 1
    assert m.algo_order_cancel(algo_id="3000000000003505").params == {"algoId": 3000000000003505}
    assert m.algo_order_cancel(client_algo_id="sda1").params == {"clientAlgoId": "sda1"}
    with pytest.raises(m.RequestError):
        m.order_cancel("BTCUSDT")
    with pytest.raises(m.RequestError):
        m.algo_order_cancel()


def test_account_and_stream_methods() -> None:
    assert m.account_status().method == "v2/account.status"
    assert m.account_position("ETHUSDT").params == {"symbol": "ETHUSDT"}
    assert m.account_balance().method == "v2/account.balance"
    assert [c.method for c in (m.user_stream_start(), m.user_stream_ping(), m.user_stream_stop())] == [
        "userDataStream.start",
        "userDataStream.ping",
        "userDataStream.stop",
    ]


def test_rest_builders() -> None:
    assert m.exchange_info().security == "none" and m.server_time().path == "/fapi/v1/time"
    assert m.get_position_mode().weight == 30
    assert m.set_position_mode(True).params == {"dualSidePosition": True}
    assert m.open_orders().weight == 40 and m.open_orders("BTCUSDT").weight == 1
    assert m.open_algo_orders("BTCUSDT").path == "/fapi/v1/openAlgoOrders"
    assert m.cancel_all_open_orders("BTCUSDT").http_method == "DELETE"
    assert m.cancel_all_algo_open_orders("BTCUSDT").path == "/fapi/v1/algoOpenOrders"
    assert m.listen_key_start().security == "user_stream"
    assert m.get_algo_order(client_algo_id="x").params == {"clientAlgoId": "x"}
    for bad in (0, 126):
        with pytest.raises(m.RequestError, match="1 to 125"):
            m.change_leverage("BTCUSDT", bad)
    with pytest.raises(m.RequestError, match="API key"):
        m.encode_rest(m.open_orders(), None)
    assert m.encode_rest(m.exchange_info(), None).path_and_query == "/fapi/v1/exchangeInfo"
    req2 = m.encode_rest(m.set_position_mode(False), CREDS, timestamp=9)
    assert req2.path_and_query.startswith(
        "/fapi/v1/positionSide/dual?dualSidePosition=false&recvWindow=5000&timestamp=9"
    )


def test_parse_success_reply_with_rate_limits() -> None:
    r = m.parse_ws_reply(
        '{"id":"a","status":200,"result":{"x":1},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE",'
        '"intervalNum":1,"limit":2400,"count":7},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,'
        '"limit":300,"count":1},{"bogus":true}]}'
    )
    assert not isinstance(r, ParseError) and r.ok and r.result == {"x": 1}
    assert [(x.kind, x.interval_ms, x.limit, x.count) for x in r.rate_limits] == [
        ("REQUEST_WEIGHT", 60000, 2400, 7),
        ("ORDERS", 10000, 300, 1),
    ]


def test_parse_error_reply_with_retry_after() -> None:
    r = m.parse_ws_reply(
        '{"id":3,"status":429,"error":{"code":-1003,"msg":"Too many",'
        '"data":{"serverTime":1,"retryAfter":99}}}'
    )
    assert not isinstance(r, ParseError)
    assert not r.ok and r.error_code == -1003 and r.retry_after_ms == 99 and r.id == 3


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1,2]", '{"id":1}', '{"id":{},"status":200}', '{"id":1,"status":"200"}', b"\xff\xfe"],
)
def test_malformed_replies_are_values_not_exceptions(frame: str | bytes) -> None:
    assert isinstance(m.parse_ws_reply(frame), ParseError)


def test_error_status_without_body() -> None:
    r = m.parse_ws_reply('{"id":1,"status":503}')
    assert not isinstance(r, ParseError) and not r.ok and r.status == 503
