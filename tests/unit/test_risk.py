"""Risk decisions: caps, rate, confirmation threshold per source."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk.core.risk import OrderRate, RiskLimits, evaluate

D = Decimal
LIM = RiskLimits(
    max_order_notional=D(5000),
    max_position_notional=D(20000),
    max_orders_per_minute=3,
    confirm_above_notional=D(1000),
)


def ev(
    notional: str,
    *,
    pos: str = "0",
    source: str = "panel",
    n: int = 0,
    reduces: bool = False,
    confirmed: bool = False,
) -> tuple[str, str, str]:
    d = evaluate(
        LIM,
        order_notional=D(notional),
        position_notional_after=D(pos) or D(notional),
        reduces_only=reduces,
        source=source,
        orders_last_minute=n,
        confirmed=confirmed,
        quote="USDT",
    )  # type: ignore[arg-type]
    return d.action, d.limit, d.reason


def test_allow_small() -> None:
    assert ev("500", pos="500")[0] == "allow"


def test_per_order_cap() -> None:
    action, limit, reason = ev("6000", pos="6000")
    assert (
        (action, limit) == ("refuse", "order_notional") and "6000.00 USDT" in reason and "5000.00" in reason
    )


def test_position_cap() -> None:
    assert ev("900", pos="20500")[:2] == ("refuse", "position")


def test_rate_cap() -> None:
    action, limit, reason = ev("10", pos="10", n=3)
    assert (action, limit) == ("refuse", "rate") and "3 orders" in reason


@pytest.mark.parametrize(
    ("source", "confirmed", "action"),
    [
        ("panel", False, "confirm"),
        ("panel", True, "allow"),
        ("hotkey", False, "confirm"),  # #21: a hotkey asks too (it was refused)
        ("hotkey", True, "allow"),
        ("asl", False, "allow"),
    ],
)
def test_confirmation_threshold(source: str, confirmed: bool, action: str) -> None:
    got = ev("2000", pos="2000", source=source, confirmed=confirmed)
    assert got[0] == action
    if action == "refuse":
        assert "panel" in got[2]


def test_reducing_orders_always_pass() -> None:
    assert ev("999999", pos="999999", n=99, reduces=True, source="hotkey")[0] == "allow"


def test_no_limits_allows_everything() -> None:
    d = evaluate(
        RiskLimits(),
        order_notional=D(10**9),
        position_notional_after=D(10**9),
        reduces_only=False,
        source="hotkey",
        orders_last_minute=10**6,
        quote="USDT",
    )
    assert d.action == "allow"


@pytest.mark.parametrize(
    "kw",
    [
        {"max_order_notional": D(0)},
        {"confirm_above_notional": D("-1")},
        {"max_position_notional": D("NaN")},
        {"max_orders_per_minute": 0},
    ],
)
def test_bad_limits_are_refused(kw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RiskLimits(**kw)  # type: ignore[arg-type]


def test_order_rate_window() -> None:
    r = OrderRate()
    for t in (0, 10_000, 59_999):
        r.record(t)
    assert r.count(59_999) == 3 and r.count(60_000) == 2 and r.count(200_000) == 0


def test_refusals_speak_the_instruments_currency() -> None:
    d = evaluate(
        LIM,
        order_notional=D("10000000"),
        position_notional_after=D("10000000"),
        reduces_only=False,
        source="panel",
        orders_last_minute=0,
        quote="USD",
    )
    assert d.action == "refuse" and "USD" in d.reason and "USDT" not in d.reason
