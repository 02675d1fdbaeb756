"""Request-weight and order-count limiters (binance.md §8.2) with the 429 → 418 escalation.

Fixed windows aligned to the interval (as Binance's counters reset on the minute / 10 s boundary).
REQUEST_WEIGHT is per client IP, ORDERS per account. Pure: every call takes `now_ms`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sidedesk_sim.binance.errors import BinanceError

MINUTE = 60_000


@dataclass
class LimitConfig:
    weight_per_minute: int = 2400
    orders_per_10s: int = 300
    orders_per_minute: int = 1200
    # how many requests may be answered 429 within one window before the IP is banned (418)
    rejections_before_ban: int = 5
    ban_ms: int = 120_000  # first ban lasts 2 minutes (Binance scales 2 min → 3 days)


@dataclass
class _Window:
    interval_ms: int
    start: int = 0
    count: int = 0

    def roll(self, now_ms: int) -> None:
        start = now_ms - now_ms % self.interval_ms
        if start != self.start:
            self.start, self.count = start, 0


@dataclass
class _IpState:
    weight: _Window = field(default_factory=lambda: _Window(MINUTE))
    rejected_in_window: int = 0
    banned_until: int = 0
    bans: int = 0


@dataclass
class _AccountState:
    sec10: _Window = field(default_factory=lambda: _Window(10_000))
    minute: _Window = field(default_factory=lambda: _Window(MINUTE))


class RateLimiter:
    def __init__(self, config: LimitConfig | None = None) -> None:
        self.config = config or LimitConfig()
        self._ips: dict[str, _IpState] = {}
        self._accounts: dict[str, _AccountState] = {}
        self.forced: list[int] = []  # fault injection: statuses (429/418) to answer the next requests with

    def _ip(self, ip: str, now_ms: int) -> _IpState:
        st = self._ips.setdefault(ip, _IpState())
        before = st.weight.start
        st.weight.roll(now_ms)
        if st.weight.start != before:
            st.rejected_in_window = 0
        return st

    def _acct(self, account: str, now_ms: int) -> _AccountState:
        st = self._accounts.setdefault(account, _AccountState())
        st.sec10.roll(now_ms)
        st.minute.roll(now_ms)
        return st

    def clear(self) -> None:
        """Fault injection reset: no forced status waiting, no ban in force."""
        self.forced.clear()
        for st in self._ips.values():
            st.banned_until = 0
            st.rejected_in_window = 0

    def blocking(self, now_ms: int) -> bool:
        """True while some request would be refused whatever it is: a forced status waiting or a
        ban in force (a test monitor does not count that time as the host's to act in)."""
        return bool(self.forced) or any(st.banned_until > now_ms for st in self._ips.values())

    def charge_weight(self, ip: str, weight: int, now_ms: int) -> None:
        """Count a request's IP weight; raise 429 (-1003) over the limit, 418 when it keeps coming."""
        st = self._ip(ip, now_ms)
        if self.forced:
            status = self.forced.pop(0)
            if status == 418:  # a forced ban is a ban: every request until it ends is refused
                st.banned_until = max(st.banned_until, now_ms + self.config.ban_ms)
                raise self._error(418, now_ms, st.banned_until)
            raise self._error(status, now_ms, now_ms + self.config.ban_ms)  # a forced 429: retry after ban_ms
        if st.banned_until > now_ms:
            raise self._error(418, now_ms, st.banned_until)
        st.weight.count += weight
        if st.weight.count > self.config.weight_per_minute:
            st.rejected_in_window += 1
            if st.rejected_in_window > self.config.rejections_before_ban:
                st.bans += 1
                st.banned_until = now_ms + self.config.ban_ms * (2 ** (st.bans - 1))
                raise self._error(418, now_ms, st.banned_until)
            raise self._error(429, now_ms, st.weight.start + MINUTE)

    def _error(self, status: int, now_ms: int, retry_after: int) -> BinanceError:
        if status == 418:
            err = BinanceError(
                -1003,
                status=418,
                msg=f"Way too many requests; IP banned until {retry_after}. Please use the websocket for "
                "live updates to avoid bans.",
            )
        else:
            err = BinanceError(-1003, self.config.weight_per_minute, status=429)
        err.data = {"serverTime": now_ms, "retryAfter": retry_after}
        return err

    def charge_order(self, account: str, now_ms: int) -> None:
        """Count one new/modified order against the account's ORDERS limits (-1015, HTTP 429)."""
        st = self._acct(account, now_ms)
        if st.sec10.count + 1 > self.config.orders_per_10s:
            raise BinanceError(-1015, self.config.orders_per_10s, "10SECOND", status=429)
        if st.minute.count + 1 > self.config.orders_per_minute:
            raise BinanceError(-1015, self.config.orders_per_minute, "MINUTE", status=429)
        st.sec10.count += 1
        st.minute.count += 1

    def used_weight(self, ip: str, now_ms: int) -> int:
        return self._ip(ip, now_ms).weight.count

    def order_counts(self, account: str, now_ms: int) -> tuple[int, int]:
        st = self._acct(account, now_ms)
        return st.sec10.count, st.minute.count

    def headers(self, ip: str, account: str | None, now_ms: int) -> dict[str, str]:
        out = {"X-MBX-USED-WEIGHT-1M": str(self.used_weight(ip, now_ms))}
        if account is not None:
            s10, m1 = self.order_counts(account, now_ms)
            out["X-MBX-ORDER-COUNT-10S"] = str(s10)
            out["X-MBX-ORDER-COUNT-1M"] = str(m1)
        return out

    def ws_rate_limits(self, ip: str, account: str | None, now_ms: int) -> list[dict[str, Any]]:
        s10, m1 = self.order_counts(account, now_ms) if account is not None else (0, 0)
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.config.weight_per_minute,
                "count": self.used_weight(ip, now_ms),
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": self.config.orders_per_10s,
                "count": s10,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.config.orders_per_minute,
                "count": m1,
            },
        ]

    def exchange_info_limits(self) -> list[dict[str, Any]]:
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.config.weight_per_minute,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.config.orders_per_minute,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": self.config.orders_per_10s,
            },
        ]
