"""Protocol versions over loopback (issue #21): the adapter reads the version at login and speaks
it, against the simulator speaking v5 (int32 quantities and ids) or v5.1 (sint64).

Before #21 the adapter always wrote v5.1: against a v5 server a sell of 2 (zigzag 3) was read as
a buy of 3, and nothing looked at the version the server reported."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest

from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
from sidedesk.brokers.volumetrica.protocol import wire
from sidedesk.brokers.volumetrica.protocol.dialect import V5, V5_1
from sidedesk.core.asl import ids as asl_ids
from sidedesk.domain import BrokerError, FillEvent, OrderRequest, OrderType, PositionEvent, Side
from sidedesk_sim.volumetrica import (
    SimConfig,
    VolumetricaSim,
)
from sidedesk_sim.volumetrica.instruments import front_symbol
from tests.integration.volumetrica.conftest import calm, config_for, until
from tests.support.eventlog import EventLog

ES = front_symbol("ES")
INT32_MAX = 2**31 - 1


def broker(sim: VolumetricaSim, log: EventLog, name: str = "acc") -> VolumetricaBroker:
    return VolumetricaBroker(name, config_for(sim), log, request_timeout_s=3.0)


@pytest.fixture(params=["5", "5.1"])
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[VolumetricaSim]:
    async with VolumetricaSim(seed=3, protocol=request.param) as s:
        calm(s)
        await s.control("price", {"symbol": ES, "price": "6000"})
        yield s


def fills(log: EventLog) -> list[FillEvent]:
    return [f for f in log.of(FillEvent) if isinstance(f, FillEvent)]


def position(log: EventLog) -> D | None:
    ps = [p for p in log.of(PositionEvent) if isinstance(p, PositionEvent) and p.symbol == ES]
    return ps[-1].quantity if ps else None


async def test_a_sell_is_a_sell_and_a_buy_a_buy(sim: VolumetricaSim) -> None:
    log = EventLog()
    b = broker(sim, log)
    await b.connect()
    try:
        assert b.session.dialect is (V5 if sim.protocol == "5" else V5_1)
        sell = await b.place(OrderRequest(ES, Side.SELL, OrderType.MARKET, D(2), "sdmsell00001"))
        assert sim.exchange.orders[int(sell.order_id)].quantity == -2  # v5 read zigzag 3 as +3
        await until(lambda: position(log) == -2, what="a short of 2")
        assert [(f.side, f.quantity) for f in fills(log)] == [(Side.SELL, D(2))]
        # the other way round: an int32 buy of 3 read as zigzag would be a sell of 2
        buy = await b.place(OrderRequest(ES, Side.BUY, OrderType.MARKET, D(3), "sdmbuy000001"))
        assert sim.exchange.orders[int(buy.order_id)].quantity == 3
        await until(lambda: position(log) == 1, what="long 1 after buying 3")
        assert [(f.side, f.quantity) for f in fills(log)][-1] == (Side.BUY, D(3))
        # a resting sell limit, changed and read back: PendingQty stays signed
        lim = await b.place(OrderRequest(ES, Side.SELL, OrderType.LIMIT, D(1), "sdmlim000001", price=D(6010)))
        mod = await b.modify(ES, lim.order_id, quantity=D(2), price=D("6011.25"), side=Side.SELL)
        assert sim.exchange.orders[int(lim.order_id)].quantity == -2 and mod.client_id == "sdmlim000001"
        snap = await b.snapshot()
        assert [p.quantity for p in snap.positions] == [1]
        assert [(o.side, o.quantity, o.price) for o in snap.open_orders] == [(Side.SELL, D(2), D("6011.25"))]
        numbers = [o.org_client_id for o in sim.exchange.orders.values()] + [
            o.seq_client_id for o in sim.exchange.orders.values()
        ]
        if sim.protocol == "5":  # every client id fitted v5's int32
            assert all(0 < n <= INT32_MAX for n in numbers)
    finally:
        await b.close()


async def test_asl_stops_are_recognised_after_a_restart_on_both_versions(sim: VolumetricaSim) -> None:
    log = EventLog()
    b = broker(sim, log)
    await b.connect()
    try:
        await b.place(OrderRequest(ES, Side.BUY, OrderType.MARKET, D(1), "sdmentry0001"))
        await until(lambda: position(log) == 1, what="long 1")
        stop_id = asl_ids.encode(ES, True, "0", 1)
        stop = await b.place(
            OrderRequest(
                ES, Side.SELL, OrderType.STOP_MARKET, D(1), stop_id, stop_price=D(5990), reduce_only=True
            )
        )
        wire_id = sim.exchange.orders[int(stop.order_id)].org_client_id
        assert (wire_id <= INT32_MAX) is (sim.protocol == "5")
    finally:
        await b.close()
    again = broker(sim, EventLog(), "acc-restarted")  # a new host: nothing in memory
    await again.connect()
    try:
        snap = await again.snapshot()
        assert [o.client_id for o in snap.open_orders] == [stop_id]
    finally:
        await again.close()


async def test_an_unknown_version_is_refused_and_nothing_is_sent() -> None:
    config = SimConfig(reported_version=7)  # a server newer than anything we know
    async with VolumetricaSim(seed=3, config=config) as sim:
        calm(sim)
        b = broker(sim, EventLog())
        try:
            with pytest.raises(BrokerError) as exc:
                await b.connect()
            assert exc.value.code == "not_connected"
            assert "protocol version 7" in exc.value.message and "does not trade" in exc.value.message
            assert b.session.refusal is not None
            frame = wire.insert(
                contract_id=1, seq_client_id=1, quantity=-1, order_type=0, acc_number=1, source=0
            )
            with pytest.raises(BrokerError, match="protocol version 7"):  # every order frame goes here
                await b.session.send(frame)
            await asyncio.sleep(0.5)
            assert sim.logins == 1 and not sim.exchange.orders  # no retry loop, no order
        finally:
            await b.close()


async def test_a_server_without_version_that_is_not_v5_is_refused() -> None:
    # a v5.1 server that leaves Version out would be taken for v5; its v5.1 account fields say otherwise
    async with VolumetricaSim(seed=3, config=SimConfig(reported_version=0), protocol="5.1") as sim:
        calm(sim)
        b = broker(sim, EventLog())
        try:
            with pytest.raises(BrokerError) as exc:
                await b.connect()
            assert "account fields v5 does not have" in exc.value.message
            assert not sim.exchange.orders
        finally:
            await b.close()
