"""Property tests of the P&L arithmetic and of order/duplicate independence."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.core.account import Portfolio
from sidedesk.core.positions import PositionBook
from sidedesk.domain import BalanceEvent, FillEvent, PositionEvent, PositionSide
from tests.unit.test_positions import ACC, SYM, fill, pos_event, rules

D = Decimal
TOL = D("1e-12")

qtys = st.integers(1, 5000).map(lambda n: D(n) / 1000)
prices = st.integers(100, 500_000).map(lambda n: D(n) / 100)
fees = st.integers(0, 2000).map(lambda n: D(n) / 10_000)
sides = st.sampled_from(["BUY", "SELL"])
multipliers = st.sampled_from(["1", "0.1", "50"])
fill_specs = st.tuples(sides, qtys, prices, fees)

SETTINGS = settings(max_examples=150, deadline=None)


def entry_tolerance(fills: list[FillEvent], mult: str) -> Decimal:
    """The book keeps the average entry to 1e-12 (core/positions.py ENTRY_QUANTUM). Against the
    exact cash-flow P&L each rounding may cost half a quantum per unit held from then on, so the
    bound is (fills) x (units ever held) x quantum."""
    held = sum((f.quantity for f in fills), D(0))
    return TOL + len(fills) * held * D(mult) * D("1e-12")


def cash_flow_pnl(fills: list[FillEvent], mark: Decimal, mult: Decimal) -> Decimal:
    """Independent of any entry accounting: what the trades are worth at `mark`, after fees."""
    total = D(0)
    for f in fills:
        signed = f.quantity if f.side.value == "BUY" else -f.quantity
        total += signed * (mark - f.price) * mult - f.fee
    return total


@SETTINGS
@given(
    specs=st.lists(fill_specs, min_size=1, max_size=30),
    marks=st.lists(prices, min_size=1, max_size=10),
    mult=multipliers,
    wallet=st.integers(0, 10**6).map(D),
)
def test_realized_plus_unrealized_is_the_equity_change_one_way(
    specs: list[tuple[str, Decimal, Decimal, Decimal]], marks: list[Decimal], mult: str, wallet: Decimal
) -> None:
    pf = Portfolio({SYM: rules(multiplier=mult)})
    pf.apply(BalanceEvent(ACC, "USDT", wallet, ts_ms=0))
    fills = [fill(s, q, p, fee=fee, ts=i + 1) for i, (s, q, p, fee) in enumerate(specs)]
    for i, f in enumerate(fills):
        pf.apply(f)
        pf.on_mark(SYM, marks[i % len(marks)], f.ts_ms)  # marks interleaved with the fills
    mark = marks[-1]
    pf.on_mark(SYM, mark, 10_000)
    expected = cash_flow_pnl(fills, mark, D(mult))
    p = pf.positions.get(ACC, SYM, PositionSide.BOTH)
    assert p is not None and p.unrealized_pnl is not None
    tol = entry_tolerance(fills, mult)
    assert abs(p.realized_pnl + p.unrealized_pnl - expected) <= tol
    assert p.quantity == sum((f.quantity if f.side.value == "BUY" else -f.quantity) for f in fills)
    acct = pf.account_state(ACC, "USDT", now_ms=10_000)
    assert acct is not None
    assert abs(acct.equity - wallet - expected) <= tol
    assert acct.wallet_balance == wallet + p.realized_pnl
    assert acct.realized_today == p.realized_pnl  # every fill is on day 0 (UTC)


@st.composite
def hedge_fills(draw: st.DrawFn) -> list[FillEvent]:
    """Valid hedge-mode trading: opens on either side, closes never more than the side holds."""
    held = {PositionSide.LONG: D(0), PositionSide.SHORT: D(0)}
    out: list[FillEvent] = []
    for i in range(draw(st.integers(1, 30))):
        ps = draw(st.sampled_from([PositionSide.LONG, PositionSide.SHORT]))
        q, p, fee = draw(qtys), draw(prices), draw(fees)
        closing = held[ps] > 0 and draw(st.booleans())
        if closing:
            q = min(q, held[ps])
            held[ps] -= q
            side = "SELL" if ps is PositionSide.LONG else "BUY"
        else:
            held[ps] += q
            side = "BUY" if ps is PositionSide.LONG else "SELL"
        out.append(fill(side, q, p, fee=fee, ts=i + 1, ps=ps))
    return out


@SETTINGS
@given(fills=hedge_fills(), mark=prices)
def test_realized_plus_unrealized_is_the_equity_change_hedge_mode(
    fills: list[FillEvent], mark: Decimal
) -> None:
    pf = Portfolio()
    pf.apply(BalanceEvent(ACC, "USDT", D(1000), ts_ms=0))
    for f in fills:
        pf.apply(f)
    pf.on_mark(SYM, mark, 10_000)
    total = D(0)
    for ps in (PositionSide.LONG, PositionSide.SHORT):
        mine = [f for f in fills if f.position_side is ps]
        p = pf.positions.get(ACC, SYM, ps)
        if p is None:
            assert not mine
            continue
        assert p.anomalies == 0
        assert (p.quantity >= 0) if ps is PositionSide.LONG else (p.quantity <= 0)
        assert p.unrealized_pnl is not None
        assert abs(p.realized_pnl + p.unrealized_pnl - cash_flow_pnl(mine, mark, D(1))) <= entry_tolerance(
            mine, "1"
        )
        total += p.realized_pnl + p.unrealized_pnl
    acct = pf.account_state(ACC, "USDT", now_ms=10_000)
    assert acct is not None and abs(acct.equity - 1000 - total) <= TOL


def state(book: PositionBook) -> list[tuple[object, ...]]:
    return [
        (p.key, p.quantity, p.entry_price, p.realized_pnl, p.fees, p.leverage)
        for p in book.positions(open_only=False)
    ]


@SETTINGS
@given(data=st.data(), specs=st.lists(fill_specs, min_size=1, max_size=25))
def test_fills_in_any_order_give_the_same_book(
    data: st.DataObject, specs: list[tuple[str, Decimal, Decimal, Decimal]]
) -> None:
    fills = [fill(s, q, p, fee=fee, ts=i + 1) for i, (s, q, p, fee) in enumerate(specs)]
    in_order = PositionBook()
    for f in fills:
        in_order.apply_fill(f)
    shuffled = PositionBook()
    for f in data.draw(st.permutations(fills)):
        shuffled.apply_fill(f)
    assert state(shuffled) == state(in_order)


@st.composite
def mixed_events(draw: st.DrawFn) -> list[FillEvent | PositionEvent]:
    """Fills carrying the exchange's realized profit, and exchange position updates, unique times."""
    n = draw(st.integers(1, 25))
    times = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))
    out: list[FillEvent | PositionEvent] = []
    for ts in times:
        if draw(st.integers(0, 3)) == 0:
            qty = draw(st.integers(-5000, 5000).map(lambda v: D(v) / 1000))
            entry = draw(prices) if qty else D(0)
            out.append(pos_event(str(qty), str(entry), ts=ts, leverage=draw(st.integers(1, 125))))
        else:
            s, q, p, fee = draw(fill_specs)
            rp = draw(st.integers(-10_000, 10_000).map(lambda v: D(v) / 100))
            out.append(fill(s, q, p, fee=fee, rp=rp, ts=ts))
    return out


def apply_all(events: list[FillEvent | PositionEvent]) -> PositionBook:
    book = PositionBook()
    for ev in events:
        if isinstance(ev, FillEvent):
            book.apply_fill(ev)
        else:
            book.apply_position(ev)
    return book


@SETTINGS
@given(data=st.data(), events=mixed_events())
def test_exchange_updates_and_fills_in_any_order_with_duplicates_give_the_same_book(
    data: st.DataObject, events: list[FillEvent | PositionEvent]
) -> None:
    in_time_order = sorted(events, key=lambda e: e.ts_ms)
    expected = state(apply_all(in_time_order))
    dupes = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    messy = data.draw(st.permutations(events + dupes))
    assert state(apply_all(messy)) == expected


@SETTINGS
@given(data=st.data(), specs=st.lists(fill_specs, min_size=1, max_size=20))
def test_every_fill_twice_is_the_same_as_once(
    data: st.DataObject, specs: list[tuple[str, Decimal, Decimal, Decimal]]
) -> None:
    fills = [fill(s, q, p, fee=fee, ts=i + 1) for i, (s, q, p, fee) in enumerate(specs)]
    once = Portfolio()
    for f in fills:
        once.apply(f)
    twice = Portfolio()
    for f in data.draw(st.permutations(fills + fills)):
        twice.apply(f)
    assert state(twice.positions) == state(once.positions)
    a, b = once.account_state(ACC, "USDT", 0), twice.account_state(ACC, "USDT", 0)
    assert a == b


@SETTINGS
@given(data=st.data(), specs=st.lists(fill_specs, min_size=1, max_size=20), n_balances=st.integers(1, 4))
def test_balances_and_fills_in_any_order_give_the_same_wallet(
    data: st.DataObject, specs: list[tuple[str, Decimal, Decimal, Decimal]], n_balances: int
) -> None:
    fills = [fill(s, q, p, fee=fee, rp="1.5", ts=10 * (i + 1)) for i, (s, q, p, fee) in enumerate(specs)]
    times = data.draw(
        st.lists(st.integers(0, 10 * len(specs) + 5), min_size=n_balances, max_size=n_balances, unique=True)
    )
    balances = [BalanceEvent(ACC, "USDT", D(1000 + t), ts_ms=t * 10 + 5) for t in times]
    events: list[FillEvent | BalanceEvent] = [*fills, *balances]
    results = []
    for order in (sorted(events, key=lambda e: e.ts_ms), data.draw(st.permutations(events))):
        pf = Portfolio()
        for ev in order:
            pf.apply(ev)
        results.append(pf.account_state(ACC, "USDT", 0))
    assert results[0] == results[1]
    latest = max(balances, key=lambda b: b.ts_ms)
    later = [f for f in fills if f.ts_ms > latest.ts_ms]
    assert results[0] is not None
    assert results[0].wallet_balance == latest.wallet_balance + sum((D("1.5") - f.fee for f in later), D(0))
