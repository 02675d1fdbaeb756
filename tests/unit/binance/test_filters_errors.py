"""exchangeInfo → InstrumentRules, and the error-code table."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from sidedesk.api.errors import ERROR_CODES
from sidedesk.brokers.binance.protocol.errors import ERRORS, describe, is_clock_error
from sidedesk.brokers.binance.protocol.fields import MalformedMessage
from sidedesk.brokers.binance.protocol.filters import parse_exchange_info

D = Decimal


def symbol(name: str = "BLZUSDT", **over: object) -> dict[str, object]:
    s: dict[str, object] = {
        "symbol": name,
        "pair": name,
        "contractType": "PERPETUAL",
        "status": "TRADING",
        "baseAsset": "BLZ",
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "pricePrecision": 5,
        "quantityPrecision": 0,
        "triggerProtect": "0.15",
        "filters": [
            {"filterType": "PRICE_FILTER", "maxPrice": "300", "minPrice": "0.0001", "tickSize": "0.0001"},
            {"filterType": "LOT_SIZE", "maxQty": "10000000", "minQty": "1", "stepSize": "1"},
            {"filterType": "MARKET_LOT_SIZE", "maxQty": "590119", "minQty": "1", "stepSize": "1"},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": "5.0"},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.1500",
                "multiplierDown": "0.8500",
                "multiplierDecimal": "4",
            },
            {"filterType": "SOMETHING_NEW", "x": 1},
        ],
    }
    s.update(over)
    return s


def test_exchange_info_to_rules() -> None:
    info = parse_exchange_info(
        {
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            ],
            "symbols": [
                symbol(),
                symbol("OLDUSDT", status="SETTLING"),
                symbol("BADUSDT", filters=[]),
                "junk",
            ],
        }
    )
    r = info.rules["BLZUSDT"]
    assert (r.tick_size, r.step_size, r.min_qty, r.max_qty) == (D("0.0001"), D(1), D(1), D(10000000))
    assert (r.market_max_qty, r.min_notional, r.percent_up, r.percent_down) == (
        D(590119),
        D(5),
        D("1.15"),
        D("0.85"),
    )
    assert r.max_num_orders == 200 and r.max_num_algo_orders is None and r.trading and r.quote_asset == "USDT"
    assert not info.rules["OLDUSDT"].trading
    assert "BADUSDT" not in info.rules and len(info.skipped) == 2
    assert [x.limit for x in info.rate_limits] == [2400, 1200]


def test_market_lot_size_falls_back_to_lot_size() -> None:
    s = symbol()
    s["filters"] = [f for f in s["filters"] if f["filterType"] != "MARKET_LOT_SIZE"]  # type: ignore[attr-defined, index]
    r = parse_exchange_info({"symbols": [s]}).rules["BLZUSDT"]
    assert r.market_step_size == D(1) and r.market_max_qty == D(10000000)


def test_exchange_info_without_symbols_is_malformed() -> None:
    with pytest.raises(MalformedMessage):
        parse_exchange_info({"rateLimits": []})


def dossier_codes() -> set[int]:
    """Every code in binance.md §8.3 (read from the table when the shared folder is present)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        doc = parent / "shared" / "research" / "binance.md"
        if doc.exists():
            text = doc.read_text().split("### 8.3", 1)[1].split("Note: codes are stable", 1)[0]
            codes: set[int] = set()
            for cell in re.findall(r"^\| (-[\d\s/.-]+?) \|", text, re.M):
                for part in cell.split("/"):
                    part = part.strip()
                    if ".." in part:
                        a, b = (int(x) for x in part.split(".."))
                        codes.update(range(min(a, b), max(a, b) + 1))
                    elif part:
                        codes.add(int(part))
            return codes
    return set(ERRORS)


def test_every_dossier_code_is_mapped() -> None:
    codes = dossier_codes()
    codes -= set(range(-5043, -5029)) - {
        -5037,
        -5038,
        -5039,
        -5040,
        -5041,
        -5043,
    }  # "-5024..-5029, -5043" rows
    missing = sorted(c for c in codes if c not in ERRORS and not -5042 <= c <= -5030)
    assert missing == []
    assert {info.code for info in ERRORS.values()} <= set(ERROR_CODES)


@pytest.mark.parametrize(
    ("status", "code", "host", "needle"),
    [
        (400, -2019, "rejected", "insufficient margin: reduce size or add funds"),
        (400, -1021, "rejected", "clock"),
        (400, -5022, "rejected", "post-only"),
        (400, -4164, "rejected", "minimum notional"),
        (401, -2015, "auth", "permissions"),
        (400, -1022, "auth", "signature"),
        (400, -1006, "unknown_outcome", "lost"),
        (503, None, "unknown_outcome", "did not say"),
        (400, -99999, "rejected", "refused"),
        (403, None, "auth", "API key"),
    ],
)
def test_describe(status: int, code: int | None, host: str, needle: str) -> None:
    err = describe(status, code, "Unknown error, please check your request or try again later.")
    assert err.code == host and needle in err.message
    assert err.broker_code == (code if code is not None else status)


def test_service_unavailable_is_a_certain_failure() -> None:
    assert describe(503, None, "Service Unavailable.").code == "not_connected"


@pytest.mark.parametrize(("status", "code"), [(429, -1003), (418, -1003), (429, None), (400, -1003)])
def test_rate_limited_with_retry_after(status: int, code: int | None) -> None:
    err = describe(status, code, "Way too many requests", retry_after_s=120)
    assert err.code == "rate_limited" and err.retry_after_s == 120 and "120 s" in err.message


def test_exchange_message_is_quoted_and_clock_codes_flagged() -> None:
    err = describe(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    assert "(Binance -1021: Timestamp for this request is outside of the recvWindow.)" in err.message
    assert (
        is_clock_error(err)
        and is_clock_error(describe(400, -5028, ""))
        and not is_clock_error(describe(400, -2019, ""))
    )
