"""Matching: market/limit fills, the thin synthetic book, time in force, cancel, modify."""

from __future__ import annotations

from decimal import Decimal

from sidedesk_sim.engine import (
    AccountUpdate,
    AggTrade,
    ExecType,
    ExpireReason,
    OrderSpec,
    OrderStatus,
    OrderType,
    OrderUpdate,
    RejectReason,
    Side,
    TimeInForce,
)

from .helpers import SYMBOL, kinds, move, place

D = Decimal


def test_market_buy_fills_at_the_ask_with_taker_fee(eng):
    out = place(eng, Side.BUY, OrderType.MARKET, "0.5")
    assert out.ok and out.order is not None
    assert out.order.status is OrderStatus.FILLED
    assert out.order.avg_price == D(1001)
    assert kinds(out.events) == ["NEW", "TRADE", "account:ORDER"]
    trade = next(e for e in out.events if isinstance(e, OrderUpdate) and e.exec_type is ExecType.TRADE)
    assert trade.fill is not None
    assert trade.fill.commission == D("0.25025000")  # 1001 × 0.5 × 0.0005
    assert not trade.fill.maker
    assert eng.balance("a", "USDT").wallet_balance == D(10_000) - D("0.25025")
    pos = eng.positions("a", SYMBOL)[0]
    assert pos.amount == D("0.5") and pos.entry_price == D(1001)
    assert any(isinstance(e, AggTrade) and e.price == D(1001) for e in out.events)


def test_market_sell_fills_at_the_bid(eng):
    out = place(eng, Side.SELL, OrderType.MARKET, "0.2")
    assert out.order is not None and out.order.avg_price == D(1000)
    assert eng.positions("a", SYMBOL)[0].amount == D("-0.2")


def test_market_walks_the_thin_book(eng):
    out = place(eng, Side.BUY, OrderType.MARKET, "2.5")
    fills = [e.fill for e in out.events if isinstance(e, OrderUpdate) and e.fill is not None]
    assert [(f.price, f.qty) for f in fills] == [(D(1001), D(1)), (D(1002), D("1.5"))]
    statuses = [e.order.status for e in out.events if isinstance(e, OrderUpdate)]
    assert statuses == [OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert out.order is not None and out.order.avg_price == (D(1001) + D("1.5") * 1002) / D("2.5")


def test_market_beyond_book_depth_expires_remainder(eng):
    # depth = 1+2+3+4+5 = 15
    out = place(eng, Side.BUY, OrderType.MARKET, "20")
    assert out.order is not None
    assert out.order.executed_qty == D(15)
    assert out.order.status is OrderStatus.EXPIRED
    assert out.order.expire_reason is ExpireReason.MARKET_NOT_FILLED
    assert kinds(out.events)[-2:] == ["account:ORDER", "EXPIRED"]


def test_limit_rests_without_account_update_then_fills_as_maker(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "0.5", price=D(990))
    assert out.order is not None and out.order.status is OrderStatus.NEW
    assert kinds(out.events) == ["NEW"]
    assert not any(isinstance(e, AccountUpdate) for e in out.events)
    assert move(eng, 995) and eng.open_orders("a")  # not crossed yet (ask 996)
    events = move(eng, 989)  # ask 990 reaches the order
    assert kinds(events) == ["TRADE", "account:ORDER"]
    fill = next(e.fill for e in events if isinstance(e, OrderUpdate))
    assert fill is not None and fill.maker and fill.price == D(990)
    assert fill.commission == D("0.09900000")  # 990 × 0.5 × 0.0002
    assert eng.open_orders("a") == []
    closed = eng.order("a", order_id=out.order.order_id)
    assert closed is not None and closed.status is OrderStatus.FILLED


def test_resting_limit_fills_partially_in_a_thin_book(eng):
    out = place(eng, Side.SELL, OrderType.LIMIT, "4", price=D(1010))
    assert out.order is not None
    ev1 = move(eng, 1010)  # bid reaches 1010: one level (qty 1) at or better than the price
    assert kinds(ev1) == ["TRADE", "account:ORDER"]
    assert eng.open_orders("a")[0].status is OrderStatus.PARTIALLY_FILLED
    assert eng.open_orders("a")[0].executed_qty == D(1)
    move(eng, 1011)  # two levels at or above 1010 now: 1011 (1) and 1010 (2)
    order = eng.order("a", order_id=out.order.order_id)
    assert order is not None and order.executed_qty == D(4) and order.status is OrderStatus.FILLED


def test_marketable_limit_takes_then_rests_remainder(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "5", price=D(1002))
    assert out.order is not None
    # asks 1001 (1) and 1002 (2) are within the limit → 3 filled as taker, 2 rest
    assert out.order.executed_qty == D(3)
    assert out.order.status is OrderStatus.PARTIALLY_FILLED
    assert eng.open_orders("a")[0].remaining == D(2)


def test_ioc_remainder_expires(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "5", price=D(1002), time_in_force=TimeInForce.IOC)
    assert out.order is not None
    assert out.order.executed_qty == D(3)
    assert out.order.status is OrderStatus.EXPIRED
    assert out.order.expire_reason is ExpireReason.IOC_NOT_FILLED
    assert eng.open_orders("a") == []


def test_ioc_not_marketable_expires_unfilled(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900), time_in_force=TimeInForce.IOC)
    assert out.order is not None and out.order.status is OrderStatus.EXPIRED
    assert kinds(out.events) == ["NEW", "EXPIRED"]


def test_fok_rejected_when_not_fully_fillable(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "4", price=D(1002), time_in_force=TimeInForce.FOK)
    assert out.reject is not None and out.reject.reason is RejectReason.FOK_NOT_FILLED
    assert out.events == () and eng.order_log("a") == []


def test_fok_fills_completely_when_possible(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "3", price=D(1002), time_in_force=TimeInForce.FOK)
    assert out.order is not None and out.order.status is OrderStatus.FILLED


def test_gtx_rejected_when_it_would_take(eng):
    out = place(eng, Side.SELL, OrderType.LIMIT, "1", price=D(1000), time_in_force=TimeInForce.GTX)
    assert out.reject is not None and out.reject.reason is RejectReason.POST_ONLY_WOULD_TAKE


def test_gtx_rests_when_it_would_make(eng):
    out = place(eng, Side.SELL, OrderType.LIMIT, "1", price=D(1001), time_in_force=TimeInForce.GTX)
    assert out.order is not None and out.order.status is OrderStatus.NEW


def test_cancel_and_query_closed_order(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900), client_id="mine-1")
    assert out.order is not None
    cancel = eng.cancel_order("a", SYMBOL, client_id="mine-1", now_ms=eng.now_ms + 1)
    assert cancel.order is not None and cancel.order.status is OrderStatus.CANCELED
    assert kinds(cancel.events) == ["CANCELED"]
    again = eng.cancel_order("a", SYMBOL, order_id=out.order.order_id, now_ms=eng.now_ms + 1)
    assert again.reject is not None and again.reject.reason is RejectReason.UNKNOWN_ORDER
    found = eng.order("a", client_id="mine-1")
    assert found is not None and found.status is OrderStatus.CANCELED


def test_cancel_wrong_symbol_is_unknown(btc):
    out = btc.submit_order(
        "a",
        OrderSpec("BTCUSDT", Side.BUY, OrderType.LIMIT, quantity=D("0.01"), price=D(50_000)),
        2_000,
    )
    assert out.order is not None
    res = btc.cancel_order("a", "ETHUSDT", order_id=out.order.order_id, now_ms=2_001)
    assert res.reject is not None and res.reject.reason is RejectReason.UNKNOWN_ORDER


def test_client_id_unique_among_open_orders_only(eng):
    assert place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900), client_id="x").ok
    dup = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(901), client_id="x")
    assert dup.reject is not None and dup.reject.reason is RejectReason.DUPLICATE_CLIENT_ID
    assert place(eng, Side.BUY, OrderType.MARKET, "0.1", client_id="y").ok
    assert place(eng, Side.BUY, OrderType.MARKET, "0.1", client_id="y").ok  # "y" was not open any more


def test_generated_client_ids_are_22_chars_and_deterministic():
    from .helpers import make_engine

    ids = []
    for _ in range(2):
        e = make_engine(seed=9)
        out = place(e, Side.BUY, OrderType.LIMIT, "1", price=D(900))
        assert out.order is not None
        ids.append(out.order.client_id)
    assert len(ids[0]) == 22 and ids[0] == ids[1]


def test_max_open_orders_per_symbol(eng):
    from dataclasses import replace

    from sidedesk_sim.engine import Engine

    from .helpers import easy_instrument

    e = Engine([replace(easy_instrument(), max_num_orders=2)], start_ms=0)
    e.create_account("a", {"USDT": D(10_000)})
    assert place(e, Side.BUY, OrderType.LIMIT, "0.1", price=D(900)).ok
    assert place(e, Side.BUY, OrderType.LIMIT, "0.1", price=D(901)).ok
    out = place(e, Side.BUY, OrderType.LIMIT, "0.1", price=D(902))
    assert out.reject is not None and out.reject.reason is RejectReason.MAX_OPEN_ORDERS


def test_cancel_all(eng):
    for p in (900, 901, 902):
        place(eng, Side.BUY, OrderType.LIMIT, "0.1", price=D(p))
    out = eng.cancel_all("a", SYMBOL, eng.now_ms + 1)
    assert len(out.orders) == 3 and all(o.status is OrderStatus.CANCELED for o in out.orders)
    assert eng.open_orders("a") == []


def test_modify_emits_amendment_and_keeps_status(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900))
    assert out.order is not None
    mod = eng.modify_order(
        "a", SYMBOL, order_id=out.order.order_id, quantity=D(2), price=D(950), now_ms=eng.now_ms + 1
    )
    assert mod.order is not None and kinds(mod.events) == ["AMENDMENT"]
    assert (mod.order.quantity, mod.order.price, mod.order.status) == (D(2), D(950), OrderStatus.NEW)


def test_modify_unchanged_is_rejected(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900))
    assert out.order is not None
    mod = eng.modify_order(
        "a", SYMBOL, order_id=out.order.order_id, quantity=D(1), price=D(900), now_ms=eng.now_ms + 1
    )
    assert mod.reject is not None and mod.reject.reason is RejectReason.NO_NEED_TO_MODIFY


def test_modify_to_crossing_price_fills_as_taker(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "0.5", price=D(900))
    assert out.order is not None
    mod = eng.modify_order(
        "a", SYMBOL, order_id=out.order.order_id, quantity=D("0.5"), price=D(1001), now_ms=eng.now_ms + 1
    )
    assert kinds(mod.events) == ["AMENDMENT", "TRADE", "account:ORDER"]
    assert mod.order is not None and mod.order.status is OrderStatus.FILLED


def test_modify_qty_below_executed_cancels(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "5", price=D(1002))  # 3 filled, 2 rest
    assert out.order is not None
    mod = eng.modify_order(
        "a", SYMBOL, order_id=out.order.order_id, quantity=D(3), price=D(990), now_ms=eng.now_ms + 1
    )
    assert mod.ok and mod.order is not None and mod.order.status is OrderStatus.CANCELED


def test_modify_gtx_to_crossing_price_cancels(eng):
    out = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900), time_in_force=TimeInForce.GTX)
    assert out.order is not None
    mod = eng.modify_order(
        "a", SYMBOL, order_id=out.order.order_id, quantity=D(1), price=D(1005), now_ms=eng.now_ms + 1
    )
    assert mod.order is not None and mod.order.status is OrderStatus.CANCELED


def test_modify_closed_order_is_unknown(eng):
    out = place(eng, Side.BUY, OrderType.MARKET, "0.1")
    assert out.order is not None
    mod = eng.modify_order(
        "a", SYMBOL, order_id=out.order.order_id, quantity=D(1), price=D(900), now_ms=eng.now_ms + 1
    )
    assert mod.reject is not None and mod.reject.reason is RejectReason.UNKNOWN_ORDER


def test_bad_requests_are_rejected_without_side_effects(eng):
    cases = [
        (dict(side=Side.BUY, otype=OrderType.MARKET, qty=None), RejectReason.INVALID_QUANTITY),
        (dict(side=Side.BUY, otype=OrderType.MARKET, qty="0"), RejectReason.INVALID_QUANTITY),
        (dict(side=Side.BUY, otype=OrderType.LIMIT, qty="1"), RejectReason.INVALID_PRICE),
        (
            dict(side=Side.BUY, otype=OrderType.MARKET, qty="1", close_position=True),
            RejectReason.CLOSE_POSITION_NOT_ALLOWED,
        ),
    ]
    for kw, reason in cases:
        out = place(eng, kw.pop("side"), kw.pop("otype"), kw.pop("qty"), **kw)
        assert out.reject is not None and out.reject.reason is reason
    unknown = eng.submit_order(
        "a", OrderSpec("NOPE", Side.BUY, OrderType.MARKET, quantity=D(1)), eng.now_ms + 1
    )
    assert unknown.reject is not None and unknown.reject.reason is RejectReason.UNKNOWN_SYMBOL
    nobody = eng.submit_order(
        "zz", OrderSpec(SYMBOL, Side.BUY, OrderType.MARKET, quantity=D(1)), eng.now_ms + 1
    )
    assert nobody.reject is not None and nobody.reject.reason is RejectReason.UNKNOWN_ACCOUNT
    assert eng.order_log() == [] and eng.balance("a", "USDT").wallet_balance == D(10_000)
