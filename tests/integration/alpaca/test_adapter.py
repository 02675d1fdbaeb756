"""`AlpacaBroker` against the simulator over loopback: orders, fills, positions, quotes, market
hours, the ASL stop move, held shares, lost replies, credentials and reconnects."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest

from sidedesk.brokers.alpaca.protocol import messages as msg
from sidedesk.brokers.alpaca.protocol import parse
from sidedesk.core.asl import ids
from sidedesk.domain import (
    BalanceEvent,
    BrokerError,
    ConnectionEvent,
    ConnectionState,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    QuoteEvent,
    Side,
    TimeInForce,
)
from sidedesk_sim.alpaca import AlpacaSim
from tests.integration.alpaca.conftest import Connect, Control, until


def mkt(side: Side, qty: str, cid: str, **kw: object) -> OrderRequest:
    return OrderRequest("AAPL", side, OrderType.MARKET, D(qty), cid, **kw)  # type: ignore[arg-type]


def stop(qty: str, price: str, tag: str, seq: int) -> OrderRequest:
    cid = ids.encode("AAPL", True, tag, seq)
    return OrderRequest(
        "AAPL", Side.SELL, OrderType.STOP_MARKET, D(qty), cid, stop_price=D(price), reduce_only=True
    )


async def test_connect_loads_stocks_and_capabilities(connect: Connect) -> None:
    b, log = await connect()
    rules = b.instruments()
    assert {"AAPL", "MSFT", "SPY"} <= set(rules)
    assert rules["AAPL"].step_size == D("0.000000001") and rules["AAPL"].quote_asset == "USD"
    assert b.capabilities.quantity_unit == "shares" and not b.capabilities.native_trailing_stop
    assert any(isinstance(e, ConnectionEvent) and e.state is ConnectionState.CONNECTED for e in log.events)
    assert b.market_open()


async def test_fractional_market_buy_fills_with_position_and_balance(connect: Connect, ctl: Control) -> None:
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "200"})
    b, log = await connect()
    ack = await b.place(mkt(Side.BUY, "2.5", "sdm-frac"))
    assert ack.status is OrderStatus.FILLED and ack.filled == D("2.5")
    fills = await until(lambda: log.of(FillEvent), what="fill")
    assert fills[0].quantity == D("2.5") and fills[0].client_id == "sdm-frac" and fills[0].fee == 0
    pos = await until(lambda: [p for p in log.of(PositionEvent) if p.quantity == D("2.5")], what="position")
    assert pos[-1].entry_price == fills[0].price
    bal = await until(lambda: log.of(BalanceEvent), what="balance")
    assert bal[-1].asset == "USD" and bal[-1].equity is not None
    snap = await b.snapshot()
    assert [(p.symbol, p.quantity) for p in snap.positions] == [("AAPL", D("2.5"))]


async def test_quotes_arrive_for_subscribed_symbols(connect: Connect, ctl: Control) -> None:
    b, log = await connect()
    await b.subscribe_quotes(["MSFT", "NOPE"])
    await until(lambda: b.session.data.connected, what="data socket")
    await ctl("POST", "/price", {"symbol": "MSFT", "price": "401.00"})
    q = await until(lambda: [e for e in log.of(QuoteEvent) if e.symbol == "MSFT" and e.bid], what="quote")
    assert q[-1].bid is not None and q[-1].bid <= D(401) <= (q[-1].ask or 0)


async def test_limit_rests_then_fills_when_the_price_comes(connect: Connect, ctl: Control) -> None:
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "200"})
    b, log = await connect()
    req = OrderRequest("AAPL", Side.BUY, OrderType.LIMIT, D(3), "sdm-lim", price=D("195.00"),
                       time_in_force=TimeInForce.GTC)  # fmt: skip
    ack = await b.place(req)
    assert ack.status is OrderStatus.NEW
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "194.50"})
    fill = await until(lambda: log.of(FillEvent), what="limit fill")
    assert fill[0].price == D("195.00") and fill[0].quantity == 3


async def test_stop_triggers_on_the_last_price(connect: Connect, ctl: Control) -> None:
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "200"})
    b, log = await connect()
    await b.place(mkt(Side.BUY, "4", "sdm-open"))
    ack = await b.place(stop("4", "190", "0", 1))
    assert ack.status is OrderStatus.NEW and ack.is_conditional
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "189"})
    done = await until(
        lambda: [
            e for e in log.of(OrderEvent) if e.client_id == ack.client_id and e.status is OrderStatus.FILLED
        ],
        what="stop filled",
    )
    assert done[0].is_conditional and done[0].filled == 4
    await until(lambda: [p for p in log.of(PositionEvent) if p.quantity == 0], what="flat")


async def test_asl_stop_moves_by_replace_and_the_old_cancel_completes(
    connect: Connect, ctl: Control, sim: AlpacaSim
) -> None:
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "200"})
    b, log = await connect()
    await b.place(mkt(Side.BUY, "10", "sdm-asl"))
    first = await b.place(stop("10", "196", "0", 1))
    # a second sell stop for the same shares would be refused by Alpaca: the adapter moves the first
    second = await b.place(stop("10", "198", "1", 2))
    assert second.order_id != first.order_id and second.status is OrderStatus.NEW
    open_ = await ctl("GET", "/orders")
    assert [(o["client_order_id"], o["stop_price"]) for o in open_] == [(second.client_id, "198")]
    old = sim.book.orders[first.order_id]
    assert old.status == "replaced" and old.replaced_by == second.order_id
    # until ASL cancels it, the core still sees the old stop as working (place-new, confirm, cancel-old)
    assert not [e for e in log.of(OrderEvent) if e.client_id == first.client_id and not e.status.is_open]
    ack = await b.cancel("AAPL", order_id=first.order_id, client_id=first.client_id, conditional=True)
    assert ack.status is OrderStatus.CANCELED
    gone = [e for e in log.of(OrderEvent) if e.client_id == first.client_id]
    assert gone[-1].status is OrderStatus.CANCELED
    snap = await b.snapshot()
    assert [o.client_id for o in snap.open_orders] == [second.client_id]


async def test_held_shares_refuse_a_second_sell_and_a_close_frees_them(
    connect: Connect, ctl: Control
) -> None:
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "200"})
    b, log = await connect()
    await b.place(mkt(Side.BUY, "5", "sdm-h1"))
    await until(lambda: [p for p in log.of(PositionEvent) if p.quantity == 5], what="position")
    await b.place(
        OrderRequest("AAPL", Side.SELL, OrderType.STOP_MARKET, D(5), "manual-stop", stop_price=D(150))
    )
    with pytest.raises(BrokerError) as info:
        await b.place(mkt(Side.SELL, "5", "sdm-h2"))  # not reduce-only: Alpaca's answer stands
    assert info.value.code == "rejected" and "insufficient qty available" in info.value.message
    ack = await b.place(mkt(Side.SELL, "5", "sdm-h3", reduce_only=True))  # a close cancels the stop first
    assert ack.status is OrderStatus.FILLED
    assert await ctl("GET", "/orders") == []


async def test_reduce_only_without_a_position_is_refused(connect: Connect) -> None:
    b, _ = await connect()
    with pytest.raises(BrokerError, match="nothing to reduce"):
        await b.place(mkt(Side.SELL, "1", "sdm-r", reduce_only=True))


async def test_exchange_refusals_are_clear(connect: Connect) -> None:
    b, _ = await connect()
    with pytest.raises(BrokerError) as info:
        await b.place(mkt(Side.BUY, "100000", "sdm-big"))
    assert info.value.code == "rejected" and "buying power" in info.value.message
    with pytest.raises(BrokerError) as short:
        await b.place(mkt(Side.SELL, "0.5", "sdm-fs"))
    assert "sold short" in short.value.message
    with pytest.raises(BrokerError) as gtx:
        await b.place(OrderRequest("AAPL", Side.BUY, OrderType.LIMIT, D(1), "sdm-gtx", price=D(1),
                                   time_in_force=TimeInForce.GTX))  # fmt: skip
    assert gtx.value.code == "invalid" and "post-only" in gtx.value.message
    with pytest.raises(BrokerError, match="leverage"):
        await b.set_leverage("AAPL", 5)


async def test_market_hours(connect: Connect, ctl: Control, sim: AlpacaSim) -> None:
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "200"})
    b, log = await connect()
    await b.place(mkt(Side.BUY, "2", "sdm-pre"))
    await ctl("POST", "/session", {"mode": "closed"})
    # the adapter follows /v2/clock's next_open/next_close; a forced change is read on the next refresh
    assert (await b.refresh_clock()).is_open is False
    with pytest.raises(BrokerError) as info:
        await b.place(mkt(Side.BUY, "1", "sdm-closed"))
    assert info.value.code == "rejected" and "market is closed" in info.value.message
    assert "next open" in info.value.message
    lim = await b.place(OrderRequest("AAPL", Side.BUY, OrderType.LIMIT, D(1), "sdm-ext", price=D(150),
                                     time_in_force=TimeInForce.GTC))  # fmt: skip
    assert sim.book.orders[lim.order_id].extended_hours and sim.book.orders[lim.order_id].status == "new"
    held = await b.place(stop("2", "190", "0", 1))  # a protective stop is accepted and waits for the open
    assert held.status is OrderStatus.NEW and sim.book.orders[held.order_id].status == "accepted"
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "185"})
    assert sim.book.orders[held.order_id].status == "accepted"  # stops do not trigger outside hours
    await ctl("POST", "/session", {"mode": "open"})
    await b.refresh_clock()
    await until(lambda: [e for e in log.of(OrderEvent) if e.client_id == held.client_id and e.filled == 2],
                what="stop fired at the open")  # fmt: skip
    assert b.market_open()


async def test_notional_ticket(connect: Connect, ctl: Control) -> None:
    await ctl("POST", "/price", {"symbol": "AAPL", "price": "200"})
    b, _ = await connect()
    # A dollar-amount order is no adapter feature: the request goes out on the session and the
    # simulator fills a fractional quantity.
    reply = await b.session.rest(
        "POST", "/orders", body=msg.notional_body("AAPL", Side.BUY, D("500"), "sdm-usd")
    )
    ev = parse.order(reply, "acc", 0)
    assert ev.status is OrderStatus.FILLED and D("2.49") < ev.filled < D("2.51")


async def test_lost_reply_is_unknown_and_lookup_finds_it_by_client_id(
    connect: Connect, ctl: Control, sim: AlpacaSim
) -> None:
    # the adapter's part (order entry runs the lookups): unknown_outcome, never re-sent, found
    b, _ = await connect()
    await ctl("POST", "/faults", {"kind": "lose_reply", "target": "POST /v2/orders", "status": 504})
    with pytest.raises(BrokerError) as info:
        await b.place(mkt(Side.BUY, "1", "sdm-lost"))
    assert info.value.code == "unknown_outcome"
    found = await b.lookup("AAPL", "sdm-lost")
    assert found is not None and found.client_id == "sdm-lost" and found.status is OrderStatus.FILLED
    assert [o.client_order_id for o in sim.book.orders.values()].count("sdm-lost") == 1


async def test_a_dropped_request_stays_unknown_and_is_not_resent(
    connect: Connect, ctl: Control, sim: AlpacaSim
) -> None:
    b, _ = await connect()
    await ctl("POST", "/faults", {"kind": "drop_at_method", "target": "POST /v2/orders"})
    with pytest.raises(BrokerError) as info:
        await b.place(mkt(Side.BUY, "1", "sdm-drop"))
    assert info.value.code == "unknown_outcome"
    assert await b.lookup("AAPL", "sdm-drop") is None  # Alpaca answered 404: never placed
    assert not [o for o in sim.book.orders.values() if o.client_order_id == "sdm-drop"]


async def test_a_lookup_that_fails_raises_instead_of_saying_not_found(connect: Connect, ctl: Control) -> None:
    b, _ = await connect()
    await b.place(mkt(Side.BUY, "1", "sdm-any"))
    await ctl("POST", "/faults", {"kind": "lose_reply", "target": "GET /v2/orders:by_client_order_id",
                                  "status": 503})  # fmt: skip
    with pytest.raises(BrokerError) as info:  # Alpaca has it, but the answer did not come through
        await b.lookup("AAPL", "sdm-any")
    assert info.value.code == "not_connected"


async def test_a_cancel_of_an_order_alpaca_does_not_have_says_order_not_found(connect: Connect) -> None:
    b, _ = await connect()
    with pytest.raises(BrokerError) as by_id:  # 404 / 40410000
        await b.cancel("AAPL", order_id=str(uuid.uuid4()))
    assert by_id.value.broker_code == 40410000 and by_id.value.reason == "order_not_found"
    with pytest.raises(BrokerError) as by_client_id:
        await b.cancel("AAPL", client_id="sdm-never-placed")
    assert by_client_id.value.reason == "order_not_found"
    # a filled order (422 / 42210000 'already in "filled" state') is answered with what it became
    filled = await b.place(mkt(Side.BUY, "1", "sdm-filled"))
    done = await b.cancel("AAPL", order_id=filled.order_id)
    assert done.status is OrderStatus.FILLED


async def test_wrong_secret_is_an_auth_error(connect: Connect) -> None:
    with pytest.raises(BrokerError) as info:
        await connect(secret="wrong-secret-0000000000")
    assert info.value.code == "auth" and "wrong-secret" not in info.value.message


async def test_trade_updates_resume_after_a_dropped_stream(connect: Connect, ctl: Control) -> None:
    b, log = await connect()
    await ctl("POST", "/disconnect", {"target": "trading"})
    await until(lambda: [e for e in log.of(ConnectionEvent) if e.state is ConnectionState.RECONNECTING],
                what="reconnecting")  # fmt: skip
    await until(lambda: b.session.listening.is_set(), what="listening again", timeout=10)
    await b.place(mkt(Side.BUY, "1", "sdm-after"))
    await until(
        lambda: [e for e in log.of(FillEvent) if e.client_id == "sdm-after"], what="fill after reconnect"
    )
