"""The contract traded is the front month by expiry (#21), against the simulator over loopback on
pinned dates: the simulator and the adapter share one clock shifted to the date, so sign-in, token
renewal and the contract calendar all agree.

On the old adapter (the first `contract/suggest` name that looked like a contract) an expired
contract listed first was traded, and no roll before expiry was possible."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sidedesk.brokers.tradovate.adapter import TradovateBroker
from sidedesk.domain import FillEvent, OrderRequest, OrderType, Side
from sidedesk.net.backoff import Backoff
from sidedesk_sim.tradovate import SimConfig, TradovateSim
from tests.integration.tradovate.conftest import config_for, eventually
from tests.support.eventlog import EventLog


def pinned(at: str) -> Callable[[], int]:
    """A wall clock that reads `at` now and runs on from there."""
    offset = int(datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp() * 1000) - int(time.time() * 1000)
    return lambda: int(time.time() * 1000) + offset


@asynccontextmanager
async def desk_at(
    at: str, month: str | None = None, **options: Any
) -> AsyncIterator[tuple[TradovateBroker, EventLog]]:
    """A simulator listing the front month and the next quarter at `at` (or from `month`), and a
    connected adapter on the same clock."""
    clock = pinned(at)
    async with TradovateSim(seed=3, config=SimConfig(heartbeat_s=0.5, month=month), clock=clock) as sim:
        for c in sim.contracts:
            sim.engine.set_volatility(c.name, Decimal(0))
        log = EventLog()
        broker = TradovateBroker(
            "tv-front",
            config_for(sim),
            log,
            heartbeat_s=0.3,
            request_timeout_s=3.0,
            backoff=Backoff(base_s=0.05, cap_s=0.3),
            clock=clock,
            **options,
        )
        try:
            await broker.connect()
            yield broker, log
        finally:
            await broker.close()


async def test_the_nearest_contract_that_has_not_expired() -> None:
    async with desk_at("2027-03-12T15:00:00") as (broker, _log):
        rules = broker.instruments()
        assert set(rules) == {"ESH7", "MESH7", "NQH7", "MNQH7"}
        assert rules["MESH7"].contract_multiplier == Decimal(5)
        assert broker.contract_details()["MESH7"] == ("MESH7", "2027-03-19")


async def test_rolls_at_expiry_when_the_expired_contract_is_still_listed_first() -> None:
    # 14:00 UTC on 2027-03-19 is past the H7 contracts' last trading moment (09:30 New York = 13:30
    # UTC); the simulator still lists MESH7 first (as Tradovate's suggest may), then MESM7.
    async with desk_at("2027-03-19T14:00:00", month="H7") as (broker, log):
        assert set(broker.instruments()) == {"ESM7", "MESM7", "NQM7", "MNQM7"}
        assert broker.contract_details()["MESM7"] == ("MESM7", "2027-06-18")
        # orders go to the contract chosen: a market order fills on MESM7
        await broker.place(OrderRequest("MESM7", Side.BUY, OrderType.MARKET, Decimal(1), "sdm00000000front"))
        fills = await eventually(lambda: [f for f in log.of(FillEvent) if isinstance(f, FillEvent)], "a fill")
        assert fills[0].symbol == "MESM7" and fills[0].quantity == 1


async def test_rolls_a_configured_number_of_days_before_expiry() -> None:
    async with desk_at("2027-03-12T15:00:00", roll_days=8) as (broker, _log):
        assert "MESM7" in broker.instruments() and "MESH7" not in broker.instruments()
    async with desk_at("2027-03-10T15:00:00", roll_days=8) as (broker, _log):  # nine days before: not yet
        assert "MESH7" in broker.instruments()
