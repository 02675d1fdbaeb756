"""Conditional orders as algo orders: triggers, lifecycle, close-position, trailing stops."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk_sim.engine import (
    AlgoStatus,
    AlgoUpdate,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    RejectReason,
    Side,
    WorkingType,
)

from .helpers import SYMBOL, kinds, make_engine, move, place

D = Decimal
RISE, FALL = D(1060), D(940)


def algo_statuses(eng, algo_id):
    return [
        e.algo.status for e in eng.order_log("a") if isinstance(e, AlgoUpdate) and e.algo.algo_id == algo_id
    ]


def direction(otype: OrderType, side: Side) -> str:
    stop = otype in (OrderType.STOP, OrderType.STOP_MARKET)
    return "rise" if stop == (side is Side.BUY) else "fall"


CASES = [
    (t, s, w)
    for t in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET, OrderType.STOP, OrderType.TAKE_PROFIT)
    for s in (Side.BUY, Side.SELL)
    for w in (WorkingType.MARK_PRICE, WorkingType.CONTRACT_PRICE)
]


@pytest.mark.parametrize(("otype", "side", "wt"), CASES)
def test_trigger_on_the_working_price_only(eng, otype, side, wt):
    target = RISE if direction(otype, side) == "rise" else FALL
    trigger = D(1050) if target == RISE else D(950)
    kw = {}
    if otype in (OrderType.STOP, OrderType.TAKE_PROFIT):
        kw["price"] = target + 5 if side is Side.BUY else target - 5  # marketable when triggered
    out = place(eng, side, otype, "0.1", stop_price=trigger, working_type=wt, **kw)
    assert out.ok and out.algo is not None and out.order is None
    assert kinds(out.events) == ["algo:NEW"]
    algo_id = out.algo.algo_id
    # move only the other price across the trigger: nothing happens
    if wt is WorkingType.MARK_PRICE:
        move(eng, target, mark=1000)
    else:
        move(eng, 1000, mark=target)
    assert eng.algo_order("a", algo_id=algo_id).status is AlgoStatus.NEW
    events = move(eng, target, mark=target)
    assert kinds(events) == [
        "algo:TRIGGERING", "algo:TRIGGERED", "NEW", "TRADE", "account:ORDER", "algo:FINISHED"
    ]  # fmt: skip
    algo = eng.algo_order("a", algo_id=algo_id)
    assert algo is not None and algo.status is AlgoStatus.FINISHED
    assert algo.executed_qty == D("0.1") and algo.order_id is not None
    order = eng.order("a", order_id=algo.order_id)
    assert order is not None and order.status is OrderStatus.FILLED
    assert order.orig_type is otype and order.algo_id == algo_id
    assert order.type is (OrderType.MARKET if otype.value.endswith("MARKET") else OrderType.LIMIT)
    assert order.client_id == algo.client_id and order.stop_price == trigger
    assert algo_statuses(eng, algo_id) == [
        AlgoStatus.NEW, AlgoStatus.TRIGGERING, AlgoStatus.TRIGGERED, AlgoStatus.FINISHED
    ]  # fmt: skip


@pytest.mark.parametrize(("otype", "side", "wt"), CASES)
def test_immediate_trigger_is_rejected(eng, otype, side, wt):
    # a trigger already on the triggered side of the current price (1000), and one exactly at it
    rises = direction(otype, side) == "rise"
    kw = {"price": D(1000)} if otype in (OrderType.STOP, OrderType.TAKE_PROFIT) else {}
    for trigger in (D(990) if rises else D(1010), D(1000)):
        out = place(eng, side, otype, "0.1", stop_price=trigger, working_type=wt, **kw)
        assert out.reject is not None and out.reject.reason is RejectReason.WOULD_TRIGGER_IMMEDIATELY
    assert eng.open_algo_orders("a") == []


def test_immediate_trigger_uses_the_working_price(eng):
    move(eng, 1000, mark=1100)
    # SELL stop at 1050: mark 1100 is above (fine), last 1000 is below (would trigger)
    assert place(
        eng, Side.SELL, OrderType.STOP_MARKET, "0.1", stop_price=D(1050), working_type=WorkingType.MARK_PRICE
    ).ok
    out = place(eng, Side.SELL, OrderType.STOP_MARKET, "0.1", stop_price=D(1050))
    assert out.reject is not None and out.reject.reason is RejectReason.WOULD_TRIGGER_IMMEDIATELY


def test_stop_limit_rests_after_trigger_then_finishes(eng):
    out = place(eng, Side.BUY, OrderType.STOP, "0.5", stop_price=D(1050), price=D(1040))
    assert out.algo is not None
    events = move(eng, 1060)
    assert kinds(events) == ["algo:TRIGGERING", "algo:TRIGGERED", "NEW"]
    algo = eng.algo_order("a", algo_id=out.algo.algo_id)
    assert algo is not None and algo.status is AlgoStatus.TRIGGERED and algo.actual_type is OrderType.LIMIT
    assert eng.open_algo_orders("a") == []
    assert [o.order_id for o in eng.open_orders("a")] == [algo.order_id]
    events = move(eng, 1039)
    assert kinds(events) == ["TRADE", "account:ORDER", "algo:FINISHED"]


def test_untriggered_algo_is_not_a_regular_order(eng):
    out = place(eng, Side.BUY, OrderType.STOP_MARKET, "0.1", stop_price=D(1100), client_id="stop-1")
    assert out.algo is not None
    assert eng.open_orders("a") == [] and eng.order("a", client_id="stop-1") is None
    assert eng.open_algo_orders("a")[0].client_id == "stop-1"
    res = eng.cancel_order("a", SYMBOL, order_id=out.algo.algo_id, now_ms=eng.now_ms + 1)
    assert res.reject is not None and res.reject.reason is RejectReason.UNKNOWN_ORDER


def test_cancel_algo(eng):
    out = place(eng, Side.BUY, OrderType.STOP_MARKET, "0.1", stop_price=D(1100), client_id="s")
    assert out.algo is not None
    dup = place(eng, Side.BUY, OrderType.STOP_MARKET, "0.1", stop_price=D(1100), client_id="s")
    assert dup.reject is not None and dup.reject.reason is RejectReason.DUPLICATE_CLIENT_ID
    res = eng.cancel_algo("a", client_id="s", now_ms=eng.now_ms + 1)
    assert res.algo is not None and res.algo.status is AlgoStatus.CANCELED
    assert kinds(res.events) == ["algo:CANCELED"]
    again = eng.cancel_algo("a", algo_id=out.algo.algo_id, now_ms=eng.now_ms + 1)
    assert again.reject is not None and again.reject.reason is RejectReason.UNKNOWN_ORDER
    assert eng.algo_order("a", client_id="s").status is AlgoStatus.CANCELED
    assert move(eng, 1200) and eng.positions("a", SYMBOL)[0].amount == 0


def test_cancel_all_algos(eng):
    for t in (1100, 1200):
        place(eng, Side.BUY, OrderType.STOP_MARKET, "0.1", stop_price=D(t))
    out = eng.cancel_all_algos("a", SYMBOL, eng.now_ms + 1)
    assert [a.status for a in out.algos] == [AlgoStatus.CANCELED] * 2
    assert eng.open_algo_orders("a") == []


def test_max_algo_orders():
    from sidedesk_sim.engine import Engine

    from .helpers import easy_instrument

    eng = Engine([easy_instrument()], start_ms=0, max_algo_orders=2)
    eng.create_account("a", {"USDT": D(10_000)})
    assert place(eng, Side.BUY, OrderType.STOP_MARKET, "0.1", stop_price=D(1100)).ok
    assert place(eng, Side.BUY, OrderType.STOP_MARKET, "0.1", stop_price=D(1101)).ok
    out = place(eng, Side.BUY, OrderType.STOP_MARKET, "0.1", stop_price=D(1102))
    assert out.reject is not None and out.reject.reason is RejectReason.MAX_ALGO_ORDERS


def test_algo_parameter_errors(eng):
    cases = [
        (dict(side=Side.BUY, otype=OrderType.STOP_MARKET, qty="1"), RejectReason.MISSING_STOP_PRICE),
        (dict(side=Side.BUY, otype=OrderType.STOP, qty="1", stop_price=D(1100)), RejectReason.INVALID_PRICE),
        (
            dict(side=Side.BUY, otype=OrderType.STOP_MARKET, qty=None, stop_price=D(1100)),
            RejectReason.INVALID_QUANTITY,
        ),
        (
            dict(side=Side.SELL, otype=OrderType.TRAILING_STOP_MARKET, qty="1"),
            RejectReason.INVALID_CALLBACK_RATE,
        ),
        (
            dict(side=Side.SELL, otype=OrderType.TRAILING_STOP_MARKET, qty="1", callback_rate=D("0.05")),
            RejectReason.INVALID_CALLBACK_RATE,
        ),
        (
            dict(side=Side.SELL, otype=OrderType.TRAILING_STOP_MARKET, qty="1", callback_rate=D("20.1")),
            RejectReason.INVALID_CALLBACK_RATE,
        ),
        (
            dict(
                side=Side.SELL,
                otype=OrderType.STOP,
                qty="1",
                stop_price=D(900),
                price=D(900),
                close_position=True,
            ),
            RejectReason.CLOSE_POSITION_NOT_ALLOWED,
        ),
        (
            dict(
                side=Side.SELL, otype=OrderType.STOP_MARKET, qty="1", stop_price=D(900), close_position=True
            ),
            RejectReason.CLOSE_POSITION_WITH_QUANTITY,
        ),
        (
            dict(
                side=Side.SELL, otype=OrderType.STOP_MARKET, qty=None, stop_price=D(900), close_position=True
            ),
            RejectReason.NO_POSITION_FOR_GTE,
        ),
    ]
    for kw, expected in cases:
        out = place(eng, kw.pop("side"), kw.pop("otype"), kw.pop("qty"), **kw)
        assert out.reject is not None and out.reject.reason is expected, (kw, out.reject)


# ---- close position ------------------------------------------------------------------------


def test_close_position_closes_whole_position_at_trigger(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    out = place(
        eng,
        Side.SELL,
        OrderType.STOP_MARKET,
        None,
        stop_price=D(950),
        close_position=True,
        working_type=WorkingType.MARK_PRICE,
    )
    assert out.algo is not None and out.algo.quantity == 0 and out.algo.reduce_only
    place(eng, Side.BUY, OrderType.MARKET, "0.5")  # position grows to 1.5 after placement
    events = move(eng, 940)
    assert eng.positions("a", SYMBOL)[0].amount == 0
    order = next(e.order for e in events if isinstance(e, OrderUpdate))
    assert order.quantity == D("1.5") and order.close_position


def test_close_position_duplicate_in_direction_rejected_but_tp_next_to_sl_ok(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    assert place(eng, Side.SELL, OrderType.STOP_MARKET, None, stop_price=D(950), close_position=True).ok
    dup = place(eng, Side.SELL, OrderType.STOP_MARKET, None, stop_price=D(940), close_position=True)
    assert dup.reject is not None and dup.reject.reason is RejectReason.CLOSE_POSITION_EXISTS
    assert place(
        eng, Side.SELL, OrderType.TAKE_PROFIT_MARKET, None, stop_price=D(1100), close_position=True
    ).ok


def test_close_position_expires_when_position_is_closed(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    out = place(eng, Side.SELL, OrderType.STOP_MARKET, None, stop_price=D(950), close_position=True)
    assert out.algo is not None
    events = place(eng, Side.SELL, OrderType.MARKET, "1").events
    assert kinds(events) == ["NEW", "TRADE", "account:ORDER", "algo:EXPIRED"]
    assert eng.algo_order("a", algo_id=out.algo.algo_id).status is AlgoStatus.EXPIRED


def test_hedge_close_position_side_rules():
    eng = make_engine(hedge=True)
    place(eng, Side.BUY, OrderType.MARKET, "1", position_side=PositionSide.LONG)
    bad = place(
        eng,
        Side.BUY,
        OrderType.STOP_MARKET,
        None,
        stop_price=D(1100),
        close_position=True,
        position_side=PositionSide.LONG,
    )
    assert bad.reject is not None and bad.reject.reason is RejectReason.CLOSE_POSITION_SIDE_INVALID
    ok = place(
        eng,
        Side.SELL,
        OrderType.STOP_MARKET,
        None,
        stop_price=D(950),
        close_position=True,
        position_side=PositionSide.LONG,
    )
    assert ok.ok
    move(eng, 940)
    rows = {p.position_side: p.amount for p in eng.positions("a", SYMBOL)}
    assert rows == {PositionSide.LONG: 0, PositionSide.SHORT: 0}


# ---- refusals at trigger time ---------------------------------------------------------------


def test_reduce_only_stop_without_position_is_canceled_at_trigger(eng):
    out = place(eng, Side.SELL, OrderType.STOP_MARKET, "1", stop_price=D(950), reduce_only=True)
    assert out.ok and out.algo is not None  # no position check before the trigger
    events = move(eng, 940)
    assert kinds(events) == ["algo:TRIGGERING", "algo:CANCELED"]
    algo = eng.algo_order("a", algo_id=out.algo.algo_id)
    assert algo is not None and algo.reason == "Reduce Only reject"


def test_reduce_only_stop_is_clipped_to_a_smaller_position(eng):
    place(eng, Side.BUY, OrderType.MARKET, "0.3")
    place(eng, Side.SELL, OrderType.STOP_MARKET, "1", stop_price=D(950), reduce_only=True)
    move(eng, 940)
    assert eng.positions("a", SYMBOL)[0].amount == 0


def test_opening_stop_without_margin_is_rejected_at_trigger():
    eng = make_engine(balance=D(100))
    out = place(eng, Side.BUY, OrderType.STOP_MARKET, "5", stop_price=D(1050))
    assert out.ok and out.algo is not None  # no margin check before trigger
    events = move(eng, 1060)
    assert kinds(events) == ["algo:TRIGGERING", "algo:REJECTED"]
    algo = eng.algo_order("a", algo_id=out.algo.algo_id)
    assert algo is not None and algo.reason == "Margin is insufficient"


# ---- trailing stops -------------------------------------------------------------------------


def test_trailing_sell_without_activation_tracks_the_high(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    out = place(eng, Side.SELL, OrderType.TRAILING_STOP_MARKET, "1", callback_rate=D(5), reduce_only=True)
    assert out.algo is not None and out.algo.activated and out.algo.activation_price == D(1000)
    move(eng, 1100)
    algo = eng.algo_order("a", algo_id=out.algo.algo_id)
    assert algo is not None and algo.extreme == D(1100) and algo.trailing_stop_price == D(1045)
    move(eng, 1046)
    assert eng.algo_order("a", algo_id=out.algo.algo_id).status is AlgoStatus.NEW
    events = move(eng, 1045)
    assert kinds(events)[:2] == ["algo:TRIGGERING", "algo:TRIGGERED"]
    assert eng.positions("a", SYMBOL)[0].amount == 0


def test_trailing_sell_waits_for_activation(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    out = place(
        eng,
        Side.SELL,
        OrderType.TRAILING_STOP_MARKET,
        "1",
        callback_rate=D(5),
        activation_price=D(1050),
        reduce_only=True,
    )
    assert out.algo is not None and not out.algo.activated
    move(eng, 1040)
    move(eng, 900)  # a 13 % drop before activation does not trigger
    algo = eng.algo_order("a", algo_id=out.algo.algo_id)
    assert algo is not None and algo.status is AlgoStatus.NEW and not algo.activated
    move(eng, 1060)
    algo = eng.algo_order("a", algo_id=out.algo.algo_id)
    assert algo is not None and algo.activated and algo.extreme == D(1060)
    move(eng, 1008)  # 1060 × 0.95 = 1007
    assert eng.algo_order("a", algo_id=out.algo.algo_id).status is AlgoStatus.NEW
    move(eng, 1007)
    assert eng.algo_order("a", algo_id=out.algo.algo_id).status is AlgoStatus.FINISHED


def test_trailing_buy_tracks_the_low_on_mark_price(eng):
    place(eng, Side.SELL, OrderType.MARKET, "1")
    out = place(
        eng,
        Side.BUY,
        OrderType.TRAILING_STOP_MARKET,
        "1",
        callback_rate=D(2),
        activation_price=D(950),
        working_type=WorkingType.MARK_PRICE,
        reduce_only=True,
    )
    assert out.algo is not None
    move(eng, 900, mark=1000)  # last moves, mark does not: not activated
    assert not eng.algo_order("a", algo_id=out.algo.algo_id).activated
    move(eng, 900, mark=900)  # activated, low 900
    move(eng, 900, mark=917)  # 900 × 1.02 = 918
    assert eng.algo_order("a", algo_id=out.algo.algo_id).status is AlgoStatus.NEW
    move(eng, 900, mark=918)
    assert eng.algo_order("a", algo_id=out.algo.algo_id).status is AlgoStatus.FINISHED
    assert eng.positions("a", SYMBOL)[0].amount == 0


@pytest.mark.parametrize(
    ("side", "activation"), [(Side.SELL, 1000), (Side.SELL, 990), (Side.BUY, 1000), (Side.BUY, 1010)]
)
def test_trailing_activation_on_the_wrong_side_would_trigger(eng, side, activation):
    out = place(
        eng, side, OrderType.TRAILING_STOP_MARKET, "1", callback_rate=D(1), activation_price=D(activation)
    )
    assert out.reject is not None and out.reject.reason is RejectReason.WOULD_TRIGGER_IMMEDIATELY


def test_algo_update_carries_trailing_state_in_the_log(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    out = place(eng, Side.SELL, OrderType.TRAILING_STOP_MARKET, "1", callback_rate=D(1), reduce_only=True)
    assert out.algo is not None
    move(eng, 1200)
    move(eng, 1188)
    log = [e for e in eng.order_log("a") if isinstance(e, AlgoUpdate)]
    assert [e.algo.status for e in log] == [
        AlgoStatus.NEW, AlgoStatus.TRIGGERING, AlgoStatus.TRIGGERED, AlgoStatus.FINISHED
    ]  # fmt: skip
    assert log[1].algo.extreme == D(1200) and log[1].algo.callback_rate == D(1)
    regular = eng.order("a", order_id=log[2].algo.order_id)
    assert regular is not None and regular.orig_type is OrderType.TRAILING_STOP_MARKET
    assert regular.callback_rate == D(1) and regular.activation_price == D(1000)
