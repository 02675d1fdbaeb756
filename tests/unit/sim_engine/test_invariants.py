"""Property tests: accounting identities hold for any sequence of trades and price moves."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk_sim.engine import OrderSpec, OrderType, OrderUpdate, PositionSide, Side

from .helpers import SYMBOL, make_engine

D = Decimal

actions = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=1, max_value=4000).map(lambda n: D(n) / 1000),  # qty 0.001..4
        st.integers(min_value=800, max_value=1200),  # price before the order
        st.booleans(),  # hedge: LONG/SHORT book
    ),
    min_size=1,
    max_size=25,
)


def run(hedge: bool, steps) -> None:
    eng = make_engine(balance=D(1_000_000), hedge=hedge)
    start = eng.balance("a", "USDT").wallet_balance
    signed: dict[PositionSide, Decimal] = {}
    for side, qty, price, long_book in steps:
        eng.set_price(SYMBOL, D(price), eng.now_ms + 1)
        ps = PositionSide.BOTH
        if hedge:
            ps = PositionSide.LONG if long_book else PositionSide.SHORT
        out = eng.submit_order(
            "a", OrderSpec(SYMBOL, side, OrderType.MARKET, quantity=qty, position_side=ps), eng.now_ms + 1
        )
        for ev in out.events:
            if isinstance(ev, OrderUpdate) and ev.fill is not None:
                signed[ps] = signed.get(ps, D(0)) + ev.fill.qty * side.sign
    trades = eng.trades("a")
    realized = sum((t.realized_pnl for t in trades), D(0))
    fees = sum((t.commission for t in trades), D(0))
    # wallet change = realized P&L − commissions, exactly
    assert eng.balance("a", "USDT").wallet_balance - start == realized - fees
    rows = {p.position_side: p for p in eng.positions("a", SYMBOL)}
    for ps, row in rows.items():
        assert row.amount == signed.get(ps, D(0))
        if hedge:
            assert (row.amount >= 0) if ps is PositionSide.LONG else (row.amount <= 0)
        assert (row.entry_price == 0) == (row.amount == 0)
    summary = eng.account_summary("a")
    assert summary.total_margin_balance == summary.total_wallet_balance + summary.total_unrealized_pnl


@settings(max_examples=60, deadline=None)
@given(actions)
def test_one_way_accounting(steps):
    run(False, steps)


@settings(max_examples=60, deadline=None)
@given(actions)
def test_hedge_accounting(steps):
    run(True, steps)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=50))
def test_same_seed_same_prices(seed, n):
    from sidedesk_sim.engine import Engine

    a, b = Engine(seed=seed, start_ms=0), Engine(seed=seed, start_ms=0)
    a.advance(n * 100)
    for t in range(1, n + 1):
        b.advance(t * 100)
    assert [a.market(s) for s in a.instruments] == [b.market(s) for s in b.instruments]
