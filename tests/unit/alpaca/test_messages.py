"""Order requests → Alpaca bodies (brokers.md §3.4): what maps, and what is refused with a reason."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from sidedesk.brokers.alpaca.config import endpoints_for
from sidedesk.brokers.alpaca.protocol import messages as msg
from sidedesk.brokers.alpaca.session import broker_error
from sidedesk.domain import OrderRequest, OrderType, Side, TimeInForce


def req(t: OrderType = OrderType.MARKET, qty: str = "10", **kw: object) -> OrderRequest:
    return OrderRequest("AAPL", kw.pop("side", Side.BUY), t, D(qty), "sdm-1", **kw)  # type: ignore[arg-type]


def test_market_whole_shares() -> None:
    assert msg.order_body(req()) == {"symbol": "AAPL", "qty": "10", "side": "buy", "type": "market",
                                     "time_in_force": "day", "client_order_id": "sdm-1"}  # fmt: skip


def test_limit_gtc_whole_and_fractional_day() -> None:
    b = msg.order_body(req(OrderType.LIMIT, price=D("189.50"), time_in_force=TimeInForce.GTC))
    assert (b["type"], b["limit_price"], b["time_in_force"]) == ("limit", "189.5", "gtc")
    f = msg.order_body(req(OrderType.LIMIT, "0.5", price=D(189), time_in_force=TimeInForce.GTC))
    assert (f["qty"], f["time_in_force"]) == ("0.5", "day")  # fractional orders are DAY on Alpaca


def test_stop_stop_limit_and_trailing() -> None:
    s = msg.order_body(req(OrderType.STOP_MARKET, side=Side.SELL, stop_price=D(180)))
    assert (s["type"], s["stop_price"], s["time_in_force"], s["side"]) == ("stop", "180", "gtc", "sell")
    sl = msg.order_body(req(OrderType.STOP_LIMIT, stop_price=D(200), price=D("200.5")))
    assert (sl["type"], sl["stop_price"], sl["limit_price"]) == ("stop_limit", "200", "200.5")
    t = msg.order_body(req(OrderType.TRAILING_STOP_MARKET, side=Side.SELL, callback_rate_pct=D("1.5")))
    assert (t["type"], t["trail_percent"]) == ("trailing_stop", "1.5")


def test_extended_hours_limit() -> None:
    b = msg.order_body(req(OrderType.LIMIT, price=D(189), time_in_force=TimeInForce.GTC), extended_hours=True)
    assert b["extended_hours"] is True and b["time_in_force"] == "day"
    with pytest.raises(msg.RequestError, match="limit orders only"):
        msg.order_body(req(OrderType.STOP_MARKET, stop_price=D(1)), extended_hours=True)


@pytest.mark.parametrize(
    ("request_", "match"),
    [
        (req(OrderType.LIMIT, price=D(1), time_in_force=TimeInForce.GTX), "post-only"),
        (req(OrderType.LIMIT, "0.5", price=D(1), time_in_force=TimeInForce.IOC), "whole shares"),
        (req(OrderType.TAKE_PROFIT_MARKET, stop_price=D(1)), "bracket"),
        (req(OrderType.TRAILING_STOP_MARKET, callback_rate_pct=D(1), activation_price=D(2)), "activation"),
        (req(OrderType.TRAILING_STOP_MARKET, "1.5", callback_rate_pct=D(1)), "whole shares"),
        (req(OrderType.LIMIT), "price"),
        (req(OrderType.STOP_MARKET), "stop price"),
        (req(qty="0"), "positive"),
    ],
)
def test_what_alpaca_cannot_express_is_refused(request_: OrderRequest, match: str) -> None:
    with pytest.raises(msg.RequestError, match=match):
        msg.order_body(request_)


def test_replace_and_notional_bodies() -> None:
    r = msg.replace_stop_body(req(OrderType.STOP_MARKET, "2.5", side=Side.SELL, stop_price=D("181.25")))
    assert r == {"qty": "2.5", "stop_price": "181.25", "client_order_id": "sdm-1", "time_in_force": "day"}
    assert msg.replace_limit_body(D("3"), D("190.10")) == {"qty": "3", "limit_price": "190.1"}
    n = msg.notional_body("AAPL", Side.BUY, D("500"), "sdm-2")
    assert (n["notional"], n["type"], n["time_in_force"]) == ("500.00", "market", "day")
    with pytest.raises(msg.RequestError):
        msg.notional_body("AAPL", Side.BUY, D("0.5"), "sdm-3")


def test_stream_messages() -> None:
    assert json.loads(msg.trading_auth("k", "s")) == {"action": "auth", "key": "k", "secret": "s"}
    assert json.loads(msg.trading_listen(["trade_updates"])) == {
        "action": "listen",
        "data": {"streams": ["trade_updates"]},
    }
    assert json.loads(msg.data_subscribe(["AAPL"])) == {
        "action": "subscribe",
        "trades": ["AAPL"],
        "quotes": ["AAPL"],
    }


def test_endpoints() -> None:
    paper = endpoints_for("demo")
    assert paper.rest == "https://paper-api.alpaca.markets"
    assert paper.stream == "wss://paper-api.alpaca.markets/stream"
    assert endpoints_for("live").rest == "https://api.alpaca.markets"
    with pytest.raises(msg.RequestError, match="stream, data"):
        endpoints_for("simulator", {"rest": "http://127.0.0.1:1"})
    with pytest.raises(msg.RequestError):
        endpoints_for("testnet")


@pytest.mark.parametrize(
    ("status", "body", "method", "code"),
    [
        (401, {"code": 40110000, "message": "request is not authorized"}, "GET", "auth"),
        (403, {"code": 40310000, "message": "insufficient buying power"}, "POST", "rejected"),
        (422, {"code": 40010001, "message": "invalid qty"}, "POST", "invalid"),
        (404, {"code": 40410000, "message": "order not found"}, "GET", "rejected"),
        (429, {"message": "too many requests"}, "GET", "rate_limited"),
        (503, None, "POST", "unknown_outcome"),
        (503, None, "GET", "not_connected"),
    ],
)
def test_http_errors(status: int, body: object, method: str, code: str) -> None:
    assert broker_error(status, body, method).code == code
