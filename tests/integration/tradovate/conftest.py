"""Fixtures: a Tradovate simulator per test on 127.0.0.1 (prices still unless a test moves them)
and a factory of connected `TradovateBroker`s with an `EventLog` sink, all closed at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from sidedesk.brokers.tradovate.adapter import TradovateBroker
from sidedesk.brokers.tradovate.config import TradovateConfig, endpoints_for
from sidedesk.brokers.tradovate.protocol.messages import Credentials
from sidedesk.domain import OrderEvent
from sidedesk.net.backoff import Backoff
from sidedesk_sim.tradovate import BUILTIN_USER, SimConfig, TradovateSim
from sidedesk_sim.tradovate.instruments import front_name
from tests.support.eventlog import EventLog
from tests.support.simthread import calm
from tests.support.wait import WAIT_S, eventually_async

T = TypeVar("T")
MES = front_name("MES")  # the simulator lists the front month on its clock (sim/cme.py)


@dataclass
class Session:
    broker: TradovateBroker
    log: EventLog

    def orders(self, order_id: str) -> list[OrderEvent]:
        return [e for e in self.log.of(OrderEvent) if isinstance(e, OrderEvent) and e.order_id == order_id]


Connect = Callable[..., Awaitable[Session]]


async def eventually(probe: Callable[[], T | None], what: str, timeout: float = WAIT_S) -> T:
    """The one bounded poll (tests/support/wait.py), with `what` second as these tests write it."""
    return await eventually_async(probe, timeout, what)


def config_for(sim: TradovateSim, **over: Any) -> TradovateConfig:
    """The built-in simulator user's config; `over` replaces credential fields (e.g. password)."""
    fields: dict[str, Any] = {
        "name": BUILTIN_USER["name"],
        "password": BUILTIN_USER["password"],
        "cid": BUILTIN_USER["cid"],
        "sec": BUILTIN_USER["sec"],
        "app_id": "Sidedesk tests",
    }
    fields.update(over)
    urls = {"rest": sim.rest_url, "ws": sim.ws_url, "md": sim.md_url}
    return TradovateConfig("simulator", endpoints_for("simulator", urls), Credentials(**fields))


@pytest.fixture
async def sim() -> AsyncIterator[TradovateSim]:
    async with TradovateSim(seed=3, config=SimConfig(heartbeat_s=0.5)) as s:
        calm(s)
        yield s


@pytest.fixture
async def connect(sim: TradovateSim) -> AsyncIterator[Connect]:
    sessions: list[Session] = []

    async def factory(config: TradovateConfig | None = None, **options: Any) -> Session:
        log = EventLog()
        opts: dict[str, Any] = {
            "heartbeat_s": 0.3,
            "stale_after_s": 3.0,
            "request_timeout_s": 3.0,
            "backoff": Backoff(base_s=0.05, cap_s=0.3),
        }
        opts.update(options)
        broker = TradovateBroker(f"tv-{len(sessions)}", config or config_for(sim), log, **opts)
        session = Session(broker, log)
        sessions.append(session)
        await broker.connect()
        return session

    yield factory
    for s in sessions:
        await s.broker.close()
