"""One-way vs hedge position modes and reduce-only semantics (dossier §6.3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk_sim.engine import (
    ExpireReason,
    OrderStatus,
    OrderType,
    PositionModeUpdate,
    PositionSide,
    RejectReason,
    Side,
)

from .helpers import SYMBOL, kinds, make_engine, move, place

D = Decimal


def reason(out):
    assert out.reject is not None, "expected a rejection"
    return out.reject.reason


@pytest.mark.parametrize("ps", [PositionSide.LONG, PositionSide.SHORT])
def test_one_way_refuses_long_short(eng, ps):
    assert (
        reason(place(eng, Side.BUY, OrderType.MARKET, "1", position_side=ps))
        is RejectReason.POSITION_SIDE_MISMATCH
    )


def test_hedge_requires_long_or_short():
    eng = make_engine(hedge=True)
    assert reason(place(eng, Side.BUY, OrderType.MARKET, "1")) is RejectReason.POSITION_SIDE_MISMATCH


def test_hedge_refuses_reduce_only():
    eng = make_engine(hedge=True)
    out = place(eng, Side.SELL, OrderType.MARKET, "1", position_side=PositionSide.LONG, reduce_only=True)
    assert reason(out) is RejectReason.REDUCE_ONLY_NOT_ALLOWED


def test_hedge_close_without_position_or_beyond_it_is_rejected():
    eng = make_engine(hedge=True)
    out = place(eng, Side.SELL, OrderType.MARKET, "1", position_side=PositionSide.LONG)
    assert reason(out) is RejectReason.REDUCE_ONLY_REJECTED
    place(eng, Side.BUY, OrderType.MARKET, "1", position_side=PositionSide.LONG)
    out = place(eng, Side.SELL, OrderType.MARKET, "2", position_side=PositionSide.LONG)
    assert reason(out) is RejectReason.REDUCE_ONLY_REJECTED
    assert place(eng, Side.SELL, OrderType.MARKET, "1", position_side=PositionSide.LONG).ok


def test_hedge_closing_orders_need_no_margin():
    eng = make_engine(balance=D(60), hedge=True)
    assert place(eng, Side.BUY, OrderType.MARKET, "1", position_side=PositionSide.LONG).ok  # IM ≈ 50
    assert place(eng, Side.SELL, OrderType.LIMIT, "1", price=D(1200), position_side=PositionSide.LONG).ok
    opening = place(eng, Side.SELL, OrderType.LIMIT, "1", price=D(1200), position_side=PositionSide.SHORT)
    assert reason(opening) is RejectReason.INSUFFICIENT_MARGIN


def test_mode_switch_rules(eng):
    assert reason(eng.set_hedge_mode("a", False)) is RejectReason.POSITION_MODE_UNCHANGED
    out = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900))
    assert reason(eng.set_hedge_mode("a", True)) is RejectReason.POSITION_MODE_OPEN_ORDERS
    assert out.order is not None
    eng.cancel_order("a", SYMBOL, order_id=out.order.order_id, now_ms=eng.now_ms + 1)
    place(eng, Side.BUY, OrderType.STOP_MARKET, "1", stop_price=D(1100))
    assert reason(eng.set_hedge_mode("a", True)) is RejectReason.POSITION_MODE_OPEN_ORDERS
    eng.cancel_all_algos("a", SYMBOL, eng.now_ms + 1)
    place(eng, Side.BUY, OrderType.MARKET, "1")
    assert reason(eng.set_hedge_mode("a", True)) is RejectReason.POSITION_MODE_OPEN_POSITION
    place(eng, Side.SELL, OrderType.MARKET, "1")
    switched = eng.set_hedge_mode("a", True)
    assert switched.ok and isinstance(switched.events[0], PositionModeUpdate)
    assert eng.hedge_mode("a")
    assert [p.position_side for p in eng.positions("a", SYMBOL)] == [PositionSide.LONG, PositionSide.SHORT]


def test_reduce_only_without_position_is_rejected(eng):
    assert (
        reason(place(eng, Side.SELL, OrderType.MARKET, "1", reduce_only=True))
        is RejectReason.REDUCE_ONLY_REJECTED
    )
    place(eng, Side.BUY, OrderType.MARKET, "1")
    # same direction as the position: nothing to reduce
    out = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900), reduce_only=True)
    assert reason(out) is RejectReason.REDUCE_ONLY_REJECTED


def test_reduce_only_market_is_clipped_to_the_position(eng):
    place(eng, Side.BUY, OrderType.MARKET, "0.5")
    out = place(eng, Side.SELL, OrderType.MARKET, "2", reduce_only=True)
    assert out.order is not None
    assert out.order.executed_qty == D("0.5")
    assert out.order.status is OrderStatus.EXPIRED
    assert out.order.expire_reason is ExpireReason.REDUCE_ONLY_KNOCKED_OUT
    assert eng.positions("a", SYMBOL)[0].amount == 0


def test_reduce_only_limit_with_same_side_orders_would_flip(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    assert place(eng, Side.SELL, OrderType.LIMIT, "0.6", price=D(1100)).ok
    out = place(eng, Side.SELL, OrderType.LIMIT, "0.6", price=D(1100), reduce_only=True)
    assert reason(out) is RejectReason.REDUCE_ONLY_WOULD_FLIP
    assert place(eng, Side.SELL, OrderType.LIMIT, "0.4", price=D(1100), reduce_only=True).ok


def test_resting_reduce_only_expires_when_position_closes(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    ro = place(eng, Side.SELL, OrderType.LIMIT, "1", price=D(1100), reduce_only=True)
    assert ro.order is not None
    out = place(eng, Side.SELL, OrderType.MARKET, "1")
    assert kinds(out.events) == ["NEW", "TRADE", "account:ORDER", "EXPIRED"]
    closed = eng.order("a", order_id=ro.order.order_id)
    assert closed is not None and closed.expire_reason is ExpireReason.REDUCE_ONLY_KNOCKED_OUT


def test_reduce_only_limit_fill_never_flips(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    ro = place(eng, Side.SELL, OrderType.LIMIT, "1", price=D(1010), reduce_only=True)
    assert ro.order is not None
    # shrink the position behind the order's back (another platform closed part of it)
    eng.set_position("a", SYMBOL, D("0.4"), D(1001))
    move(eng, 1020)
    assert eng.positions("a", SYMBOL)[0].amount == 0
    closed = eng.order("a", order_id=ro.order.order_id)
    assert closed is not None and closed.executed_qty == D("0.4")
    assert closed.status is OrderStatus.EXPIRED
