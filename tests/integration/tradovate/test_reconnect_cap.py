"""Reconnects are capped (#21): after `fast_attempts` failures in a row a socket retries slowly,
every `slow_retry_s`, says so in its status and in the panel's log, and never stops by itself.
Small values keep the test short (the defaults are 8 attempts, then every 5 minutes).

On the old code the back-off went on at full speed forever, with nothing telling the trader."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from decimal import Decimal

from sidedesk.brokers.tradovate.adapter import TradovateBroker
from sidedesk.domain import ConnectionEvent, ConnectionState, NoticeEvent
from sidedesk.net.backoff import Backoff
from sidedesk.net.ws import ResilientWebSocket, WsStatus
from sidedesk_sim.tradovate import SimConfig, TradovateSim
from tests.integration.tradovate.conftest import config_for, eventually
from tests.support.eventlog import EventLog

FAST = 3
SLOW_S = 0.5


def refused_port() -> int:
    """A loopback port nothing listens on: every connect is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refusing_server_slows_the_retries_down_and_they_go_on() -> None:
    port = refused_port()
    statuses: list[tuple[float, WsStatus]] = []

    async def url() -> str:
        return f"ws://127.0.0.1:{port}"

    ws = ResilientWebSocket(
        "refused",
        url,
        lambda m: None,
        on_status=lambda st: statuses.append((time.monotonic(), st)),
        backoff=Backoff(base_s=0.01, cap_s=0.02),
        fast_attempts=FAST,
        slow_retry_s=SLOW_S,
    )

    def waits() -> list[tuple[float, WsStatus]]:
        return [(t, st) for t, st in statuses if st.next_retry_s is not None]

    ws.start()
    try:
        await eventually(lambda: len(waits()) >= FAST + 2, "two slow retries", timeout=5.0)
    finally:
        await ws.stop()
    scheduled = waits()
    fast, slow = scheduled[: FAST - 1], scheduled[FAST - 1 :]
    assert all(st.next_retry_s is not None and st.next_retry_s <= 0.02 and not st.slow for _, st in fast)
    assert all(st.next_retry_s == SLOW_S and st.slow for _, st in slow), [st for _, st in slow]
    assert all("retrying slowly, every 0.5 s" in (st.last_error or "") for _, st in slow)
    assert [st.attempt for _, st in scheduled] == list(range(1, len(scheduled) + 1))
    # the slow attempts really are spaced out, and none of them gave up
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(slow)]
    assert gaps and all(g >= SLOW_S * 0.9 for g in gaps), gaps
    assert not any(st.state == "gave_up" for _, st in statuses)


async def test_tradovate_says_it_retries_slowly_and_comes_back() -> None:
    """The Tradovate adapter over loopback: the simulator goes away, the trading socket's status
    and one notice say "retrying slowly"; when the simulator is back, the slow retry reconnects."""
    sim = TradovateSim(seed=3, config=SimConfig(heartbeat_s=0.5))
    await sim.start()
    port = sim.port
    log = EventLog()
    broker = TradovateBroker(
        "tv-cap",
        config_for(sim),
        log,
        heartbeat_s=0.3,
        stale_after_s=2.0,
        request_timeout_s=2.0,
        backoff=Backoff(base_s=0.02, cap_s=0.05),
        fast_attempts=FAST,
        slow_retry_s=SLOW_S,
    )
    back: TradovateSim | None = None
    try:
        await broker.connect()
        await sim.stop()  # every reconnect is refused now

        def events() -> list[ConnectionEvent]:
            return [e for e in log.of(ConnectionEvent) if isinstance(e, ConnectionEvent)]

        slow = await eventually(
            lambda: [e for e in events() if e.next_retry_s == SLOW_S and "retrying slowly" in e.detail],
            "a slow retry in the status",
        )
        assert slow[0].state is ConnectionState.RECONNECTING and slow[0].attempt == FAST
        fast = [e for e in events() if e.next_retry_s is not None and e.next_retry_s < SLOW_S]
        assert len(fast) == FAST - 1
        await asyncio.sleep(SLOW_S * 2.5)  # more slow attempts: still one notice per outage
        notices = [n for n in log.of(NoticeEvent) if isinstance(n, NoticeEvent)]
        assert len(notices) == 1 and notices[0].level == "warning", notices
        assert "retrying slowly, every 0.5 s" in notices[0].message and "tradovate" in notices[0].message
        # the exchange is back on the same address: the next slow attempt connects
        back = TradovateSim(seed=3, port=port, config=SimConfig(heartbeat_s=0.5))
        await back.start()
        for c in back.contracts:
            back.engine.set_volatility(c.name, Decimal(0))
        n = len(events())
        await eventually(
            lambda: any(e.state is ConnectionState.CONNECTED for e in events()[n:]),
            "reconnected after the slow retry",
            timeout=SLOW_S * 6,
        )
    finally:
        await broker.close()
        if back is not None:
            await back.stop()
