"""Position book: arithmetic, reconciliation with exchange updates, dedup and bad input."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from sidedesk.core.positions import ENTRY_QUANTUM, MAX_PENDING, PositionBook
from sidedesk.domain import (
    AccountSnapshot,
    FillEvent,
    InstrumentRules,
    PositionEvent,
    PositionSide,
    QuoteEvent,
    Side,
)

D = Decimal
ACC = "acc1"
SYM = "BTCUSDT"
_trade_ids = itertools.count(1)


def fill(
    side: str,
    qty: str | Decimal,
    price: str | Decimal,
    *,
    ts: int = 0,
    fee: str | Decimal = "0",
    fee_asset: str = "USDT",
    rp: str | Decimal | None = None,
    ps: PositionSide = PositionSide.BOTH,
    symbol: str = SYM,
    account: str = ACC,
    order_id: str | None = None,
    trade_id: str | None = None,
) -> FillEvent:
    tid = trade_id if trade_id is not None else str(next(_trade_ids))
    return FillEvent(
        account_id=account,
        symbol=symbol,
        order_id=order_id if order_id is not None else f"o{tid}",
        client_id=f"c{tid}",
        trade_id=tid,
        side=Side(side),
        quantity=D(qty),
        price=D(price),
        fee=D(fee),
        fee_asset=fee_asset,
        position_side=ps,
        realized_pnl=None if rp is None else D(rp),
        ts_ms=ts,
    )


def pos_event(
    qty: str,
    entry: str,
    *,
    ts: int,
    ps: PositionSide = PositionSide.BOTH,
    symbol: str = SYM,
    account: str = ACC,
    **kw: object,
) -> PositionEvent:
    return PositionEvent(account, symbol, ps, D(qty), D(entry), ts_ms=ts, **kw)  # type: ignore[arg-type]


def rules(symbol: str = SYM, multiplier: str = "1", quote: str = "USDT") -> InstrumentRules:
    return InstrumentRules(
        symbol=symbol,
        base_asset=symbol.removesuffix(quote),
        quote_asset=quote,
        tick_size=D("0.1"),
        step_size=D("0.001"),
        min_qty=D("0.001"),
        max_qty=D(1000),
        market_step_size=D("0.001"),
        market_min_qty=D("0.001"),
        market_max_qty=D(1000),
        min_notional=D(5),
        price_precision=1,
        quantity_precision=3,
        contract_multiplier=D(multiplier),
    )


def only(book: PositionBook, ps: PositionSide = PositionSide.BOTH, symbol: str = SYM):  # type: ignore[no-untyped-def]
    p = book.get(ACC, symbol, ps)
    assert p is not None
    return p


# -- arithmetic ------------------------------------------------------------------------------------


def test_long_scale_in_averages_entry_and_marks_unrealized() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100"))
    book.apply_fill(fill("BUY", "3", "104"))
    p = only(book)
    assert p.quantity == 4 and p.entry_price == 103 and p.direction == "LONG"
    assert p.unrealized_pnl is None  # no mark and no exchange figure yet
    assert book.on_mark(SYM, D("105.5"), 1)
    assert p.unrealized_pnl == D("10.0") and p.mark_price == D("105.5")
    assert p.realized_pnl == 0


def test_partial_close_realizes_and_keeps_entry_then_full_close_goes_flat() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "2", "100"))
    book.apply_fill(fill("SELL", "0.5", "110"))
    p = only(book)
    assert p.quantity == D("1.5") and p.entry_price == 100 and p.realized_pnl == D("5.0")
    book.apply_fill(fill("SELL", "1.5", "90"))
    assert p.quantity == 0 and p.entry_price == 0 and p.direction == "FLAT"
    assert p.realized_pnl == D("-10.0")
    assert book.positions() == [] and book.positions(open_only=False) == [p]


def test_short_profits_when_price_falls() -> None:
    book = PositionBook()
    book.apply_fill(fill("SELL", "2", "100"))
    book.on_mark(SYM, D(90))
    p = only(book)
    assert p.quantity == -2 and p.direction == "SHORT" and p.unrealized_pnl == 20
    book.apply_fill(fill("BUY", "1", "95"))
    assert p.quantity == -1 and p.entry_price == 100 and p.realized_pnl == 5 and p.unrealized_pnl == 10


def test_flip_closes_then_opens_the_rest_at_the_fill_price() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100"))
    book.apply_fill(fill("SELL", "3", "110"))
    p = only(book)
    assert p.quantity == -2 and p.entry_price == 110 and p.realized_pnl == 10
    book.apply_fill(fill("BUY", "5", "100"))
    assert p.quantity == 3 and p.entry_price == 100 and p.realized_pnl == 30


def test_fees_in_the_settlement_asset_reduce_realized_other_assets_kept_apart() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100", fee="0.04"))
    book.apply_fill(fill("SELL", "1", "101", fee="0.001", fee_asset="BNB"))
    p = only(book)
    assert p.realized_pnl == D("0.96") and p.fees == D("0.04")
    assert p.other_fees == {"BNB": D("0.001")}


def test_exchange_realized_profit_wins_over_the_computed_one() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100"))
    book.apply_fill(fill("SELL", "1", "110", rp="9.99", fee="0.01"))
    assert only(book).realized_pnl == D("9.98")


def test_contract_multiplier_from_instrument_rules() -> None:
    book = PositionBook({"ESM6": rules("ESM6", multiplier="50", quote="USD")})
    book.apply_fill(fill("BUY", "2", "5000", symbol="ESM6"))
    book.on_mark("ESM6", D("5001.25"))
    p = only(book, symbol="ESM6")
    assert p.unrealized_pnl == D("125.00") and p.settle_asset == "USD" and p.notional == D("500125.00")
    book.apply_fill(fill("SELL", "1", "5002", symbol="ESM6"))
    assert p.realized_pnl == 100
    book.set_rules({"ESM6": rules("ESM6", multiplier="5", quote="USD")})  # micro contract, say
    assert p.multiplier == 5 and p.unrealized_pnl == D("6.25")


def test_roe_uses_initial_margin_with_leverage() -> None:
    book = PositionBook()
    book.apply_position(pos_event("1", "100", ts=1, leverage=10))
    p = only(book)
    book.on_mark(SYM, D(101), 2)
    assert p.initial_margin == 10 and p.roe_pct == 10
    book.on_mark(SYM, D(98), 3)
    assert p.roe_pct == -20
    short = PositionBook()
    short.apply_position(pos_event("-2", "100", ts=1, leverage=20))
    short.on_mark(SYM, D(99), 2)
    assert only(short).roe_pct == 20  # +2 on a 10 margin


def test_roe_and_margin_without_leverage_use_the_reported_margin() -> None:
    book = PositionBook()
    book.apply_position(pos_event("1", "100", ts=1, margin=D(25), liquidation_price=D(80)))
    p = only(book)
    book.on_mark(SYM, D(105), 2)
    assert p.margin == 25 and p.initial_margin == 25 and p.roe_pct == 20 and p.liquidation_price == 80
    book.apply_fill(fill("BUY", "1", "105", ts=3))  # no longer what the exchange reported
    assert p.margin is None and p.roe_pct is None


def test_hedge_mode_sides_are_independent() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "2", "100", ps=PositionSide.LONG))
    book.apply_fill(fill("SELL", "1", "102", ps=PositionSide.SHORT))
    book.on_mark(SYM, D(101))
    long_, short = only(book, PositionSide.LONG), only(book, PositionSide.SHORT)
    assert (long_.quantity, short.quantity) == (2, -1)
    assert (long_.unrealized_pnl, short.unrealized_pnl) == (2, 1)
    book.apply_fill(fill("SELL", "1", "103", ps=PositionSide.LONG))  # close half the long
    book.apply_fill(fill("BUY", "1", "99", ps=PositionSide.SHORT))  # close the short
    assert (long_.quantity, long_.realized_pnl) == (1, 3)
    assert (short.quantity, short.realized_pnl) == (0, 3)
    assert [p.position_side for p in book.positions()] == [PositionSide.LONG]


def test_hedge_side_never_crosses_zero() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100", ps=PositionSide.LONG))
    book.apply_fill(fill("SELL", "3", "110", ps=PositionSide.LONG))
    p = only(book, PositionSide.LONG)
    assert p.quantity == 0 and p.realized_pnl == 10 and p.anomalies == 1


# -- exchange updates are authoritative ----------------------------------------------------------


def test_position_update_replaces_the_book_and_replays_newer_fills() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100", ts=10))
    book.apply_fill(fill("BUY", "1", "102", ts=30))
    # the exchange's view at ts=20 says 1.5 @ 99 (say a fill we never saw): it wins ...
    assert book.apply_position(pos_event("1.5", "99", ts=20, leverage=5, liquidation_price=D(70)))
    p = only(book)
    # ... and the fill at ts=30, newer than the update, is applied on top of it
    assert p.quantity == D("2.5") and p.entry_price == D("100.2") and p.leverage == 5
    assert p.liquidation_price == 70 and not p.in_sync
    assert book.apply_position(pos_event("2.5", "100.2", ts=30))
    assert p.in_sync and p.pending == []


def test_stale_position_update_changes_nothing() -> None:
    book = PositionBook()
    book.apply_position(pos_event("2", "100", ts=50))
    assert not book.apply_position(pos_event("5", "90", ts=49))
    assert only(book).quantity == 2
    assert not book.apply_position(pos_event("2", "100", ts=50))  # the same again


def test_fill_already_inside_the_exchange_update_is_not_counted_twice() -> None:
    book = PositionBook()
    book.apply_position(pos_event("1", "100", ts=10))
    # ACCOUNT_UPDATE after the trade arrives first, the trade's ORDER_TRADE_UPDATE second
    book.apply_position(pos_event("0.5", "100", ts=20))
    r = book.apply_fill(fill("SELL", "0.5", "104", ts=20, rp="2", fee="0.02"))
    p = only(book)
    assert r.changed and p.quantity == D("0.5") and p.realized_pnl == D("1.98")


def test_update_arriving_after_its_fill_drops_the_fill_from_the_pending_run() -> None:
    book = PositionBook()
    book.apply_position(pos_event("1", "100", ts=10))
    book.apply_fill(fill("SELL", "0.5", "104", ts=20, rp="2"))
    p = only(book)
    assert p.quantity == D("0.5") and len(p.pending) == 1
    assert not book.apply_position(pos_event("0.5", "100", ts=20))  # agrees: nothing visible changes
    assert p.pending == [] and p.realized_pnl == 2


def test_exchange_unrealized_is_shown_until_there_is_a_mark() -> None:
    book = PositionBook()
    book.apply_position(pos_event("1", "100", ts=1, unrealized_pnl=D("3.5")))
    p = only(book)
    assert p.unrealized_pnl == D("3.5")
    book.on_mark(SYM, D(101), 2)
    assert p.unrealized_pnl == 1


def test_mark_in_a_position_update_and_stale_marks() -> None:
    book = PositionBook()
    book.on_mark(SYM, D(100), 5)  # before any position: remembered
    book.apply_fill(fill("BUY", "1", "99", ts=6))
    p = only(book)
    assert p.unrealized_pnl == 1
    assert not book.on_mark(SYM, D(90), 4)  # older tick
    assert p.mark_price == 100
    book.apply_position(pos_event("1", "99", ts=7, mark_price=D(102)))
    assert p.unrealized_pnl == 3 and book.mark(SYM) == 102
    assert book.apply_quote(QuoteEvent(SYM, mark=D(103), ts_ms=8)) and p.unrealized_pnl == 4
    assert not book.apply_quote(QuoteEvent(SYM, bid=D(1), ts_ms=9))  # no mark in it


def test_snapshot_sets_positions_and_flattens_what_it_omits() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100", ts=10))
    book.apply_fill(fill("SELL", "2", "10", ts=10, symbol="ETHUSDT"))
    book.apply_fill(fill("BUY", "1", "1", ts=10, symbol="XRPUSDT", account="other"))
    snap = AccountSnapshot(
        ACC,
        balances=(),
        positions=(pos_event("3", "101", ts=0), pos_event("0", "0", ts=0, symbol="DOGEUSDT")),
        open_orders=(),
        hedge_mode=False,
        ts_ms=20,
    )
    assert book.apply_snapshot(snap)
    assert [(p.symbol, p.quantity) for p in book.positions(ACC)] == [(SYM, D(3))]
    assert book.get(ACC, "DOGEUSDT", PositionSide.BOTH) is None
    assert book.get("other", "XRPUSDT", PositionSide.BOTH).quantity == 1  # type: ignore[union-attr]
    assert not book.apply_snapshot(snap)  # the same snapshot again


def test_snapshot_keeps_fills_newer_than_itself() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100", ts=30))  # arrived while the snapshot was in flight
    snap = AccountSnapshot(ACC, (), (pos_event("2", "90", ts=0),), (), ts_ms=20)
    book.apply_snapshot(snap)
    p = only(book)
    assert p.quantity == 3 and p.entry_price == (D("280") / 3).quantize(ENTRY_QUANTUM)  # kept to 1e-12


# -- duplicates and order ------------------------------------------------------------------------


def test_duplicate_fill_changes_nothing() -> None:
    book = PositionBook()
    f = fill("BUY", "1", "100", fee="0.1")
    assert book.apply_fill(f).changed
    again = book.apply_fill(f)
    assert again.duplicate and not again.changed
    p = only(book)
    assert p.quantity == 1 and p.fees == D("0.1")


def test_trade_lite_then_order_update_enriches_instead_of_doubling() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100", trade_id="t1", order_id="o1"))
    lite = fill("SELL", "1", "110", trade_id="t2", order_id="o2")  # TRADE_LITE: no fee, no rp
    full = fill("SELL", "1", "110", trade_id="t2", order_id="o2", fee="0.05", rp="10")
    book.apply_fill(lite)
    r = book.apply_fill(full)
    p = only(book)
    assert r.enriched and p.quantity == 0 and p.realized_pnl == D("9.95")
    assert not book.apply_fill(full).changed


def test_enrichment_with_a_fee_in_another_asset() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100", trade_id="t1", order_id="o1"))
    book.apply_fill(fill("BUY", "1", "100", trade_id="t1", order_id="o1", fee="0.001", fee_asset="BNB"))
    p = only(book)
    assert p.fees == 0 and p.other_fees == {"BNB": D("0.001")} and p.quantity == 1


def test_late_fill_is_slotted_in_time_order() -> None:
    in_order, late = PositionBook(), PositionBook()
    fills = [
        fill("BUY", "1", "100", ts=1),
        fill("SELL", "2", "110", ts=2),
        fill("BUY", "3", "105", ts=3),
    ]
    for f in fills:
        in_order.apply_fill(f)
    for f in (fills[0], fills[2], fills[1]):
        late.apply_fill(f)
    a, b = only(in_order), only(late)
    assert (a.quantity, a.entry_price, a.realized_pnl) == (b.quantity, b.entry_price, b.realized_pnl)
    assert (a.quantity, a.entry_price, a.realized_pnl) == (2, 105, 15)


def test_long_runs_without_exchange_updates_are_folded_but_stay_exact() -> None:
    book = PositionBook()
    for i in range(MAX_PENDING + 10):
        book.apply_fill(fill("BUY" if i % 3 else "SELL", "1", str(100 + i % 7), ts=i + 1))
    p = only(book)
    assert len(p.pending) <= MAX_PENDING
    expected = sum((1 if i % 3 else -1) for i in range(MAX_PENDING + 10))
    assert p.quantity == expected
    assert not book.apply_position(pos_event("1", "100", ts=2))  # older than what was folded


def test_fill_memory_is_bounded() -> None:
    book = PositionBook(fill_memory=3)
    fills = [fill("BUY", "1", "100", ts=i) for i in range(5)]
    for f in fills:
        book.apply_fill(f)
    assert book.fill((ACC, fills[0].order_id, fills[0].trade_id)) is None
    assert book.fill((ACC, fills[4].order_id, fills[4].trade_id)) is not None


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "price", "fee", "message"),
    [
        ("0", "100", "0", "must be positive"),
        ("-1", "100", "0", "must be positive"),
        ("1", "0", "0", "must be positive"),
        ("NaN", "100", "0", "finite"),
        ("1", "Infinity", "0", "finite"),
        ("1", "100", "NaN", "finite"),
    ],
)
def test_bad_fill_is_refused_and_changes_nothing(qty: str, price: str, fee: str, message: str) -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100"))
    with pytest.raises(ValueError, match=message):
        book.apply_fill(fill("BUY", qty, price, fee=fee))
    p = only(book)
    assert p.quantity == 1 and p.entry_price == 100 and len(list(book)) == 1


@pytest.mark.parametrize(
    ("qty", "entry", "ps", "message"),
    [
        ("NaN", "1", PositionSide.BOTH, "finite"),
        ("1", "0", PositionSide.BOTH, "positive entry"),
        ("-1", "100", PositionSide.LONG, "LONG"),
        ("1", "100", PositionSide.SHORT, "SHORT"),
    ],
)
def test_bad_position_update_is_refused(qty: str, entry: str, ps: PositionSide, message: str) -> None:
    book = PositionBook()
    with pytest.raises(ValueError, match=message):
        book.apply_position(pos_event(qty, entry, ts=1, ps=ps))
    assert list(book) == []


def test_bad_snapshot_is_refused_before_anything_changes() -> None:
    book = PositionBook()
    book.apply_fill(fill("BUY", "1", "100", ts=1))
    snap = AccountSnapshot(ACC, (), (pos_event("2", "100", ts=5), pos_event("1", "NaN", ts=5)), (), ts_ms=5)
    with pytest.raises(ValueError, match="finite"):
        book.apply_snapshot(snap)
    foreign = AccountSnapshot(ACC, (), (pos_event("2", "100", ts=5, account="x"),), (), ts_ms=5)
    with pytest.raises(ValueError, match="holds a position of x"):
        book.apply_snapshot(foreign)
    assert only(book).quantity == 1


def test_quote_with_a_bad_mark_is_refused() -> None:
    book = PositionBook()
    with pytest.raises(ValueError, match="positive"):
        book.apply_quote(QuoteEvent(SYM, mark=D(0)))
    assert book.mark(SYM) is None


def test_fills_without_a_time_are_applied_until_an_exchange_update_includes_them() -> None:
    pf_book = PositionBook()
    pf_book.apply_position(pos_event("1", "100", ts=50))
    pf_book.apply_fill(fill("BUY", "1", "110", ts=0))
    pf_book.apply_fill(fill("BUY", "2", "120", ts=0))
    p = only(pf_book)
    assert p.quantity == 4 and p.entry_price == D("112.5")  # in arrival order, on top of the base
    pf_book.apply_position(pos_event("4", "112.5", ts=60))
    assert p.quantity == 4 and p.pending == [] and p.in_sync
