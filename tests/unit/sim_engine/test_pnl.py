"""Positions, fees, realized/unrealized P&L, margin and leverage."""

from __future__ import annotations

from decimal import Decimal

from sidedesk_sim.engine import (
    AccountUpdate,
    ConfigUpdate,
    OrderType,
    PositionSide,
    RejectReason,
    Side,
)

from .helpers import SYMBOL, make_engine, move, place

D = Decimal
START = D(10_000)


def wallet(eng) -> Decimal:
    return eng.balance("a", "USDT").wallet_balance


def fees_and_pnl(eng) -> tuple[Decimal, Decimal]:
    trades = eng.trades("a")
    return sum((t.commission for t in trades), D(0)), sum((t.realized_pnl for t in trades), D(0))


def test_long_round_trip_profit(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")  # 1 @ 1001
    move(eng, 1100)
    out = place(eng, Side.SELL, OrderType.MARKET, "1")  # 1 @ 1100
    assert out.order is not None and out.order.realized_pnl == D(99)
    fees, pnl = fees_and_pnl(eng)
    assert pnl == D(99)
    assert fees == D("0.5005") + D("0.55")
    assert wallet(eng) == START + pnl - fees
    pos = eng.positions("a", SYMBOL)[0]
    assert pos.amount == 0 and pos.entry_price == 0 and pos.realized_pnl == D(99)


def test_short_round_trip_profit(eng):
    place(eng, Side.SELL, OrderType.MARKET, "2")  # 1 @ 1000, 1 @ 999 (thin book)
    assert eng.positions("a", SYMBOL)[0].entry_price == D("999.5")
    move(eng, 900)
    place(eng, Side.BUY, OrderType.MARKET, "2")  # 1 @ 901, 1 @ 902
    fees, pnl = fees_and_pnl(eng)
    assert pnl == (D("999.5") - 901) + (D("999.5") - 902)
    assert wallet(eng) == START + pnl - fees


def test_partial_close_keeps_entry_and_realizes_pro_rata(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")  # @1001
    place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(1001))  # @1001 taker
    move(eng, 1051)
    out = place(eng, Side.SELL, OrderType.MARKET, "0.5")  # @1051
    assert out.order is not None and out.order.realized_pnl == D(25)
    pos = eng.positions("a", SYMBOL)[0]
    assert pos.amount == D("1.5") and pos.entry_price == D(1001)


def test_flip_in_one_way_mode(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")  # long 1 @ 1001
    move(eng, 1101)
    out = place(eng, Side.SELL, OrderType.MARKET, "3")  # 1 @1101, 2 @1100
    assert out.order is not None
    pos = eng.positions("a", SYMBOL)[0]
    assert pos.amount == D(-2)
    # the first level (1 @ 1101) closes the long (+100); 2 @ 1100 open the short
    assert out.order.realized_pnl == D(100)
    assert pos.entry_price == D(1100)
    fees, pnl = fees_and_pnl(eng)
    assert wallet(eng) == START + pnl - fees


def test_unrealized_follows_mark_not_last(eng):
    place(eng, Side.BUY, OrderType.MARKET, "2")  # 1@1001 + 1@1002 → entry 1001.5
    move(eng, 1000, mark=1101)
    pos = eng.positions("a", SYMBOL)[0]
    assert pos.entry_price == D("1001.5")
    assert pos.mark_price == D(1101)
    assert pos.unrealized_pnl == D(2) * (D(1101) - D("1001.5"))
    summary = eng.account_summary("a")
    assert summary.total_unrealized_pnl == pos.unrealized_pnl
    assert summary.total_margin_balance == summary.total_wallet_balance + pos.unrealized_pnl
    # default leverage 20: IM = 2 × 1101 / 20
    assert summary.total_position_initial_margin == D(2) * 1101 / 20
    assert summary.available_balance == summary.total_margin_balance - summary.total_initial_margin


def test_break_even_price_includes_opening_fee(eng):
    place(eng, Side.BUY, OrderType.MARKET, "1")
    pos = eng.positions("a", SYMBOL)[0]
    assert pos.break_even_price == D(1001) + D("0.5005")


def test_hedge_mode_long_and_short_coexist():
    eng = make_engine(hedge=True)
    assert place(eng, Side.BUY, OrderType.MARKET, "1", position_side=PositionSide.LONG).ok  # @1001
    assert place(eng, Side.SELL, OrderType.MARKET, "1", position_side=PositionSide.SHORT).ok  # @1000
    rows = {p.position_side: p for p in eng.positions("a", SYMBOL)}
    assert set(rows) == {PositionSide.LONG, PositionSide.SHORT}
    assert rows[PositionSide.LONG].amount == 1 and rows[PositionSide.LONG].entry_price == 1001
    assert rows[PositionSide.SHORT].amount == -1 and rows[PositionSide.SHORT].entry_price == 1000
    move(eng, 1100)
    out = place(eng, Side.SELL, OrderType.MARKET, "1", position_side=PositionSide.LONG)  # close long @1100
    assert out.order is not None and out.order.realized_pnl == D(99)
    acc = [e for e in out.events if isinstance(e, AccountUpdate)]
    assert [p.position_side for p in acc[0].positions] == [PositionSide.LONG]
    rows = {p.position_side: p for p in eng.positions("a", SYMBOL)}
    assert rows[PositionSide.LONG].amount == 0 and rows[PositionSide.SHORT].amount == -1
    fees, pnl = fees_and_pnl(eng)
    assert wallet(eng) == START + pnl - fees


def test_insufficient_margin_rejected_and_leverage_matters():
    eng = make_engine(balance=D(100))
    eng.set_leverage("a", SYMBOL, 1)
    out = place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900))
    assert out.reject is not None and out.reject.reason is RejectReason.INSUFFICIENT_MARGIN
    out = place(eng, Side.BUY, OrderType.MARKET, "1")
    assert out.reject is not None and out.reject.reason is RejectReason.INSUFFICIENT_MARGIN
    lev = eng.set_leverage("a", SYMBOL, 20)
    assert lev.ok and any(isinstance(e, ConfigUpdate) and e.leverage == 20 for e in lev.events)
    assert place(eng, Side.BUY, OrderType.LIMIT, "1", price=D(900)).ok  # IM 45 ≤ 100


def test_open_orders_reserve_margin_and_opposite_orders_net(eng):
    place(eng, Side.BUY, OrderType.LIMIT, "2", price=D(900))
    bal = eng.balance("a", "USDT")
    assert bal.open_order_initial_margin == D(2) * 900 / 20
    # a sell of the same size does not add margin in one-way mode (max of both sides)
    place(eng, Side.SELL, OrderType.LIMIT, "1", price=D(1100))
    assert eng.balance("a", "USDT").open_order_initial_margin == D(2) * 900 / 20
    assert bal.available_balance == D(10_000) - D(90)


def test_reducing_order_allowed_when_margin_is_short():
    eng = make_engine(balance=D(100))
    assert place(eng, Side.BUY, OrderType.MARKET, "1").ok  # IM 1001/20 ≈ 50
    move(eng, 960)  # unrealized -41 → margin balance ≈ 58.5; IM 48
    assert place(eng, Side.BUY, OrderType.MARKET, "1").reject is not None
    assert place(eng, Side.SELL, OrderType.MARKET, "1").ok


def test_leverage_validation(eng):
    out = eng.set_leverage("a", SYMBOL, 0)
    assert out.reject is not None and out.reject.reason is RejectReason.INVALID_LEVERAGE
    out = eng.set_leverage("a", SYMBOL, 126)
    assert out.reject is not None and out.reject.reason is RejectReason.INVALID_LEVERAGE
    assert eng.set_leverage("a", SYMBOL, 125).ok and eng.leverage("a", SYMBOL) == 125


def test_lowering_leverage_refused_when_margin_is_short():
    eng = make_engine(balance=D(100))
    eng.set_leverage("a", SYMBOL, 50)
    assert place(eng, Side.BUY, OrderType.MARKET, "1").ok
    out = eng.set_leverage("a", SYMBOL, 2)
    assert out.reject is not None and out.reject.reason is RejectReason.LEVERAGE_INSUFFICIENT_MARGIN
    assert eng.leverage("a", SYMBOL) == 50


def test_deposit_and_withdraw(eng):
    out = eng.deposit("a", "USDT", D(500))
    assert out.ok and isinstance(out.events[0], AccountUpdate)
    assert out.events[0].balances[0].balance_change == D(500)
    assert wallet(eng) == D(10_500)
    too_much = eng.deposit("a", "USDT", D(-20_000))
    assert too_much.reject is not None and too_much.reject.reason is RejectReason.INSUFFICIENT_BALANCE
    assert eng.deposit("a", "USDT", D(-500)).ok and wallet(eng) == START
    zero = eng.deposit("a", "USDT", D(0))
    assert zero.reject is not None and zero.reject.reason is RejectReason.INVALID_AMOUNT


def test_set_position_admin(eng):
    out = eng.set_position("a", SYMBOL, D("-0.5"), D(1200))
    assert out.ok
    pos = eng.positions("a", SYMBOL)[0]
    assert pos.amount == D("-0.5") and pos.unrealized_pnl == D("-0.5") * (D(1000) - 1200)
    bad = eng.set_position("a", SYMBOL, D(1), D(0))
    assert bad.reject is not None and bad.reject.reason is RejectReason.INVALID_AMOUNT


def test_account_admin_errors():
    eng = make_engine()
    dup = eng.create_account("a", {"USDT": D(1)})
    assert dup.reject is not None and dup.reject.reason is RejectReason.ACCOUNT_EXISTS
    neg = eng.create_account("b", {"USDT": D(-1)})
    assert neg.reject is not None and neg.reject.reason is RejectReason.INVALID_AMOUNT
    assert not eng.has_account("b")
    import pytest

    from sidedesk_sim.engine import EngineError

    with pytest.raises(EngineError):
        eng.positions("nobody")
    with pytest.raises(EngineError):
        eng.market("NOPE")
