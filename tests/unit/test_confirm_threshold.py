"""The confirmation threshold per broker, in the account's own currency (#21): Binance keeps
5 000 USDT, the futures brokers ask above 150 000 USD (1 MES, about 30 000 USD, goes at once;
3 ES, about 900 000 USD, asks), Alpaca above 25 000 USD; a hotkey above it asks instead of
being refused."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from sidedesk.core.risk import RiskLimits, evaluate
from sidedesk.store.config import HostConfig, RiskSettings


def decide(settings: RiskSettings, broker: str, notional: str, source: str = "hotkey") -> str:
    limits = RiskLimits(confirm_above_notional=settings.confirm_threshold(broker))
    return evaluate(
        limits,
        order_notional=D(notional),
        position_notional_after=D(notional),
        reduces_only=False,
        source=source,  # type: ignore[arg-type]
        orders_last_minute=0,
        quote="USD",
    ).action


def test_defaults_per_broker() -> None:
    r = RiskSettings()
    assert r.confirm_threshold("binance") == D(5000)
    assert r.confirm_threshold("tradovate") == D(150_000)
    assert r.confirm_threshold("volumetrica") == D(150_000)
    assert r.confirm_threshold("alpaca") == D(25_000)
    one_mes = D("6000.25") * 5  # 1 contract x price x $5 per point
    three_es = D("6000.25") * 50 * 3
    assert decide(r, "tradovate", str(one_mes)) == "allow"
    assert decide(r, "tradovate", str(three_es)) == "confirm"  # a hotkey asks, it is not refused
    assert decide(r, "binance", "6000") == "confirm"


def test_a_settings_file_from_before_keeps_the_broker_defaults() -> None:
    """Every saved file holds the old default 5000 explicitly: it is Binance's threshold and the
    futures accounts still get theirs."""
    cfg = HostConfig.model_validate(
        {"risk": {"max_orders_per_minute": 60, "confirm_above_notional": "5000", "max_order_notional": None}}
    )
    assert cfg.risk.confirm_threshold("tradovate") == D(150_000)
    assert cfg.risk.confirm_threshold("binance") == D(5000)


def test_overrides_and_off() -> None:
    r = RiskSettings.model_validate(
        {"confirm_above_notional": "8000", "confirm_above_by_broker": {"tradovate": "50000", "alpaca": None}}
    )
    assert r.confirm_threshold("binance") == D(8000)  # the Setup form's value
    assert r.confirm_threshold("tradovate") == D(50_000)
    assert r.confirm_threshold("alpaca") is None  # never asks on Alpaca
    assert r.confirm_threshold("volumetrica") == D(150_000)  # untouched default
    off = RiskSettings(confirm_above_notional=None)  # "empty means no limit" in Setup: everywhere
    assert all(off.confirm_threshold(b) is None for b in ("binance", "tradovate", "volumetrica", "alpaca"))
    with pytest.raises(ValidationError):
        RiskSettings.model_validate({"confirm_above_by_broker": {"tradovat": "1"}})  # a typo is refused
    with pytest.raises(ValidationError):
        RiskSettings.model_validate({"confirm_above_by_broker": {"tradovate": "-1"}})
