"""One transition per test: the engine driven by hand, step by step."""

from __future__ import annotations

import json
from decimal import Decimal as D

from sidedesk.core.asl import (
    AslLevel,
    AslProfile,
    CancelDone,
    CancelFailed,
    PlaceAcked,
    PlaceRejected,
    PositionKey,
)
from sidedesk.core.asl.machine import Phase
from sidedesk.domain import OrderStatus, OrderType, PositionSide, Side

from .helpers import (
    KEY,
    SYMBOL,
    cancel_done,
    cancels,
    closes,
    confirm,
    engine,
    events,
    notes,
    opened,
    order_event,
    places,
    pos,
    working,
)


def test_entry_fill_places_a_reduce_only_hard_stop() -> None:
    e = engine()
    out = e.on_position(pos("0.5", "100"), 0)
    [p] = places(out)
    r = p.request
    assert (r.side, r.type, r.quantity, r.stop_price, r.reduce_only) == (
        Side.SELL,
        OrderType.STOP_MARKET,
        D("0.5"),
        D("98.0"),
        True,
    )
    assert r.position_side is PositionSide.BOTH and r.callback_rate_pct is None
    assert [ev.transition for ev in events(out)] == ["opened", "place"]
    assert events(out)[0].next_trigger == D("101.00")


def test_short_hard_stop_is_above_entry_and_rounded_away_from_the_market() -> None:
    e = engine()
    [p] = places(e.on_position(pos("-2", "100.05"), 0))
    # 100.05 x 1.02 = 102.051 -> up to the tick (looser, never tighter than asked)
    assert (p.request.side, p.request.stop_price) == (Side.BUY, D("102.1"))


def test_confirmation_needs_reply_and_working_event_in_either_order() -> None:
    for reply_first in (True, False):
        e = engine()
        [p] = places(e.on_position(pos("1"), 0))
        cid = p.request.client_id
        first = PlaceAcked(cid, "7", 5) if reply_first else working(p)
        assert events(e.handle(first, 5), "confirmed") == []
        assert e.view(KEY).current is None  # type: ignore[union-attr]
        second = working(p) if reply_first else PlaceAcked(cid, "7", 30)
        [c] = events(e.handle(second, 30), "confirmed")
        assert c.latency_ms == 30 and c.stop_client_id == cid and c.stop_price == D("98.0")


def test_quiet_tick_does_nothing() -> None:
    e = engine()
    opened(e)
    assert e.on_mark(SYMBOL, D("100.9"), 100) == ()
    assert e.on_mark(SYMBOL, D("99"), 110) == ()
    assert e.on_mark("ETHUSDT", D("5"), 120) == ()


def test_level_one_replaces_new_first_then_cancels_old() -> None:
    e = engine()
    hard = opened(e)
    out = e.on_mark(SYMBOL, D("101"), 100)
    assert [ev.level for ev in events(out, "level")] == [1]
    assert notes(out, "level")
    [p] = places(out)
    assert (p.request.type, p.request.callback_rate_pct, p.request.quantity) == (
        OrderType.TRAILING_STOP_MARKET,
        D(2),
        D(1),
    )
    assert cancels(out) == []  # the hard stop stays until the new one is confirmed
    out = confirm(e, p, 150)
    [c] = cancels(out)
    assert c.client_id == hard.request.client_id
    v = e.view(KEY)
    assert v is not None and v.current == p.request.client_id and v.level == 1
    cancel_done(e, c, 200)
    assert e.view(KEY).cancelling == frozenset()  # type: ignore[union-attr]


def test_levels_two_and_three_tighten_the_callback() -> None:
    e = engine()
    opened(e)
    seen = []
    for t, price in enumerate(("101", "102", "104")):
        [p] = places(e.on_mark(SYMBOL, D(price), 100 + t * 100))
        seen.append(p.request.callback_rate_pct)
        confirm(e, p, 150 + t * 100)
    assert seen == [D(2), D("1.5"), D(1)]


def test_levels_never_loosen_when_the_price_falls_back() -> None:
    e = engine()
    opened(e)
    [p] = places(e.on_mark(SYMBOL, D("102.5"), 100))
    confirm(e, p, 120)
    assert e.view(KEY).level == 2  # type: ignore[union-attr]
    for t, price in enumerate(("101.5", "100.2", "99.5", "101.9")):
        assert places(e.on_mark(SYMBOL, D(price), 200 + t)) == []
    assert e.view(KEY).level == 2  # type: ignore[union-attr]


def test_one_replace_in_flight_and_latest_target_wins() -> None:
    e = engine()
    opened(e)
    [p1] = places(e.on_mark(SYMBOL, D("101"), 100))
    # level 2 and then 3 arrive while level 1 is in flight: nothing new goes out
    assert places(e.on_mark(SYMBOL, D("102"), 110)) == []
    assert places(e.on_mark(SYMBOL, D("104.2"), 120)) == []
    out = confirm(e, p1, 150)
    [p3] = places(out)  # only the latest: level 3
    assert p3.request.callback_rate_pct == D(1)
    assert len(cancels(out)) == 1  # the hard stop, replaced by level 1


def test_rejection_keeps_the_old_stop_and_retries_with_backoff() -> None:
    e = engine(profile=AslProfile(retry_base_ms=500))
    hard = opened(e)
    [p] = places(e.on_mark(SYMBOL, D("101"), 100))
    out = e.handle(PlaceRejected(p.request.client_id, "Reduce Only reject", 130), 130)
    assert cancels(out) == [] and places(out) == []
    [n] = notes(out, "rejected")
    assert "retry 1 in 500 ms" in n.message and "Reduce Only reject" in n.message
    assert e.view(KEY).current == hard.request.client_id  # type: ignore[union-attr]
    assert list(e.on_time(600)) == []  # not yet
    [p2] = places(e.on_time(630))
    assert p2.request.callback_rate_pct == D(2)
    out = e.handle(PlaceRejected(p2.request.client_id, "busy", 700), 700)
    assert "retry 2 in 1000 ms" in notes(out, "rejected")[0].message
    assert places(e.on_time(1699)) == []
    [p3] = places(e.on_time(1700))
    out = confirm(e, p3, 1750)
    assert [c.client_id for c in cancels(out)] == [hard.request.client_id]


def test_rejected_by_event_is_a_rejection_too() -> None:
    e = engine()
    opened(e)
    [p] = places(e.on_mark(SYMBOL, D("101"), 100))
    out = e.handle(order_event(p, OrderStatus.REJECTED, reason="Reduce Only reject"), 120)
    assert events(out, "rejected") and e.view(KEY).pending is None  # type: ignore[union-attr]


def test_partial_fills_and_scaling_in_replace_with_the_new_quantity() -> None:
    e = engine()
    hard = opened(e, qty="0.3")
    out = e.on_position(pos("0.7", "100"), 100)
    [p] = places(out)
    assert p.request.quantity == D("0.7") and p.request.stop_price == D("98.0")
    assert cancels(out) == []
    out = confirm(e, p, 130)
    assert [c.client_id for c in cancels(out)] == [hard.request.client_id]


def test_partial_close_replaces_with_the_smaller_quantity() -> None:
    e = engine()
    opened(e, qty="1")
    [p] = places(e.on_position(pos("0.4", "100"), 100))
    assert p.request.quantity == D("0.4")


def test_scaling_in_higher_tightens_the_hard_stop_but_lower_never_loosens_it() -> None:
    e = engine()
    opened(e, qty="1", entry="100")
    [p] = places(e.on_position(pos("2", "100.5"), 100))
    assert p.request.stop_price == D("98.4")  # 100.5 x 0.98 = 98.49 -> 98.4
    confirm(e, p, 120)
    [p2] = places(e.on_position(pos("3", "99"), 200))
    assert p2.request.stop_price == D("98.4")  # 99 x 0.98 = 97.02 would loosen: hold


def test_position_closed_cancels_stops_after_the_grace_period() -> None:
    e = engine(profile=AslProfile(orphan_grace_ms=3000))
    hard = opened(e)
    out = e.on_position(pos("0", "0"), 1000)
    assert events(out, "flat") and cancels(out) == []
    assert cancels(e.on_time(3999)) == []
    [c] = cancels(e.on_time(4000))
    assert c.client_id == hard.request.client_id
    cancel_done(e, c, 4100)
    e.on_time(8000)
    assert e.machine(KEY) is None  # forgotten once nothing is left


def test_reopen_within_grace_starts_over_and_replaces_the_old_stop() -> None:
    e = engine()
    old = opened(e)
    e.on_position(pos("0", "0"), 100)
    out = e.on_position(pos("1", "110"), 200)
    [p] = places(out)
    assert p.request.stop_price == D("107.8")
    out = confirm(e, p, 250)
    assert [c.client_id for c in cancels(out)] == [old.request.client_id]


def test_flip_protects_the_new_side_and_cancels_the_old() -> None:
    e = engine()
    old = opened(e)
    [p] = places(e.on_position(pos("-1", "100"), 100))
    assert (p.request.side, p.request.stop_price) == (Side.BUY, D("102.0"))
    out = confirm(e, p, 130)
    assert [c.client_id for c in cancels(out)] == [old.request.client_id]


def test_confirm_timeout_cancels_and_retries() -> None:
    e = engine(profile=AslProfile(confirm_timeout_ms=1000, retry_base_ms=200))
    [p] = places(e.on_position(pos("1"), 0))
    out = e.on_time(1000)
    [c] = cancels(out)
    assert c.client_id == p.request.client_id and notes(out, "retry")
    [p2] = places(e.on_time(1200))
    assert p2.request.client_id != p.request.client_id
    # a late working event for the abandoned one does not confirm it
    assert events(e.handle(working(p), 1210), "confirmed") == []


def test_stop_cancelled_outside_is_replaced_at_once() -> None:
    e = engine()
    hard = opened(e)
    out = e.handle(order_event(hard, OrderStatus.CANCELED), 100)
    assert notes(out, "external") and events(out, "vanished")
    [p] = places(out)
    assert p.request.stop_price == D("98.0")


def test_triggered_stop_waits_for_the_position_then_re_arms_if_needed() -> None:
    e = engine(profile=AslProfile(trigger_settle_ms=2000))
    hard = opened(e)
    out = e.handle(order_event(hard, OrderStatus.TRIGGERED), 100)
    assert notes(out, "triggered") and places(out) == []
    assert places(e.on_time(1000)) == []
    # still open after the settle time (the market order failed): protect it again
    [p] = places(e.on_time(2100))
    assert p.request.type is OrderType.STOP_MARKET


def test_partly_closing_trigger_protects_the_rest_on_the_position_update() -> None:
    e = engine()
    hard = opened(e, qty="1")
    [p2] = places(e.on_position(pos("2", "100"), 50))  # scale in; replace in flight
    e.handle(order_event(hard, OrderStatus.TRIGGERED), 60)
    out = e.on_position(pos("1", "100"), 70)  # the old stop closed only its 1
    assert events(out, "position") and places(out) == []  # p2 still in flight
    [p3] = places(confirm(e, p2, 80))  # p2 works; the rest (1) gets an exact stop
    assert p3.request.quantity == D(1)


def test_immediate_trigger_with_no_cover_falls_back_to_safety_or_close() -> None:
    e = engine()
    e.on_mark(SYMBOL, D("99"), 0)
    [p] = places(e.on_position(pos("1", "100"), 0))
    e.on_mark(SYMBOL, D("97"), 10)
    out = e.handle(PlaceRejected(p.request.client_id, "Order would immediately trigger.", 20, True), 20)
    [s] = places(out)
    assert s.request.stop_price == D("90.0") and s.tag == "S" and notes(out, "safety")
    out = e.handle(PlaceRejected(s.request.client_id, "Order would immediately trigger.", 30, True), 30)
    [c] = closes(out)
    assert (c.request.type, c.request.side, c.request.quantity, c.request.reduce_only) == (
        OrderType.MARKET,
        Side.SELL,
        D(1),
        True,
    )


def test_price_already_beyond_safety_closes_at_market() -> None:
    e = engine()
    e.on_mark(SYMBOL, D("89"), 0)
    out = e.on_position(pos("1", "100"), 0)
    [c] = closes(out)
    assert c.request.reduce_only and notes(out, "close")
    # the close fails: the engine says so and the watchdog decides again later
    out = e.handle(PlaceRejected(c.request.client_id, "ReduceOnly Order is rejected.", 50), 50)
    assert events(out, "close_failed")


def test_software_trailing_moves_a_stop_market_and_only_tightens() -> None:
    e = engine(native=False, tick="0.01")
    opened(e)
    [p] = places(e.on_mark(SYMBOL, D("101"), 100))
    assert (p.request.type, p.request.stop_price) == (OrderType.STOP_MARKET, D("98.98"))
    confirm(e, p, 120)
    assert places(e.on_mark(SYMBOL, D("101.05"), 130)) == []  # below the 0.1 % step
    [p2] = places(e.on_mark(SYMBOL, D("101.5"), 140))
    assert p2.request.stop_price == D("99.47")
    confirm(e, p2, 150)
    assert places(e.on_mark(SYMBOL, D("100"), 160)) == []  # never moves back
    [p3] = places(e.on_mark(SYMBOL, D("102"), 170))  # level 2: 1.5 %
    assert p3.request.stop_price == D("100.47")


def test_breakeven_tightens_once_and_is_refused_otherwise() -> None:
    e = engine()
    opened(e)
    out = e.move_to_breakeven(KEY, 50)
    assert "not beyond the entry" in notes(out, "refused")[0].message  # no mark yet
    e.on_mark(SYMBOL, D("100.5"), 60)
    out = e.move_to_breakeven(KEY, 70)
    [p] = places(out)
    assert (p.request.stop_price, p.tag) == (D("100.0"), "E")
    confirm(e, p, 90)
    assert notes(e.move_to_breakeven(KEY, 100), "refused")
    # level 1's 2 % trail from 101 would be looser than breakeven: the stop stays put
    assert places(e.on_mark(SYMBOL, D("101"), 110)) == []
    # level 2 (102 x 0.985 = 100.47) is tighter: it replaces breakeven
    [p2] = places(e.on_mark(SYMBOL, D("102"), 120))
    assert p2.request.callback_rate_pct == D("1.5")


def test_breakeven_after_a_tight_trailing_stop_is_refused() -> None:
    e = engine()
    opened(e)
    [p] = places(e.on_mark(SYMBOL, D("104"), 100))
    confirm(e, p, 120)
    [n] = notes(e.move_to_breakeven(KEY, 130), "refused")
    assert "already at or beyond" in n.message
    assert notes(e.move_to_breakeven(PositionKey("x", SYMBOL), 130), "refused")


def test_native_quantity_change_while_trailing_holds_the_reached_level() -> None:
    e = engine()
    opened(e)
    [p] = places(e.on_mark(SYMBOL, D("101"), 100))
    confirm(e, p, 120)
    e.on_mark(SYMBOL, D("101.8"), 130)  # trail now at ~99.76
    e.on_mark(SYMBOL, D("101.2"), 140)
    [p2] = places(e.on_position(pos("2", "100"), 150))
    # a fresh trailing stop would start from 101.2 (99.17): hold a fixed stop at the old level
    assert (p2.request.type, p2.request.stop_price, p2.request.quantity) == (
        OrderType.STOP_MARKET,
        D("99.7"),
        D(2),
    )
    confirm(e, p2, 160)
    [p3] = places(e.on_mark(SYMBOL, D("101.9"), 170))  # 101.9 x 0.98 >= 99.7: trail again
    assert p3.request.type is OrderType.TRAILING_STOP_MARKET


def test_roe_basis_divides_thresholds_by_leverage() -> None:
    e = engine(profile=AslProfile(profit_basis="roe"))
    out = e.on_position(pos("1", "100", leverage=10), 0)
    [p] = places(out)
    confirm(e, p, 10)
    assert events(out, "opened")[0].next_trigger == D("100.1")
    assert places(e.on_mark(SYMBOL, D("100.1"), 20))


def test_disable_stops_managing_and_enable_resumes() -> None:
    e = engine()
    opened(e)
    out = e.set_enabled(KEY, False, 50)
    assert events(out, "disabled")
    assert places(e.on_mark(SYMBOL, D("102"), 60)) == []
    out = e.set_enabled(KEY, True, 70)
    assert events(out, "enabled")
    [p] = places(out)
    assert p.request.callback_rate_pct == D("1.5")
    assert e.set_enabled(KEY, True, 80) == []


def test_off_before_the_fill_leaves_the_position_alone() -> None:
    e = engine()
    assert list(e.set_enabled(KEY, False, 0)) == []
    out = e.on_position(pos("1"), 10)
    assert places(out) == [] and events(out, "opened")[0].enabled is False


def test_failed_cancel_is_sent_again() -> None:
    e = engine(profile=AslProfile(cancel_retry_ms=1000))
    opened(e)
    [p] = places(e.on_mark(SYMBOL, D("101"), 100))
    [c] = cancels(confirm(e, p, 120))
    assert events(e.handle(CancelFailed(c.client_id, "timeout", 150), 150), "cancel_failed")
    assert cancels(e.on_time(1000)) == []
    [again] = cancels(e.on_time(2150))
    assert again.client_id == c.client_id
    out = e.handle(CancelDone(c.client_id, 2200), 2200)
    assert events(out, "canceled")


def test_stale_position_update_is_ignored() -> None:
    e = engine()
    from sidedesk.domain import PositionEvent

    def pe(q: str, ts: int) -> PositionEvent:
        return PositionEvent("acc1", SYMBOL, PositionSide.BOTH, D(q), D(100), ts_ms=ts)

    e.on_position(pe("1", 10), 0)
    e.on_position(pe("2", 30), 1)
    assert list(e.on_position(pe("1", 20), 2)) == []
    assert e.view(KEY).quantity == 2  # type: ignore[union-attr]


def test_hedge_mode_position_side_goes_into_the_request() -> None:
    e = engine()
    from sidedesk.domain import PositionEvent

    out = e.on_position(PositionEvent("acc1", SYMBOL, PositionSide.SHORT, D(-1), D(100)), 0)
    [p] = places(out)
    assert (p.request.position_side, p.request.side) == (PositionSide.SHORT, Side.BUY)


def test_event_payload_is_json() -> None:
    e = engine()
    hard = opened(e)
    [snap] = e.snapshot(50)
    d = snap.to_payload()
    assert json.loads(json.dumps(d))["stop_client_id"] == hard.request.client_id
    assert d["stop_price"] == "98.0" and d["direction"] == "long" and d["transition"] == "snapshot"


def test_unknown_replies_and_foreign_orders_are_ignored() -> None:
    e = engine()
    opened(e)
    assert list(e.handle(PlaceAcked("sda-BTCUSDT-L1-zz", "1", 5), 5)) == []
    assert list(e.handle(CancelDone("nope", 5), 5)) == []
    from .helpers import stop_order

    assert list(e.on_order(stop_order("manual-1", "1", stop="95"), 5)) == []


def test_profile_with_more_levels_and_no_tick() -> None:
    prof = AslProfile(
        levels=tuple(AslLevel(profit_pct=D(i), callback_pct=D(10 - i)) for i in range(1, 10)),
        safety_stop_pct=D(20),
    )
    e = engine(profile=prof, tick="0")
    opened(e)
    [p] = places(e.on_mark(SYMBOL, D("109.5"), 10))
    assert p.tag == "9" and p.request.callback_rate_pct == D(1)
    m = e.machine(KEY)
    assert m is not None and m.phase is Phase.ACTIVE
