"""Fixtures: a Volumetrica simulator per test on 127.0.0.1 with calm prices, and a factory of
connected `VolumetricaBroker`s pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
from sidedesk.domain import EventLog
from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim


def calm(sim: VolumetricaSim) -> None:
    for symbol in sim.engine.instruments:
        sim.engine.set_volatility(symbol, Decimal(0))


@pytest.fixture
async def sim() -> AsyncIterator[VolumetricaSim]:
    async with VolumetricaSim(seed=3) as s:
        calm(s)
        yield s


Connect = Callable[..., Awaitable[tuple[VolumetricaBroker, EventLog]]]


@pytest.fixture
async def connect(sim: VolumetricaSim) -> AsyncIterator[Connect]:
    made: list[VolumetricaBroker] = []

    async def factory(**options: Any) -> tuple[VolumetricaBroker, EventLog]:
        log = EventLog()
        creds = {"platform_key": BUILTIN_PLATFORM_KEY, "login": BUILTIN_LOGIN, "password": BUILTIN_PASSWORD}
        creds.update({k: options.pop(k) for k in list(options) if k in creds})
        options.setdefault("request_timeout_s", 3.0)
        b = VolumetricaBroker(
            f"acc-{len(made)}", sink=log, environment="simulator", auth_url=sim.base_url, **creds, **options
        )
        made.append(b)
        await b.connect()
        return b, log

    yield factory
    for b in made:
        await b.close()


async def until(probe: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll `probe` every 20 ms until it returns something truthy; fail after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)
