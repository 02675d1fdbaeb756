"""Every order type through the WS API (`order.place`) and the algo API (`algoOrder.place`), cancel
(regular and algo, by order id and by client id), modify, cancel-all, reduce-only partial closes,
flatten in one-way and hedge mode, and `positionSide` fitting — checked against the simulator's
own books."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sidedesk.brokers.binance.protocol import messages as msg
from sidedesk.core.orders import close_order, make_client_id
from sidedesk.domain import (
    BrokerError,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    Side,
    TimeInForce,
    WorkingType,
)
from sidedesk_sim.binance import BinanceSim
from tests.integration.binance_adapter.conftest import Connect
from tests.integration.binance_adapter.simenv import Control, Session, wait_for

D = Decimal


def cid() -> str:
    return make_client_id("m")


def market(symbol: str, side: Side, qty: str, **kw: Any) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.MARKET, D(qty), cid(), **kw)


def limit(symbol: str, side: Side, qty: str, price: str, tif: TimeInForce = TimeInForce.GTC) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.LIMIT, D(qty), cid(), price=D(price), time_in_force=tif)


def positions(sim: BinanceSim, account: str = "main") -> dict[tuple[str, str], Decimal]:
    return {
        (p.symbol, p.position_side.value): p.amount for p in sim.engine.positions(account) if p.amount != 0
    }


async def test_market_order_fills_at_the_book(connect: Connect, ctl: Control, sim: BinanceSim) -> None:
    s = await connect()
    ack = await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    assert (
        ack.status is OrderStatus.NEW and not ack.is_conditional
    )  # ACK response: the fill comes on the stream
    assert positions(sim) == {("BTCUSDT", "BOTH"): D("0.010")}
    log = [e for e in await ctl.order_log() if e["kind"] == "order"]
    assert [(e["type"], e["status"]) for e in log] == [("MARKET", "NEW"), ("MARKET", "FILLED")]


async def test_limit_gtc_rests_and_ioc_expires_or_fills(connect: Connect, ctl: Control) -> None:
    s = await connect()
    gtc = await s.broker.place(limit("BTCUSDT", Side.BUY, "0.002", "59000"))
    assert gtc.status is OrderStatus.NEW
    ioc_miss = limit("BTCUSDT", Side.BUY, "0.002", "59000", TimeInForce.IOC)
    ack = await s.broker.place(ioc_miss)
    ioc_hit = limit("BTCUSDT", Side.BUY, "0.002", "60100", TimeInForce.IOC)
    await s.broker.place(ioc_hit)
    final = {e["clientOrderId"]: e["status"] for e in await ctl.order_log() if e["kind"] == "order"}
    assert final[ioc_miss.client_id] == "EXPIRED" and final[ioc_hit.client_id] == "FILLED"
    assert ack.order_id
    assert [o["orderId"] for o in (await ctl.open_orders())["orders"]] == [int(gtc.order_id)]


async def test_post_only_rests_and_is_refused_when_it_would_take(connect: Connect, ctl: Control) -> None:
    s = await connect()
    maker = await s.broker.place(limit("BTCUSDT", Side.SELL, "0.002", "60500", TimeInForce.GTX))
    assert maker.status is OrderStatus.NEW
    with pytest.raises(BrokerError) as err:
        await s.broker.place(limit("BTCUSDT", Side.BUY, "0.002", "60100", TimeInForce.GTX))
    assert err.value.code == "rejected" and err.value.broker_code == -5022
    assert "post-only" in err.value.message and "move the price" in err.value.message
    opened = (await ctl.open_orders())["orders"]
    assert [(o["orderId"], o["timeInForce"]) for o in opened] == [(int(maker.order_id), "GTX")]


async def test_reduce_only_closes_25_50_100_percent(connect: Connect, sim: BinanceSim) -> None:
    s = await connect()
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.040"))
    rules = s.broker.instruments()["BTCUSDT"]
    expected = [("0.25", D("0.010"), D("0.030")), ("0.5", D("0.015"), D("0.015")), ("1", D("0.015"), D(0))]
    for fraction, closed, left in expected:
        snap = await s.broker.snapshot()
        pos = next(p for p in snap.positions if p.symbol == "BTCUSDT")
        order = close_order(pos, D(fraction), rules, client_id=cid())
        assert order.quantity == closed and order.reduce_only and order.side is Side.SELL
        await s.broker.place(order)
        assert positions(sim).get(("BTCUSDT", "BOTH"), D(0)) == left
    trades = sim.engine.trades("main", "BTCUSDT")
    assert [t.qty for t in trades] == [D("0.040"), D("0.010"), D("0.015"), D("0.015")]


async def test_conditional_orders_go_through_the_algo_api(connect: Connect, ctl: Control) -> None:
    s = await connect()
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.030"))
    stop = OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.STOP_MARKET, D("0.010"), cid(), stop_price=D(59000), reduce_only=True
    )
    tp = OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.TAKE_PROFIT_MARKET, D("0.010"), cid(), stop_price=D(61000),
        reduce_only=True, working_type=WorkingType.CONTRACT_PRICE,
    )  # fmt: skip
    trail = OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.TRAILING_STOP_MARKET, D("0.010"), cid(), reduce_only=True,
        callback_rate_pct=D("1.5"), activation_price=D(60500),
    )  # fmt: skip
    acks = [await s.broker.place(o) for o in (stop, tp, trail)]
    assert all(a.is_conditional and a.status is OrderStatus.NEW for a in acks)
    algos = {a["clientAlgoId"]: a for a in (await ctl.open_orders())["algoOrders"]}
    assert algos[stop.client_id]["orderType"] == "STOP_MARKET"
    assert D(algos[stop.client_id]["triggerPrice"]) == D(59000)
    assert algos[stop.client_id]["workingType"] == "MARK_PRICE" and algos[stop.client_id]["reduceOnly"]
    assert algos[tp.client_id]["orderType"] == "TAKE_PROFIT_MARKET"
    assert algos[tp.client_id]["workingType"] == "CONTRACT_PRICE"
    t = algos[trail.client_id]
    assert t["orderType"] == "TRAILING_STOP_MARKET"
    assert D(t["callbackRate"]) == D("1.5") and D(t["activatePrice"]) == D(60500)
    assert [str(a["algoId"]) for a in algos.values()] == [a.order_id for a in acks]
    # nothing conditional ever reached order.place: the regular log has only the entry
    regular = {e["clientOrderId"] for e in await ctl.order_log() if e["kind"] == "order"}
    assert regular.isdisjoint(algos)
    # the open-orders view the adapter reconciles with sees them as conditional
    opened = await s.broker.open_orders("BTCUSDT")
    assert {o.client_id for o in opened if o.is_conditional} == set(algos)
    by_cid = {o.client_id: o for o in opened}
    assert by_cid[trail.client_id].callback_rate_pct == D("1.5")
    assert by_cid[stop.client_id].stop_price == D(59000)


def test_conditional_types_cannot_reach_order_place() -> None:
    """-4120 is impossible from the adapter: the builder for order.place refuses conditional types."""
    for kind in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET, OrderType.TRAILING_STOP_MARKET):
        order = OrderRequest("BTCUSDT", Side.SELL, kind, D(1), "x", stop_price=D(1), callback_rate_pct=D(1))
        with pytest.raises(msg.RequestError):
            msg.order_place(order)
        assert msg.algo_order_place(order).method == "algoOrder.place"


async def test_cancel_by_order_id_and_by_client_id(connect: Connect, ctl: Control) -> None:
    s = await connect()
    a = limit("BTCUSDT", Side.BUY, "0.002", "59000")
    b = limit("BTCUSDT", Side.BUY, "0.002", "58900")
    ack_a = await s.broker.place(a)
    await s.broker.place(b)
    by_id = await s.broker.cancel("BTCUSDT", order_id=ack_a.order_id)
    by_cid = await s.broker.cancel("BTCUSDT", client_id=b.client_id)
    assert (by_id.status, by_cid.status) == (OrderStatus.CANCELED, OrderStatus.CANCELED)
    assert by_cid.client_id == b.client_id and by_id.client_id == a.client_id
    assert (await ctl.open_orders())["orders"] == []
    with pytest.raises(BrokerError) as err:
        await s.broker.cancel("BTCUSDT", order_id=ack_a.order_id)
    assert err.value.code == "rejected" and err.value.broker_code in (-2011, -2013)


async def test_cancel_algo_by_algo_id_and_by_client_algo_id(connect: Connect, ctl: Control) -> None:
    s = await connect()
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.020"))

    def stop(px: int) -> OrderRequest:
        return OrderRequest(
            "BTCUSDT", Side.SELL, OrderType.STOP_MARKET, D("0.010"), cid(), stop_price=D(px), reduce_only=True
        )

    a, b = stop(59000), stop(58000)
    ack_a = await s.broker.place(a)
    await s.broker.place(b)
    r1 = await s.broker.cancel("BTCUSDT", order_id=ack_a.order_id, conditional=True)
    r2 = await s.broker.cancel("BTCUSDT", client_id=b.client_id, conditional=True)
    assert r1.is_conditional and r1.status is OrderStatus.CANCELED and r1.order_id == ack_a.order_id
    assert r2.status is OrderStatus.CANCELED and r2.client_id == b.client_id
    assert (await ctl.open_orders())["algoOrders"] == []


async def test_modify_a_limit_order(connect: Connect, ctl: Control) -> None:
    s = await connect()
    o = limit("BTCUSDT", Side.BUY, "0.002", "59000")
    ack = await s.broker.place(o)
    mod = await s.broker.modify(
        "BTCUSDT", ack.order_id, quantity=D("0.003"), price=D("59100.0"), side=Side.BUY
    )
    assert mod.order_id == ack.order_id and mod.status is OrderStatus.NEW
    (row,) = (await ctl.open_orders())["orders"]
    assert (D(row["price"]), D(row["origQty"]), row["clientOrderId"]) == (D("59100"), D("0.003"), o.client_id)
    with pytest.raises(BrokerError) as err:  # the same values again: nothing to modify
        await s.broker.modify("BTCUSDT", ack.order_id, quantity=D("0.003"), price=D("59100.0"), side=Side.BUY)
    assert err.value.broker_code == -5027 and "unchanged" in err.value.message


async def test_cancel_all_for_one_symbol_and_for_every_symbol(connect: Connect, ctl: Control) -> None:
    s = await connect()
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    await s.broker.place(limit("BTCUSDT", Side.BUY, "0.002", "59000"))
    await s.broker.place(limit("BTCUSDT", Side.BUY, "0.002", "58000"))
    await s.broker.place(
        OrderRequest("BTCUSDT", Side.SELL, OrderType.STOP_MARKET, D("0.010"), cid(), stop_price=D(59000),
                     reduce_only=True)
    )  # fmt: skip
    await s.broker.place(limit("ETHUSDT", Side.BUY, "0.010", "2900"))
    assert await s.broker.cancel_all("BTCUSDT") == 3
    left = await ctl.open_orders()
    assert left["algoOrders"] == [] and [o["symbol"] for o in left["orders"]] == ["ETHUSDT"]
    assert await s.broker.cancel_all() == 1
    assert await ctl.open_orders() == {"orders": [], "algoOrders": []}
    assert await s.broker.cancel_all() == 0


async def _messy_account(s: Session, ctl: Control) -> None:
    """Positions on two symbols (one long, one short), resting orders and a stop."""
    hedge = s.broker.hedge_mode
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.013"))
    await s.broker.place(market("ETHUSDT", Side.SELL, "0.250"))
    if hedge:  # the other side of BTC too
        await s.broker.place(market("BTCUSDT", Side.SELL, "0.004"))
    await s.broker.place(limit("BTCUSDT", Side.BUY, "0.002", "59000"))
    await s.broker.place(
        OrderRequest("BTCUSDT", Side.SELL, OrderType.STOP_MARKET, D("0.013"), cid(), stop_price=D(59000),
                     reduce_only=True)
    )  # fmt: skip
    # and an order placed by another platform (the exchange's own UI) on a third symbol
    await ctl.place_as_other(
        s.account,
        {"symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1",
         "price": "140", **({"positionSide": "LONG"} if hedge else {})},
    )  # fmt: skip


async def test_flatten_one_way(connect: Connect, ctl: Control, sim: BinanceSim) -> None:
    s = await connect()
    await _messy_account(s, ctl)
    assert positions(sim) == {("BTCUSDT", "BOTH"): D("0.013"), ("ETHUSDT", "BOTH"): D("-0.250")}
    result = await s.broker.flatten()
    assert result.cancelled == 3 and result.errors == ()
    assert len(result.closes) == 2
    assert positions(sim) == {}
    assert await ctl.open_orders() == {"orders": [], "algoOrders": []}
    closes = [e for e in await ctl.order_log() if e["kind"] == "order" and e["status"] == "FILLED"][-2:]
    assert sorted((c["symbol"], c["side"], c["qty"]) for c in closes) == [
        ("BTCUSDT", "SELL", "0.013"),
        ("ETHUSDT", "BUY", "0.250"),
    ]
    flatten_orders = [o for o in sim.engine.all_orders("main") if o.client_id.startswith("sdh")]
    assert len(flatten_orders) == 2 and all(o.reduce_only for o in flatten_orders)


async def test_hedge_mode_is_detected_and_position_sides_fitted(
    connect: Connect, ctl: Control, sim: BinanceSim
) -> None:
    ident = await ctl.account("hedger", hedge_mode=True)
    s = await connect(ident)
    assert s.broker.hedge_mode is True and (await s.broker.snapshot()).hedge_mode
    # position side BOTH from the core is fitted: an opening BUY → LONG, an opening SELL → SHORT
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    await s.broker.place(market("BTCUSDT", Side.SELL, "0.004"))
    assert positions(sim, "hedger") == {("BTCUSDT", "LONG"): D("0.010"), ("BTCUSDT", "SHORT"): D("-0.004")}
    # a reduce-only SELL closes the long side (sent without reduceOnly, which hedge mode refuses: -1106)
    await s.broker.place(market("BTCUSDT", Side.SELL, "0.003", reduce_only=True))
    assert positions(sim, "hedger")[("BTCUSDT", "LONG")] == D("0.007")
    sent = sim.engine.all_orders("hedger")[-1]
    assert sent.position_side.value == "LONG" and sent.side.value == "SELL"


async def test_one_way_account_ignores_a_hedge_position_side(connect: Connect, sim: BinanceSim) -> None:
    s = await connect()
    assert s.broker.hedge_mode is False
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.010", position_side=PositionSide.LONG))
    assert positions(sim) == {("BTCUSDT", "BOTH"): D("0.010")}


async def test_flatten_hedge_mode(connect: Connect, ctl: Control, sim: BinanceSim) -> None:
    ident = await ctl.account("hedger", hedge_mode=True)
    s = await connect(ident)
    await _messy_account(s, ctl)
    assert positions(sim, "hedger") == {
        ("BTCUSDT", "LONG"): D("0.013"),
        ("BTCUSDT", "SHORT"): D("-0.004"),
        ("ETHUSDT", "SHORT"): D("-0.250"),
    }
    result = await s.broker.flatten()
    assert result.errors == () and len(result.closes) == 3 and result.cancelled == 3
    assert positions(sim, "hedger") == {}
    assert await ctl.open_orders("hedger") == {"orders": [], "algoOrders": []}
    closes = [o for o in sim.engine.all_orders("hedger") if o.client_id.startswith("sdh")]
    assert sorted((o.symbol, o.side.value, o.position_side.value, o.quantity) for o in closes) == [
        ("BTCUSDT", "BUY", "SHORT", D("0.004")),
        ("BTCUSDT", "SELL", "LONG", D("0.013")),
        ("ETHUSDT", "BUY", "SHORT", D("0.250")),
    ]


async def test_position_mode_changed_behind_our_back(connect: Connect, sim: BinanceSim) -> None:
    """The trader switches to hedge mode on the website: the next order is refitted, not refused."""
    s = await connect()
    one_way = not s.broker.hedge_mode
    assert one_way
    await s.broker.session.rest(msg.set_position_mode(True))  # as another tool would
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    assert s.broker.hedge_mode is True
    assert positions(sim) == {("BTCUSDT", "LONG"): D("0.010")}
    assert len(sim.engine.all_orders("main")) == 1


async def test_snapshot_matches_the_simulator(connect: Connect, sim: BinanceSim) -> None:
    s = await connect()
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    await s.broker.place(limit("ETHUSDT", Side.BUY, "0.010", "2900"))
    snap = await s.broker.snapshot()
    (pos,) = snap.positions
    engine_pos = sim.engine.positions("main", "BTCUSDT")[0]
    assert isinstance(pos, PositionEvent)
    assert (pos.quantity, pos.entry_price) == (engine_pos.amount, engine_pos.entry_price)
    (bal,) = [b for b in snap.balances if b.asset == "USDT"]
    assert bal.wallet_balance == sim.engine.balance("main", "USDT").wallet_balance
    assert [o.symbol for o in snap.open_orders] == ["ETHUSDT"]


async def test_leverage_is_set_once_and_follows_changes_made_elsewhere(
    connect: Connect, sim: BinanceSim
) -> None:
    s = await connect()
    await s.broker.set_leverage("BTCUSDT", 10)
    assert sim.engine.leverage("main", "BTCUSDT") == 10
    await s.broker.session.rest(msg.change_leverage("BTCUSDT", 5))  # another tool changes it
    # ACCOUNT_CONFIG_UPDATE tells the adapter, so the next ticket at 10x sets it again
    await wait_for(lambda: s.broker._leverage.get("BTCUSDT") == 5, what="ACCOUNT_CONFIG_UPDATE")
    await s.broker.set_leverage("BTCUSDT", 10)
    assert sim.engine.leverage("main", "BTCUSDT") == 10
    with pytest.raises(BrokerError) as err:
        await s.broker.set_leverage("BTCUSDT", 126)
    assert err.value.code == "invalid" and "1 to 125" in err.value.message
