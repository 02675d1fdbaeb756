"""The local mirror of Binance's pools."""

from __future__ import annotations

import pytest

from sidedesk.brokers.binance.protocol.ratelimit import (
    ORDERS,
    WEIGHT,
    RateLimiter,
    RateLimitInfo,
    parse_rate_limits,
)


def test_orders_per_10s_with_margin_and_no_delay_inside_quota() -> None:
    rl = RateLimiter(orders_per_10s=10, margin=0.1)  # effective 9
    assert rl.effective_limit(ORDERS, 10_000) == 9
    for i in range(9):
        assert rl.acquire(1_000 + i, orders=1).allowed
    v = rl.acquire(1_009, orders=1)
    assert not v.allowed and v.pool == "ORDERS/10s" and v.retry_after_ms == 10_000 - 1_009
    assert rl.acquire(10_000, orders=1).allowed  # next window


def test_weight_pool_and_refusal_consumes_nothing() -> None:
    rl = RateLimiter(weight_per_minute=100, margin=0)
    assert rl.acquire(0, weight=60).allowed
    assert not rl.acquire(1, weight=50).allowed
    assert rl.used(WEIGHT, 60_000, 2) == 60
    assert rl.acquire(2, weight=40).allowed
    assert rl.check(3, weight=0, orders=0).allowed  # free requests always fit


def test_order_minute_pool_is_independent() -> None:
    rl = RateLimiter(orders_per_10s=1000, orders_per_minute=5, margin=0)
    for t in range(5):
        assert rl.acquire(t * 11_000, orders=1).allowed
    v = rl.acquire(56_000, orders=1)
    assert not v.allowed and v.pool == "ORDERS/1m" and v.retry_after_ms == 4_000


def test_server_counts_override_upwards() -> None:
    rl = RateLimiter(weight_per_minute=2400, margin=0.1)
    rl.observe([RateLimitInfo(WEIGHT, 60_000, 2400, 2150)], 5)
    assert rl.used(WEIGHT, 60_000, 5) == 2150
    rl.observe([RateLimitInfo(WEIGHT, 60_000, 2400, 3)], 6)  # a late, older reply does not lower it
    assert rl.used(WEIGHT, 60_000, 6) == 2150
    assert rl.check(7, weight=10).allowed and not rl.acquire(7, weight=11).allowed  # 2160 effective


def test_headers() -> None:
    rl = RateLimiter()
    rl.observe_headers(
        {
            "X-MBX-USED-WEIGHT-1M": "17",
            "X-MBX-ORDER-COUNT-10S": "4",
            "x-mbx-order-count-1m": "9",
            "X-Other": "1",
            "X-MBX-ORDER-COUNT-1D": "bad",
        },
        100,
    )
    assert (rl.used(WEIGHT, 60_000, 100), rl.used(ORDERS, 10_000, 100), rl.used(ORDERS, 60_000, 100)) == (
        17,
        4,
        9,
    )


def test_block_after_429() -> None:
    rl = RateLimiter()
    rl.block_until(5_000, "429")
    v = rl.check(1_000, weight=1)
    assert not v.allowed and v.retry_after_ms == 4_000 and v.retry_after_s == 4.0
    rl.block_until(2_000, "older")  # never shortens a ban
    assert rl.blocked_until_ms == 5_000 and rl.check(5_000, weight=1).allowed


def test_configure_from_exchange_info() -> None:
    rl = RateLimiter(margin=0)
    rl.configure(
        parse_rate_limits([{"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 2}])
    )
    assert (
        rl.acquire(0, orders=1).allowed
        and rl.acquire(0, orders=1).allowed
        and not rl.acquire(0, orders=1).allowed
    )


def test_parse_rate_limits_is_tolerant() -> None:
    got = parse_rate_limits(
        [
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 5, "count": True},
            {"rateLimitType": "RAW", "interval": "MINUTE", "intervalNum": 1, "limit": 1},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 0, "limit": 1},
            "x",
        ]
    )
    assert got == (RateLimitInfo(ORDERS, 86_400_000, 5, None),)
    assert parse_rate_limits(None) == ()


def test_bad_margin() -> None:
    with pytest.raises(ValueError):
        RateLimiter(margin=1)
