"""Fixtures: a Binance simulator per test on 127.0.0.1, its control plane, and a factory that
connects `BinanceBroker`s (HMAC or Ed25519 keys) with an `EventLog` sink; all closed at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from sidedesk.brokers.binance.adapter import BinanceBroker
from sidedesk_sim.binance import BinanceSim
from tests.integration.binance_adapter.simenv import Control, Session, builtin_key, config_for
from tests.support.eventlog import EventLog
from tests.support.simthread import calm

Connect = Callable[..., Awaitable[Session]]


@pytest.fixture
async def sim() -> AsyncIterator[BinanceSim]:
    async with BinanceSim(seed=1) as s:
        calm(s)  # a calm market: fills and triggers happen where the test puts the price
        yield s


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def ctl(sim: BinanceSim, http: aiohttp.ClientSession) -> Control:
    return Control(sim, http)


@pytest.fixture
async def connect(sim: BinanceSim) -> AsyncIterator[Connect]:
    """`await connect("hmac" | "ed25519" | identity-dict, **broker options)` → a connected Session."""
    sessions: list[Session] = []

    async def factory(key: str | dict[str, str] = "hmac", **options: Any) -> Session:
        ident = builtin_key(sim, key) if isinstance(key, str) else key
        log = EventLog()
        broker = BinanceBroker(f"acc-{len(sessions)}", config_for(sim, ident), log, **options)
        await broker.connect()
        session = Session(broker, log, ident.get("account", "main"))
        sessions.append(session)
        return session

    yield factory
    for s in sessions:
        await s.broker.close()
