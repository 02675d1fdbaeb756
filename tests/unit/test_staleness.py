"""Freshness classes and the silent-user-stream refresh rule, on an injected clock."""

from __future__ import annotations

import pytest

from sidedesk.core.staleness import (
    PriceFreshness,
    RefreshPolicy,
    SectionFreshness,
    Staleness,
    min_refresh_interval,
    price_freshness,
    section_freshness,
)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (None, PriceFreshness.NONE),
        (0.0, PriceFreshness.LIVE),
        (5.0, PriceFreshness.LIVE),
        (5.01, PriceFreshness.FADING),
        (30.0, PriceFreshness.FADING),
        (30.01, PriceFreshness.DELAYED),
    ],
)
def test_price_freshness(age: float | None, expected: PriceFreshness) -> None:
    assert price_freshness(age) is expected


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (None, SectionFreshness.NONE),
        (0.0, SectionFreshness.OK),
        (60.0, SectionFreshness.OK),
        (60.5, SectionFreshness.WARNING),
        (300.0, SectionFreshness.WARNING),
        (300.5, SectionFreshness.STALE),
    ],
)
def test_section_freshness(age: float | None, expected: SectionFreshness) -> None:
    assert section_freshness(age) is expected


def test_report_per_source() -> None:
    s = Staleness()
    s.on_event("binance:acc1", now=100.0, event_ms=1_000_000, wall_ms=1_000_042.5)
    s.on_price("binance:market", now=100.0)
    s.on_price("binance:market", now=110.0)
    report = s.report(now=150.0)
    assert report["binance:acc1"] == {
        "event_age_s": 50.0,
        "price_age_s": None,
        "section": "ok",
        "price": "none",
        "delay_ms": 42.5,
        "events": 1,
        "prices": 0,
    }
    market = report["binance:market"]
    assert (market["price_age_s"], market["price"], market["section"], market["prices"]) == (
        40.0,
        "delayed",
        "none",
        2,
    )
    assert s.ages("unknown", 1.0) == (None, None)
    assert s.report(now=500.0)["binance:acc1"]["section"] == "stale"


def test_silent_user_stream_gets_one_refresh_per_silence() -> None:
    p = RefreshPolicy(min_interval_s=20.0)
    assert p.next_check() is None and not p.take(1000.0)  # not connected
    p.on_connected(now=0.0)
    assert p.next_check() == 60.0
    assert not p.take(59.9)
    assert p.take(60.0)
    # still silent, but one refresh per silence: no polling
    assert not any(p.take(t) for t in (61.0, 120.0, 600.0, 3600.0))
    assert p.next_check() is None
    p.on_user_event(now=3600.0)  # the stream speaks again: the rule re-arms
    assert not p.take(3659.0) and p.take(3660.0) and p.refreshes == 2


def test_refreshes_are_spaced_by_the_rate_limit_budget() -> None:
    p = RefreshPolicy(min_interval_s=90.0)
    p.on_connected(now=0.0)
    assert p.take(60.0)
    p.on_user_event(now=61.0)  # then silence again right away
    assert p.next_check() == 150.0  # 60 s of silence would be 121 s; the budget says 150 s
    assert not p.take(121.0) and p.take(150.0)


def test_disconnected_means_no_refresh_and_reconnect_restarts_the_clock() -> None:
    p = RefreshPolicy(min_interval_s=0.0)
    p.on_connected(now=0.0)
    p.on_disconnected()
    assert not p.take(500.0)
    p.on_connected(now=500.0)
    assert not p.take(559.0) and p.take(560.0)


def test_min_refresh_interval_from_weights() -> None:
    # e.g. a Binance snapshot (account 5 + positionRisk 5 + openOrders 40 + openAlgoOrders 40)
    # using at most 10 % of 2400 weight per minute
    assert min_refresh_interval(90, 2400, 0.1) == pytest.approx(22.5)
    assert min_refresh_interval(10, 600, 1.0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("weight", "limit", "share"), [(0, 2400, 0.1), (90, 0, 0.1), (90, 2400, 0), (1, 1, 1.5)]
)
def test_min_refresh_interval_refuses_nonsense(weight: int, limit: int, share: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        min_refresh_interval(weight, limit, share)


def test_refresh_policy_refuses_bad_intervals() -> None:
    with pytest.raises(ValueError, match="positive"):
        RefreshPolicy(min_interval_s=-1)
    with pytest.raises(ValueError, match="positive"):
        RefreshPolicy(min_interval_s=1, silence_s=0)
