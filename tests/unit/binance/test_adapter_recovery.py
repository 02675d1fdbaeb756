"""Regression tests (no connection) for fixes found by the adapter's integration tests:
- a request during a WS API reconnect waits, bounded, instead of failing at once;
- an order refused with -4061 (position mode switched elsewhere) is refitted and sent once more;
- a lost reply is "unknown" and leaves `place` at once, neither looked up nor re-sent there (order
  entry resolves it for every broker); `lookup` says None only when Binance has no such order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sidedesk.brokers.binance.adapter import BinanceBroker
from sidedesk.brokers.binance.config import BinanceConfig, endpoints_for
from sidedesk.brokers.binance.protocol import messages as msg
from sidedesk.domain import BrokerError, OrderRequest, OrderType, PositionSide, Side
from sidedesk.net.ws import WsStatus
from tests.support.eventlog import EventLog

KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
URLS = {"rest": "http://127.0.0.1:1", "ws_api": "ws://127.0.0.1:1/ws-fapi/v1", "stream": "ws://127.0.0.1:1"}
D = Decimal


def broker(**kw: Any) -> BinanceBroker:
    b = BinanceBroker(
        "acc", BinanceConfig("simulator", endpoints_for("simulator", URLS), KEY, SECRET), EventLog(), **kw
    )
    b.session.clock.stale = False  # no REST time sync
    b.session._logon_done.set()
    return b


def market(**kw: Any) -> OrderRequest:
    return OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, D("0.01"), "sdm1", **kw)


async def test_request_while_reconnecting_waits_then_says_nothing_was_sent() -> None:
    b = broker(reconnect_wait_s=0.05)
    b.session.api.status = WsStatus("binance-api", "reconnecting", 1, last_error="OSError: refused")
    with pytest.raises(BrokerError) as e:
        await b.cancel("BTCUSDT", order_id="1")
    assert e.value.code == "not_connected" and "nothing was sent" in e.value.message
    assert "refused" in e.value.message
    await b.close()


async def test_request_when_stopped_fails_at_once() -> None:
    b = broker(reconnect_wait_s=30)  # would hang the test if it waited
    with pytest.raises(BrokerError) as e:
        await b.cancel("BTCUSDT", order_id="1")
    assert e.value.code == "not_connected"
    await b.close()


async def test_position_mode_switched_elsewhere_refits_and_resends_once() -> None:
    b = broker()
    sent: list[dict[str, Any]] = []

    async def call(c: msg.WsCall) -> Any:
        sent.append(dict(c.params))
        if len(sent) == 1:
            raise BrokerError("rejected", "mode", -4061)
        return {"orderId": 5, "clientOrderId": "sdm1", "status": "NEW", "executedQty": "0"}

    async def rest(c: msg.RestCall, **_: Any) -> Any:
        assert c.path == "/fapi/v1/positionSide/dual"
        return {"dualSidePosition": True}

    b.session.call = call  # type: ignore[method-assign,assignment]
    b.session.rest = rest  # type: ignore[method-assign,assignment]
    ack = await b.place(market())
    assert ack.order_id == "5" and b.hedge_mode
    assert "positionSide" not in sent[0] and sent[1]["positionSide"] == PositionSide.LONG.value


async def test_minus_4061_with_an_unchanged_mode_is_not_retried() -> None:
    b = broker()
    calls = 0

    async def call(c: msg.WsCall) -> Any:
        nonlocal calls
        calls += 1
        raise BrokerError("rejected", "mode", -4061)

    async def rest(c: msg.RestCall, **_: Any) -> Any:
        return {"dualSidePosition": False}

    b.session.call = call  # type: ignore[method-assign,assignment]
    b.session.rest = rest  # type: ignore[method-assign,assignment]
    with pytest.raises(BrokerError) as e:
        await b.place(market())
    assert e.value.broker_code == -4061 and calls == 1


async def test_lost_reply_is_unknown_and_neither_looked_up_nor_resent_by_place() -> None:
    b = broker()
    methods: list[str] = []

    async def call(c: msg.WsCall) -> Any:
        methods.append(c.method)
        if c.method == "order.place":
            raise BrokerError("unknown_outcome", "no answer", None)
        raise BrokerError("rejected", "Order does not exist.", -2013, reason="order_not_found")

    b.session.call = call  # type: ignore[method-assign,assignment]
    with pytest.raises(BrokerError) as e:
        await b.place(market())
    assert e.value.code == "unknown_outcome" and e.value.message == "no answer"
    assert methods == ["order.place"]  # the old adapter looked it up here: order entry does now
    assert await b.lookup("BTCUSDT", "sdm1") is None  # what order entry's lookup gets: "never placed"
    assert methods == ["order.place", "order.status"]


async def test_a_failing_lookup_raises_instead_of_saying_not_found() -> None:
    b = broker()

    async def call(c: msg.WsCall) -> Any:
        raise BrokerError("not_connected", "no answer from Binance to order.status")

    b.session.call = call  # type: ignore[method-assign,assignment]
    with pytest.raises(BrokerError) as e:
        await b.lookup("BTCUSDT", "sdm1")
    assert e.value.code == "not_connected"
