"""Where a native trailing stop is now (core/trailing.py): the exchange's rule, checked against the
simulator's own trailing logic on random price paths, the level never loosening, the tracker
fed by order events and marks, and the positions row it ends up in."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.core.account import Portfolio
from sidedesk.core.orders_book import OrdersBook
from sidedesk.core.positions import PositionBook
from sidedesk.core.trailing import (
    TrailingStops,
    armed,
    at_or_beyond_breakeven,
    loose_on_tick,
    trailing_stop,
    trigger_level,
)
from sidedesk.core.views import AslInfo, positions_payload
from sidedesk.domain import (
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    Side,
    WorkingType,
)
from sidedesk_sim.engine import enums as sim_enums
from sidedesk_sim.engine.model import AlgoOrder
from sidedesk_sim.engine.triggers import trailing_update

D = Decimal
ACC = "acc1"
SYM = "BTCUSDT"
TICK = D("0.1")


def sim_algo(side: Side, callback: Decimal, activation: Decimal | None, start: Decimal) -> AlgoOrder:
    """The simulator's trailing algo order as its engine places it (extreme = price at placement)."""
    return AlgoOrder(
        algo_id=1,
        client_id="x",
        account_id=ACC,
        symbol=SYM,
        side=sim_enums.Side(side.value),
        type=sim_enums.OrderType.TRAILING_STOP_MARKET,
        position_side=sim_enums.PositionSide.BOTH,
        time_in_force=sim_enums.TimeInForce.GTC,
        quantity=D(1),
        price=D(0),
        trigger_price=D(0),
        working_type=sim_enums.WorkingType.MARK_PRICE,
        price_protect=False,
        reduce_only=True,
        close_position=False,
        create_ms=0,
        update_ms=0,
        activation_price=activation if activation is not None else start,
        callback_rate=callback,
        activated=activation is None,
        extreme=start,
    )


def trailing_order(
    status: OrderStatus = OrderStatus.NEW,
    *,
    cid: str = "sda-BTCUSDT-L3-1",
    side: Side = Side.SELL,
    callback: str | None = "1",
    activation: str | None = None,
    t: int = 1,
    qty: str = "0.01",
    stop: str | None = None,
    kind: OrderType = OrderType.TRAILING_STOP_MARKET,
    oid: str = "9001",
) -> OrderEvent:
    return OrderEvent(
        ACC,
        SYM,
        oid,
        cid,
        side,
        kind,
        status,
        D(qty),
        D(0),
        stop_price=None if stop is None else D(stop),
        reduce_only=True,
        is_conditional=True,
        callback_rate_pct=None if callback is None else D(callback),
        activation_price=None if activation is None else D(activation),
        working_type=WorkingType.MARK_PRICE,
        update_time_ms=t,
    )


# -- the rule -------------------------------------------------------------------------------------


def test_the_issue_figures() -> None:
    """Issue #21: the mark at 64 304 after a 1 % trailing stop was placed lower: the stop is at
    64 304 x 0.99 = 63 660.96, on the tick 63 660.9 (the panel said 62 117, its placement level)."""
    assert trigger_level(Side.SELL, D(1), D(64304)) == D("63660.96")
    assert trailing_stop(Side.SELL, D(1), D(64304), TICK) == D("63660.9")
    assert trailing_stop(Side.BUY, D(1), D(64304), TICK) == D("64947.1")  # 64 947.04 up to the tick


def test_activation_arms_it_and_rounding_is_away_from_the_market() -> None:
    assert trailing_stop(Side.SELL, D(2), D(100), TICK, activation=D(101)) is None  # not armed yet
    assert trailing_stop(Side.SELL, D(2), D(101), TICK, activation=D(101)) == D("98.9")
    assert trailing_stop(Side.BUY, D(2), D(100), TICK, activation=D(99)) is None
    assert trailing_stop(Side.BUY, D(2), D(99), TICK, activation=D(99)) == D("101.0")
    assert trailing_stop(Side.SELL, D(2), None, TICK) is None
    assert not armed(Side.SELL, None, None)
    assert loose_on_tick(D("100.05"), TICK, Side.SELL) == D("100.0")
    assert loose_on_tick(D("100.05"), TICK, Side.BUY) == D("100.1")
    assert loose_on_tick(D("100.123456789"), D(0), Side.SELL) == D("100.12345678")


def test_breakeven_is_the_entry_on_the_tick_toward_profit() -> None:
    assert at_or_beyond_breakeven(True, D("100.05"), D("100.1"), TICK)  # BE of a long: 100.1
    assert not at_or_beyond_breakeven(True, D("100.05"), D("100.0"), TICK)
    assert at_or_beyond_breakeven(False, D("100.05"), D("100.0"), TICK)  # BE of a short: 100.0
    assert not at_or_beyond_breakeven(False, D("100.05"), D("100.1"), TICK)


ticks_path = st.lists(st.integers(min_value=-40, max_value=40), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    side=st.sampled_from([Side.SELL, Side.BUY]),
    callback=st.sampled_from([D("0.1"), D("0.25"), D(1), D("1.5"), D(2), D(10), D(20)]),
    start_ticks=st.integers(min_value=100_000, max_value=900_000),
    activation_ticks=st.one_of(st.none(), st.integers(min_value=-50, max_value=50)),
    steps=ticks_path,
)
def test_matches_the_simulators_rule_and_never_loosens(
    side: Side, callback: Decimal, start_ticks: int, activation_ticks: int | None, steps: list[int]
) -> None:
    """On any path of mark prices (on the tick): the simulator's algo order triggers exactly when
    the price reaches our exact level; our level on the tick is within one tick of the simulator's
    trigger and never tighter; and it never loosens from one tick to the next."""
    start = start_ticks * TICK
    activation = None
    if activation_ticks is not None:  # must not trigger at once: SELL above, BUY below the price
        offset = abs(activation_ticks) + 1
        activation = start + offset * TICK if side is Side.SELL else start - offset * TICK
    algo = sim_algo(side, callback, activation, start)
    tracker = TrailingStops()
    tracker.set_ticks({SYM: TICK})
    order = trailing_order(
        side=side, callback=str(callback), activation=None if activation is None else f"{activation}"
    )
    tracker.observe(order, start)
    price = start
    previous: Decimal | None = None
    for step in steps:
        price = max(TICK, price + step * TICK)
        fired = trailing_update(algo, price)
        tracker.on_price(SYM, price)
        ours = tracker.level_of(order)
        exact = algo.trailing_stop_price  # the simulator's own figure (None before activation)
        if exact is None:
            assert ours is None and not fired
            continue
        assert ours is not None
        t = tracker.trail(ACC, order.client_id)
        assert t is not None and t.extreme is not None and t.extreme == algo.extreme
        assert trigger_level(side, callback, t.extreme) == exact
        assert fired == (price <= exact if side is Side.SELL else price >= exact)
        assert abs(ours - exact) < TICK
        assert (ours <= exact) if side is Side.SELL else (ours >= exact)  # never tighter than the venue
        if previous is not None:
            assert (ours >= previous) if side is Side.SELL else (ours <= previous)  # never loosens
        previous = ours
        if fired:
            break


# -- the tracker ------------------------------------------------------------------------------------


def test_tracker_follows_from_first_sight_and_fills_in_the_callback() -> None:
    tr = TrailingStops()
    tr.set_ticks({SYM: TICK})
    # Binance's ALGO_UPDATE comes first and carries no callback; the place reply's order does
    tr.observe(trailing_order(callback=None), D(62744))
    assert tr.level(ACC, "sda-BTCUSDT-L3-1") is None
    tr.observe(trailing_order(callback="1", t=0), D(62800))
    assert tr.level(ACC, "sda-BTCUSDT-L3-1") == D("62116.5")  # 62 744 x 0.99, from first sight
    for mark in ("63000", "64304", "64000"):
        tr.on_price(SYM, D(mark))
    assert tr.level(ACC, "sda-BTCUSDT-L3-1") == D("63660.9")
    tr.on_price("ETHUSDT", D(1))  # another symbol changes nothing
    assert tr.level(ACC, "sda-BTCUSDT-L3-1") == D("63660.9")
    tr.observe(trailing_order(OrderStatus.CANCELED, t=5), D(64000))
    assert tr.level(ACC, "sda-BTCUSDT-L3-1") is None and len(tr) == 0


def test_tracker_waits_for_a_price_and_for_a_working_order() -> None:
    tr = TrailingStops()
    tr.observe(trailing_order(OrderStatus.UNKNOWN), D(100))  # an unknown outcome is not followed
    assert len(tr) == 0
    tr.observe(trailing_order(), None)  # no mark yet
    assert tr.level(ACC, "sda-BTCUSDT-L3-1") is None
    tr.on_price(SYM, D(100))
    assert tr.level(ACC, "sda-BTCUSDT-L3-1") == D("99.00000000")  # no tick known: 8 decimals
    tr.observe(trailing_order(t=9), D(100), final=True)  # the books know it finished
    assert len(tr) == 0


def test_tracker_sync_after_a_snapshot_keeps_only_open_trailing_orders() -> None:
    tr = TrailingStops()
    tr.observe(trailing_order(cid="a"), D(100))
    tr.observe(trailing_order(cid="b"), D(100))
    tr.on_price(SYM, D(110))
    tr.sync(ACC, [trailing_order(cid="b"), trailing_order(cid="c")], {SYM: D(105)})
    assert tr.trail(ACC, "a") is None
    b, c = tr.trail(ACC, "b"), tr.trail(ACC, "c")
    assert b is not None and b.extreme == D(110)  # kept, with its extreme
    assert c is not None and c.extreme == D(105)  # new: from the price now


# -- the positions row -------------------------------------------------------------------------------


def book_with_long() -> PositionBook:
    pf = Portfolio()
    pf.apply(PositionEvent(ACC, SYM, PositionSide.BOTH, D("0.01"), D(62000), mark_price=D(64304), ts_ms=1))
    return pf.positions


def test_positions_row_shows_a_trailing_stop_where_it_trails_marked_estimated() -> None:
    orders = OrdersBook()
    ev = trailing_order()
    orders.apply(ev)
    tr = TrailingStops()
    tr.set_ticks({SYM: TICK})
    tr.observe(ev, D(62744))
    tr.on_price(SYM, D(64304))
    (row,) = positions_payload(book_with_long(), orders=orders, trailing=tr.level_of)["positions"]
    assert (row["stop_price"], row["stop_estimated"]) == ("63660.9", True)
    # a fixed stop tighter than the trailing one is shown as it is
    orders.apply(
        trailing_order(kind=OrderType.STOP_MARKET, cid="fixed", oid="77", stop="63700", callback=None, t=2)
    )
    (row,) = positions_payload(book_with_long(), orders=orders, trailing=tr.level_of)["positions"]
    assert (row["stop_price"], row["stop_estimated"]) == ("63700", False)
    # the ASL's figure wins, with its own flag
    asl = {(ACC, SYM, PositionSide.BOTH): AslInfo("3", D("63660.9"), None, stop_estimated=True)}
    (row,) = positions_payload(book_with_long(), asl=asl, orders=orders, trailing=tr.level_of)["positions"]
    assert (row["stop_price"], row["stop_estimated"], row["asl_level"]) == ("63660.9", True, "3")


def test_a_trailing_stop_not_followed_yet_is_not_shown_where_it_was_placed() -> None:
    orders = OrdersBook()
    orders.apply(trailing_order(stop="62117"))  # the level it was placed at, as an event may carry it
    untracked = TrailingStops()
    (row,) = positions_payload(book_with_long(), orders=orders, trailing=untracked.level_of)["positions"]
    assert (row["stop_price"], row["stop_estimated"]) == (None, False)
