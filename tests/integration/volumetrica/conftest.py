"""Fixtures: a Volumetrica simulator per test on 127.0.0.1 with calm prices, and a factory of
connected `VolumetricaBroker`s pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
from sidedesk.brokers.volumetrica.config import VolumetricaConfig
from sidedesk.brokers.volumetrica.protocol.auth import Credentials
from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim
from tests.support.eventlog import EventLog
from tests.support.simthread import calm
from tests.support.wait import eventually_async


def config_for(sim: VolumetricaSim, **over: Any) -> VolumetricaConfig:
    """The built-in simulator login's config; `over` replaces platform_key, login, password or
    keep_other_sessions."""
    creds = {"platform_key": BUILTIN_PLATFORM_KEY, "login": BUILTIN_LOGIN, "password": BUILTIN_PASSWORD}
    creds.update({k: over.pop(k) for k in list(over) if k in creds})
    return VolumetricaConfig("simulator", sim.base_url, Credentials(**creds), **over)


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
        creds = {k: options.pop(k) for k in list(options) if k in ("platform_key", "login", "password")}
        options.setdefault("request_timeout_s", 3.0)
        b = VolumetricaBroker(f"acc-{len(made)}", config_for(sim, **creds), log, **options)
        made.append(b)
        await b.connect()
        return b, log

    yield factory
    for b in made:
        await b.close()


# The one bounded poll (tests/support/wait.py), under the name these tests know it by.
until = eventually_async
