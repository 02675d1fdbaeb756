"""Fixtures for engine tests: a frozen-price engine with one easy instrument."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from sidedesk_sim.engine import Engine, default_instruments

from .helpers import SYMBOL, make_engine

__all__ = ["SYMBOL"]


@pytest.fixture
def eng() -> Engine:
    """TESTUSDT at last 1000 (bid 1000 / ask 1001), book level k holds k+1, no random walk,
    account "a" with 10 000 USDT in one-way mode."""
    return make_engine()


@pytest.fixture
def btc() -> Engine:
    """The default instruments, frozen at their initial prices."""
    instruments = {s: replace(i, volatility=Decimal(0)) for s, i in default_instruments().items()}
    engine = Engine(instruments, seed=3, start_ms=1_000)
    engine.create_account("a", {"USDT": Decimal(100_000)})
    return engine
