"""CME quarterly equity-index futures months (ES, MES, NQ, MNQ) on a clock. Pure.

The Tradovate and Volumetrica simulators both list their contracts from here, so the months they
show follow the simulator's clock instead of a fixed month that expires.

- Listed months are the quarterly cycle H (March), M (June), U (September), Z (December).
- A contract's last trading day is the third Friday of its month; trading in the expiring
  contract stops at 09:30 New York time that day (CME Rulebook, chapters 358 (E-mini S&P 500) and
  359 (E-mini Nasdaq-100), and their Micro versions; the times are in Eastern time, so the UTC
  instant moves with daylight saving).
- Roll rule (the simulator's choice): a contract is the front month until that 09:30 ET instant;
  from then on the next quarter is. Traders and data vendors usually roll about eight days
  earlier, on the "roll date" (the second Thursday before expiry) when volume moves; the
  simulator does not model that, it only lists both months then (`rolling`).
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MONTH_CODES = "FGHJKMNQUVXZ"  # January .. December
QUARTERLY = "HMUZ"
_NY = ZoneInfo("America/New_York")
ROLL_WINDOW = timedelta(days=8)  # the usual roll: eight days before the last trading day


def third_friday(year: int, month: int) -> date:
    """The third Friday of `month` (CME equity-index futures expire on it)."""
    first = date(year, month, 1)
    offset = (calendar.FRIDAY - first.weekday()) % 7
    return first + timedelta(days=offset + 14)


@dataclass(frozen=True, order=True)
class ContractMonth:
    year: int
    month: int

    def __post_init__(self) -> None:
        if MONTH_CODES[self.month - 1] not in QUARTERLY:
            raise ValueError(
                f"equity-index futures list only March, June, September, December, not {self.month}"
            )

    @property
    def code(self) -> str:
        return MONTH_CODES[self.month - 1]

    @property
    def short(self) -> str:
        """Month code + one year digit, as Tradovate names contracts (`Z6`)."""
        return f"{self.code}{self.year % 10}"

    @property
    def long(self) -> str:
        """Month code + two year digits, as dxFeed/Volumetrica name contracts (`Z26`)."""
        return f"{self.code}{self.year % 100:02d}"

    @property
    def last_trading_day(self) -> date:
        return third_friday(self.year, self.month)

    @property
    def expiry(self) -> datetime:
        """The last trading moment: 09:30 New York time on the third Friday (aware, UTC)."""
        d = self.last_trading_day
        return datetime(d.year, d.month, d.day, 9, 30, tzinfo=_NY).astimezone(UTC)

    @property
    def expiry_ms(self) -> int:
        return int(self.expiry.timestamp() * 1000)

    @property
    def serial(self) -> int:
        """Quarters since March 2000: a stable number per month, for simulator ids."""
        return (self.year - 2000) * 4 + QUARTERLY.index(self.code)

    def next(self) -> ContractMonth:
        if self.month == 12:
            return ContractMonth(self.year + 1, 3)
        return ContractMonth(self.year, self.month + 3)


def _as_datetime(now: datetime | int | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, int):
        return datetime.fromtimestamp(now / 1000, tz=UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now


def front(now: datetime | int | None = None) -> ContractMonth:
    """The front month at `now` (aware datetime or epoch ms; default: the wall clock): the nearest
    quarterly contract whose last trading moment has not passed."""
    t = _as_datetime(now)
    m = ContractMonth(t.year, ((t.month - 1) // 3) * 3 + 3)
    while m.expiry <= t:
        m = m.next()
    return m


def listed(
    now: datetime | int | None = None, count: int = 2, first: ContractMonth | None = None
) -> tuple[ContractMonth, ...]:
    """`count` consecutive quarterly months from the front month at `now` (or from `first`)."""
    if count < 1:
        raise ValueError("count must be >= 1")
    out = [first or front(now)]
    while len(out) < count:
        out.append(out[-1].next())
    return tuple(out)


def rolling(month: ContractMonth, now: datetime | int | None = None) -> bool:
    """True within `ROLL_WINDOW` before `month` expires (both months are quoted then)."""
    t = _as_datetime(now)
    return month.expiry - ROLL_WINDOW <= t < month.expiry


def parse_month(text: str, now: datetime | int | None = None) -> ContractMonth:
    """`Z6` or `Z26` (a quarterly month code and one or two year digits) as a `ContractMonth`.

    One digit means the year ending in that digit from last year to eight years ahead, as seen
    from `now` (so `H6` in December 2026 is March 2026, `H7` is March 2027)."""
    if len(text) not in (2, 3) or text[0] not in QUARTERLY or not text[1:].isdigit():
        raise ValueError(
            f"month must be H, M, U or Z and a one- or two-digit year, e.g. Z6 or Z26, got {text!r}"
        )
    month = MONTH_CODES.index(text[0]) + 1
    if len(text) == 3:
        return ContractMonth(2000 + int(text[1:]), month)
    base = _as_datetime(now).year - 1
    year = base + (int(text[1]) - base) % 10
    return ContractMonth(year, month)


def wall_ms() -> int:
    return int(time.time() * 1000)
