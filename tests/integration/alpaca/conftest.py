"""Fixtures: an Alpaca simulator per test on 127.0.0.1 with calm prices (they move only where a
test moves them), its control plane over HTTP, and a factory of connected `AlpacaBroker`s."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from sidedesk.brokers.alpaca.adapter import AlpacaBroker
from sidedesk.brokers.alpaca.config import AlpacaConfig, endpoints_for
from sidedesk.domain import BrokerEvent
from sidedesk_sim.alpaca import BUILTIN_KEY_ID, BUILTIN_SECRET, AlpacaSim
from tests.support.eventlog import EventLog
from tests.support.simthread import calm
from tests.support.wait import eventually_async


@pytest.fixture
async def sim() -> AsyncIterator[AlpacaSim]:
    async with AlpacaSim(seed=3) as s:
        calm(s)
        yield s


class Control:
    def __init__(self, sim: AlpacaSim, http: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.http = http

    async def __call__(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.request(method, self.sim.control_url + path, json=body) as resp:
            data = await resp.json()
            assert resp.status == 200, f"{method} {path} -> {resp.status} {data}"
            return data


@pytest.fixture
async def ctl(sim: AlpacaSim) -> AsyncIterator[Control]:
    async with aiohttp.ClientSession() as http:
        yield Control(sim, http)


def config_for(sim: AlpacaSim, key_id: str = BUILTIN_KEY_ID, secret: str = BUILTIN_SECRET) -> AlpacaConfig:
    urls = {"rest": sim.base_url, "stream": sim.stream_url, "data": sim.data_url()}
    return AlpacaConfig("simulator", endpoints_for("simulator", urls), key_id, secret)


Connect = Callable[..., Awaitable[tuple[AlpacaBroker, EventLog]]]


@pytest.fixture
async def connect(sim: AlpacaSim) -> AsyncIterator[Connect]:
    made: list[AlpacaBroker] = []

    async def factory(
        key_id: str = BUILTIN_KEY_ID, secret: str = BUILTIN_SECRET
    ) -> tuple[AlpacaBroker, EventLog]:
        log = EventLog()
        b = AlpacaBroker(f"acc-{len(made)}", config_for(sim, key_id, secret), log, request_timeout_s=3.0)
        made.append(b)
        await b.connect()
        return b, log

    yield factory
    for b in made:
        await b.close()


# The one bounded poll (tests/support/wait.py), under the name these tests know it by.
until = eventually_async


def of(log: EventLog, kind: type[BrokerEvent]) -> list[Any]:
    return log.of(kind)
