"""The Alpaca simulator's order-body errors carry Alpaca's HTTP status and code (errors.py has the
sources): a sub-penny price is 422 / 42210000, a body of the wrong shape 400 / 40010000, any other
refused value 422 / 40010001."""

from __future__ import annotations

from typing import Any

import pytest

from sidedesk_sim.alpaca.errors import AlpacaError
from sidedesk_sim.alpaca.orders_in import parse_order, parse_replace

BASE = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "qty": "1"}
LIMIT = {**BASE, "type": "limit", "limit_price": "189.00"}


def refusal(fn: Any, body: Any) -> tuple[int, int, str]:
    with pytest.raises(AlpacaError) as info:
        fn(body)
    return info.value.status, info.value.code, info.value.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {**LIMIT, "limit_price": "189.001"},
            "invalid limit_price 189.001. sub-penny increment does not fulfill minimum pricing criteria",
        ),
        ({**LIMIT, "limit_price": 41.085}, "invalid limit_price 41.085. sub-penny"),
        ({**LIMIT, "limit_price": "0.12345"}, "invalid limit_price 0.12345. sub-penny"),  # < $1: 4 places
        ({**BASE, "type": "stop", "stop_price": "180.555"}, "invalid stop_price 180.555. sub-penny"),
        ({**BASE, "type": "trailing_stop", "trail_price": "1.005"}, "invalid trail_price 1.005. sub-penny"),
    ],
)
def test_sub_penny_prices_are_42210000(body: dict[str, Any], message: str) -> None:
    status, code, text = refusal(parse_order, body)
    assert (status, code) == (422, 42210000) and text.startswith(message)


def test_sub_penny_replace_is_42210000() -> None:
    assert refusal(parse_replace, {"limit_price": "10.125"})[:2] == (422, 42210000)
    assert parse_replace({"limit_price": "0.1234"}).limit_price is not None  # below $1: 4 places


@pytest.mark.parametrize(
    "body",
    [
        [BASE],  # not an object
        "AAPL",
        {**BASE, "qty": {"value": 1}},  # a number field of another JSON type
        {**BASE, "qty": True},
        {**BASE, "extended_hours": "yes"},
        {**BASE, "client_order_id": 7},
    ],
)
def test_wrong_shapes_are_400_40010000(body: Any) -> None:
    assert refusal(parse_order, body) == (400, 40010000, "request body format is invalid")


def test_replace_of_the_wrong_shape_is_400() -> None:
    assert refusal(parse_replace, ["qty"])[:2] == (400, 40010000)


@pytest.mark.parametrize(
    "body",
    [
        {**BASE, "qty": "-1"},
        {**BASE, "qty": "abc"},
        {**BASE, "side": "hold"},
        {**BASE, "qty": None},
        {**BASE, "client_order_id": "x" * 129},
        {**LIMIT, "limit_price": None},
    ],
)
def test_refused_values_stay_422_40010001(body: dict[str, Any]) -> None:
    assert refusal(parse_order, body)[:2] == (422, 40010001)
