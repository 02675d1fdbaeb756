"""ResilientWebSocket against a real websockets server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from websockets.asyncio.server import ServerConnection, serve

from sidedesk.net.backoff import Backoff
from sidedesk.net.ws import AppPing, AuthFailed, NotConnected, ResilientWebSocket, WsStatus


@dataclass
class Server:
    """Echoes, counts connections, and can be told to misbehave."""

    url: str = ""
    connections: int = 0
    received: list[str] = field(default_factory=list)
    drop_first: int = 0  # close this many connections right after the handshake
    silent: bool = False  # never send anything (not even the greeting)
    live: set[ServerConnection] = field(default_factory=set)

    async def handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        self.live.add(ws)
        try:
            if self.connections <= self.drop_first:
                await ws.close(code=1011, reason="going away")
                return
            if not self.silent:
                await ws.send(f"hello {self.connections}")
            async for msg in ws:
                assert isinstance(msg, str)
                self.received.append(msg)
                if not self.silent:
                    await ws.send(f"echo {msg}")
        finally:
            self.live.discard(ws)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    async with serve(srv.handler, "127.0.0.1", 0) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        srv.url = f"ws://127.0.0.1:{port}"
        yield srv


def client(
    server: Server, inbox: list[str | bytes], statuses: list[WsStatus], **kw: object
) -> ResilientWebSocket:
    async def url() -> str:
        return server.url

    return ResilientWebSocket(
        "test",
        url,
        inbox.append,
        on_status=statuses.append,
        backoff=kw.pop("backoff", Backoff(base_s=0.01, cap_s=0.05)),  # type: ignore[arg-type]
        supervise_every_s=0.02,
        **kw,  # type: ignore[arg-type]
    )


async def eventually(cond: object, timeout: float = 5.0) -> None:
    assert callable(cond)
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_connects_receives_and_sends(server: Server) -> None:
    inbox: list[str | bytes] = []
    statuses: list[WsStatus] = []
    ws = client(server, inbox, statuses)
    ws.start()
    await ws.wait_connected(5)
    await ws.send("ping-1")
    await eventually(lambda: "echo ping-1" in inbox)
    assert inbox[0] == "hello 1"
    assert [s.state for s in statuses][:2] == ["connecting", "connected"]
    await ws.stop()
    assert statuses[-1].state == "stopped"


async def test_reconnects_with_backoff_after_the_server_drops(server: Server) -> None:
    server.drop_first = 3
    inbox: list[str | bytes] = []
    statuses: list[WsStatus] = []
    ws = client(server, inbox, statuses)
    ws.start()
    # `connected` is briefly true on each doomed connection too: wait for the one that stays
    await eventually(lambda: "hello 4" in inbox)
    retries = [s for s in statuses if s.state == "reconnecting" and s.next_retry_s is not None]
    assert [s.attempt for s in retries] == [1, 2, 3]
    assert all(s.reason and "1011" in s.reason for s in retries)
    assert server.connections == 4 and inbox == ["hello 4"]
    await ws.stop()


async def test_sending_while_down_is_a_clear_error_not_a_silent_drop(server: Server) -> None:
    ws = client(server, [], [])
    with pytest.raises(NotConnected):
        await ws.send("x")


async def test_a_silent_connection_is_treated_as_dead(server: Server) -> None:
    server.silent = True
    statuses: list[WsStatus] = []
    ws = client(server, [], statuses, stale_after_s=0.2, ping_interval_s=None)
    ws.start()
    await eventually(lambda: server.connections >= 2)
    assert any(s.reason and s.reason.startswith("stale") for s in statuses)
    await ws.stop()


async def test_rotates_before_the_maximum_age_without_backoff(server: Server) -> None:
    statuses: list[WsStatus] = []
    ws = client(server, [], statuses, max_age_s=0.15, backoff=Backoff(base_s=60, cap_s=60))
    ws.start()
    await eventually(lambda: server.connections >= 3)  # a 60 s back-off would make this time out
    assert not any(s.next_retry_s for s in statuses)
    await ws.stop()


async def test_auth_failure_stops_retrying(server: Server) -> None:
    async def refuse(_: ResilientWebSocket) -> None:
        raise AuthFailed("API key revoked (-2015)")

    statuses: list[WsStatus] = []
    ws = client(server, [], statuses, on_open=refuse)
    ws.start()
    await eventually(lambda: statuses and statuses[-1].state == "auth_failed")
    await asyncio.sleep(0.2)
    assert server.connections == 1 and statuses[-1].last_error == "API key revoked (-2015)"
    await ws.stop()


async def test_gives_up_after_the_attempt_limit_when_one_is_set() -> None:
    async def url() -> str:
        return "ws://127.0.0.1:9"  # discard port: connection refused

    statuses: list[WsStatus] = []
    ws = ResilientWebSocket(
        "t", url, lambda m: None, on_status=statuses.append, backoff=Backoff(0.01, 0.02, max_attempts=2)
    )
    ws.start()
    await eventually(lambda: statuses and statuses[-1].state == "gave_up")
    assert "ConnectionRefusedError" in (statuses[-1].last_error or "") or "refused" in (
        statuses[-1].last_error or ""
    )
    await ws.stop()


async def test_app_heartbeat_is_sent_on_its_interval(server: Server) -> None:
    ws = client(server, [], [], app_ping=AppPing(0.05, "[]"))
    ws.start()
    await eventually(lambda: server.received.count("[]") >= 3)
    await ws.stop()


async def test_waking_from_sleep_reconnects_at_once(server: Server) -> None:
    wall = [1000.0]

    def fake_wall() -> float:
        wall[0] += 0.02
        return wall[0]

    statuses: list[WsStatus] = []
    ws = client(server, [], statuses, wall=fake_wall, backoff=Backoff(base_s=60, cap_s=60))
    ws.start()
    await ws.wait_connected(5)
    wall[0] += 3600  # an hour passed on the wall clock; the monotonic clock did not move
    await eventually(lambda: server.connections >= 2)
    assert any(s.reason == "woke from sleep" for s in statuses)
    await ws.stop()


async def test_a_failing_message_handler_does_not_cost_the_connection(server: Server) -> None:
    seen: list[str | bytes] = []

    def handler(msg: str | bytes) -> None:
        seen.append(msg)
        raise ValueError("garbage from the broker")

    async def url() -> str:
        return server.url

    ws = ResilientWebSocket("t", url, handler, supervise_every_s=0.02)
    ws.start()
    await ws.wait_connected(5)
    await ws.send("a")
    await eventually(lambda: "echo a" in seen)
    assert server.connections == 1
    await ws.stop()


async def test_explicit_reconnect_is_immediate(server: Server) -> None:
    ws = client(server, [], [], backoff=Backoff(base_s=60, cap_s=60))
    ws.start()
    await ws.wait_connected(5)
    ws.reconnect("listenKeyExpired")
    await eventually(lambda: server.connections >= 2 and ws.connected)
    with contextlib.suppress(Exception):
        await ws.stop()


async def test_an_on_purpose_reconnect_is_reported_as_reconnecting(server: Server) -> None:
    # listeners resync on reconnecting -> connected; a rotation or an explicit reconnect may have
    # missed events just like a dropped connection
    statuses: list[WsStatus] = []
    ws = client(server, [], statuses, backoff=Backoff(base_s=60, cap_s=60))
    ws.start()
    await ws.wait_connected(5)
    ws.reconnect("listenKeyExpired")
    await eventually(lambda: server.connections >= 2 and ws.connected)
    states = [s.state for s in statuses]
    assert states[0] == "connecting" and "connecting" not in states[1:]
    assert states[-2:] == ["reconnecting", "connected"]
    await ws.stop()
