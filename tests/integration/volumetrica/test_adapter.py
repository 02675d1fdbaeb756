"""The adapter against the simulator over loopback: login, snapshot, orders, fills, reconnects."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk.domain import (
    BrokerError,
    ConnectionEvent,
    ConnectionState,
    FillEvent,
    NoticeEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    QuoteEvent,
    Side,
)
from sidedesk_sim.volumetrica import VolumetricaSim
from sidedesk_sim.volumetrica.instruments import front_symbol, looked_up
from tests.integration.volumetrica.conftest import Connect, until

ES = front_symbol("ES")  # the simulator lists the front month on its clock (sim/cme.py)
MONTH = ES[2:]  # e.g. Z26


async def price(sim: VolumetricaSim, symbol: str, value: str) -> None:
    await sim.control("price", {"symbol": symbol, "price": value})


async def test_login_snapshot_and_contracts(sim: VolumetricaSim, connect: Connect) -> None:
    await price(sim, ES, "6000")
    b, _ = await connect()
    rules = b.instruments()
    # SymbolLookup: the front month, plus the next one in the eight days before the front expires
    assert set(rules) == {c.symbol for c in looked_up(sim.contracts, sim.now_ms())}
    assert {ES, "MES" + MONTH, "NQ" + MONTH, "MNQ" + MONTH} <= set(rules)
    assert rules[ES].tick_size == D("0.25") and rules[ES].contract_multiplier == 50
    assert rules["MES" + MONTH].contract_multiplier == 5
    assert b.acc_number == 123456
    snap = await b.snapshot()
    assert snap.positions == () and snap.open_orders == ()
    assert snap.balances[0].wallet_balance == 50_000
    assert b.session.tokens_used == 1


async def test_place_fill_position_modify_cancel(sim: VolumetricaSim, connect: Connect) -> None:
    await price(sim, ES, "6000")
    b, log = await connect()
    ack = await b.place(OrderRequest(ES, Side.BUY, OrderType.MARKET, D(2), "sdmclick0001"))
    assert ack.status is OrderStatus.NEW  # the first OrderInfo: Submitted, nothing filled yet
    fills = await until(lambda: log.of(FillEvent), what="a fill")
    assert isinstance(fills[0], FillEvent) and fills[0].quantity == 2 and fills[0].side is Side.BUY
    pos = await until(
        lambda: [p for p in log.of(PositionEvent) if isinstance(p, PositionEvent) and p.quantity],
        what="the position",
    )
    assert pos[-1].quantity == 2
    assert next(iter(sim.exchange.orders.values())).source == "Manual"

    # a resting sell limit: signed quantity on the wire, modify, cancel
    lim = await b.place(
        OrderRequest(ES, Side.SELL, OrderType.LIMIT, D(1), "sdmclick0002", price=D("6010.25"))
    )
    assert lim.status is OrderStatus.NEW
    vol = sim.exchange.orders[int(lim.order_id)]
    assert vol.quantity == -1 and vol.price == 6010.25
    mod = await b.modify(ES, lim.order_id, quantity=D(1), price=D("6011"), side=Side.SELL)
    assert mod.status is OrderStatus.NEW and sim.exchange.orders[int(lim.order_id)].price == 6011
    evs = [e for e in log.of(OrderEvent) if isinstance(e, OrderEvent) and e.order_id == lim.order_id]
    assert evs[-1].price == D("6011")
    done = await b.cancel(ES, order_id=lim.order_id)
    assert done.status is OrderStatus.CANCELED
    snap = await b.snapshot()
    assert [p.quantity for p in snap.positions] == [2] and snap.open_orders == ()

    # a stop fills when the price falls through it; the fill comes from FilledQty
    stop = await b.place(
        OrderRequest(
            ES,
            Side.SELL,
            OrderType.STOP_MARKET,
            D(2),
            f"sda-{ES}-L0-1",
            stop_price=D("5990"),
            reduce_only=True,
        )
    )
    assert stop.status is OrderStatus.NEW and sim.exchange.orders[int(stop.order_id)].source == "Automatic"
    await price(sim, ES, "5989")
    flat = await until(
        lambda: [p for p in log.of(PositionEvent) if isinstance(p, PositionEvent) and p.quantity == 0],
        what="flat",
    )
    assert flat
    sells = [f for f in log.of(FillEvent) if isinstance(f, FillEvent) and f.side is Side.SELL]
    assert sum(f.quantity for f in sells) == 2


async def test_rejects_are_clear(sim: VolumetricaSim, connect: Connect) -> None:
    b, _ = await connect()
    with pytest.raises(BrokerError) as exc:
        await b.place(OrderRequest(ES, Side.BUY, OrderType.LIMIT, D(1), "sdmbad0001", price=D("6000.10")))
    assert exc.value.code == "rejected" and "tick" in exc.value.message
    with pytest.raises(BrokerError) as exc:
        await b.place(OrderRequest(ES, Side.BUY, OrderType.MARKET, D("1.5"), "sdmbad0002"))
    assert exc.value.code == "invalid"
    with pytest.raises(BrokerError) as exc:
        await b.place(
            OrderRequest(
                ES,
                Side.SELL,
                OrderType.STOP_MARKET,
                D(1),
                f"sda-{ES}-L0-2",
                stop_price=D(5900),
                reduce_only=True,
            )
        )
    assert exc.value.code == "rejected" and "nothing to reduce" in exc.value.message
    with pytest.raises(BrokerError):
        await b.place(OrderRequest("CL" + MONTH, Side.BUY, OrderType.MARKET, D(1), "sdmbad0003"))


async def test_wrong_password_is_auth(sim: VolumetricaSim, connect: Connect) -> None:
    with pytest.raises(BrokerError) as exc:
        await connect(password="wrong password")
    assert exc.value.code == "auth"


async def test_reconnect_takes_a_fresh_token_and_reused_token_is_refused(
    sim: VolumetricaSim, connect: Connect
) -> None:
    b, log = await connect()
    await sim.control("disconnect", {})
    await until(lambda: b.session.tokens_used == 2 and b.session.ready.is_set(), what="a new login")
    assert len(sim.used_tokens) == 2
    # the old token cannot log in again
    import aiohttp

    old = next(iter(sim.used_tokens))
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.trading_url) as ws:
        from sidedesk.brokers.volumetrica.protocol import wire

        await ws.send_bytes(wire.login(old))
        msg = await ws.receive(timeout=3)
        ans = pb.ServerResponseMsg.FromString(msg.data)
        assert not ans.login_msg.success and ans.login_msg.reason_code == pb.LOGIN_CREDENTIALS
    states = [e.state for e in log.of(ConnectionEvent) if isinstance(e, ConnectionEvent)]
    assert ConnectionState.RECONNECTING in states and states[-1] is ConnectionState.CONNECTED


async def test_ping_keeps_the_session_and_silence_ends_it(sim: VolumetricaSim, connect: Connect) -> None:
    await sim.control("config", {"ping_timeout_s": 0.6})
    b, _ = await connect(ping_interval_s=0.2)
    first = b.session.tokens_used
    import asyncio

    await asyncio.sleep(1.5)
    assert b.session.tokens_used == first and b.session.ready.is_set()
    # a client that never pings is dropped after the timeout
    import aiohttp

    from sidedesk.brokers.volumetrica.protocol import wire

    grant = await b.session.fetch_grant()
    async with aiohttp.ClientSession() as http, http.ws_connect(grant.wss_endpoint) as ws:
        await ws.send_bytes(wire.login(grant.wss_token))
        ans = pb.ServerResponseMsg.FromString((await ws.receive(timeout=3)).data)
        assert ans.login_msg.success
        await ws.send_bytes(wire.ping(77))
        pong = pb.ServerResponseMsg.FromString((await ws.receive(timeout=3)).data)
        assert pong.pong.ack_value == 77
        closing = await ws.receive(timeout=5)
        assert closing.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
        ) or (pb.ServerResponseMsg.FromString(closing.data).HasField("logged_off"))


async def test_log_messages_and_marks(sim: VolumetricaSim, connect: Connect) -> None:
    await price(sim, ES, "6000")
    b, log = await connect()
    await sim.control("log", {"message": "daily loss limit is near"})
    await until(
        lambda: [
            e for e in log.of(NoticeEvent) if isinstance(e, NoticeEvent) and "daily loss limit" in e.message
        ],
        what="the LogMsg",
    )
    await b.place(OrderRequest(ES, Side.BUY, OrderType.MARKET, D(1), "sdmclick0009"))
    await price(sim, ES, "6004")
    marks = await until(
        lambda: [q for q in log.of(QuoteEvent) if isinstance(q, QuoteEvent) and q.mark == D(6004)],
        what="a mark from the open P&L",
    )
    assert marks
    pos = [p for p in log.of(PositionEvent) if isinstance(p, PositionEvent) and p.unrealized_pnl]
    assert pos[-1].unrealized_pnl == (D(6004) - pos[-1].entry_price) * 50


async def test_lost_reply_is_unknown_and_lookup_finds_it(sim: VolumetricaSim, connect: Connect) -> None:
    # the adapter's part (order entry runs the lookups): unknown_outcome, never re-sent, found
    await price(sim, ES, "6000")
    b, _ = await connect(request_timeout_s=0.5)
    await sim.control("fault", {"kind": "lose_order_replies", "count": 1})
    order = OrderRequest(ES, Side.BUY, OrderType.LIMIT, D(1), "sdmlost0001", price=D("5990"))
    with pytest.raises(BrokerError) as info:
        await b.place(order)
    assert info.value.code == "unknown_outcome"
    found = await b.lookup(ES, order.client_id)
    assert found is not None and found.status is OrderStatus.NEW and found.client_id == "sdmlost0001"
    assert len([o for o in sim.exchange.orders.values() if o.open]) == 1  # never re-sent


async def test_a_lookup_that_cannot_ask_raises_instead_of_saying_not_found(
    sim: VolumetricaSim, connect: Connect
) -> None:
    # was: logged out (reconnecting), the lookup answered None, "never placed", for an order that
    # is working at the exchange
    await price(sim, ES, "6000")
    b, _ = await connect(request_timeout_s=0.5)
    await sim.control("fault", {"kind": "lose_order_replies", "count": 1})
    order = OrderRequest(ES, Side.SELL, OrderType.STOP_MARKET, D(1), "sdmlost0002", stop_price=D("5990"))
    with pytest.raises(BrokerError) as info:
        await b.place(order)
    assert info.value.code == "unknown_outcome"
    # logged out, and kept so (its logins refused) until the lookup has been tried: a reconnect
    # quicker than a poll hid the logged-out state from the test on a busy machine
    await sim.control("fault", {"kind": "reject_login", "count": 1_000})
    await sim.control("disconnect", {})
    await until(lambda: not b.session.ready.is_set(), what="logged out")
    with pytest.raises(BrokerError) as failed:
        await b.lookup(ES, order.client_id, conditional=True)
    assert failed.value.code == "not_connected"
    await sim.control("fault", {"kind": "reject_login", "count": 0})
    await until(lambda: b.session.ready.is_set(), what="logged in again", timeout=20)
    found = await b.lookup(ES, order.client_id, conditional=True)
    assert found is not None and found.is_conditional and found.status is OrderStatus.NEW


async def test_refusals_carry_their_neutral_reason(sim: VolumetricaSim, connect: Connect) -> None:
    await price(sim, ES, "6000")
    b, _ = await connect()
    above = OrderRequest(ES, Side.SELL, OrderType.STOP_MARKET, D(1), "sdareason01", stop_price=D("6001"))
    with pytest.raises(BrokerError) as trig:  # a sell stop above the market would trigger at once
        await b.place(above)
    assert trig.value.code == "rejected" and trig.value.reason == "would_trigger"
    with pytest.raises(BrokerError) as gone:
        await b.cancel(ES, order_id="987654321")
    assert gone.value.reason == "order_not_found"


async def test_cancel_all_and_concurrent_session(sim: VolumetricaSim, connect: Connect) -> None:
    await price(sim, ES, "6000")
    b, log = await connect()
    for i in range(3):
        await b.place(OrderRequest(ES, Side.BUY, OrderType.LIMIT, D(1), f"sdmall000{i}", price=D(5980 - i)))
    assert await b.cancel_all(ES) == 3
    assert not [o for o in sim.exchange.orders.values() if o.open]
    # another program logs in with the same user: our session is logged off, then logs in again
    import aiohttp

    from sidedesk.brokers.volumetrica.protocol import wire

    grant = await b.session.fetch_grant()
    async with aiohttp.ClientSession() as http, http.ws_connect(grant.wss_endpoint) as ws:
        await ws.send_bytes(wire.login(grant.wss_token))
        assert pb.ServerResponseMsg.FromString((await ws.receive(timeout=3)).data).login_msg.success
        await until(
            lambda: [
                e
                for e in log.of(ConnectionEvent)
                if isinstance(e, ConnectionEvent) and "logged off" in e.detail
            ],
            what="LoggedOff",
        )
        await until(lambda: b.session.ready.is_set(), what="our session back")
        # our new login keeps the other program's session (KeepConcurrentSessionOn); until #21
        # it threw that program out in turn
        await ws.send_bytes(wire.ping(7))
        while True:
            answer = pb.ServerResponseMsg.FromString((await ws.receive(timeout=3)).data)
            assert not answer.HasField("logged_off")
            if answer.HasField("pong"):
                break
        assert answer.pong.ack_value == 7
    assert b.session.tokens_used == 2  # a fresh token for the new login
