"""Account figures: wallet, equity, margin used, available, today's realized P&L (UTC days)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk.core.account import DAY_MS, Changes, Portfolio, utc_day
from sidedesk.domain import (
    AccountSnapshot,
    BalanceEvent,
    ConnectionEvent,
    ConnectionState,
    PositionSide,
    QuoteEvent,
)
from tests.unit.test_positions import ACC, SYM, fill, pos_event

D = Decimal
DAY = 20_000 * DAY_MS  # some UTC midnight


def bal(wallet: str, ts: int, **kw: object) -> BalanceEvent:
    return BalanceEvent(ACC, "USDT", D(wallet), ts_ms=ts, **kw)  # type: ignore[arg-type]


def state(pf: Portfolio, now: int = DAY, asset: str = "USDT"):  # type: ignore[no-untyped-def]
    st = pf.account_state(ACC, asset, now)
    assert st is not None
    return st


def test_fills_keep_the_wallet_current_until_the_exchange_balance_arrives() -> None:
    pf = Portfolio()
    assert pf.apply(bal("1000", ts=DAY + 1)) == Changes(account=True)
    pf.apply(fill("BUY", "1", "100", fee="0.04", ts=DAY + 2))
    pf.apply(fill("SELL", "1", "110", fee="0.044", ts=DAY + 3))
    st = state(pf)
    assert st.wallet_balance == D("1009.916") and st.equity == D("1009.916") and st.unrealized_pnl == 0
    # the exchange's ACCOUNT_UPDATE for the last trade: authoritative, includes both fills
    pf.apply(bal("1009.9", ts=DAY + 3))
    assert state(pf).wallet_balance == D("1009.9")
    # a stale balance changes nothing
    assert pf.apply(bal("5", ts=DAY + 2)) == Changes(account=False)
    assert state(pf).wallet_balance == D("1009.9")


def test_equity_is_wallet_plus_unrealized() -> None:
    pf = Portfolio()
    pf.apply(bal("1000", ts=1))
    pf.apply(fill("SELL", "2", "100", ts=2))
    assert pf.on_mark(SYM, D("97.5"), 3)
    st = state(pf)
    assert st.unrealized_pnl == 5 and st.equity == 1005 and st.wallet_balance == 1000


def test_margin_and_available_computed_from_the_book_without_exchange_figures() -> None:
    pf = Portfolio()
    pf.apply(bal("1000", ts=1))
    pf.apply(pos_event("2", "100", ts=2, leverage=10))
    pf.on_mark(SYM, D(110), 3)
    st = state(pf)
    assert st.margin_used == 22 and st.equity == 1020 and st.available == 998


def test_reported_available_and_margin_move_with_the_book() -> None:
    pf = Portfolio()
    pf.apply(pos_event("1", "100", ts=1, leverage=10))
    pf.on_mark(SYM, D(100), 1)
    # the exchange says: 1000 wallet, 30 margin used (10 for the position, 20 for open orders)
    pf.apply(bal("1000", ts=2, available=D(970), margin_used=D(30)))
    st = state(pf)
    assert (st.available, st.margin_used) == (970, 30)
    pf.on_mark(SYM, D(105), 3)  # +5 unrealized, position margin 10 -> 10.5
    st = state(pf)
    assert st.equity == 1005 and st.margin_used == D("30.5") and st.available == D("974.5")
    # a later wallet-only update (ACCOUNT_UPDATE has no available) keeps the reported base
    pf.apply(bal("1001", ts=4))
    assert state(pf).available == D("975.5")


def test_fee_in_another_asset_reduces_that_wallet() -> None:
    pf = Portfolio()
    pf.apply(bal("1000", ts=1))
    pf.apply(BalanceEvent(ACC, "BNB", D("2"), ts_ms=1))
    pf.apply(fill("BUY", "1", "100", fee="0.001", fee_asset="BNB", ts=2))
    assert state(pf, asset="BNB").wallet_balance == D("1.999")
    assert state(pf).wallet_balance == 1000
    assert [(s.asset, str(s.wallet_balance)) for s in pf.account_states(DAY)] == [
        ("BNB", "1.999"),
        ("USDT", "1000"),
    ]


def test_fee_added_by_a_later_copy_of_the_fill_reaches_its_wallet() -> None:
    pf = Portfolio()
    pf.apply(BalanceEvent(ACC, "BNB", D("2"), ts_ms=1))
    pf.apply(fill("BUY", "1", "100", ts=2, order_id="o", trade_id="t"))  # TRADE_LITE: no fee
    pf.apply(fill("BUY", "1", "100", ts=2, order_id="o", trade_id="t", fee="0.001", fee_asset="BNB"))
    pf.apply(fill("BUY", "1", "100", ts=2, order_id="o", trade_id="t", fee="0.001", fee_asset="BNB"))
    assert state(pf, asset="BNB").wallet_balance == D("1.999")


def test_realized_today_counts_fills_of_the_current_utc_day_net_of_fees() -> None:
    pf = Portfolio()
    pf.apply(bal("1000", ts=DAY - 10_000))
    pf.apply(fill("BUY", "1", "100", ts=DAY - 5000))
    pf.apply(fill("SELL", "1", "110", fee="0.1", ts=DAY - 1))  # 23:59:59.999 yesterday: +9.9
    pf.apply(fill("BUY", "1", "100", ts=DAY))
    pf.apply(fill("SELL", "1", "103", fee="0.1", ts=DAY + 1000))  # today: +2.9
    assert state(pf, now=DAY - 1).realized_today == D("9.9")
    assert state(pf, now=DAY + 5000).realized_today == D("2.9")
    assert state(pf, now=DAY + DAY_MS).realized_today == 0  # tomorrow, nothing yet
    assert utc_day(DAY - 1) + 1 == utc_day(DAY)


def test_realized_today_follows_the_exchange_figure_of_a_late_copy() -> None:
    pf = Portfolio()
    pf.apply(fill("BUY", "1", "100", ts=DAY + 1, order_id="a", trade_id="1"))
    pf.apply(fill("SELL", "1", "110", ts=DAY + 2, order_id="b", trade_id="2"))
    pf.apply(fill("SELL", "1", "110", ts=DAY + 2, order_id="b", trade_id="2", rp="9.5", fee="0.2"))
    assert state(pf).realized_today == D("9.3")


def test_snapshot_sets_balances_and_positions() -> None:
    pf = Portfolio()
    pf.apply(bal("1", ts=1))
    snap = AccountSnapshot(
        ACC,
        balances=(BalanceEvent(ACC, "USDT", D(500), available=D(400), margin_used=D(100)),),
        positions=(pos_event("1", "100", ts=0, leverage=5),),
        open_orders=(),
        ts_ms=10,
    )
    assert pf.apply(snap) == Changes(positions=True, account=True)
    st = state(pf)
    assert (st.wallet_balance, st.available, st.margin_used, st.updated_ms) == (500, 400, 100, 10)
    assert pf.positions.get(ACC, SYM, PositionSide.BOTH) is not None


def test_bad_balance_is_refused_and_changes_nothing() -> None:
    pf = Portfolio()
    pf.apply(bal("1000", ts=1))
    with pytest.raises(ValueError, match="wallet_balance must be a finite"):
        pf.apply(bal("NaN", ts=2))
    with pytest.raises(ValueError, match="available must be a finite"):
        pf.apply(bal("1", ts=2, available=D("Infinity")))
    bad = AccountSnapshot(ACC, (bal("1", ts=3), BalanceEvent("x", "USDT", D(1))), (), (), ts_ms=3)
    with pytest.raises(ValueError, match="holds a balance of x"):
        pf.apply(bad)
    assert state(pf).wallet_balance == 1000


def test_events_for_other_books_touch_nothing_and_unknown_accounts_have_no_state() -> None:
    pf = Portfolio()
    assert pf.apply(ConnectionEvent(ACC, ConnectionState.CONNECTED)) == Changes()
    assert pf.apply(QuoteEvent(SYM, mark=D(1))) == Changes()  # no position of SYM yet
    assert pf.account_state("nobody", "USDT", 0) is None
    assert Changes(positions=True) | Changes(account=True) == Changes(True, True)


def test_balance_prunes_every_included_fill_whatever_their_arrival_order() -> None:
    pf = Portfolio()
    pf.apply(bal("1000", ts=1))
    pf.apply(fill("BUY", "1", "100", ts=30, fee="1"))
    pf.apply(fill("BUY", "1", "100", ts=10, fee="2"))  # late
    pf.apply(bal("998", ts=20))  # includes the ts=10 fill, not the ts=30 one
    assert state(pf).wallet_balance == 997
    pf.apply(fill("BUY", "1", "100", ts=0, fee="4"))  # time unknown: counted until a balance
    assert state(pf).wallet_balance == 993
