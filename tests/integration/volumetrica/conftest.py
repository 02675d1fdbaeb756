"""Fixtures: a Volumetrica simulator per test on 127.0.0.1 with calm prices, and a factory of
connected `VolumetricaBroker`s pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim
from tests.support.eventlog import EventLog
from tests.support.simthread import calm
from tests.support.wait import eventually_async


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


# The one bounded poll (tests/support/wait.py), under the name these tests know it by.
until = eventually_async
