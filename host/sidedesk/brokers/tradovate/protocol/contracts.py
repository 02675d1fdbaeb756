"""Which contract of a futures product Sidedesk trades: the front month, chosen by expiry. Pure.

`contract/suggest` lists a product's contracts (expired ones too, for a while, and in no documented
order), so the first name that looks like a contract is not necessarily the one to trade. Each
candidate's last trading moment comes from Tradovate's `contractMaturity.expirationDate`
(brokers.md §1.6) when it answers, else from the exchange's rule for the quarterly equity-index
futures (ES, MES, NQ, MNQ):

- CME: "Termination of trading: 9:30 a.m. Eastern Time on the 3rd Friday of the contract month"
  (CME Rulebook chapter 358, E-mini S&P 500, and 359, E-mini Nasdaq-100; the Micro E-mini
  contracts follow the same rule). Eastern Time, so the UTC instant moves with daylight saving.
  Listed months are March, June, September and December (H, M, U, Z).

Roll rule: the front month is the listed contract with the nearest expiry that is still more than
`roll_days` days away, so by default (`roll_days` = 0) Sidedesk trades a contract until its last
trading moment and the next quarter from then on. Traders often roll about eight days earlier,
when volume moves (the second Thursday before expiry); set `roll_days` for that. When every listed
contract is inside the roll window, the nearest one that has not expired is kept.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sidedesk.brokers.tradovate.protocol.frames import iso_ms

MONTH_CODES = "FGHJKMNQUVXZ"  # January .. December (CME month codes)
DAY_MS = 86_400_000
NEW_YORK = ZoneInfo("America/New_York")
# the products whose expiry follows the CME equity-index rule above when Tradovate gives none
EQUITY_INDEX_ROOTS = frozenset({"ES", "MES", "NQ", "MNQ"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One contract of a product as listed: id, name, and what Tradovate said of its maturity."""

    contract_id: int
    name: str
    maturity_id: int | None = None
    expires_ms: int | None = None  # contractMaturity.expirationDate, when known
    is_front: bool | None = None  # Tradovate's own flag (informative: the roll rule decides)


@dataclass(frozen=True, slots=True)
class Choice:
    contract_id: int
    name: str
    expires_ms: int
    source: str  # "contractMaturity" or "CME rule"

    @property
    def expires(self) -> str:
        """The last trading day as the exchange counts it (New York date), e.g. 2026-12-18."""
        return expiry_date(self.expires_ms)


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(calendar.FRIDAY - first.weekday()) % 7 + 14)


def cme_expiry_ms(year: int, month: int) -> int:
    """09:30 New York time on the third Friday of the month (the rule in the module docstring)."""
    d = third_friday(year, month)
    return int(datetime(d.year, d.month, d.day, 9, 30, tzinfo=NEW_YORK).timestamp() * 1000)


def expiry_date(expires_ms: int) -> str:
    return datetime.fromtimestamp(expires_ms / 1000, tz=UTC).astimezone(NEW_YORK).date().isoformat()


def contract_month(name: str, root: str, now_ms: int) -> tuple[int, int] | None:
    """(year, month) of `root` + month code + one year digit (`MESZ6`), the digit read as the
    year ending in it from last year to eight years ahead of `now_ms`."""
    m = re.fullmatch(rf"{re.escape(root)}([{MONTH_CODES}])(\d)", name)
    if m is None:
        return None
    base = datetime.fromtimestamp(now_ms / 1000, tz=UTC).year - 1
    return base + (int(m.group(2)) - base) % 10, MONTH_CODES.index(m.group(1)) + 1


def candidates(root: str, suggest: Any) -> list[Candidate]:
    """The contracts of `root` in a `contract/suggest` answer (other products' names dropped)."""
    pattern = re.compile(rf"^{re.escape(root)}[{MONTH_CODES}]\d$")
    out = []
    for c in suggest if isinstance(suggest, list) else []:
        if not isinstance(c, dict) or not pattern.match(str(c.get("name"))):
            continue
        cid, mid = c.get("id"), c.get("contractMaturityId")
        if isinstance(cid, bool) or not isinstance(cid, int):
            continue
        out.append(Candidate(cid, str(c["name"]), mid if isinstance(mid, int) else None))
    return out


def with_maturity(c: Candidate, maturity: Any) -> Candidate:
    """`c` with `contractMaturity/item`'s expirationDate and isFront, when the answer has them."""
    if not isinstance(maturity, dict):
        return c
    expires = iso_ms(maturity.get("expirationDate")) or None
    front = maturity.get("isFront")
    return Candidate(
        c.contract_id, c.name, c.maturity_id, expires, front if isinstance(front, bool) else None
    )


def expiry_of(c: Candidate, root: str, now_ms: int) -> tuple[int, str] | None:
    if c.expires_ms:
        return c.expires_ms, "contractMaturity"
    month = contract_month(c.name, root, now_ms) if root in EQUITY_INDEX_ROOTS else None
    if month is None:
        return None
    return cme_expiry_ms(*month), "CME rule"


def choose_front(root: str, listed: Iterable[Candidate], now_ms: int, roll_days: int = 0) -> Choice | None:
    """The contract to trade at `now_ms` (module docstring); None when every one has expired or
    none has a known expiry."""
    known = []
    for c in listed:
        exp = expiry_of(c, root, now_ms)
        if exp is not None:
            known.append(Choice(c.contract_id, c.name, exp[0], exp[1]))
    known.sort(key=lambda ch: (ch.expires_ms, ch.name))
    live = [ch for ch in known if now_ms < ch.expires_ms]
    outside_roll = [ch for ch in live if now_ms < ch.expires_ms - max(0, roll_days) * DAY_MS]
    if outside_roll:
        return outside_roll[0]
    return live[0] if live else None


__all__ = [
    "Candidate",
    "Choice",
    "candidates",
    "choose_front",
    "cme_expiry_ms",
    "contract_month",
    "expiry_date",
    "third_friday",
    "with_maturity",
]
