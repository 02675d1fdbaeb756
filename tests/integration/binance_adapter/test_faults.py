"""The adapter under injected faults: clock skew (-1021), forced 429/418, replies lost after the order
executed, replies too slow, listenKey expiry, dropped connections; and the messages a trader sees."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest

from sidedesk.core.orders import make_client_id
from sidedesk.domain import (
    BrokerError,
    ConnectionEvent,
    ConnectionState,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from sidedesk_sim.binance import BinanceSim
from tests.integration.binance_adapter.conftest import Connect
from tests.integration.binance_adapter.simenv import Control, Session, wait_for

D = Decimal


def market(symbol: str = "BTCUSDT", side: Side = Side.BUY, qty: str = "0.002", **kw: Any) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.MARKET, D(qty), make_client_id("m"), **kw)


def orders_with(log: list[dict[str, object]], client_id: str) -> set[object]:
    return {
        e["orderId"] for e in log if e.get("clientOrderId") == client_id or e.get("clientAlgoId") == client_id
    }


# -- -1021: clock skew ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["hmac", "ed25519"])
@pytest.mark.parametrize("skew_ms", [12_000, -7_000])
async def test_clock_skew_is_resynced_and_the_order_placed_once(
    connect: Connect, ctl: Control, key: str, skew_ms: int
) -> None:
    s = await connect(key)
    before = s.broker.session.clock.offset_ms
    await ctl.skew(skew_ms)  # the exchange's clock jumps: our timestamps are now outside recvWindow
    order = market()
    ack = await s.broker.place(order)
    log = await ctl.order_log()
    assert orders_with(log, order.client_id) == {int(ack.order_id)}
    assert abs(s.broker.session.clock.offset_ms - before - skew_ms) < 1_000
    # REST signs with the same clock
    assert await s.broker.cancel_all() == 0


async def test_clock_skew_on_rest_is_resynced_and_retried(connect: Connect, ctl: Control) -> None:
    s = await connect()
    params = {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    await ctl.place_as_other("main", {**params, "quantity": "0.010", "price": "2900"})
    await ctl.skew(-9_000)
    assert [o.symbol for o in await s.broker.open_orders()] == ["ETHUSDT"]  # signed REST, retried once
    assert abs(s.broker.session.clock.offset_ms + 9_000) < 1_000


async def test_clock_skew_then_reconnect_with_session_logon(connect: Connect, ctl: Control) -> None:
    """The logon on the new connection is refused for its timestamp: the clock is resynced and the
    order still goes out exactly once."""
    s = await connect("ed25519")
    m = s.mark()
    await ctl.skew(15_000)
    await ctl.disconnect("ws-api")
    await wait_for(
        lambda: any(
            isinstance(e, ConnectionEvent) and e.state is ConnectionState.RECONNECTING for e in s.since(m)
        ),
        what="the drop noticed",
    )
    order = market()
    ack = await s.broker.place(order)
    assert orders_with(await ctl.order_log(), order.client_id) == {int(ack.order_id)}


# -- rate limits ------------------------------------------------------------------------------------


async def test_forced_429_backs_off_until_retry_after_without_sending(
    connect: Connect, ctl: Control, sim: BinanceSim
) -> None:
    s = await connect()
    await ctl.rate_limits(force=[429], ban_ms=700)
    with pytest.raises(BrokerError) as err:
        await s.broker.place(market())
    e = err.value
    assert e.code == "rate_limited" and e.broker_code == -1003
    assert (
        e.retry_after_s is not None and 0 < e.retry_after_s <= 0.75
    )  # the clock offset is estimated to ±RTT/2
    assert "too many requests" in e.message and "retry in" in e.message
    # while blocked, nothing goes out: every attempt is refused locally, at once
    for _ in range(50):
        with pytest.raises(BrokerError) as again:
            await s.broker.place(market())
        assert again.value.code == "rate_limited" and again.value.retry_after_s is not None
    assert await ctl.order_log() == [] and sim.limiter.order_counts("main", sim.now_ms()) == (0, 0)
    client = s.broker.session
    await wait_for(
        lambda: client.limiter.blocked_until_ms <= client.server_now_ms(), timeout=3, what="unblock"
    )
    order = market()
    await s.broker.place(order)
    assert len(orders_with(await ctl.order_log(), order.client_id)) == 1


async def test_418_ban_is_reported_with_its_duration(connect: Connect, ctl: Control) -> None:
    s = await connect()
    await ctl.rate_limits(force=[418], ban_ms=900)
    with pytest.raises(BrokerError) as err:
        await s.broker.place(market())
    e = err.value
    assert e.code == "rate_limited" and e.retry_after_s is not None and 0 < e.retry_after_s <= 0.95
    assert "banned this IP" in e.message
    with pytest.raises(BrokerError) as again:  # REST is blocked too: it is the same IP
        await s.broker.cancel_all()
    assert again.value.code == "rate_limited"
    assert await ctl.order_log() == []


async def test_rest_429_uses_retry_after_header(connect: Connect, ctl: Control) -> None:
    s = await connect()
    await ctl.rate_limits(force=[429], ban_ms=700)
    with pytest.raises(BrokerError) as err:
        await s.broker.open_orders()  # REST
    assert err.value.code == "rate_limited" and err.value.retry_after_s is not None
    assert 0 < err.value.retry_after_s <= 1.0  # Retry-After is whole seconds


# -- lost and late replies --------------------------------------------------------------------------


# The adapter's part of a lost reply: raise unknown_outcome, never re-send, and let `lookup`
# find the order by client id (order entry runs the lookups: tests/integration/trading/
# test_lost_replies.py). The old adapter resolved it inside `place` with one lookup of its own.


async def unknown(s: Session, order: OrderRequest) -> BrokerError:
    with pytest.raises(BrokerError) as err:
        await s.broker.place(order)
    assert err.value.code == "unknown_outcome"
    return err.value


async def lookup(s: Session, order: OrderRequest, *, conditional: bool = False) -> OrderEvent | None:
    """`lookup` as order entry runs it: again while the connection is still coming back."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return await s.broker.lookup(order.symbol, order.client_id, conditional=conditional)
        except BrokerError as exc:
            if exc.code != "not_connected" or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("key", ["hmac", "ed25519"])
async def test_executed_but_reply_lost_is_unknown_and_lookup_finds_it(
    connect: Connect, ctl: Control, key: str
) -> None:
    s = await connect(key)
    await ctl.fault("lose_reply", "order.place")
    order = market()
    await unknown(s, order)
    found = await lookup(s, order)
    assert found is not None and found.client_id == order.client_id
    assert found.status is OrderStatus.FILLED and found.filled == D("0.002") and not found.is_conditional
    assert orders_with(await ctl.order_log(), order.client_id) == {int(found.order_id)}  # never re-sent


async def test_algo_executed_but_reply_lost_is_unknown_and_lookup_finds_the_algo_order(
    connect: Connect, ctl: Control
) -> None:
    s = await connect()
    await s.broker.place(market(qty="0.010"))
    await ctl.fault("lose_reply", "algoOrder.place")
    stop = OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.STOP_MARKET, D("0.010"), make_client_id("a"), stop_price=D(59000),
        reduce_only=True,
    )  # fmt: skip
    await unknown(s, stop)
    found = await lookup(s, stop, conditional=True)
    assert found is not None and found.is_conditional and found.status is OrderStatus.NEW
    algos = (await ctl.open_orders())["algoOrders"]
    assert [(a["algoId"], a["clientAlgoId"]) for a in algos] == [(int(found.order_id), stop.client_id)]


async def test_reply_slower_than_the_timeout_is_unknown_not_resent(connect: Connect, ctl: Control) -> None:
    s = await connect(request_timeout_s=0.5)
    await ctl.fault("delay", "order.place", ms=800)
    order = market()
    await unknown(s, order)
    found = await lookup(s, order)
    assert found is not None
    assert orders_with(await ctl.order_log(), order.client_id) == {int(found.order_id)}
    # the late reply to the first request is ignored, and the connection keeps working
    nxt = market()
    await s.broker.place(nxt)
    assert len(orders_with(await ctl.order_log(), nxt.client_id)) == 1
    assert len(orders_with(await ctl.order_log(), order.client_id)) == 1


async def test_connection_dropped_before_the_order_arrived(connect: Connect, ctl: Control) -> None:
    """The order never reached the exchange: unknown at first, and the lookup says Binance has none."""
    s = await connect()
    await ctl.fault("drop_at_method", "order.place")
    order = market()
    await unknown(s, order)
    assert await lookup(s, order) is None
    assert await ctl.order_log() == []
    nxt = market()
    await s.broker.place(nxt)  # the connection came back
    assert len(orders_with(await ctl.order_log(), nxt.client_id)) == 1


# -- connections ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["hmac", "ed25519"])
async def test_dropped_ws_api_reconnects_and_the_next_order_works(
    connect: Connect, ctl: Control, key: str
) -> None:
    s = await connect(key)
    m = s.mark()
    assert await ctl.disconnect("ws-api") == 1

    def noticed() -> bool:
        return any(
            isinstance(e, ConnectionEvent) and e.state is ConnectionState.RECONNECTING and "api" in e.detail
            for e in s.since(m)
        )

    await wait_for(noticed, what="the drop noticed")
    order = market()  # sent while reconnecting: waits (bounded) for the connection, then goes out
    ack = await s.broker.place(order)
    assert orders_with(await ctl.order_log(), order.client_id) == {int(ack.order_id)}
    states = [(e.state, e.detail.split(":")[0]) for e in s.of(m, ConnectionEvent)]
    assert (ConnectionState.CONNECTED, "binance-api") in states
    assert s.broker.session._logged_on is (key == "ed25519")


async def test_listen_key_expiry_reopens_the_stream_with_a_fresh_key(connect: Connect, ctl: Control) -> None:
    s = await connect()
    client = s.broker.session
    old = client._listen_key
    assert old is not None
    expired = await ctl.expire_listen_key()
    assert expired == old
    await wait_for(
        lambda: client._listen_key not in (None, old) and client.user.connected, what="new listenKey"
    )
    m = s.mark()
    ack = await s.broker.place(market())
    await s.wait_order(m, ack.order_id, "FILLED")
    assert len(s.of(m, FillEvent)) == 1


async def test_dropped_user_stream_reconnects_and_events_keep_flowing(connect: Connect, ctl: Control) -> None:
    s = await connect()
    m = s.mark()
    assert await ctl.disconnect("private") == 1
    await wait_for(
        lambda: any(
            isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED and "user" in e.detail
            for e in s.since(m)
        ),
        what="user stream back",
    )
    ack = await s.broker.place(market())
    await s.wait_order(m, ack.order_id, "FILLED")


# -- messages a trader can act on -------------------------------------------------------------------


async def test_insufficient_margin(connect: Connect, ctl: Control) -> None:
    ident = await ctl.account("small", balances={"USDT": "50"})
    s = await connect(ident)
    with pytest.raises(BrokerError) as err:
        await s.broker.place(market(qty="0.100"))  # 6000 USDT at 20x needs 300 USDT of margin
    e = err.value
    assert (e.code, e.broker_code) == ("rejected", -2019)
    assert "insufficient margin" in e.message and "reduce size or add funds" in e.message
    assert await ctl.order_log("small") == []


async def test_reduce_only_without_a_position(connect: Connect, ctl: Control) -> None:
    s = await connect()
    with pytest.raises(BrokerError) as err:
        await s.broker.place(market(side=Side.SELL, reduce_only=True))
    e = err.value
    assert (e.code, e.broker_code) == ("rejected", -2022)
    assert "reduce-only rejected" in e.message and "no position" in e.message


async def test_min_notional_message(connect: Connect) -> None:
    s = await connect()
    with pytest.raises(BrokerError) as err:
        await s.broker.place(market("ETHUSDT", qty="0.001"))  # 3 USDT < 20 USDT
    assert err.value.broker_code == -4164 and "minimum notional" in err.value.message


async def test_order_ids_and_secrets_stay_out_of_messages(
    connect: Connect, ctl: Control, sim: BinanceSim
) -> None:
    s = await connect()
    ident = next(k for k in sim.info()["keys"] if k["type"] == "hmac")
    with pytest.raises(BrokerError) as err:
        await s.broker.place(market(side=Side.SELL, reduce_only=True))
    assert ident["secret"] not in err.value.message and ident["apiKey"] not in err.value.message


async def test_place_while_not_connected_says_nothing_was_sent(connect: Connect, sim: BinanceSim) -> None:
    s: Session = await connect()
    await s.broker.close()
    with pytest.raises(BrokerError) as err:
        await s.broker.place(market())
    assert err.value.code == "not_connected" and "nothing was sent" in err.value.message
    assert sim.engine.all_orders("main") == []


async def test_local_orders_limit_from_exchange_info_refuses_before_the_exchange(
    connect: Connect, ctl: Control, sim: BinanceSim
) -> None:
    """exchangeInfo announces ORDERS 6/10 s; with the 10 % safety margin the 6th order is refused
    locally (naming the pool), while the first five go out without any delay."""
    await ctl.rate_limits(orders_per_10s=6)
    s = await connect()
    client = s.broker.session
    # start early in a 10 s window so the count cannot reset half-way through the test
    await wait_for(lambda: client.server_now_ms() % 10_000 < 6_000, timeout=5, what="start of a window")
    for _ in range(5):
        await s.broker.place(market())
    with pytest.raises(BrokerError) as err:
        await s.broker.place(market())
    e = err.value
    assert e.code == "rate_limited" and "ORDERS/10s" in e.message and e.retry_after_s is not None
    assert sim.limiter.order_counts("main", sim.now_ms())[0] == 5  # the 6th never left the host
