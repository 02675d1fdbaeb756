"""Concurrent sessions over loopback (issue #21): the trader's main platform ("another
platform": a second client logged in with the same user) keeps working while Sidedesk is logged
in, and what it trades shows up in Sidedesk within a second.

Before #21 Sidedesk logged in with KeepConcurrentSessionOn=false, which per the vendor's proto
("default is false, so if there is a concurrent session, it is dropped") threw that platform out.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest

from sidedesk.brokers.registry import build_broker
from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
from sidedesk.brokers.volumetrica.protocol import dialect, wire
from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk.domain import NoticeEvent, PositionEvent
from sidedesk.vault.entries import VolumetricaEntry, parse_entry
from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim
from sidedesk_sim.volumetrica.instruments import front_symbol
from tests.integration.volumetrica.conftest import calm, config_for, until
from tests.support.eventlog import EventLog

ES = front_symbol("ES")
ACCOUNT = 123456


class OtherPlatform:
    """The trader's main platform: its own token, its own socket, the same Volumetrica user."""

    def __init__(self, sim: VolumetricaSim) -> None:
        self.sim = sim
        self.spoken = dialect.V5 if sim.protocol == "5" else dialect.V5_1
        self.http = aiohttp.ClientSession()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.logged_off: str | None = None

    async def login(self) -> None:
        body = {"login": BUILTIN_LOGIN, "password": BUILTIN_PASSWORD, "version": 3, "environment": 0}
        async with self.http.post(
            self.sim.base_url + "/api/v2/auth/token", json=body, headers={"PltfKey": BUILTIN_PLATFORM_KEY}
        ) as r:
            data = (await r.json())["data"]
        self.ws = await self.http.ws_connect(data["tradingWssEndpoint"])
        await self.send(wire.login(data["tradingWssToken"]))  # platforms log in with the defaults
        assert (await self.receive(lambda m: m.HasField("login_msg"))).login_msg.success
        await self.send(wire.info_request(1))
        await self.receive(lambda m: m.HasField("info_msg"))

    async def send(self, frame: bytes) -> None:
        assert self.ws is not None
        await self.ws.send_bytes(dialect.encode_client(frame, self.spoken))

    async def receive(self, wanted: Any, timeout: float = 3.0) -> pb.ServerResponseMsg:
        """The next frame `wanted` accepts; a LoggedOff on the way is remembered and returned."""
        assert self.ws is not None
        while True:
            frame = await self.ws.receive(timeout=timeout)
            if frame.type != aiohttp.WSMsgType.BINARY:
                raise ConnectionError(f"the other platform's socket ended ({frame.type.name})")
            msg = wire.parse_server(frame.data, self.spoken)
            assert not isinstance(msg, wire.ParseError)
            if msg.HasField("logged_off"):
                self.logged_off = msg.logged_off.reason
                return msg
            if wanted(msg):
                return msg

    async def still_works(self) -> bool:
        await self.send(wire.ping(42))
        msg = await self.receive(lambda m: m.HasField("pong"))
        return msg.HasField("pong") and msg.pong.ack_value == 42

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()


@pytest.fixture(params=["5.1"])
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[VolumetricaSim]:
    async with VolumetricaSim(seed=3, protocol=request.param) as s:
        calm(s)
        await s.control("price", {"symbol": ES, "price": "6000"})
        yield s


@pytest.fixture
async def platform(sim: VolumetricaSim) -> AsyncIterator[OtherPlatform]:
    p = OtherPlatform(sim)
    await p.login()
    yield p
    await p.close()


def sidedesk(sim: VolumetricaSim, log: EventLog, keep_other_sessions: bool = True) -> VolumetricaBroker:
    config = config_for(sim, keep_other_sessions=keep_other_sessions)
    return VolumetricaBroker("acc", config, log, request_timeout_s=3.0)


def es_position(log: EventLog) -> D | None:
    ps = [p for p in log.of(PositionEvent) if isinstance(p, PositionEvent) and p.symbol == ES]
    return ps[-1].quantity if ps else None


async def test_the_other_platform_keeps_working_and_its_trades_show_within_a_second(
    sim: VolumetricaSim, platform: OtherPlatform
) -> None:
    log = EventLog()
    b = sidedesk(sim, log)  # keep_other_sessions: the default
    await b.connect()
    try:
        assert platform.logged_off is None and await platform.still_works()
        assert platform.logged_off is None, f"Sidedesk's login threw the platform out: {platform.logged_off}"
        # the trader buys 2 ES in their platform; Sidedesk shows the position within a second
        contract = sim.exchange.by_symbol[ES].contract_id
        sent = time.monotonic()
        await platform.send(
            wire.insert(
                contract_id=contract,
                seq_client_id=9001,
                quantity=2,
                order_type=pb.ORDER_MARKET,
                acc_number=ACCOUNT,
                source=pb.SOURCE_MANUAL,
            )
        )
        await until(lambda: es_position(log) == 2, timeout=1.0, what="the platform's position in Sidedesk")
        assert time.monotonic() - sent < 1.0
        # and it still trades: its own order updates reach it
        filled = await platform.receive(lambda m: any(o.filled_qty == 2 for o in m.order_info))
        assert platform.logged_off is None and filled.order_info
        snap = await b.snapshot()
        assert [(p.symbol, p.quantity) for p in snap.positions] == [(ES, D(2))]
    finally:
        await b.close()


async def test_with_the_switch_off_sidedesk_logs_the_other_platform_out(
    sim: VolumetricaSim, platform: OtherPlatform
) -> None:
    b = sidedesk(sim, EventLog(), keep_other_sessions=False)
    await b.connect()
    try:
        await platform.receive(lambda m: False)  # until its LoggedOff
        assert platform.logged_off == "concurrent session"
    finally:
        await b.close()


@pytest.mark.parametrize("sim", ["5"], indirect=True)
async def test_a_v5_server_cannot_keep_it_and_sidedesk_says_so(
    sim: VolumetricaSim, platform: OtherPlatform
) -> None:
    log = EventLog()
    b = sidedesk(sim, log)
    await b.connect()
    try:
        await platform.receive(lambda m: False)  # v5 has no KeepConcurrentSessionOn: dropped
        assert platform.logged_off == "concurrent session"
        notes = [n for n in log.of(NoticeEvent) if isinstance(n, NoticeEvent)]
        assert [n.level for n in notes if "protocol v5, which cannot keep other sessions" in n.message] == [
            "warning"
        ]
    finally:
        await b.close()


def test_the_setup_switch_reaches_the_login() -> None:
    base = {
        "broker": "volumetrica",
        "name": "eval",
        "environment": "live",
        "platform_key": BUILTIN_PLATFORM_KEY,
        "login": BUILTIN_LOGIN,
        "password": BUILTIN_PASSWORD,
    }
    old = parse_entry(base)  # an entry saved before the switch existed
    assert isinstance(old, VolumetricaEntry) and old.keep_other_sessions is True
    off = parse_entry({**base, "keep_other_sessions": False})
    for entry, keep in ((old, True), (off, False)):
        b = build_broker(entry, EventLog(), {})
        assert isinstance(b, VolumetricaBroker)
        assert b.session.keep_concurrent is keep
        assert (
            pb.ClientRequestMsg.FromString(
                wire.login("T", keep_concurrent=b.session.keep_concurrent)
            ).login_req.keep_concurrent_session_on
            is keep
        )
