"""Pre-flight validation and rounding on every filter, and client ids."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidedesk.core import orders as o
from sidedesk.domain import InstrumentRules, OrderType, PositionEvent, PositionSide, Side, TimeInForce

D = Decimal
BTC = InstrumentRules(
    symbol="BTCUSDT",
    base_asset="BTC",
    quote_asset="USDT",
    tick_size=D("0.10"),
    step_size=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D("1000"),
    market_step_size=D("0.001"),
    market_min_qty=D("0.001"),
    market_max_qty=D("120"),
    min_notional=D("100"),
    price_precision=2,
    quantity_precision=3,
    min_price=D("261.10"),
    max_price=D("809484"),
    percent_up=D("1.05"),
    percent_down=D("0.95"),
)
CID = "sdm00000000000a"


def test_price_rounding_buy_down_sell_up_on_min_price_grid() -> None:
    assert o.round_price(D("60000.07"), Side.BUY, BTC) == D("60000.00")
    assert o.round_price(D("60000.01"), Side.SELL, BTC) == D("60000.10")
    assert o.round_price(D("60000.10"), Side.SELL, BTC) == D("60000.10")
    odd = InstrumentRules(**{**{f: getattr(BTC, f) for f in BTC.__slots__}, "min_price": D("0.05")})  # type: ignore[attr-defined]
    assert o.round_price(D("1.00"), Side.BUY, odd) == D("0.95")


def test_quantity_for_notional_floors_to_step() -> None:
    assert o.quantity_for_notional(D("1000"), D("60000"), BTC, market=True) == D("0.016")


def test_notional_too_small_for_min_qty_gives_the_amount_needed() -> None:
    with pytest.raises(o.PreflightError) as e:
        o.quantity_for_notional(D("50"), D("60000"), BTC, market=True)
    # the fix must pass MIN_NOTIONAL too: 0.001 BTC (60 USDT) would still be refused below 100 USDT
    assert (
        e.value.field == "notional"
        and e.value.corrected == D("120")
        and "minimum quantity 0.001" in e.value.message
        and "at least 120.00 USDT" in e.value.message
    )


def test_min_notional_from_a_notional_is_corrected_in_quote_currency() -> None:
    with pytest.raises(o.PreflightError) as e:
        o.quantity_for_notional(D("110"), D("60000"), BTC, market=True)  # 0.001 × 60000 = 60 < 100
    assert e.value.field == "notional" and e.value.corrected == D("120")
    assert "minimum order value 100 USDT" in e.value.message
    # reduce-only is exempt
    assert o.quantity_for_notional(D("110"), D("60000"), BTC, market=True, reduce_only=True) == D("0.001")


@given(
    notional=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    price=st.decimals(min_value=D("300"), max_value=D("800000"), places=1),
)
def test_a_corrected_notional_always_passes(notional: Decimal, price: Decimal) -> None:
    """Regression: the corrected size once satisfied the minimum quantity but not MIN_NOTIONAL."""
    try:
        qty = o.quantity_for_notional(notional, price, BTC, market=True)
    except o.PreflightError as err:
        if err.field != "notional" or err.corrected is None:
            return  # e.g. above the maximum quantity: a different rule
        qty = o.quantity_for_notional(err.corrected, price, BTC, market=True)
    assert qty * price >= BTC.min_notional and qty >= BTC.market_min_qty


def test_min_notional_with_a_quantity_names_the_quantity() -> None:
    with pytest.raises(o.PreflightError) as e:
        o.check_min_notional(D("0.001"), D("60000"), BTC, reduce_only=False)
    assert e.value.corrected == D("0.002") and "below the minimum 100" in e.value.message


def test_market_max_quantity() -> None:
    with pytest.raises(o.PreflightError) as e:
        o.check_quantity(D("121"), BTC, market=True)
    assert e.value.corrected == D("120") and "market maximum" in e.value.message
    o.check_quantity(D("121"), BTC, market=False)  # the limit maximum is higher


@pytest.mark.parametrize(
    ("qty", "field_corrected"),
    [(D("0.0005"), D("0.001")), (D("0.0015"), D("0.001")), (D("0"), None), (D("-1"), None)],
)
def test_quantity_checks(qty: Decimal, field_corrected: Decimal | None) -> None:
    with pytest.raises(o.PreflightError) as e:
        o.check_quantity(qty, BTC, market=False)
    assert e.value.corrected == field_corrected


@pytest.mark.parametrize(
    ("price", "corrected"),
    [(D("100"), D("261.10")), (D("900000"), D("809484")), (D("60000.05"), D("60000.00"))],
)
def test_price_checks(price: Decimal, corrected: Decimal) -> None:
    with pytest.raises(o.PreflightError) as e:
        o.check_price(price, Side.BUY, BTC)
    assert e.value.corrected == corrected and e.value.details()["field"] == "price"


def test_percent_price() -> None:
    with pytest.raises(o.PreflightError) as e:
        o.check_percent_price(D("63001"), Side.BUY, D("60000"), BTC)
    assert e.value.corrected == D("63000.00") and "5.00 % above" in e.value.message
    with pytest.raises(o.PreflightError) as e:
        o.check_percent_price(D("56999"), Side.SELL, D("60000"), BTC)
    assert e.value.corrected == D("57000.00")
    o.check_percent_price(D("63000"), Side.BUY, D("60000"), BTC)
    o.check_percent_price(D("1"), Side.BUY, None, BTC)  # no mark yet: the exchange decides


def test_prepare_limit_post_only_rounds_and_sets_tif() -> None:
    t = o.Ticket("BTCUSDT", Side.SELL, "LIMIT", notional=D("1000"), price=D("60000.01"), post_only=True)
    r = o.prepare(t, BTC, client_id=CID, mark_price=D("60000"), hedge_mode=False)
    assert (r.price, r.quantity, r.time_in_force, r.type, r.position_side) == (
        D("60000.10"),
        D("0.016"),
        TimeInForce.GTX,
        OrderType.LIMIT,
        PositionSide.BOTH,
    )


def test_prepare_market_hedge_mode_sides() -> None:
    t = o.Ticket("BTCUSDT", Side.SELL, "MARKET", quantity=D("0.01"))
    assert (
        o.prepare(t, BTC, client_id=CID, mark_price=D("60000"), hedge_mode=True).position_side
        is PositionSide.SHORT
    )
    t2 = o.Ticket("BTCUSDT", Side.SELL, "MARKET", quantity=D("0.01"), reduce_only=True)
    assert (
        o.prepare(t2, BTC, client_id=CID, mark_price=D("60000"), hedge_mode=True).position_side
        is PositionSide.LONG
    )
    t3 = o.Ticket("BTCUSDT", Side.BUY, "LIMIT", quantity=D("0.01"), price=D("60000"), ioc=True)
    assert (
        o.prepare(t3, BTC, client_id=CID, mark_price=None, hedge_mode=False).time_in_force is TimeInForce.IOC
    )


@pytest.mark.parametrize(
    ("ticket", "field"),
    [
        (o.Ticket("BTCUSDT", Side.BUY, "LIMIT", notional=D(1000)), "price"),
        (o.Ticket("BTCUSDT", Side.BUY, "MARKET", notional=D(1000), price=D(1)), "price"),
        (o.Ticket("BTCUSDT", Side.BUY, "MARKET", notional=D(1000), post_only=True), "post_only"),
        (o.Ticket("BTCUSDT", Side.BUY, "MARKET"), "notional"),
        (o.Ticket("BTCUSDT", Side.BUY, "MARKET", notional=D(1000), quantity=D(1)), "quantity"),
        (o.Ticket("ETHUSDT", Side.BUY, "MARKET", notional=D(1000)), "symbol"),
        (o.Ticket("BTCUSDT", Side.BUY, "LIMIT", notional=D(1000), price=D("-5")), "price"),
        (o.Ticket("BTCUSDT", Side.BUY, "LIMIT", notional=D(1000), price=D("NaN")), "price"),
        (o.Ticket("BTCUSDT", Side.BUY, "MARKET", notional=D("Infinity")), "notional"),
        (
            o.Ticket("BTCUSDT", Side.BUY, "LIMIT", quantity=D("0.001"), price=D("60000")),
            "quantity",
        ),  # 60 < 100
    ],
)
def test_prepare_refuses(ticket: o.Ticket, field: str) -> None:
    with pytest.raises(o.PreflightError) as e:
        o.prepare(ticket, BTC, client_id=CID, mark_price=D("60000"), hedge_mode=False)
    assert e.value.field == field


def test_prepare_needs_a_mark_to_size_a_market_order_and_a_valid_client_id() -> None:
    t = o.Ticket("BTCUSDT", Side.BUY, "MARKET", notional=D(1000))
    with pytest.raises(o.PreflightError, match="mark price"):
        o.prepare(t, BTC, client_id=CID, mark_price=None, hedge_mode=False)
    with pytest.raises(o.PreflightError, match="client id"):
        o.prepare(t, BTC, client_id="no spaces", mark_price=D(60000), hedge_mode=False)
    halted = InstrumentRules(**{**{f: getattr(BTC, f) for f in BTC.__slots__}, "trading": False})  # type: ignore[attr-defined]
    with pytest.raises(o.PreflightError, match="not trading"):
        o.prepare(t, halted, client_id=CID, mark_price=D(60000), hedge_mode=False)


@pytest.mark.parametrize(
    ("qty", "ps", "fraction", "side", "expected"),
    [
        (D("0.017"), PositionSide.BOTH, D("0.5"), Side.SELL, D("0.008")),
        (D("-0.017"), PositionSide.BOTH, D("0.25"), Side.BUY, D("0.004")),
        (D("0.017"), PositionSide.LONG, D(1), Side.SELL, D("0.017")),
        (D("-0.017"), PositionSide.SHORT, D(1), Side.BUY, D("0.017")),
    ],
)
def test_close_order(
    qty: Decimal, ps: PositionSide, fraction: Decimal, side: Side, expected: Decimal
) -> None:
    pos = PositionEvent("acc", "BTCUSDT", ps, qty, D(60000))
    r = o.close_order(pos, fraction, BTC, client_id=CID)
    assert (r.side, r.quantity, r.reduce_only, r.position_side, r.type) == (
        side,
        expected,
        True,
        ps,
        OrderType.MARKET,
    )


def test_close_order_refusals() -> None:
    with pytest.raises(o.PreflightError, match="no BTCUSDT position"):
        o.close_order(PositionEvent("a", "BTCUSDT", PositionSide.BOTH, D(0), D(0)), D(1), BTC, client_id=CID)
    with pytest.raises(o.PreflightError, match="larger part"):
        o.close_order(
            PositionEvent("a", "BTCUSDT", PositionSide.BOTH, D("0.001"), D(1)), D("0.25"), BTC, client_id=CID
        )
    with pytest.raises(o.PreflightError):
        o.close_order(
            PositionEvent("a", "BTCUSDT", PositionSide.BOTH, D("1"), D(1)), D("1.5"), BTC, client_id=CID
        )


BINANCE_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


def test_client_ids() -> None:
    ids = {o.make_client_id("h") for _ in range(1000)}
    assert len(ids) == 1000 and all(BINANCE_RE.match(i) and i.startswith("sdh") for i in ids)
    fixed = o.make_client_id("m", now_ms=0, nonce=0)
    assert fixed == "sdm000000000000" and o.client_id_kind(fixed) == "m"
    asl = o.make_client_id("a", tag="BTC:L2")
    assert asl.startswith("sda") and asl.endswith("BTC:L2") and o.client_id_kind(asl) == "a"
    assert o.client_id_kind("x-Cb7ytekJabc") is None and o.client_id_kind("sdm") is None
    with pytest.raises(ValueError):
        o.make_client_id("a", tag="x" * 30)
    with pytest.raises(ValueError):
        o.make_client_id("z")  # type: ignore[arg-type]


@given(st.decimals(min_value=D("261.1"), max_value=D("800000"), places=4), st.sampled_from(list(Side)))
def test_rounded_price_is_on_grid_and_never_worse(price: Decimal, side: Side) -> None:
    r = o.round_price(price, side, BTC)
    assert ((r - BTC.min_price) % BTC.tick_size) == 0
    assert (r <= price) if side is Side.BUY else (r >= price)
    assert abs(r - price) < BTC.tick_size


@given(
    st.decimals(min_value=D("100"), max_value=D("5000000"), places=2),
    st.decimals(min_value=D("1000"), max_value=D("100000"), places=1),
)
def test_notional_quantity_never_spends_more(notional: Decimal, price: Decimal) -> None:
    try:
        q = o.quantity_for_notional(notional, price, BTC, market=False)
    except o.PreflightError as e:
        assert e.corrected is not None
        return
    assert q * price <= notional and (q - BTC.min_qty) % BTC.step_size == 0
