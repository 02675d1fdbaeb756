"""The Binance simulator's 24 h statistics and klines (marketdata.py) and the stream names it serves
(streams.py): pure, with pinned times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from sidedesk_sim.binance import wire
from sidedesk_sim.binance.marketdata import DAY_MS, INTERVALS, SymbolMarket, kline_bounds
from sidedesk_sim.binance.streams import Subscriptions, parse_stream, produced
from sidedesk_sim.engine import default_instruments


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


T = ms(2026, 12, 9, 13, 47, 12)  # a Wednesday


@pytest.mark.parametrize(
    ("interval", "start", "end"),
    [
        ("1m", ms(2026, 12, 9, 13, 47), ms(2026, 12, 9, 13, 48)),
        ("15m", ms(2026, 12, 9, 13, 45), ms(2026, 12, 9, 14, 0)),
        ("4h", ms(2026, 12, 9, 12), ms(2026, 12, 9, 16)),
        ("1d", ms(2026, 12, 9), ms(2026, 12, 10)),
        ("1w", ms(2026, 12, 7), ms(2026, 12, 14)),  # weeks open on Monday 00:00 UTC
        ("1M", ms(2026, 12, 1), ms(2027, 1, 1)),  # calendar months
    ],
)
def test_kline_bounds(interval: str, start: int, end: int) -> None:
    assert kline_bounds(interval, T) == (start, end - 1)
    assert kline_bounds(interval, start) == (start, end - 1)


def test_three_day_klines_are_epoch_aligned() -> None:
    start, end = kline_bounds("3d", T)
    assert start % (3 * DAY_MS) == 0 and start <= T <= end and end - start == 3 * DAY_MS - 1
    assert set(INTERVALS) == {"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d",
                              "1w", "1M"}  # fmt: skip


def test_trades_fill_klines_and_the_rolling_window() -> None:
    m = SymbolMarket("BTCUSDT", D("100"), T)
    m.trade(D("101"), D("2"), 7, buyer_is_maker=False, t_ms=T + 1)
    m.trade(D("99"), D("1"), 8, buyer_is_maker=True, t_ms=T + 2)
    k = m.klines["1m"]
    assert (k.open, k.high, k.low, k.close) == (D("100"), D("101"), D("99"), D("99"))
    assert (k.volume, k.quote_volume, k.count, k.first_id, k.last_id) == (D(3), D(301), 2, 7, 8)
    assert (k.taker_buy_volume, k.taker_buy_quote) == (D(2), D(202))
    r = m.rolling(T + 3)
    assert (r.open, r.high, r.low, r.last, r.last_qty) == (D("100"), D("101"), D("99"), D("99"), D(1))
    assert (r.volume, r.count, r.first_id, r.last_id) == (D(3), 2, 7, 8)
    assert r.change == D(-1) and r.change_percent == D(-1) and r.weighted_avg == D(301) / 3
    assert (r.open_ms, r.close_ms) == (T + 3 - DAY_MS, T + 3)
    # a jump without a trade moves the prices, not the volume
    m.price(D("120"), T + 4)
    assert (m.klines["1m"].high, m.klines["1m"].count) == (D("120"), 2)
    assert m.rolling(T + 5).last == D("120")
    # the next minute: the 1m kline closed, the new one opens at the last close, with no trade yet
    m.roll(T + 60_000)
    closed, new = m.closed["1m"], m.klines["1m"]
    assert closed.close == D("120") and closed.count == 2
    assert (new.open, new.count, new.first_id, new.last_id) == (D("120"), 0, -1, -1)
    assert "1h" not in m.closed  # still the same hour
    # a day later the trades have left the 24 h window; open is the price a day ago
    later = m.rolling(T + DAY_MS + 120_000)
    assert (later.volume, later.count, later.first_id) == (D(0), 0, -1)
    assert (later.open, later.last) == (D(120), D(120))


def test_wire_frames_have_the_documented_fields() -> None:
    inst = default_instruments()["BTCUSDT"]
    m = SymbolMarket("BTCUSDT", D("60000"), T)
    m.trade(D("60010.5"), D("0.25"), 1, buyer_is_maker=False, t_ms=T)
    r = m.rolling(T)
    t = wire.ticker_24h(r, inst, T)
    assert t == {"e": "24hrTicker", "E": T, "s": "BTCUSDT", "p": "10.50", "P": "0.018", "w": "60010.50",
                 "c": "60010.50", "Q": "0.250", "o": "60000.00", "h": "60010.50", "l": "60000.00",
                 "v": "0.250", "q": "15002.63", "O": T - DAY_MS, "C": T, "F": 1, "L": 1, "n": 1}  # fmt: skip
    assert wire.mini_ticker(r, inst, T) == {"e": "24hrMiniTicker", "E": T, "s": "BTCUSDT", "c": "60010.50",
                                            "o": "60000.00", "h": "60010.50", "l": "60000.00", "v": "0.250",
                                            "q": "15002.63"}  # fmt: skip
    k = wire.kline(m.klines["5m"], "BTCUSDT", "5m", inst, T, closed=False)
    assert k["e"] == "kline" and k["s"] == "BTCUSDT"
    assert k["k"] == {"t": ms(2026, 12, 9, 13, 45), "T": ms(2026, 12, 9, 13, 50) - 1, "s": "BTCUSDT",
                      "i": "5m", "f": 1, "L": 1, "o": "60000.00", "c": "60010.50", "h": "60010.50",
                      "l": "60000.00", "v": "0.250", "n": 1, "x": False, "q": "15002.6250", "V": "0.250",
                      "Q": "15002.6250", "B": "0"}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "served"),
    [
        ("btcusdt@ticker", True),
        ("btcusdt@miniTicker", True),
        ("!ticker@arr", True),
        ("!miniTicker@arr", True),
        ("btcusdt@kline_1m", True),
        ("btcusdt@kline_1M", True),
        ("btcusdt@trade", True),
        ("!ticker", False),  # the all-market ticker is only `!ticker@arr`
        ("btcusdt@ticker@arr", False),
        ("btcusdt@kline_7m", False),
        ("btcusdt@kline", False),
        ("!trade", False),
        ("btcusdt@depth", False),  # not produced by the simulator (README limits)
    ],
)
def test_served_stream_names(name: str, served: bool) -> None:
    p = parse_stream(name)
    assert p is not None and produced(p) is served


def test_routes_and_unknown_symbols() -> None:
    market = Subscriptions("market", combined=False, known_symbols=frozenset({"BTCUSDT"}))
    silent = market.subscribe(["btcusdt@ticker", "xyzusdt@ticker", "btcusdt@trade", "btcusdt@kline_1h"])
    assert silent == ["xyzusdt@ticker", "btcusdt@trade"]  # unknown symbol; @trade is a /public stream
    assert [s.name for s in market.live_streams()] == ["btcusdt@ticker", "btcusdt@kline_1h"]
    public = Subscriptions("public", combined=False, known_symbols=frozenset({"BTCUSDT"}))
    assert public.subscribe(["btcusdt@trade", "btcusdt@miniTicker"]) == ["btcusdt@miniTicker"]
    assert [s.interval for s in market.live_streams()] == ["", "1h"]
