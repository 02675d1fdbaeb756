"""Open-orders table: lifecycle, dedup, ordering, snapshots and the ASL watchdog's stop query."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.core.orders_book import OrdersBook
from sidedesk.domain import (
    AccountSnapshot,
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
)

D = Decimal
ACC = "acc1"
SYM = "BTCUSDT"


def order(
    oid: str,
    status: OrderStatus = OrderStatus.NEW,
    *,
    t: int = 1,
    filled: str = "0",
    qty: str = "1",
    side: Side = Side.SELL,
    type_: OrderType = OrderType.LIMIT,
    stop: str | None = None,
    conditional: bool = False,
    ps: PositionSide = PositionSide.BOTH,
    close_position: bool = False,
    reduce_only: bool = False,
    symbol: str = SYM,
    account: str = ACC,
    price: str | None = "100",
) -> OrderEvent:
    return OrderEvent(
        account_id=account,
        symbol=symbol,
        order_id=oid,
        client_id=f"c-{oid}",
        side=side,
        type=type_,
        status=status,
        quantity=D(qty),
        filled=D(filled),
        price=None if price is None else D(price),
        stop_price=None if stop is None else D(stop),
        reduce_only=reduce_only,
        close_position=close_position,
        position_side=ps,
        is_conditional=conditional,
        update_time_ms=t,
        event_time_ms=t,
    )


def ids(book: OrdersBook) -> list[str]:
    return [o.order_id for o in book.open_orders()]


def test_lifecycle_new_partial_filled() -> None:
    book = OrdersBook()
    assert book.apply(order("1", t=1))
    assert book.apply(order("1", OrderStatus.PARTIALLY_FILLED, t=2, filled="0.4"))
    o = book.get(ACC, "1")
    assert o is not None and o.filled == D("0.4") and ids(book) == ["1"]
    assert book.apply(order("1", OrderStatus.FILLED, t=3, filled="1"))
    assert ids(book) == [] and len(book) == 0 and book.is_known_final(ACC, "1")


def test_duplicates_and_late_older_events_change_nothing() -> None:
    book = OrdersBook()
    book.apply(order("1", t=1))
    book.apply(order("1", OrderStatus.PARTIALLY_FILLED, t=3, filled="0.5"))
    assert not book.apply(order("1", OrderStatus.PARTIALLY_FILLED, t=3, filled="0.5"))  # duplicate
    assert not book.apply(order("1", OrderStatus.PARTIALLY_FILLED, t=2, filled="0.2"))  # older
    assert not book.apply(order("1", t=1))
    assert book.get(ACC, "1").filled == D("0.5")  # type: ignore[union-attr]


def test_same_time_ranks_final_over_open_and_more_filled_over_less() -> None:
    book = OrdersBook()
    book.apply(order("1", OrderStatus.PARTIALLY_FILLED, t=5, filled="0.2"))
    assert book.apply(order("1", OrderStatus.PARTIALLY_FILLED, t=5, filled="0.6"))
    assert not book.apply(order("1", OrderStatus.PARTIALLY_FILLED, t=5, filled="0.4"))
    assert book.apply(order("1", OrderStatus.CANCELED, t=5, filled="0.6"))
    assert ids(book) == []


def test_final_is_absorbing_even_against_newer_open_events() -> None:
    book = OrdersBook()
    book.apply(order("1", OrderStatus.CANCELED, t=5))
    assert not book.apply(order("1", t=9))
    assert ids(book) == []


def test_amendment_with_a_newer_time_replaces_the_order() -> None:
    book = OrdersBook()
    book.apply(order("1", t=1, price="100"))
    assert book.apply(order("1", t=2, price="101"))
    assert book.get(ACC, "1").price == 101  # type: ignore[union-attr]


def test_conditional_ids_are_their_own_space_and_triggered_is_final() -> None:
    book = OrdersBook()
    book.apply(order("7", t=1, type_=OrderType.STOP_MARKET, stop="90", conditional=True, price=None))
    book.apply(order("7", t=1))  # a regular order that happens to share the number
    assert len(book) == 2
    book.apply(order("7", OrderStatus.TRIGGERED, t=2, type_=OrderType.STOP_MARKET, conditional=True))
    assert [(o.order_id, o.is_conditional) for o in book.open_orders()] == [("7", False)]


def test_open_orders_are_sorted_by_update_time_and_filterable() -> None:
    book = OrdersBook()
    book.apply(order("b", t=5))
    book.apply(order("a", t=9, symbol="ETHUSDT"))
    book.apply(order("c", t=1, account="acc2"))
    assert ids(book) == ["c", "b", "a"]
    assert [o.order_id for o in book.open_orders(ACC)] == ["b", "a"]
    assert [o.order_id for o in book.open_orders(ACC, "ETHUSDT")] == ["a"]


def test_unknown_outcome_is_shown_and_any_real_event_supersedes_it() -> None:
    book = OrdersBook()
    book.apply(order("x", OrderStatus.UNKNOWN, t=0))
    assert ids(book) == ["x"]
    book.apply(order("x", OrderStatus.REJECTED, t=3))
    assert ids(book) == []


def test_snapshot_removes_orders_it_does_not_list_unless_newer_than_itself() -> None:
    book = OrdersBook()
    book.apply(order("gone", t=5))
    book.apply(order("kept", t=5))
    book.apply(order("fresh", t=50))  # placed after the snapshot was taken
    book.apply(order("other", t=5, account="acc2"))
    snap = AccountSnapshot(ACC, (), (), (order("kept", t=5), order("new", t=8)), ts_ms=10)
    assert book.apply_snapshot(snap)
    assert sorted(ids(book)) == ["fresh", "kept", "new", "other"]
    assert not book.apply(order("gone", OrderStatus.PARTIALLY_FILLED, t=6, filled="0.1"))  # no resurrection
    assert not book.apply_snapshot(snap)


def test_closed_memory_is_bounded() -> None:
    book = OrdersBook(closed_memory=2)
    for i in range(4):
        book.apply(order(str(i), OrderStatus.FILLED, t=1))
    assert not book.is_known_final(ACC, "0") and book.is_known_final(ACC, "3")


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", "NaN"), ("filled", "-1"), ("price", "Infinity"), ("stop_price", "-5")],
)
def test_bad_order_event_is_refused_and_changes_nothing(field: str, value: str) -> None:
    book = OrdersBook()
    book.apply(order("1", t=1))
    bad = order("1", t=2)
    kwargs = {f: getattr(bad, f) for f in bad.__dataclass_fields__}
    kwargs[field] = D(value)
    with pytest.raises(ValueError, match=field):
        book.apply(OrderEvent(**kwargs))
    with pytest.raises(ValueError, match="without an order id"):
        book.apply(order("", t=3))
    assert book.get(ACC, "1").update_time_ms == 1  # type: ignore[union-attr]


def test_bad_snapshot_is_refused_before_anything_changes() -> None:
    book = OrdersBook()
    book.apply(order("1", t=1))
    with pytest.raises(ValueError, match="holds an order of acc2"):
        book.apply_snapshot(AccountSnapshot(ACC, (), (), (order("2", t=2, account="acc2"),), ts_ms=9))
    assert ids(book) == ["1"]


# -- the ASL watchdog's query ----------------------------------------------------------------------


def stop(
    oid: str, side: Side, status: OrderStatus = OrderStatus.NEW, qty: str = "1", **kw: object
) -> OrderEvent:
    kw.setdefault("type_", OrderType.STOP_MARKET)
    return order(oid, status, side=side, qty=qty, conditional=True, price=None, reduce_only=True, **kw)  # type: ignore[arg-type]


def test_stop_coverage_for_a_long_counts_sell_stops_only() -> None:
    book = OrdersBook()
    book.apply(stop("s1", Side.SELL, qty="0.6", stop="95", t=1))
    book.apply(stop("s2", Side.SELL, qty="0.5", stop="97", t=2, type_=OrderType.TRAILING_STOP_MARKET))
    book.apply(stop("buy", Side.BUY, qty="5", stop="120", t=3))  # the wrong side
    book.apply(stop("tp", Side.SELL, qty="5", stop="130", t=4, type_=OrderType.TAKE_PROFIT_MARKET))
    book.apply(order("lim", side=Side.SELL, qty="5", t=5))  # a limit is no stop
    cov = book.stop_coverage(ACC, SYM, PositionSide.BOTH, D(1))
    assert [o.order_id for o in cov.orders] == ["s1", "s2"]
    assert cov.covered_qty == D("1.1") and cov.fully_covered and cov.shortfall == 0 and cov.stop_price == 97
    cov = book.stop_coverage(ACC, SYM, PositionSide.BOTH, D(2))
    assert not cov.fully_covered and cov.shortfall == D("0.9")


def test_stop_coverage_for_a_short_and_partially_filled_stops() -> None:
    book = OrdersBook()
    book.apply(stop("s1", Side.BUY, qty="2", stop="105", t=1))
    book.apply(stop("s1", Side.BUY, OrderStatus.PARTIALLY_FILLED, qty="2", filled="1.5", stop="105", t=2))
    book.apply(stop("s2", Side.BUY, qty="1", stop="103", t=3))
    cov = book.stop_coverage(ACC, SYM, PositionSide.BOTH, D(-2))
    assert cov.covered_qty == D("1.5") and cov.shortfall == D("0.5") and cov.stop_price == 103


def test_close_position_stop_covers_any_quantity_and_hedge_sides_are_apart() -> None:
    book = OrdersBook()
    book.apply(stop("cp", Side.SELL, qty="0", close_position=True, ps=PositionSide.LONG, stop="90", t=1))
    book.apply(stop("short", Side.BUY, qty="1", ps=PositionSide.SHORT, stop="110", t=2))
    long_cov = book.stop_coverage(ACC, SYM, PositionSide.LONG, D(100))
    assert (
        long_cov.close_position and long_cov.fully_covered and [o.order_id for o in long_cov.orders] == ["cp"]
    )
    short_cov = book.stop_coverage(ACC, SYM, PositionSide.SHORT, D(-3))
    assert short_cov.covered_qty == 1 and not short_cov.fully_covered
    assert book.stop_coverage(ACC, SYM, PositionSide.BOTH, D(1)).orders == ()
    flat = book.stop_coverage(ACC, SYM, PositionSide.LONG, D(0))
    assert flat.orders == () and flat.fully_covered and flat.stop_price is None
    assert sorted(o.order_id for o in book.stops()) == ["cp", "short"]


def test_a_stop_stops_covering_once_it_is_final() -> None:
    book = OrdersBook()
    book.apply(stop("s", Side.SELL, t=1, stop="90"))
    book.apply(stop("s", Side.SELL, OrderStatus.CANCELED, t=2))
    assert not book.stop_coverage(ACC, SYM, PositionSide.BOTH, D(1)).fully_covered


# -- properties --------------------------------------------------------------------------------------

FINAL = [s for s in OrderStatus if s.is_final]


@st.composite
def order_histories(draw: st.DrawFn) -> list[OrderEvent]:
    """Realistic per-order histories: NEW, partial fills (time and filled grow), maybe one final."""
    events: list[OrderEvent] = []
    for n in range(draw(st.integers(1, 6))):
        oid = str(n)
        t, filled = draw(st.integers(0, 5)), 0
        events.append(order(oid, OrderStatus.NEW, t=t, qty="20"))
        for _ in range(draw(st.integers(0, 4))):
            t += draw(st.integers(0, 3))
            filled += draw(st.integers(1, 2))
            events.append(order(oid, OrderStatus.PARTIALLY_FILLED, t=t, filled=str(filled), qty="20"))
        if draw(st.booleans()):
            t += draw(st.integers(0, 3))
            events.append(order(oid, draw(st.sampled_from(FINAL)), t=t, filled=str(filled), qty="20"))
    return events


def table(book: OrdersBook) -> list[OrderEvent]:
    return book.open_orders()


@settings(max_examples=150, deadline=None)
@given(data=st.data(), events=order_histories())
def test_no_final_order_is_ever_shown_open_and_any_order_or_repeat_gives_the_same_table(
    data: st.DataObject, events: list[OrderEvent]
) -> None:
    ordered = OrdersBook()
    for ev in events:
        ordered.apply(ev)
    finals = {ev.order_id for ev in events if ev.status.is_final}
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=8)) if events else []
    messy = data.draw(st.permutations(events + repeats))
    book = OrdersBook()
    for ev in messy:
        book.apply(ev)
        assert all(not o.status.is_final for o in book.open_orders())
    assert not finals & {o.order_id for o in book.open_orders()}
    assert table(book) == table(ordered)


def test_an_order_newer_than_the_snapshot_start_survives_it() -> None:
    from sidedesk.domain import AccountSnapshot, OrderEvent, OrderStatus, OrderType, Side

    book = OrdersBook()
    placed_during_read = OrderEvent(
        "a", "BTCUSDT", "5", "c5", Side.BUY, OrderType.LIMIT, OrderStatus.NEW, Decimal(1), Decimal(0),
        price=Decimal(100), update_time_ms=1_003,
    )  # fmt: skip
    book.apply(placed_during_read)
    book.apply_snapshot(AccountSnapshot("a", (), (), (), ts_ms=1_001))  # started before the order
    assert [o.order_id for o in book.open_orders("a")] == ["5"]
    book.apply_snapshot(AccountSnapshot("a", (), (), (), ts_ms=1_004))  # started after: it is gone
    assert book.open_orders("a") == []
