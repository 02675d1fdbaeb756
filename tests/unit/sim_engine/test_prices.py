"""Deterministic price process, scripted paths and market events."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk_sim.engine import (
    AggTrade,
    BookTickerUpdate,
    Engine,
    MarkPriceUpdate,
    PathSegment,
    default_instruments,
    parse_path,
)

from .helpers import SYMBOL, make_engine

D = Decimal


def walk(seed: int, times: list[int]) -> list[Decimal]:
    eng = Engine(seed=seed, start_ms=0)
    out = []
    for t in times:
        eng.advance(t)
        out.append(eng.market("BTCUSDT").last_price)
    return out


def test_same_seed_same_prices_and_events():
    a, b = Engine(seed=42, start_ms=0), Engine(seed=42, start_ms=0)
    assert a.advance(5_000) == b.advance(5_000)
    assert a.market("ETHUSDT") == b.market("ETHUSDT")


def test_different_seed_different_prices():
    assert walk(1, [10_000]) != walk(2, [10_000])


def test_prices_do_not_depend_on_how_often_you_advance():
    fine = walk(7, list(range(100, 20_001, 100)))[-1]
    coarse = walk(7, [3_333, 20_000])[-1]
    assert fine == coarse


def test_prices_stay_on_tick_and_positive():
    eng = Engine(seed=3, start_ms=0)
    eng.advance(60_000)
    for symbol, inst in default_instruments().items():
        m = eng.market(symbol)
        assert m.last_price > 0 and m.last_price % inst.tick_size == 0
        assert m.ask - m.bid == inst.tick_size


def test_random_walk_emits_trades_books_and_marks():
    eng = Engine(seed=5, start_ms=0)
    events = eng.advance(1_000)
    btc = [e for e in events if getattr(e, "symbol", None) == "BTCUSDT"]
    assert sum(isinstance(e, AggTrade) for e in btc) == 10  # one synthetic trade per 100 ms step
    assert any(isinstance(e, BookTickerUpdate) for e in btc)
    assert any(isinstance(e, MarkPriceUpdate) for e in btc)
    trades = [e for e in btc if isinstance(e, AggTrade)]
    assert [t.agg_id for t in trades] == list(range(1, 11))


def test_long_jump_bounds_market_events_but_keeps_time():
    eng = Engine(seed=5, start_ms=0, max_event_steps=10)
    events = eng.advance(600_000)
    assert sum(isinstance(e, AggTrade) and e.symbol == "BTCUSDT" for e in events) == 10
    assert eng.now_ms == 600_000


def test_frozen_price_is_quiet(eng):
    assert eng.advance(60_000) == []


def test_path_is_linear_and_exact(eng):
    eng.set_path(SYMBOL, "+5% over 10s, then -10% over 5s", eng.now_ms)
    start = eng.now_ms
    eng.advance(start + 5_000)
    assert eng.market(SYMBOL).last_price == D(1025)
    eng.advance(start + 10_000)
    assert eng.market(SYMBOL).last_price == D(1050)
    eng.advance(start + 15_000)
    assert eng.market(SYMBOL).last_price == D(945)
    eng.advance(start + 60_000)  # path over, volatility 0: stays
    assert eng.market(SYMBOL).last_price == D(945)


def test_path_targets_and_holds(eng):
    eng.set_path(
        SYMBOL, [PathSegment(1_000, target=D(1200)), PathSegment(2_000, change_pct=D(0))], eng.now_ms
    )
    t0 = eng.now_ms
    eng.advance(t0 + 2_000)
    assert eng.market(SYMBOL).last_price == D(1200)


def test_set_price_stops_a_path(eng):
    eng.set_path(SYMBOL, "+50%/10s", eng.now_ms)
    eng.set_price(SYMBOL, D(800), eng.now_ms + 100)
    eng.advance(eng.now_ms + 20_000)
    assert eng.market(SYMBOL).last_price == D(800)


def test_set_price_with_separate_mark(eng):
    events = eng.set_price(SYMBOL, D("1234.4"), eng.now_ms + 1, mark=D(1240))
    m = eng.market(SYMBOL)
    assert (m.last_price, m.mark_price, m.bid, m.ask) == (D(1234), D(1240), D(1234), D(1235))
    assert {type(e) for e in events} == {BookTickerUpdate, MarkPriceUpdate}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+5% over 10s", [PathSegment(10_000, change_pct=D(5))]),
        ("-3%/500ms; hold 2s", [PathSegment(500, change_pct=D(-3)), PathSegment(2_000, change_pct=D(0))]),
        (
            "=60000/1m then to 59000 in 1.5s",
            [PathSegment(60_000, target=D(60000)), PathSegment(1_500, target=D(59000))],
        ),
    ],
)
def test_parse_path(text, expected):
    assert parse_path(text) == expected


@pytest.mark.parametrize("text", ["", "5%/1s", "+5%", "+5%/0s", "-100%/1s", "=0/1s", "up a bit"])
def test_parse_path_errors(text):
    with pytest.raises(ValueError):
        parse_path(text)


def test_bad_prices_are_refused(eng):
    with pytest.raises(ValueError):
        eng.set_price(SYMBOL, D(0), eng.now_ms + 1)
    with pytest.raises(ValueError):
        eng.set_path(SYMBOL, "-99%/1s, =0.0/1s", eng.now_ms)
    assert eng.market(SYMBOL).last_price == D(1000)


def test_engine_time_is_monotonic():
    eng = make_engine()
    eng.advance(5_000)
    eng.advance(1_000)  # earlier: ignored
    assert eng.now_ms == 5_000
