"""Deterministic per-symbol price process: seeded random walk, scriptable paths, synthetic book.

Prices move on a fixed time grid (`step_ms`). The walk for a symbol depends only on the seed, the
symbol and the interventions (`set_price`, `set_path`, `set_volatility`) at given times — not on
how often the caller advances — so the same seed gives the same prices.

Model: `last` is the traded price (on the tick grid); `mark = last + mark_offset` (the offset is
set by `set_price(..., mark=...)` and kept until the next `set_price`); index = last; the book is
`spread_ticks` wide around `last` (bid = last − ⌊spread/2⌋ ticks) with `book_levels` levels per
side, level k holding `book_qty × (k + 1)`.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .instruments import Instrument
from .model import BookLevel

ZERO = Decimal(0)
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
DEFAULT_FUNDING_RATE = Decimal("0.00010000")


@dataclass(frozen=True)
class PathSegment:
    """One leg of a scripted path, starting where the previous leg ended.

    Exactly one of `change_pct` (relative move in percent, e.g. 5 or -3) and `target` (absolute
    price) is set; `change_pct=0` holds the price. The price moves linearly over `duration_ms`.
    """

    duration_ms: int
    change_pct: Decimal | None = None
    target: Decimal | None = None

    def end_price(self, start: Decimal) -> Decimal:
        if self.target is not None:
            return self.target
        assert self.change_pct is not None
        return start * (Decimal(1) + self.change_pct / Decimal(100))


_LEG = re.compile(
    r"^(?:(?P<pct>[+-]\d+(?:\.\d+)?)\s*%|(?:=|to\s+)(?P<target>\d+(?:\.\d+)?)|(?P<hold>hold))"
    r"\s*(?:/|over|for|in)?\s*(?P<dur>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|min)$"
)
_UNIT_MS = {"ms": Decimal(1), "s": Decimal(1000), "m": Decimal(60000), "min": Decimal(60000)}


def parse_path(text: str) -> list[PathSegment]:
    """Parse a path such as ``"+5% over 10s, then -3% over 5s, hold 2s, =60000/1s"``.

    Legs are separated by ``,`` ``;`` or ``then``. A leg is ``±N%``, ``=PRICE``/``to PRICE`` or
    ``hold``, followed by a duration in ``ms``, ``s`` or ``m``. Raises ValueError on bad input.
    """
    legs = [p.strip().lower() for p in re.split(r",|;|\bthen\b", text) if p.strip()]
    if not legs:
        raise ValueError("empty price path")
    out: list[PathSegment] = []
    for leg in legs:
        m = _LEG.match(leg)
        if m is None:
            raise ValueError(f"bad path leg {leg!r}: expected e.g. '+5% over 10s', '=60000/1s', 'hold 2s'")
        duration = int(Decimal(m["dur"]) * _UNIT_MS[m["unit"]])
        if duration <= 0:
            raise ValueError(f"bad path leg {leg!r}: duration must be > 0")
        if m["pct"] is not None:
            pct = Decimal(m["pct"])
            if pct <= Decimal(-100):
                raise ValueError(f"bad path leg {leg!r}: a price cannot fall by 100% or more")
            out.append(PathSegment(duration, change_pct=pct))
        elif m["target"] is not None:
            target = Decimal(m["target"])
            if target <= ZERO:
                raise ValueError(f"bad path leg {leg!r}: target must be > 0")
            out.append(PathSegment(duration, target=target))
        else:
            out.append(PathSegment(duration, change_pct=ZERO))
    return out


def _symbol_seed(seed: int, symbol: str) -> int:
    digest = hashlib.sha256(f"{seed}:{symbol}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class StepResult:
    """What one price step produced (the engine turns it into events)."""

    last_changed: bool  # mark and book move with it (mark = last + a fixed offset)
    trade_draw: int  # synthetic trade this step: 0 = none, else 1..1000 (size in ‰ of book_qty)
    buyer_is_maker: bool

    def trade_qty(self, instrument: Instrument) -> Decimal:
        if self.trade_draw == 0:
            return ZERO
        frac = Decimal(self.trade_draw) / Decimal(1000)
        return max(instrument.min_qty, instrument.round_qty(instrument.book_qty * frac))


class PriceFeed:
    """Price state of one symbol. Mutable; owned by the engine."""

    def __init__(self, instrument: Instrument, seed: int, start_ms: int, step_ms: int) -> None:
        self.instrument = instrument
        self.step_ms = step_ms
        self._rng = random.Random(_symbol_seed(seed, instrument.symbol))
        self.time_ms = start_ms  # time of the last step (or intervention)
        self._grid_origin = start_ms
        self.last = instrument.round_price(instrument.initial_price)
        self.mark_offset = ZERO
        self.volatility = instrument.volatility
        self.funding_rate = DEFAULT_FUNDING_RATE
        self.book_update_id = 1
        self.agg_id = 0
        self.trade_id = 0
        self._path: list[tuple[int, int, Decimal, Decimal]] = []  # (start_ms, end_ms, p0, p1)

    # ---- derived prices ----------------------------------------------------------------------
    @property
    def mark(self) -> Decimal:
        return self.instrument.round_price(self.last + self.mark_offset)

    @property
    def index(self) -> Decimal:
        return self.last

    @property
    def bid(self) -> Decimal:
        return self.last - self.instrument.tick_size * (self.instrument.spread_ticks // 2)

    @property
    def ask(self) -> Decimal:
        return self.bid + self.instrument.tick_size * max(1, self.instrument.spread_ticks)

    def next_funding_ms(self) -> int:
        return (self.time_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS

    def levels(self, taker_side_buy: bool) -> list[BookLevel]:
        """The side of the book a taker BUY (asks) or SELL (bids) consumes, best first."""
        inst = self.instrument
        tick = inst.tick_size
        out: list[BookLevel] = []
        for k in range(inst.book_levels):
            price = self.ask + tick * k if taker_side_buy else self.bid - tick * k
            if price <= ZERO:
                break
            out.append(BookLevel(price, inst.book_qty * (k + 1)))
        return out

    def next_trade_ids(self, n: int = 1) -> tuple[int, int]:
        """Reserve `n` consecutive trade ids; returns (first, last)."""
        first = self.trade_id + 1
        self.trade_id += n
        return first, self.trade_id

    def next_agg_id(self) -> int:
        self.agg_id += 1
        return self.agg_id

    # ---- interventions -------------------------------------------------------------------------
    def set_price(self, price: Decimal, now_ms: int, mark: Decimal | None = None) -> None:
        """Jump to `price` (rounded to the tick) now; cancels any running path."""
        if price <= ZERO or (mark is not None and mark <= ZERO):
            raise ValueError("prices must be > 0")
        self._path = []
        self.last = self.instrument.round_price(price)
        self.mark_offset = ZERO if mark is None else self.instrument.round_price(mark) - self.last
        self.time_ms = max(self.time_ms, now_ms)
        self.book_update_id += 1

    def set_path(self, segments: list[PathSegment], now_ms: int) -> None:
        """Run `segments` from the current price starting at `now_ms` (replaces any running path)."""
        if not segments:
            raise ValueError("empty price path")
        legs: list[tuple[int, int, Decimal, Decimal]] = []
        t, p = now_ms, self.last
        for seg in segments:
            if seg.duration_ms <= 0:
                raise ValueError("path durations must be > 0")
            end = seg.end_price(p)
            if end <= ZERO:
                raise ValueError("a path may not reach a price ≤ 0")
            legs.append((t, t + seg.duration_ms, p, end))
            t, p = t + seg.duration_ms, end
        self._path = legs

    @property
    def path_active(self) -> bool:
        return bool(self._path)

    def set_volatility(self, volatility: Decimal) -> None:
        if volatility < ZERO:
            raise ValueError("volatility must be ≥ 0")
        self.volatility = volatility

    # ---- time --------------------------------------------------------------------------------
    def next_step_ms(self, after_ms: int) -> int:
        """First grid time strictly after `after_ms`."""
        return self._grid_origin + ((after_ms - self._grid_origin) // self.step_ms + 1) * self.step_ms

    def step(self, t_ms: int) -> StepResult:
        """Move the price to grid time `t_ms` (called in increasing order)."""
        before_last = self.last
        self.time_ms = t_ms
        traded = False
        if self._path:
            traded = True
            while self._path and self._path[0][1] <= t_ms:
                leg = self._path.pop(0)
                self.last = self.instrument.round_price(leg[3])
            if self._path:
                start, end, p0, p1 = self._path[0]
                if t_ms > start:
                    frac = Decimal(t_ms - start) / Decimal(end - start)
                    self.last = self.instrument.round_price(p0 + (p1 - p0) * frac)
        elif self.volatility > ZERO:
            traded = True
            self._random_step()
        draw = 0
        buyer_is_maker = False
        if traded:
            # always drawn (even when no event is emitted) so the stream never depends on the caller
            draw = self._rng.randint(1, 1000)
            down = self.last < before_last
            buyer_is_maker = down or (self.last == before_last and self._rng.random() < 0.5)
        last_changed = self.last != before_last
        if last_changed:
            self.book_update_id += 1
        return StepResult(last_changed, draw, buyer_is_maker)

    def _random_step(self) -> None:
        inst = self.instrument
        tick = inst.tick_size
        # relative std-dev per step = volatility × sqrt(step seconds); move by whole ticks
        sigma = float(self.volatility) * (self.step_ms / 1000.0) ** 0.5 * float(self.last / tick)
        ticks = round(self._rng.gauss(0.0, sigma))
        if ticks:
            new = self.last + ticks * tick
            floor = max(inst.min_price, tick) if inst.min_price > ZERO else tick
            self.last = new if new >= floor else floor.quantize(tick, rounding=ROUND_HALF_UP)
