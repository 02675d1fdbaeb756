"""Stops that outlive their position (issue #21): where the broker has no reduce-only flag a stop
left behind by a closed position opens an opposite one when it fires, so the engine cancels it
the moment the position is flat; Binance's reduce-only stops keep the grace period.

Each test below failed on the engine before this rule (it waited `orphan_grace_ms` everywhere),
except the Binance ones, which pin the behaviour that stays."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sidedesk.core.asl import (
    AslEngine,
    AslProfile,
    CancelDone,
    PlaceAcked,
    PlaceRejected,
    PlaceStop,
    ids,
    watchdog,
)
from sidedesk.core.asl.machine import Phase
from sidedesk.domain import Capabilities, OrderStatus, Side

from .helpers import (
    KEY,
    SYMBOL,
    cancel_done,
    cancels,
    confirm,
    events,
    notes,
    order_event,
    places,
    pos,
    stop_order,
    working,
)


def no_reduce_only() -> Capabilities:
    """What Tradovate, Volumetrica and Alpaca declare: no reduce-only flag, software trailing."""
    return Capabilities(
        native_trailing_stop=False,
        hedge_mode=False,
        reduce_only=False,
        modify_order=True,
        separate_conditional_orders=False,
        fractional_quantity=False,
    )


def reduce_only() -> Capabilities:
    """What Binance declares: reduce-only stops (and native trailing ones)."""
    return Capabilities(
        native_trailing_stop=True,
        hedge_mode=True,
        reduce_only=True,
        modify_order=True,
        separate_conditional_orders=True,
        fractional_quantity=True,
        min_callback_pct=D("0.1"),
        max_callback_pct=D(10),
    )


def engine(caps: Capabilities, grace_ms: int = 3000) -> AslEngine:
    return AslEngine(AslProfile(orphan_grace_ms=grace_ms), caps, tick_sizes={SYMBOL: D("0.1")})


def open_long(e: AslEngine, qty: str = "2", now: int = 0) -> str:
    """A long position with its confirmed hard stop; returns the stop's client id."""
    [p] = places(e.on_position(pos(qty, "100"), now))
    confirm(e, p, now + 10)
    return p.request.client_id


def test_each_broker_gets_the_grace_its_stops_need() -> None:
    from sidedesk.brokers.alpaca.adapter import CAPABILITIES as ALPACA
    from sidedesk.brokers.binance.adapter import CAPABILITIES as BINANCE
    from sidedesk.brokers.tradovate.adapter import CAPABILITIES as TRADOVATE
    from sidedesk.brokers.volumetrica.adapter import CAPABILITIES as VOLUMETRICA

    profile = AslProfile(orphan_grace_ms=3000)
    assert AslEngine(profile, BINANCE).orphan_grace_ms == 3000
    for caps in (TRADOVATE, VOLUMETRICA, ALPACA):
        assert not caps.reduce_only
        assert AslEngine(profile, caps).orphan_grace_ms == 0


def test_flat_cancels_the_stop_in_the_same_step_without_reduce_only() -> None:
    e = engine(no_reduce_only())
    hard = open_long(e)
    out = e.on_position(pos("0", "0"), 1000)
    assert events(out, "flat")
    [c] = cancels(out)
    assert c.client_id == hard and c.order_id == f"oid-{hard}"
    m = e.machine(KEY)
    assert m is not None and m.phase is Phase.FLAT and m.view().cancelling == {hard}
    # the cancel is confirmed: nothing is left and nothing is sent again
    assert cancels(cancel_done(e, c, 1010)) == []
    assert cancels(e.on_time(5000)) == []


def test_binance_keeps_the_grace_period() -> None:
    e = engine(reduce_only())
    hard = open_long(e)
    out = e.on_position(pos("0", "0"), 1000)
    assert events(out, "flat") and cancels(out) == []
    assert cancels(e.on_time(3999)) == []
    [c] = cancels(e.on_time(4000))
    assert c.client_id == hard


def test_flat_cancels_the_working_stop_and_an_answered_placement_together() -> None:
    """The position grew: the old stop works, the new covering one is acked but not yet working.
    At flat both are cancelled in the same step; its late working event sends nothing more."""
    e = engine(no_reduce_only())
    hard = open_long(e, "1")
    [p2] = places(e.on_position(pos("2", "100"), 100))  # added: a covering stop for 2 is placed
    out = list(e.handle(PlaceAcked(p2.request.client_id, "oid-2", 110), 110))
    assert cancels(out) == []  # not working yet: the old stop stays
    out = list(e.on_position(pos("0", "0"), 120))
    assert {(c.client_id, c.order_id) for c in cancels(out)} == {
        (hard, f"oid-{hard}"),
        (p2.request.client_id, "oid-2"),
    }
    assert cancels(e.handle(working(p2), 130)) == []


def test_a_stop_placed_before_the_close_is_cancelled_on_its_reply() -> None:
    """The Alpaca race: the stop is re-placed just before the close fills; it is cancelled when its
    reply arrives, without waiting for the working event (or a grace)."""
    e = engine(no_reduce_only())
    open_long(e)
    m = e.machine(KEY)
    assert m is not None
    [again] = places(e.on_position(pos("1", "100"), 100))  # partly closed: a stop sized 1 goes out
    e.on_position(pos("0", "0"), 110)  # then flat, while that placement is in flight
    cid = again.request.client_id
    [c] = cancels(e.handle(PlaceAcked(cid, "oid-x", 120), 120))
    assert (c.client_id, c.order_id) == (cid, "oid-x")
    assert m.pending is None and cid in m.view().cancelling
    assert cancels(e.handle(working(again), 125)) == []  # no second cancel for the same stop


def test_a_stop_whose_working_event_comes_first_is_cancelled_on_that_event() -> None:
    e = engine(no_reduce_only())
    open_long(e)
    [again] = places(e.on_position(pos("1", "100"), 100))
    e.on_position(pos("0", "0"), 110)
    [c] = cancels(e.handle(order_event(again, OrderStatus.NEW, order_id="oid-y"), 115))
    assert (c.client_id, c.order_id) == (again.request.client_id, "oid-y")


def test_binance_confirms_a_late_stop_and_cancels_it_after_the_grace() -> None:
    e = engine(reduce_only())
    open_long(e)
    [again] = places(e.on_position(pos("1", "100"), 100))
    e.on_position(pos("0", "0"), 110)
    assert cancels(confirm(e, again, 120)) == []
    assert cancels(e.on_time(3109)) == []
    assert again.request.client_id in {c.client_id for c in cancels(e.on_time(3110))}


def test_a_reversal_cancels_the_old_direction_stop_at_once() -> None:
    """Long 2 -> short 1 in one update: the sell stop of the long would add to the short."""
    e = engine(no_reduce_only())
    hard = open_long(e)
    out = e.on_position(pos("-1", "101"), 500)
    assert {c.client_id for c in cancels(out)} == {hard}
    [p] = places(out)
    assert p.request.side is Side.BUY and p.request.quantity == D(1)
    assert ids.decode(p.request.client_id, SYMBOL) is not None


def test_binance_reversal_keeps_the_old_stop_until_the_new_one_works() -> None:
    e = engine(reduce_only())
    hard = open_long(e)
    out = e.on_position(pos("-1", "101"), 500)
    assert cancels(out) == []
    [p] = places(out)
    assert hard in {c.client_id for c in cancels(confirm(e, p, 510))}


def test_a_reversal_during_a_placement_protects_the_new_direction_when_it_resolves() -> None:
    """A placement of the old direction is in flight when the position reverses: the new direction's
    stop goes out as soon as that placement answers (before: only the watchdog's safety stop,
    half a second later, because the waiting re-evaluation was dropped)."""
    for caps in (no_reduce_only(), reduce_only()):
        e = engine(caps)
        open_long(e)
        [again] = places(e.on_position(pos("1", "100"), 100))
        assert places(e.on_position(pos("-1", "101"), 110)) == []  # one placement in flight at a time
        out = confirm(e, again, 120)
        [p] = places(out)
        assert p.request.side is Side.BUY and ids.decode(p.request.client_id, SYMBOL).tag == ids.TAG_HARD  # type: ignore[union-attr]
        if not caps.reduce_only:
            assert again.request.client_id in {c.client_id for c in cancels(out)}


def test_watchdog_cancels_an_unknown_stop_of_ours_at_its_first_pass() -> None:
    """After a restart: a stop of ours for no position (a close while the host was down)."""
    e = engine(no_reduce_only())
    orphan = stop_order(ids.encode(SYMBOL, True, "0", 9), "2", stop="98.0")
    [c] = cancels(watchdog(e, [orphan], [], 500))
    assert c.client_id == orphan.client_id
    b = engine(reduce_only())
    assert cancels(watchdog(b, [orphan], [], 500)) == []
    assert cancels(watchdog(b, [orphan], [], 3500)) != []


def test_rebuilt_engine_cancels_a_stop_whose_position_closed_while_the_host_was_down() -> None:
    stop = stop_order(ids.encode(SYMBOL, True, "0", 9), "2", stop="98.0")
    e, out = AslEngine.rebuild(
        AslProfile(), no_reduce_only(), [stop], [], 10_000, tick_sizes={SYMBOL: D("0.1")}
    )
    assert out == []
    assert [c.client_id for c in cancels(watchdog(e, [stop], [], 10_000))] == [stop.client_id]


@pytest.mark.parametrize("grace_ms", [0, 3000])
def test_reopen_after_flat_places_a_fresh_stop(grace_ms: int) -> None:
    e = engine(no_reduce_only(), grace_ms)
    hard = open_long(e)
    [c] = cancels(e.on_position(pos("0", "0"), 100))
    out = e.on_position(pos("1", "105"), 150)
    [p] = places(out)
    assert p.request.client_id != hard and p.request.quantity == D(1)
    e.handle(CancelDone(c.client_id, 160), 160)
    confirm(e, p, 170)
    m = e.machine(KEY)
    assert m is not None and m.view().working == {p.request.client_id}


def test_follow_positions_tells_the_engine_a_close_the_books_made_from_a_fill() -> None:
    """Alpaca reports the fill before the position: the books go flat on the fill and the
    position update that follows changes nothing, so nothing told the engine until the
    watchdog, up to 500 ms later. The shell now follows the books right after each burst."""
    from sidedesk.core.asl import follow_positions

    e = engine(no_reduce_only())
    hard = open_long(e)
    assert follow_positions(e, [pos("2", "100")], 100) == []  # the books agree: nothing
    assert follow_positions(e, [pos("1", "100")], 110) == []  # a size change: not followed here
    out = follow_positions(e, [], 120)
    assert events(out, "flat") and [c.client_id for c in cancels(out)] == [hard]
    assert follow_positions(e, [], 130) == []  # once


def test_follow_positions_tells_the_engine_a_reversal() -> None:
    from sidedesk.core.asl import follow_positions

    e = engine(no_reduce_only())
    hard = open_long(e)
    out = follow_positions(e, [pos("-1", "101")], 100)
    assert [c.client_id for c in cancels(out)] == [hard]
    [p] = places(out)
    assert p.request.side is Side.BUY and p.request.quantity == D(1)


def _open_with_stop(e: AslEngine) -> PlaceStop:
    [p] = places(e.on_position(pos("2", "100"), 0))
    confirm(e, p, 10)
    return p


def test_a_venue_close_that_cancels_the_stop_gets_no_new_stop() -> None:
    """Order entry closes the position through a route that cancels its stops at the venue
    (Tradovate liquidatePosition): the stop's cancel arrives before the fill, and without the
    hold-off the engine took it for an outside cancel and placed a new stop that the fill then left
    behind (seen in the host test before `on_closing`)."""
    e = engine(no_reduce_only())
    p = _open_with_stop(e)
    out = list(e.closing(KEY, "sdm-close-1", 100))
    assert events(out, "close") and places(out) == [] and cancels(out) == []
    out = list(e.handle(order_event(p, OrderStatus.CANCELED), 101))  # the venue's cancel
    assert places(out) == [] and notes(out, "external") == [] and events(out, "canceled")
    out = list(e.on_position(pos("0", "0"), 102))
    assert events(out, "flat") and places(out) == [] and cancels(out) == []
    assert places(e.on_time(20_000)) == []


def test_a_failed_venue_close_puts_the_protection_back() -> None:
    e = engine(no_reduce_only())
    p = _open_with_stop(e)
    e.closing(KEY, "sdm-close-2", 100)
    assert places(e.handle(order_event(p, OrderStatus.CANCELED), 101)) == []
    out = list(e.handle(PlaceRejected("sdm-close-2", "refused", 102, False), 102))
    assert events(out, "close_failed") and len(places(out)) == 1  # the position is covered again


def test_a_venue_close_on_an_unknown_position_changes_nothing() -> None:
    e = engine(no_reduce_only())
    assert list(e.closing(KEY, "sdm-close-3", 100)) == []
