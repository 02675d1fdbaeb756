"""Token renewal and re-auth, heartbeats both ways, penalties, reconnect and resync."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from sidedesk.domain import (
    BrokerError,
    ConnectionEvent,
    ConnectionState,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    Side,
)
from sidedesk_sim.tradovate import TradovateSim
from tests.integration.tradovate.conftest import MES, Connect, Session, eventually
from tests.support.eventlog import EventLog


def market(side: Side, qty: int, cid: str) -> OrderRequest:
    return OrderRequest(MES, side, OrderType.MARKET, Decimal(qty), cid)


def connected_count(log: EventLog) -> int:
    """How many times the trading socket reported itself connected."""
    events = [e for e in log.of(ConnectionEvent) if isinstance(e, ConnectionEvent)]
    return len(
        [e for e in events if e.state is ConnectionState.CONNECTED and e.detail.startswith("tradovate:")]
    )


async def test_token_is_renewed_before_expiry_on_the_same_session(
    sim: TradovateSim, connect: Connect
) -> None:
    sim.auth.token_ttl_ms = 2000  # compressed 80 minutes: renew at 3/4 of the life
    s = await connect()
    first = s.broker.session.token
    await eventually(lambda: s.broker.session.renewals >= 2, "two renewals", timeout=6)
    assert s.broker.session.token is not None and s.broker.session.token.access != first.access  # type: ignore[union-attr]
    assert len(sim.auth.sessions()) == 1  # renewal keeps the session: no new sign-in
    assert connected_count(s.log) == 1  # and the socket stayed up
    ack = await s.broker.place(market(Side.BUY, 1, "sdm0000000000101"))
    await eventually(lambda: [o for o in s.orders(ack.order_id) if o.status is OrderStatus.FILLED], "filled")


async def test_expired_session_signs_in_again(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    assert sim.auth.expire_user("demo") == 1
    sim.step()  # the simulator closes the sockets of the ended session
    await eventually(
        lambda: connected_count(s.log) >= 2 and s.broker.session.syncs >= 2, "reconnected", timeout=8
    )
    assert s.broker.session.sign_ins == 2
    ack = await s.broker.place(market(Side.BUY, 1, "sdm0000000000102"))
    assert ack.order_id


async def test_client_heartbeat_keeps_the_socket(sim: TradovateSim, connect: Connect) -> None:
    sim.config.client_timeout_s = 1.0
    s = await connect(heartbeat_s=0.2)
    import asyncio

    await asyncio.sleep(2.0)  # twice the server's timeout: only the `[]` heartbeat keeps it open
    assert connected_count(s.log) == 1 and s.broker.session.trading.connected


async def test_silent_server_is_detected_and_replaced(sim: TradovateSim, connect: Connect) -> None:
    s = await connect(stale_after_s=1.0)
    before = s.broker.session.syncs
    for c in list(sim.conns):
        if c.kind == "trading":
            c.muted = True  # no `h` any more: the adapter must see a dead link
    await eventually(lambda: s.broker.session.syncs > before, "a new sync after the silent link", timeout=6)
    ack = await s.broker.place(market(Side.BUY, 1, "sdm0000000000103"))
    assert ack.order_id


async def test_sign_in_penalty_is_waited_out(sim: TradovateSim, connect: Connect) -> None:
    sim.auth.arm_penalty("auth", 1, False, 1)
    s = await connect()
    assert s.broker.session.penalties_waited == 1
    assert not sim.auth.penalties  # the ticket was used


async def test_captcha_penalty_stops(sim: TradovateSim, connect: Connect) -> None:
    sim.auth.arm_penalty("auth", 1, True, 1)
    try:
        await connect()
    except BrokerError as exc:
        assert exc.code == "rate_limited" and exc.broker_code == "p-captcha"
        assert "captcha" in exc.message
    else:
        raise AssertionError("a captcha penalty cannot be passed by an app")


async def test_order_penalty_resends_once_with_the_ticket(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    sim.auth.arm_penalty("order/placeorder", 1, False, 1)
    ack = await s.broker.place(market(Side.BUY, 1, "sdm0000000000104"))
    assert s.broker.session.penalties_waited == 1
    placed = [o for o in sim.book.orders.values() if o.leg.cl_ord_id == "sdm0000000000104"]
    assert len(placed) == 1 and str(placed[0].id) == ack.order_id


async def test_429_is_rate_limited_and_nothing_runs(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    sim.faults.arm({"kind": "http_429", "target": "order/placeorder"})
    try:
        await s.broker.place(market(Side.BUY, 1, "sdm0000000000105"))
    except BrokerError as exc:
        assert exc.code == "rate_limited" and exc.broker_code == 429
    else:
        raise AssertionError("429 must refuse")
    assert not sim.book.orders


async def lookup_again(s: Session, order: OrderRequest) -> OrderEvent | None:
    """`lookup` as order entry runs it: again while the trading socket is coming back."""
    deadline = time.monotonic() + 8
    while True:
        try:
            return await s.broker.lookup(order.symbol, order.client_id, conditional=order.type.is_conditional)
        except BrokerError as exc:
            if exc.code != "not_connected" or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_lost_reply_is_unknown_and_lookup_finds_it_by_client_id(
    sim: TradovateSim, connect: Connect
) -> None:
    # the adapter's part (order entry runs the lookups): unknown_outcome, never re-sent, found
    s = await connect()
    sim.faults.arm({"kind": "lose_reply", "target": "order/placeorder"})
    order = market(Side.BUY, 1, "sdm0000000000106")
    with pytest.raises(BrokerError) as err:
        await s.broker.place(order)
    assert err.value.code == "unknown_outcome"
    found = await lookup_again(s, order)
    assert found is not None and found.client_id == order.client_id and not found.is_conditional
    assert [str(o.id) for o in sim.book.orders.values()] == [found.order_id]  # never re-sent


async def test_lost_reply_of_a_stop_is_found_as_a_conditional_order(
    sim: TradovateSim, connect: Connect
) -> None:
    # was: the stop came back (and was acked) as a regular order, so the books keyed it apart
    # from the conditional order ASL cancels by
    s = await connect()
    sim.faults.arm({"kind": "lose_reply", "target": "order/placeorder"})
    stop = OrderRequest(
        MES, Side.SELL, OrderType.STOP_MARKET, Decimal(1), f"sda-{MES}-L0-3", stop_price=Decimal("5990.00")
    )
    with pytest.raises(BrokerError) as err:
        await s.broker.place(stop)
    assert err.value.code == "unknown_outcome"
    found = await lookup_again(s, stop)
    assert found is not None and found.is_conditional and found.status is OrderStatus.NEW
    assert found.type is OrderType.STOP_MARKET and found.stop_price == Decimal("5990.00")
    assert [str(o.id) for o in sim.book.orders.values()] == [found.order_id]
    # and the stream and a placed stop's ack say the same: conditional
    ack = await s.broker.place(
        OrderRequest(
            MES,
            Side.SELL,
            OrderType.STOP_MARKET,
            Decimal(1),
            f"sda-{MES}-L1-4",
            stop_price=Decimal("5980.00"),
        )
    )
    assert ack.is_conditional
    streamed = await eventually(lambda: s.orders(ack.order_id), "the stop's order event")
    assert all(e.is_conditional for e in streamed)


async def test_a_cancel_of_an_order_that_is_no_longer_working_says_order_not_found(
    sim: TradovateSim, connect: Connect
) -> None:
    s = await connect()
    ack = await s.broker.place(market(Side.BUY, 1, "sdm0000000000108"))
    await eventually(lambda: [o for o in s.orders(ack.order_id) if o.status is OrderStatus.FILLED], "filled")
    s.broker.store.orders.clear()  # our copy forgot it: only Tradovate's answer can say why
    with pytest.raises(BrokerError) as err:
        await s.broker.cancel(MES, order_id=ack.order_id)
    assert err.value.broker_code == "TooLate" and err.value.reason == "order_not_found"


async def test_reconnect_resyncs_what_happened_meanwhile(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    await s.broker.place(market(Side.BUY, 1, "sdm0000000000107"))
    stop = await s.broker.place(
        OrderRequest(
            MES,
            Side.SELL,
            OrderType.STOP_MARKET,
            Decimal(1),
            f"sda-{MES}-L0-2",
            stop_price=Decimal("5990.00"),
        )
    )
    await eventually(
        lambda: [o for o in s.orders(stop.order_id) if o.status is OrderStatus.NEW], "stop working"
    )
    # the link drops, and while it is down the stop fires
    s.broker.session.trading.reconnect("test")  # detaches now; the events below reach no socket
    for c in list(sim.conns):
        c.abort()
    sim.set_price(MES, Decimal("5989.00"))
    await eventually(
        lambda: [o for o in s.orders(stop.order_id) if o.status is OrderStatus.FILLED],
        "the stop's fill after the resync",
        timeout=8,
    )
    flat = [e for e in s.log.of(PositionEvent) if isinstance(e, PositionEvent) and e.quantity == 0]
    assert flat
    snap = await s.broker.snapshot()
    assert not snap.positions and not snap.open_orders


async def test_a_stop_refused_as_already_crossed_says_would_trigger(
    sim: TradovateSim, connect: Connect
) -> None:
    s = await connect()
    await s.broker.subscribe_quotes([MES])
    sim.set_price(MES, Decimal("6000.00"))
    cid = s.broker.store.contract_id(MES) or 0
    await eventually(lambda: s.broker.store.last.get(cid) == Decimal("6000.00"), "the last price")
    above = OrderRequest(
        MES, Side.SELL, OrderType.STOP_MARKET, Decimal(1), f"sda-{MES}-L0-5", stop_price=Decimal("6001.00")
    )
    with pytest.raises(BrokerError) as err:  # a sell stop above the market would trigger at once
        await s.broker.place(above)
    assert err.value.broker_code == "InvalidPrice" and err.value.reason == "would_trigger"
    # InvalidPrice for another cause (a price off the tick) is a plain refusal: no reason
    off_tick = OrderRequest(
        MES, Side.SELL, OrderType.STOP_MARKET, Decimal(1), f"sda-{MES}-L0-6", stop_price=Decimal("5990.10")
    )
    with pytest.raises(BrokerError) as plain:
        await s.broker.place(off_tick)
    assert plain.value.broker_code == "InvalidPrice" and plain.value.reason is None


async def test_lost_reply_of_a_liquidation_is_found_by_the_intent_client_id(
    sim: TradovateSim, connect: Connect
) -> None:
    """liquidatePosition carries no client id of ours: after a lost reply, lookup finds the closing
    market order that appeared on the contract after the request, and ties it to the intent."""
    s = await connect()
    await s.broker.place(market(Side.SELL, 2, "sdm0000000000107"))
    await eventually(
        lambda: [e for e in s.log.of(PositionEvent) if isinstance(e, PositionEvent) and e.quantity == -2],
        "short 2",
    )
    sim.faults.arm({"kind": "lose_reply", "target": "order/liquidateposition"})
    close = OrderRequest(
        MES,
        Side.BUY,
        OrderType.MARKET,
        Decimal(2),
        "sdm0000000000108",
        reduce_only=True,
        closes_position=True,
    )
    with pytest.raises(BrokerError) as err:
        await s.broker.place(close)
    assert err.value.code == "unknown_outcome"
    found = await lookup_again(s, close)
    assert found is not None and found.client_id == close.client_id and found.side is Side.BUY
    closing = [o for o in sim.book.orders.values() if o.leg.action == "Buy"]
    assert [str(o.id) for o in closing] == [found.order_id]  # one liquidation, never re-sent
