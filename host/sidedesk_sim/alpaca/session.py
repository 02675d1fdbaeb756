"""The simulated market session: is the regular session open, and when does it open/close next.

Pure: every question takes `now_ms`. Three modes:
- "open" / "closed": forced by the control plane (tests open and close the market at will);
  next_close / next_open are derived from the moment the mode was set (a 6.5 h session, a
  17.5 h night), so `/v2/clock` always has plausible future times;
- "nyse": US regular hours, 09:30-16:00 America/New_York, Monday to Friday (holidays and
  early closes are not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Mode = Literal["open", "closed", "nyse"]
MODES: tuple[str, ...] = ("open", "closed", "nyse")
SESSION_MS = 390 * 60_000
NIGHT_MS = 1050 * 60_000
_NY = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class ClockView:
    now_ms: int
    is_open: bool
    next_open_ms: int
    next_close_ms: int


@dataclass(frozen=True, slots=True)
class Session:
    mode: Mode = "open"
    since_ms: int = 0

    def view(self, now_ms: int) -> ClockView:
        if self.mode == "open":
            close = _roll(self.since_ms + SESSION_MS, now_ms)  # a forced session never ends
            return ClockView(now_ms, True, close + NIGHT_MS, close)
        if self.mode == "closed":
            opens = _roll(self.since_ms + NIGHT_MS, now_ms)
            return ClockView(now_ms, False, opens, opens + SESSION_MS)
        return nyse_view(now_ms)

    def is_open(self, now_ms: int) -> bool:
        return self.view(now_ms).is_open


def _roll(t: int, now_ms: int) -> int:
    """`t` moved on by whole days (session + night) until it lies after `now_ms`."""
    period = SESSION_MS + NIGHT_MS
    if t > now_ms:
        return t
    return t + ((now_ms - t) // period + 1) * period


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def nyse_view(now_ms: int) -> ClockView:
    now = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(_NY)
    day = now.date()
    for offset in range(0, 8):
        d = day + timedelta(days=offset)
        if d.weekday() >= 5:
            continue
        opens = datetime(d.year, d.month, d.day, 9, 30, tzinfo=_NY)
        closes = datetime(d.year, d.month, d.day, 16, 0, tzinfo=_NY)
        if now < opens:
            return ClockView(now_ms, False, _ms(opens), _ms(closes))
        if now < closes:
            return ClockView(now_ms, True, _next_open_after(closes), _ms(closes))
    raise AssertionError("no weekday within eight days")  # pragma: no cover


def _next_open_after(close: datetime) -> int:
    d = close.date()
    for offset in range(1, 8):
        n = d + timedelta(days=offset)
        if n.weekday() < 5:
            return _ms(datetime(n.year, n.month, n.day, 9, 30, tzinfo=_NY))
    raise AssertionError("no weekday within a week")  # pragma: no cover
