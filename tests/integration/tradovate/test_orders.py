"""The adapter against the simulator over loopback: sign-in, sync, orders, brackets, fills,
positions and P&L with the value per point."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk.brokers.tradovate.protocol import messages as msg
from sidedesk.domain import (
    BalanceEvent,
    BrokerError,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    QuoteEvent,
    Side,
)
from sidedesk_sim.tradovate import TradovateSim
from tests.integration.tradovate.conftest import MES, Connect, eventually


def market(side: Side, qty: int, cid: str, symbol: str = MES) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.MARKET, Decimal(qty), cid)


def positions(log: object, symbol: str = MES) -> list[PositionEvent]:
    return [e for e in log.of(PositionEvent) if isinstance(e, PositionEvent) and e.symbol == symbol]  # type: ignore[attr-defined]


async def test_sign_in_sync_and_instruments(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    rules = s.broker.instruments()
    month = MES[3:]  # the front month, e.g. Z6
    assert set(rules) == {"ES" + month, MES, "NQ" + month, "MNQ" + month}
    assert rules[MES].contract_multiplier == Decimal(5)
    assert rules["ES" + month].contract_multiplier == Decimal(50)
    assert rules["NQ" + month].contract_multiplier == Decimal(20)
    assert rules["MNQ" + month].tick_size == Decimal("0.25")
    assert s.broker.tv_account_name.startswith("DEMO")
    balances = [e for e in s.log.of(BalanceEvent) if isinstance(e, BalanceEvent)]
    assert balances and balances[-1].wallet_balance == Decimal(100_000)
    assert s.broker.session.sign_ins == 1 and s.broker.session.syncs == 1


async def test_bad_password_is_an_auth_error(sim: TradovateSim, connect: Connect) -> None:
    from tests.integration.tradovate.conftest import config_for

    try:
        await connect(config_for(sim, password="wrong-password"))
    except BrokerError as exc:
        assert exc.code == "auth"
        assert "Incorrect username or password" in exc.message
        assert "wrong-password" not in exc.message
    else:
        raise AssertionError("a wrong password must not connect")


async def test_market_order_fills_to_position_with_pnl(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    await s.broker.subscribe_quotes([MES])
    await eventually(
        lambda: [e for e in s.log.of(QuoteEvent) if isinstance(e, QuoteEvent) and e.symbol == MES],
        "an MES quote",
    )
    ack = await s.broker.place(market(Side.BUY, 2, "sdm0000000000001"))
    fills = await eventually(lambda: [f for f in s.log.of(FillEvent) if isinstance(f, FillEvent)], "fills")
    assert sum(f.quantity for f in fills) == 2 and fills[0].order_id == ack.order_id
    assert fills[0].client_id == "sdm0000000000001"
    pos = await eventually(lambda: [p for p in positions(s.log) if p.quantity == 2], "a 2-lot position")
    entry = pos[-1].entry_price
    assert entry == Decimal("6000.25")  # bought at the ask
    final = await eventually(
        lambda: [o for o in s.orders(ack.order_id) if o.status is OrderStatus.FILLED], "the order filled"
    )
    assert final[-1].filled == 2 and final[-1].avg_price == entry
    # the price rises 10 points: open P&L = 10 x 5 $/point x 2 contracts
    sim_last = Decimal("6010.25")
    sim.set_price(MES, sim_last)
    await eventually(
        lambda: s.broker.store.last.get(s.broker.store.contract_id(MES) or 0) == sim_last, "the new last"
    )
    assert s.broker.store.open_pnl() == Decimal(100)
    # close at the bid (6010.25): realized P&L = 10 x 5 x 2 reaches the cash balance
    await s.broker.place(market(Side.SELL, 2, "sdm0000000000002"))
    await eventually(lambda: [p for p in positions(s.log) if p.quantity == 0], "flat")
    await eventually(lambda: s.broker.store.realized_pnl() == Decimal(100), "realized P&L")
    pairs = [p for p in sim.book.fill_pairs]
    assert sum(p["qty"] for p in pairs) == 2


async def test_limit_place_modify_cancel(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    req = OrderRequest(
        MES, Side.BUY, OrderType.LIMIT, Decimal(1), "sdm0000000000003", price=Decimal("5990.00")
    )
    ack = await s.broker.place(req)
    await eventually(lambda: [o for o in s.orders(ack.order_id) if o.status is OrderStatus.NEW], "working")
    await s.broker.modify(MES, ack.order_id, quantity=Decimal(3), price=Decimal("5985.50"), side=Side.BUY)
    changed = await eventually(
        lambda: [o for o in s.orders(ack.order_id) if o.price == Decimal("5985.50") and o.quantity == 3],
        "modified",
    )
    assert changed[-1].update_time_ms > s.orders(ack.order_id)[0].update_time_ms
    await s.broker.cancel(MES, order_id=ack.order_id)
    await eventually(
        lambda: [o for o in s.orders(ack.order_id) if o.status is OrderStatus.CANCELED], "canceled"
    )
    assert not s.broker.store.open_orders()
    # repeated status updates are not repeated to the core
    statuses = [(o.status, o.quantity, o.price) for o in s.orders(ack.order_id)]
    assert len(statuses) == len(set(statuses))


async def test_stop_modify_and_trigger(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    await s.broker.place(market(Side.BUY, 1, "sdm0000000000004"))
    stop = OrderRequest(
        MES, Side.SELL, OrderType.STOP_MARKET, Decimal(1), f"sda-{MES}-L0-1", stop_price=Decimal("5990.00")
    )
    ack = await s.broker.place(stop)
    await s.broker.modify(MES, ack.order_id, quantity=Decimal(1), price=Decimal("5995.00"), side=Side.SELL)
    await eventually(
        lambda: [o for o in s.orders(ack.order_id) if o.stop_price == Decimal("5995.00")], "moved"
    )
    rows = [o for o in await _sim_orders(sim) if str(o["id"]) == ack.order_id]
    assert rows[0]["isAutomated"] is True and rows[0]["text"] == f"sda-{MES}-L0-1"
    sim.set_price(MES, Decimal("5994.00"))
    done = await eventually(
        lambda: [o for o in s.orders(ack.order_id) if o.status is OrderStatus.FILLED], "stopped"
    )
    assert done[-1].client_id == f"sda-{MES}-L0-1"
    await eventually(lambda: [p for p in positions(s.log) if p.quantity == 0], "flat after the stop")


async def _sim_orders(sim: TradovateSim) -> list[dict[str, object]]:
    from sidedesk_sim.tradovate import control

    return control.orders(sim, {})  # type: ignore[no-any-return]


async def test_human_orders_are_not_automated(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    ack = await s.broker.place(
        OrderRequest(MES, Side.BUY, OrderType.LIMIT, Decimal(1), "sdh0000000000005", price=Decimal("5900.00"))
    )
    row = next(o for o in await _sim_orders(sim) if str(o["id"]) == ack.order_id)
    assert row["isAutomated"] is False


async def test_bracket_entry_fills_then_target_cancels_stop(sim: TradovateSim, connect: Connect) -> None:
    # Brackets are no adapter feature: the OSO request goes out on the session, and the adapter
    # follows its legs from the user stream like any other order.
    s = await connect()
    legs = (
        msg.BracketLeg(OrderType.LIMIT, Decimal("6010.00")),
        msg.BracketLeg(OrderType.STOP_MARKET, Decimal("5990.00")),
    )
    entry = market(Side.BUY, 1, "sdm0000000000006")
    body = msg.oso_body(entry, s.broker.store.tv_account, s.broker.tv_account_name, legs)
    data = await s.broker.session.request("order/placeoso", body, mutates=True)
    entry_id, target_id, stop_id = (str(data[k]) for k in ("orderId", "oso1Id", "oso2Id"))
    await eventually(
        lambda: [
            o for o in s.orders(stop_id) if o.status is OrderStatus.NEW and o.type is OrderType.STOP_MARKET
        ],
        "stop leg",
    )
    rows = {str(o["id"]): o for o in await _sim_orders(sim)}
    assert rows[target_id]["status"] == "Working" and rows[target_id]["parentId"] == int(entry_id)
    sim.set_price(MES, Decimal("6010.25"))
    await eventually(
        lambda: [o for o in s.orders(target_id) if o.status is OrderStatus.FILLED], "target filled"
    )
    await eventually(
        lambda: [o for o in s.orders(stop_id) if o.status is OrderStatus.CANCELED], "OCO stop canceled"
    )
    await eventually(lambda: [p for p in positions(s.log) if p.quantity == 0], "flat after the target")


async def test_failures_are_rejections(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    bad_tick = OrderRequest(
        MES, Side.BUY, OrderType.LIMIT, Decimal(1), "sdm0000000000007", price=Decimal("5990.10")
    )
    try:
        await s.broker.place(bad_tick)
    except BrokerError as exc:
        assert exc.code == "rejected" and exc.broker_code == "InvalidPrice"
    else:
        raise AssertionError("a price off the tick must be refused")
    sim.faults.arm(
        {
            "kind": "reject",
            "target": "order/placeorder",
            "failureReason": "SessionClosed",
            "failureText": "The market is closed",
        }
    )
    try:
        await s.broker.place(market(Side.BUY, 1, "sdm0000000000008"))
    except BrokerError as exc:
        assert exc.broker_code == "SessionClosed" and "closed" in exc.message
    else:
        raise AssertionError("an armed reject must refuse the order")
    with pytest.raises(BrokerError, match="whole contracts") as info:
        await s.broker.place(
            OrderRequest(MES, Side.BUY, OrderType.MARKET, Decimal("1.5"), "sdm000000000000a")
        )
    assert info.value.code == "invalid"
    assert not s.log.of(OrderEvent)
    assert not sim.book.orders  # nothing reached the simulator


async def test_liquidate_position(sim: TradovateSim, connect: Connect) -> None:
    s = await connect()
    await s.broker.place(market(Side.SELL, 3, "sdm000000000000b"))
    await eventually(lambda: [p for p in positions(s.log) if p.quantity == -3], "short 3")
    await s.broker.place(
        OrderRequest(
            MES, Side.SELL, OrderType.LIMIT, Decimal(1), "sdm000000000000c", price=Decimal("6050.00")
        )
    )
    # `order/liquidateposition` (the simulator's; no adapter feature): cancel and close at market
    contract = s.broker.store.contract_id(MES)
    assert contract is not None
    body = msg.liquidate_body(s.broker.store.tv_account, contract)
    data = await s.broker.session.request("order/liquidateposition", body, mutates=True)
    assert isinstance(data.get("orderId"), int)
    await eventually(lambda: [p for p in positions(s.log) if p.quantity == 0], "flat after liquidation")
    await eventually(lambda: not s.broker.store.open_orders(), "orders canceled")


async def test_a_whole_close_goes_out_as_liquidate_position(sim: TradovateSim, connect: Connect) -> None:
    """`closes_position` (a close of the whole position) takes Tradovate's liquidatePosition: the
    venue cancels the contract's stop itself; the ack and the closing order carry our client id."""
    s = await connect()
    await s.broker.place(market(Side.BUY, 2, "sdm000000000000d"))
    await eventually(lambda: [p for p in positions(s.log) if p.quantity == 2], "long 2")
    stop = OrderRequest(
        MES, Side.SELL, OrderType.STOP_MARKET, Decimal(2), f"sda-{MES}-L0-9", stop_price=Decimal("5990.00")
    )
    stop_ack = await s.broker.place(stop)
    close = OrderRequest(
        MES,
        Side.SELL,
        OrderType.MARKET,
        Decimal(2),
        "sdm000000000000e",
        reduce_only=True,
        closes_position=True,
    )
    ack = await s.broker.place(close)
    assert ack.client_id == close.client_id
    tv = sim.book.orders[int(ack.order_id)]
    assert tv.leg.order_type == "Market" and tv.leg.action == "Sell" and tv.qty == 2
    assert sim.book.orders[int(stop_ack.order_id)].canceled_by == "order/liquidateposition"
    await eventually(lambda: [p for p in positions(s.log) if p.quantity == 0], "flat")
    filled = await eventually(
        lambda: [o for o in s.orders(ack.order_id) if o.status is OrderStatus.FILLED], "the close filled"
    )
    assert filled[-1].client_id == close.client_id
    # the venue did it: no cancel request took part
    assert not any(o.canceled_by == "order/cancelorder" for o in sim.book.orders.values())


async def test_a_whole_close_when_flat_is_refused_as_nothing_to_close(
    sim: TradovateSim, connect: Connect
) -> None:
    s = await connect()
    close = OrderRequest(
        MES,
        Side.SELL,
        OrderType.MARKET,
        Decimal(1),
        "sdm000000000000f",
        reduce_only=True,
        closes_position=True,
    )
    with pytest.raises(BrokerError) as err:
        await s.broker.place(close)
    assert err.value.code == "rejected" and err.value.reason == "order_not_found"
