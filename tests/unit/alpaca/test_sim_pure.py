"""The simulator's pure parts: order-body checks, the session clock, wire timestamps."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sidedesk_sim.alpaca.errors import AlpacaError
from sidedesk_sim.alpaca.orders_in import parse_order, parse_replace
from sidedesk_sim.alpaca.session import NIGHT_MS, SESSION_MS, Session, nyse_view
from sidedesk_sim.alpaca.streams import rfc3339_ns
from sidedesk_sim.alpaca.wire import ts

BASE = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "qty": "1"}


def test_numbers_as_floats_or_strings() -> None:
    o = parse_order({**BASE, "qty": 0.1})
    assert o.qty == D("0.1") and o.fractional
    assert not parse_order(BASE).fractional
    assert parse_order({**BASE, "qty": None, "notional": "25.5"}).fractional


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"qty": None}, "qty or notional"),
        ({"notional": "5"}, "qty or notional"),
        ({"qty": "-1"}, "> 0"),
        ({"qty": "0.0000000001"}, "9 decimal"),
        ({"side": "hold"}, "side"),
        ({"type": "limit"}, "limit_price is required"),
        ({"limit_price": "1"}, "not allowed"),
        ({"type": "stop_limit", "stop_price": "1"}, "limit_price is required"),
        ({"type": "trailing_stop"}, "exactly one"),
        ({"type": "trailing_stop", "trail_price": "1", "trail_percent": "1"}, "exactly one"),
        ({"type": "trailing_stop", "trail_percent": "1", "time_in_force": "ioc"}, "day or gtc"),
        ({"time_in_force": "opg"}, "not supported"),
        ({"extended_hours": True}, "extended hours"),
        ({"order_class": "bracket"}, "simple only"),
        ({"client_order_id": "x" * 129}, "128"),
        ({"position_intent": "maybe"}, "position_intent"),
    ],
)
def test_bad_orders_are_422(change: dict[str, object], match: str) -> None:
    with pytest.raises(AlpacaError, match=match) as info:
        parse_order({**BASE, **change})
    assert info.value.status == 422 and info.value.body()["code"] == 40010001


def test_replace_needs_something() -> None:
    with pytest.raises(AlpacaError, match="nothing to replace"):
        parse_replace({"client_order_id": "x"})
    assert parse_replace({"stop_price": "181.5"}).stop_price == D("181.5")
    with pytest.raises(AlpacaError):
        parse_replace([1])


def test_forced_sessions_always_point_to_the_future() -> None:
    s = Session("open", since_ms=0)
    now = 10 * (SESSION_MS + NIGHT_MS) + 5
    v = s.view(now)
    assert v.is_open and now < v.next_close_ms < v.next_open_ms
    c = Session("closed", since_ms=now).view(now + 1)
    assert (
        not c.is_open and c.next_open_ms == now + NIGHT_MS and c.next_close_ms == c.next_open_ms + SESSION_MS
    )


def test_nyse_hours() -> None:
    # Thursday 2026-01-15 15:00 UTC = 10:00 New York: open until 21:00 UTC
    v = nyse_view(1768489200000)
    assert v.is_open and ts(v.next_close_ms) == "2026-01-15T21:00:00.000000Z"
    assert ts(v.next_open_ms) == "2026-01-16T14:30:00.000000Z"
    # Saturday: closed until Monday 09:30 New York
    sat = nyse_view(1768660200000)
    assert not sat.is_open and ts(sat.next_open_ms) == "2026-01-19T14:30:00.000000Z"


def test_timestamps_on_the_wire() -> None:
    assert ts(1768487400123) == "2026-01-15T14:30:00.123000Z"
    assert rfc3339_ns(1768487400123456789) == "2026-01-15T14:30:00.123456789Z"
