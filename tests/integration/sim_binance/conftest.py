"""Fixtures for the Binance simulator over real loopback sockets: a running sim and signing clients."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the shared helper module `simclient`
from simclient import Rest, WsApi

from sidedesk_sim.binance import BinanceSim
from sidedesk_sim.binance.auth import KAT1_API_KEY


@pytest.fixture
async def sim() -> AsyncIterator[BinanceSim]:
    async with BinanceSim(seed=7) as s:
        # a calm market so tests are deterministic about fills
        for sym in s.engine.instruments:
            s.engine.set_volatility(sym, Decimal(0))
        yield s


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def rest(sim: BinanceSim, http: aiohttp.ClientSession) -> Rest:
    return Rest(sim, http)


@pytest.fixture
async def wsapi(sim: BinanceSim, http: aiohttp.ClientSession) -> AsyncIterator[WsApi]:
    ws = await http.ws_connect(sim.ws_api_url)
    yield WsApi(sim, ws, sim.identities[KAT1_API_KEY])
    await ws.close()
