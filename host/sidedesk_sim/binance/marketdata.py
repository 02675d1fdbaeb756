"""24 h rolling statistics and klines from the engine's trades, for the `@ticker`, `@miniTicker`,
`!ticker@arr`, `!miniTicker@arr` and `@kline_<interval>` streams (binance.md §5.1; Binance docs
`websocket-market-streams/{Individual-Symbol-Ticker-Streams, Individual-Symbol-Mini-Ticker-Stream,
All-Market-Tickers-Streams, All-Market-Mini-Tickers-Stream, Kline-Candlestick-Streams}`). Pure.

Every market trade of the engine (its synthetic flow and accounts' taker fills, the `aggTrade`
events) counts: price, quantity, quote volume, taker-buy volume, trade ids. A price move without a
trade (the control plane's `/price`) moves open/high/low/close but adds no volume.

The 24 h window is rolled in one-minute buckets (Binance rolls it continuously); it starts when the
simulator starts, so the first day's statistics cover only the time since then. Klines follow UTC:
intervals up to a day are aligned to the epoch, `1w` opens on Monday 00:00 and `1M` on the first of
the month. A kline with no trade has first/last trade id -1 (inference: Binance's convention for
"no trade" in kline data; not in the docs' example).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

ZERO = Decimal(0)
MINUTE_MS = 60_000
DAY_MS = 86_400_000
_MONDAY_MS = 4 * DAY_MS  # 1970-01-05, the first Monday after the epoch

INTERVALS: dict[str, int] = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "2h": 120 * MINUTE_MS,
    "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS,
    "8h": 480 * MINUTE_MS,
    "12h": 720 * MINUTE_MS,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS,
    "1M": 0,  # calendar months
}


def kline_bounds(interval: str, t_ms: int) -> tuple[int, int]:
    """(open time, close time) of the `interval` kline holding `t_ms`; the close time is the last
    millisecond of the kline, as Binance sends it (`T` = next open - 1)."""
    if interval == "1M":
        d = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
        first = datetime(d.year, d.month, 1, tzinfo=UTC)
        after = datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=UTC)
        return int(first.timestamp() * 1000), int(after.timestamp() * 1000) - 1
    size = INTERVALS[interval]
    origin = _MONDAY_MS if interval == "1w" else 0
    start = (t_ms - origin) // size * size + origin
    return start, start + size - 1


@dataclass
class Candle:
    """One kline, or one minute of the 24 h window."""

    open_ms: int
    close_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = ZERO
    quote_volume: Decimal = ZERO
    taker_buy_volume: Decimal = ZERO
    taker_buy_quote: Decimal = ZERO
    count: int = 0
    first_id: int = -1
    last_id: int = -1
    version: int = 0  # bumped on every change (publishers send only what changed)

    @classmethod
    def flat(cls, bounds: tuple[int, int], price: Decimal) -> Candle:
        return cls(bounds[0], bounds[1], price, price, price, price)

    def price(self, price: Decimal) -> None:
        if price == self.close and self.low <= price <= self.high:
            return
        self.close = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.version += 1

    def trade(self, price: Decimal, qty: Decimal, trade_id: int, taker_buys: bool) -> None:
        if self.count == 0:  # no trade yet: the first trade opens the candle's volume
            self.first_id = trade_id
        self.close = price
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.volume += qty
        self.quote_volume += price * qty
        if taker_buys:
            self.taker_buy_volume += qty
            self.taker_buy_quote += price * qty
        self.count += 1
        self.last_id = trade_id
        self.version += 1


@dataclass(frozen=True)
class Rolling:
    """24 h statistics of one symbol at `close_ms` (the `24hrTicker` fields)."""

    symbol: str
    open_ms: int
    close_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    last_qty: Decimal
    volume: Decimal
    quote_volume: Decimal
    first_id: int
    last_id: int
    count: int
    version: tuple[int, int]  # changes when any of the statistics above (but the times) changed

    @property
    def change(self) -> Decimal:
        return self.last - self.open

    @property
    def change_percent(self) -> Decimal:
        return self.change / self.open * 100 if self.open else ZERO

    @property
    def weighted_avg(self) -> Decimal:
        return self.quote_volume / self.volume if self.volume else self.last


class SymbolMarket:
    """One symbol's trades folded into minute buckets (24 h) and one current kline per interval."""

    def __init__(self, symbol: str, price: Decimal, now_ms: int) -> None:
        self.symbol = symbol
        self.last = price
        self.last_qty = ZERO
        self.minutes: deque[Candle] = deque([Candle.flat(kline_bounds("1m", now_ms), price)])
        self.klines = {i: Candle.flat(kline_bounds(i, now_ms), price) for i in INTERVALS}
        self.closed: dict[str, Candle] = {}  # the last kline of each interval that closed
        self.version = 0
        self._rolling: tuple[tuple[int, int], Rolling] | None = None

    def roll(self, now_ms: int) -> None:
        """Close what ended before `now_ms`: klines (kept as `closed`) and minutes older than 24 h."""
        for i, k in self.klines.items():
            if now_ms > k.close_ms:
                self.closed[i] = k
                self.klines[i] = Candle.flat(kline_bounds(i, now_ms), k.close)
        if now_ms > self.minutes[-1].close_ms:
            self.minutes.append(Candle.flat(kline_bounds("1m", now_ms), self.minutes[-1].close))
        while self.minutes[0].close_ms <= now_ms - DAY_MS:
            self.minutes.popleft()

    def trade(self, price: Decimal, qty: Decimal, trade_id: int, buyer_is_maker: bool, t_ms: int) -> None:
        self.roll(t_ms)
        taker_buys = not buyer_is_maker
        for c in (self.minutes[-1], *self.klines.values()):
            c.trade(price, qty, trade_id, taker_buys)
        self.last, self.last_qty = price, qty
        self.version += 1

    def price(self, price: Decimal, t_ms: int) -> None:
        """A last-price move without a trade (a price jump set from the control plane)."""
        if price == self.last:
            return
        self.roll(t_ms)
        for c in (self.minutes[-1], *self.klines.values()):
            c.price(price)
        self.last = price
        self.version += 1

    def rolling(self, now_ms: int) -> Rolling:
        """The 24 h statistics (minute buckets that end within the last 24 h)."""
        key = (self.version, now_ms // MINUTE_MS)
        if self._rolling is not None and self._rolling[0] == key:
            return replace(self._rolling[1], open_ms=now_ms - DAY_MS, close_ms=now_ms)
        self.roll(now_ms)
        window = list(self.minutes)
        traded = [c for c in window if c.count]
        stats = Rolling(
            symbol=self.symbol,
            open_ms=now_ms - DAY_MS,
            close_ms=now_ms,
            open=window[0].open,
            high=max(c.high for c in window),
            low=min(c.low for c in window),
            last=self.last,
            last_qty=self.last_qty,
            volume=sum((c.volume for c in window), ZERO),
            quote_volume=sum((c.quote_volume for c in window), ZERO),
            first_id=traded[0].first_id if traded else -1,
            last_id=traded[-1].last_id if traded else -1,
            count=sum(c.count for c in window),
            version=(self.version, window[0].open_ms),
        )
        self._rolling = (key, stats)
        return stats


class MarketData:
    """`SymbolMarket` per symbol, fed by the simulator's fan-out."""

    def __init__(self, prices: dict[str, Decimal], now_ms: int) -> None:
        self.symbols = {s: SymbolMarket(s, p, now_ms) for s, p in prices.items()}

    def roll(self, now_ms: int) -> None:
        for m in self.symbols.values():
            m.roll(now_ms)
