"""The watchdog over the live view, and rebuilding after a restart."""

from __future__ import annotations

from decimal import Decimal as D

from sidedesk.core.asl import AslEngine, AslProfile, Output, PlaceRejected, ids, watchdog
from sidedesk.domain import OrderEvent, OrderType, PositionEvent, PositionSide

from .helpers import (
    ACCOUNT,
    KEY,
    SYMBOL,
    cancels,
    caps,
    closes,
    confirm,
    engine,
    notes,
    opened,
    places,
    pos,
    stop_order,
    working,
)


def test_covered_position_needs_nothing() -> None:
    e = engine()
    hard = opened(e)
    assert watchdog(e, [working(hard)], [pos("1")], 500) == []


def test_position_opened_elsewhere_gets_its_hard_stop() -> None:
    e = engine()
    out = watchdog(e, [], [pos("1", "100")], 500)
    [p] = places(out)
    assert p.request.stop_price == D("98.0")
    # the placement is in flight: the next round does not add another
    assert places(watchdog(e, [], [pos("1", "100")], 1000)) == []


def test_stop_missing_from_the_view_is_put_back() -> None:
    e = engine(profile=AslProfile(view_grace_ms=1000))
    hard = opened(e)
    [p] = places(e.on_mark(SYMBOL, D("101"), 100))
    confirm(e, p, 120)
    # before the view grace a missing stop may just be lagging: only the coverage check counts
    assert places(watchdog(e, [working(hard)], [pos("1")], 500)) == []
    # the level-1 stop vanished from the exchange without an event: its level goes back at once
    out = watchdog(e, [], [pos("1")], 1500)
    [again] = places(out)
    assert "no longer on the exchange" in notes(out, "external")[0].message
    assert again.request.type is OrderType.TRAILING_STOP_MARKET


def test_uncovered_while_retrying_gets_the_safety_stop_then_its_level_back() -> None:
    e = engine(profile=AslProfile(view_grace_ms=0, retry_base_ms=10_000))
    opened(e)
    [p] = places(e.on_mark(SYMBOL, D("101"), 100))
    e.handle(PlaceRejected(p.request.client_id, "busy", 110), 110)  # back-off: 10 s
    out = watchdog(e, [], [pos("1")], 500)  # the hard stop vanished meanwhile
    [s] = places(out)
    assert notes(out, "safety") and (s.tag, s.request.stop_price) == ("S", D("90.0"))
    assert places(watchdog(e, [], [pos("1")], 1000)) == []  # in flight: no second one
    # the exchange accepts again: the engine goes back to its level (new first, then cancel)
    [back] = places(confirm(e, s, 1100))
    assert back.request.type is OrderType.TRAILING_STOP_MARKET
    out = confirm(e, back, 10_300)
    assert [c.client_id for c in cancels(out)] == [s.request.client_id]


def test_uncovered_beyond_safety_closes_at_market() -> None:
    e = engine()
    opened(e)
    e.on_mark(SYMBOL, D("89.9"), 100)
    out = watchdog(e, [], [pos("1")], 2000)
    [c] = closes(out)
    assert c.request.reduce_only and c.request.quantity == D(1)
    assert closes(watchdog(e, [], [pos("1")], 2500)) == []  # one close in flight


def test_disabled_position_is_left_alone() -> None:
    e = engine()
    e.set_enabled(KEY, False, 0)
    assert places(watchdog(e, [], [pos("1")], 500)) == []


def test_unknown_covering_stop_of_ours_is_adopted() -> None:
    e = engine()
    cid = ids.encode(SYMBOL, True, "0", 5)
    out = watchdog(e, [stop_order(cid, "1", stop="98.0")], [pos("1")], 500)
    # the engine placed its hard stop on seeing the position, then adopts nothing extra
    assert len(places(out)) <= 1


def test_orphans_are_cancelled_after_the_grace_period() -> None:
    e = engine(profile=AslProfile(orphan_grace_ms=3000, cancel_retry_ms=1000))
    orphan = stop_order(ids.encode(SYMBOL, True, "2", 9), "1", cb="1.5")
    manual = stop_order("my-own-stop", "1", stop="90")
    assert watchdog(e, [orphan, manual], [], 500) == []
    assert watchdog(e, [orphan, manual], [], 3000) == []
    [c] = cancels(watchdog(e, [orphan, manual], [], 3500))
    assert c.client_id == orphan.client_id
    assert cancels(watchdog(e, [orphan, manual], [], 4000)) == []  # re-sent only after the retry time
    assert len(cancels(watchdog(e, [orphan, manual], [], 4500))) == 1
    assert watchdog(e, [manual], [], 5000) == [] and e.orphans == {}


def test_position_gone_from_the_view_is_treated_as_closed() -> None:
    e = engine(profile=AslProfile(orphan_grace_ms=1000))
    hard = opened(e)
    watchdog(e, [working(hard)], [], 500)
    [c] = cancels(e.on_time(1500))
    assert c.client_id == hard.request.client_id


def _rebuild(
    orders: list[OrderEvent], positions: list[PositionEvent], mark: str | None = None
) -> tuple[AslEngine, list[Output]]:
    return AslEngine.rebuild(
        AslProfile(),
        caps(True),
        orders,
        positions,
        10_000,
        tick_sizes={SYMBOL: D("0.1")},
        marks={SYMBOL: D(mark)} if mark else None,
    )


def test_rebuild_resumes_a_level_without_placing_anything() -> None:
    cid = ids.encode(SYMBOL, True, "2", 42)
    e, out = _rebuild([stop_order(cid, "1", cb="1.5")], [pos("1", "100")], mark="102.5")
    assert places(out) == [] and cancels(out) == []
    v = e.view(KEY)
    assert v is not None and v.level == 2 and v.current == cid and v.seq >= 10_000
    # the next level still works from the rebuilt state
    [p] = places(e.on_mark(SYMBOL, D("104"), 10_100))
    assert p.request.callback_rate_pct == D(1)
    assert ids.decode(p.request.client_id).seq > 42  # type: ignore[union-attr]


def test_rebuild_after_a_crash_mid_replace_cancels_the_old_stop() -> None:
    old = ids.encode(SYMBOL, True, "0", 1)
    new = ids.encode(SYMBOL, True, "1", 2)
    e, out = _rebuild(
        [stop_order(old, "1", stop="98.0"), stop_order(new, "1", cb="2")], [pos("1", "100")], mark="101"
    )
    assert places(out) == []
    assert [c.client_id for c in cancels(out)] == [old]
    assert e.view(KEY).current == new  # type: ignore[union-attr]


def test_rebuild_with_no_stop_places_the_hard_stop() -> None:
    _e, out = _rebuild([], [pos("-1", "100")], mark="100")
    [p] = places(out)
    assert (p.request.side, p.request.stop_price) == ("BUY", D("102.0"))


def test_rebuild_with_a_short_stop_quantity_replaces_it() -> None:
    cid = ids.encode(SYMBOL, True, "0", 1)
    _e, out = _rebuild([stop_order(cid, "0.5", stop="98.0")], [pos("1", "100")], mark="100")
    [p] = places(out)
    assert p.request.quantity == D(1) and cancels(out) == []


def test_rebuild_keeps_breakeven_and_leaves_orphans_to_the_watchdog() -> None:
    be = ids.encode(SYMBOL, True, "E", 3)
    other = PositionEvent(ACCOUNT, "ETHUSDT", PositionSide.BOTH, D(0), D(0))
    orphan = stop_order(ids.encode(SYMBOL, False, "0", 4), "1", stop="102", side="BUY")
    e, out = _rebuild([stop_order(be, "1", stop="100.0"), orphan], [pos("1", "100"), other], mark="100.5")
    assert places(out) == [] and cancels(out) == []
    v = e.view(KEY)
    assert v is not None and v.breakeven == D("100.0") and v.working == frozenset({be})
    m = e.machine(KEY)
    assert m is not None and not m.knows(orphan.client_id)
