"""A local mirror of Binance's rate-limit pools (binance.md §8.2), so we refuse before the exchange does.

Pools: REQUEST_WEIGHT per minute (per IP), ORDERS per 10 s and per minute (per account). Windows are
fixed and aligned to the interval in server time, as Binance resets its counters on the boundary.
The limits come from exchangeInfo's `rateLimits`; the counts are corrected from every WS reply's
`rateLimits` array and from REST `X-MBX-USED-WEIGHT-1M` / `X-MBX-ORDER-COUNT-*` headers, because the
IP and the account are shared with other programs. A safety margin keeps us below the hard limit.
Inside the quota nothing waits: `acquire` answers at once. Pure: every call takes `now_ms`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

INTERVAL_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
WEIGHT = "REQUEST_WEIGHT"
ORDERS = "ORDERS"


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """One element of a `rateLimits` array: a pool, its window, its limit and (in replies) the count."""

    kind: str
    interval_ms: int
    limit: int
    count: int | None = None


def parse_rate_limits(items: Any) -> tuple[RateLimitInfo, ...]:
    """Tolerant: malformed entries are skipped (a bad counter must never fail a good reply)."""
    out: list[RateLimitInfo] = []
    if not isinstance(items, list):
        return ()
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind, interval, num, limit = (
            item.get(k) for k in ("rateLimitType", "interval", "intervalNum", "limit")
        )
        count = item.get("count")
        if (
            kind not in (WEIGHT, ORDERS)
            or interval not in INTERVAL_MS
            or not isinstance(num, int)
            or isinstance(num, bool)
            or num <= 0
            or not isinstance(limit, int)
            or limit <= 0
        ):
            continue
        out.append(
            RateLimitInfo(
                str(kind),
                INTERVAL_MS[str(interval)] * num,
                limit,
                count if isinstance(count, int) and not isinstance(count, bool) else None,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after_ms: int = 0
    pool: str = ""  # e.g. "ORDERS/10s" when refused

    @property
    def retry_after_s(self) -> float:
        return self.retry_after_ms / 1000


@dataclass
class _Window:
    kind: str
    interval_ms: int
    limit: int
    start: int = 0
    used: int = 0

    def roll(self, now_ms: int) -> None:
        start = now_ms - now_ms % self.interval_ms
        if start != self.start:
            self.start, self.used = start, 0

    def name(self) -> str:
        secs = self.interval_ms // 1000
        span = f"{secs // 60}m" if secs % 60 == 0 else f"{secs}s"
        return f"{self.kind}/{span}"


# Header name → (pool, interval): REST reports the counters this way.
_HEADERS = {
    "x-mbx-used-weight-1m": (WEIGHT, 60_000),
    "x-mbx-order-count-10s": (ORDERS, 10_000),
    "x-mbx-order-count-1m": (ORDERS, 60_000),
}


class RateLimiter:
    """Binance's pools with a safety margin (fraction of each limit held back, at least 1 unit)."""

    def __init__(
        self,
        *,
        weight_per_minute: int = 2400,
        orders_per_10s: int = 300,
        orders_per_minute: int = 1200,
        margin: float = 0.1,
    ) -> None:
        if not 0 <= margin < 1:
            raise ValueError("margin must be in [0, 1)")
        self.margin = margin
        self._windows: dict[tuple[str, int], _Window] = {}
        self._blocked_until = 0
        self._blocked_reason = ""
        self.configure(
            [
                RateLimitInfo(WEIGHT, 60_000, weight_per_minute),
                RateLimitInfo(ORDERS, 10_000, orders_per_10s),
                RateLimitInfo(ORDERS, 60_000, orders_per_minute),
            ]
        )

    def configure(self, infos: Iterable[RateLimitInfo]) -> None:
        """Adopt the limits announced by exchangeInfo (counts already used are kept)."""
        for info in infos:
            key = (info.kind, info.interval_ms)
            w = self._windows.get(key)
            if w is None:
                self._windows[key] = _Window(info.kind, info.interval_ms, info.limit)
            else:
                w.limit = info.limit

    def effective_limit(self, kind: str, interval_ms: int) -> int:
        w = self._windows[(kind, interval_ms)]
        return w.limit - max(1, math.ceil(w.limit * self.margin)) if self.margin else w.limit

    def used(self, kind: str, interval_ms: int, now_ms: int) -> int:
        w = self._windows[(kind, interval_ms)]
        w.roll(now_ms)
        return w.used

    def check(self, now_ms: int, *, weight: int = 0, orders: int = 0) -> Verdict:
        """Would a request of this cost fit now? Does not consume."""
        if now_ms < self._blocked_until:
            return Verdict(False, self._blocked_until - now_ms, self._blocked_reason)
        worst: Verdict | None = None
        for w in self._windows.values():
            cost = weight if w.kind == WEIGHT else orders
            if cost <= 0:
                continue
            w.roll(now_ms)
            if w.used + cost > self.effective_limit(w.kind, w.interval_ms):
                wait = w.start + w.interval_ms - now_ms
                if worst is None or wait > worst.retry_after_ms:
                    worst = Verdict(False, wait, w.name())
        return worst or Verdict(True)

    def acquire(self, now_ms: int, *, weight: int = 0, orders: int = 0) -> Verdict:
        """Consume the cost if it fits; otherwise consume nothing and say how long to wait."""
        verdict = self.check(now_ms, weight=weight, orders=orders)
        if verdict.allowed:
            for w in self._windows.values():
                cost = weight if w.kind == WEIGHT else orders
                if cost > 0:
                    w.used += cost
        return verdict

    def observe(self, infos: Iterable[RateLimitInfo], now_ms: int) -> None:
        """Server counters from a reply: take the larger of ours and theirs (replies may arrive out of
        order, and other programs on the same IP/account spend the same pools)."""
        for info in infos:
            if info.count is None:
                continue
            key = (info.kind, info.interval_ms)
            if key not in self._windows:
                self._windows[key] = _Window(info.kind, info.interval_ms, info.limit)
            w = self._windows[key]
            w.limit = info.limit
            w.roll(now_ms)
            w.used = max(w.used, info.count)

    def observe_headers(self, headers: Mapping[str, str], now_ms: int) -> None:
        infos: list[RateLimitInfo] = []
        for name, value in headers.items():
            spec = _HEADERS.get(name.lower())
            if spec is None or (spec not in self._windows):
                continue
            try:
                count = int(value)
            except ValueError:
                continue
            infos.append(RateLimitInfo(spec[0], spec[1], self._windows[spec].limit, count))
        self.observe(infos, now_ms)

    def block_until(self, until_ms: int, reason: str) -> None:
        """After a 429/418 the exchange decides: refuse everything until it said we may retry."""
        if until_ms > self._blocked_until:
            self._blocked_until, self._blocked_reason = until_ms, reason

    @property
    def blocked_until_ms(self) -> int:
        return self._blocked_until
