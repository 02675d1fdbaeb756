"""Instrument filters and formatting helpers."""

from __future__ import annotations

from decimal import Decimal

from sidedesk_sim.engine import FilterFailure, Side, default_instruments

D = Decimal
BTC = default_instruments()["BTCUSDT"]


def test_default_symbols():
    assert set(default_instruments()) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"}
    for inst in default_instruments().values():
        assert inst.check_price(inst.round_price(inst.initial_price)) is None
        assert (
            inst.check_qty(inst.min_qty) is None and inst.check_qty(inst.market_min_qty, market=True) is None
        )


def test_check_price():
    assert BTC.check_price(D("60000.1")) is None
    assert BTC.check_price(D("60000.10")) is None
    assert BTC.check_price(D("60000.15")) is FilterFailure.PRICE_NOT_ON_TICK
    assert BTC.check_price(D("60000.123")) is FilterFailure.PRICE_TOO_PRECISE
    assert BTC.check_price(D(0)) is FilterFailure.NOT_POSITIVE
    assert BTC.check_price(D(100)) is FilterFailure.PRICE_BELOW_MIN
    assert BTC.check_price(D(900_000)) is FilterFailure.PRICE_ABOVE_MAX


def test_check_qty():
    assert BTC.check_qty(D("0.001")) is None
    assert BTC.check_qty(D("0.0015")) is FilterFailure.QTY_TOO_PRECISE
    assert BTC.check_qty(D(0)) is FilterFailure.NOT_POSITIVE
    assert BTC.check_qty(D("1001")) is FilterFailure.QTY_ABOVE_MAX
    assert BTC.check_qty(D("500"), market=False) is None
    assert BTC.check_qty(D("500"), market=True) is FilterFailure.QTY_ABOVE_MAX
    sol = default_instruments()["SOLUSDT"]
    assert sol.check_qty(D("1.5")) is FilterFailure.QTY_TOO_PRECISE
    eth = default_instruments()["ETHUSDT"]
    assert eth.check_qty(D("0.0005")) is FilterFailure.QTY_TOO_PRECISE


def test_check_notional_and_reduce_only_exemption():
    assert BTC.check_notional(D(60000), D("0.001")) is FilterFailure.NOTIONAL_TOO_SMALL
    assert BTC.check_notional(D(60000), D("0.001"), reduce_only=True) is None
    assert BTC.check_notional(D(60000), D("0.002")) is None


def test_percent_price():
    assert BTC.check_percent_price(Side.BUY, D(63000), D(60000)) is None
    assert (
        BTC.check_percent_price(Side.BUY, D("63000.1"), D(60000)) is FilterFailure.PRICE_ABOVE_MULTIPLIER_UP
    )
    assert BTC.check_percent_price(Side.SELL, D(56999), D(60000)) is FilterFailure.PRICE_BELOW_MULTIPLIER_DOWN
    assert BTC.check_percent_price(Side.SELL, D(57000), D(60000)) is None
    assert BTC.percent_price_bounds(D(60000)) == (D(57000), D(63000))


def test_rounding_and_formatting():
    assert BTC.round_price(D("60000.16")) == D("60000.2")
    assert BTC.round_qty(D("0.0019")) == D("0.001")
    assert BTC.format_price(D(60000)) == "60000.00"
    assert BTC.format_qty(D("0.5")) == "0.500"
    doge = default_instruments()["DOGEUSDT"]
    assert doge.format_price(D("0.15")) == "0.150000" and doge.format_qty(D(12)) == "12"
