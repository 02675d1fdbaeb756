"""Issue #18: a client that stops reading while the server writes is dropped (send deadline,
outbound byte budget) with close code 4002, the server's memory stays bounded, the silence check
runs while writes are stuck, stopping the server does not wait on such a client, and a client that
reads is not affected by any of it.

The stuck clients are raw sockets with a tiny receive buffer that complete the handshake, subscribe
and then never read; the server is pushed by broker events fed to the desk, as the adapters do.
Deadlines are configured short so the tests are quick; the assertions are on outcomes, with bounds
generous enough for a busy machine.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from sidedesk.localstream.server import LocalStreamServer
from sidedesk.runtime import Host
from tests.integration.localstream.conftest import Env

SLOW_CONSUMER = 4002  # the documented close code (limits.CLOSE_SLOW_CONSUMER, schema.json close_codes)
IDLE = 4000
N_POSITIONS = 150  # rows in every positions event: about 40 KB a frame
BOUND_S = 30.0  # generous: every wait below normally ends in well under a second or two
RSS_GROWTH_BOUND = 96 * 1024 * 1024


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (payload under 64 KiB)."""
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The complete (unmasked) frames at the start of `data`."""
    out, i = [], 0
    while i + 2 <= len(data):
        opcode, n, j = data[i] & 0x0F, data[i + 1] & 0x7F, i + 2
        if n == 126:
            if j + 2 > len(data):
                break
            n, j = struct.unpack("!H", data[j : j + 2])[0], j + 2
        elif n == 127:
            if j + 8 > len(data):
                break
            n, j = struct.unpack("!Q", data[j : j + 8])[0], j + 8
        if j + n > len(data):
            break
        out.append((opcode, data[j : j + n]))
        i = j + n
    return out


class StuckClient:
    """Handshakes, subscribes, then reads nothing (until `read_until_close`)."""

    def __init__(self, sock: socket.socket, pending: bytes) -> None:
        self.sock = sock
        self.pending = pending  # bytes read with the handshake's answer

    @classmethod
    async def open(cls, url: str, secret: str, topics: list[str]) -> StuckClient:
        loop = asyncio.get_running_loop()
        host, port = url.removeprefix("ws://").split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {secret}\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
            assert chunk, "the server closed during the handshake"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        if topics:
            await cls(sock, b"").send({"type": "subscribe", "topics": topics})
        return cls(sock, rest)

    async def send(self, msg: dict[str, Any]) -> None:
        frame = client_frame(0x1, json.dumps(msg).encode())
        await asyncio.get_running_loop().sock_sendall(self.sock, frame)

    async def read_until_close(self, timeout: float = BOUND_S) -> tuple[int, str]:
        """Read everything the server queued, up to its close frame; answer it and hang up."""
        loop = asyncio.get_running_loop()
        data = self.pending
        async with asyncio.timeout(timeout):
            while True:
                for opcode, payload in server_frames(data):
                    if opcode == 0x8:
                        code = struct.unpack("!H", payload[:2])[0]
                        with_reply = client_frame(0x8, payload[:2])
                        with contextlib.suppress(OSError):
                            await loop.sock_sendall(self.sock, with_reply)
                        self.close()
                        return code, payload[2:].decode()
                chunk = await loop.sock_recv(self.sock, 1 << 16)
                if not chunk:
                    raise AssertionError("connection ended without a close frame")
                data += chunk

    async def wait_gone(self, timeout: float = BOUND_S) -> None:
        """Until the server has ended the TCP connection (EOF or reset), discarding what it sent."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                try:
                    if not await loop.sock_recv(self.sock, 1 << 16):
                        return
                except (ConnectionResetError, BrokenPipeError):
                    return

    def close(self) -> None:
        self.sock.close()


async def tuned(env: Env, **limits: Any) -> LocalStreamServer:
    """Restart the server with send limits and close timeout set directly (as the settings would;
    the close timeout is also the library's, so it is set before listening)."""
    server = env.svc.server
    assert server is not None
    await server.stop()
    if "close_timeout_s" in limits:
        server.close_timeout_s = limits.pop("close_timeout_s")
    if limits:
        from sidedesk.localstream.limits import SendLimits

        server.limits = SendLimits(**limits)
    await server.start()
    return server


def seed_positions(env: Env) -> None:
    for i in range(N_POSITIONS):
        env.position(env.accounts[0], f"S{i:03d}USDT", "1", entry="100", mark="100")


async def churn(env: Env, done: Callable[[], bool], bound_s: float = BOUND_S) -> tuple[bool, int]:
    """Re-mark positions and quotes as fast as the loop allows until `done()`; returns whether it
    came, and the peak growth of this process's RSS meanwhile (the server runs in this process)."""
    loop = asyncio.get_running_loop()
    base = peak = rss()
    end = loop.time() + bound_s
    i = 0
    while not done():
        if loop.time() > end:
            return False, peak - base
        i += 1
        env.position(env.accounts[0], f"S{i % N_POSITIONS:03d}USDT", "1", entry="100", mark=str(100 + i % 97))
        env.quote("BTCUSDT", str(100 + i % 89))
        if i % 25 == 0:
            peak = max(peak, rss())
        await asyncio.sleep(0.002)
    return True, max(peak, rss()) - base


def stuck_writes(server: LocalStreamServer) -> Callable[[], bool]:
    """The server's writes to a connection wait: more than the high-water mark is unsent."""
    return lambda: any(c.ws.transport.get_write_buffer_size() > 32 * 1024 for c in server.conns)


def closing(server: LocalStreamServer, reason: str) -> Callable[[], bool]:
    """The server has decided to drop a connection for `reason` (or already has)."""
    return lambda: (
        server.stats.disconnects.get(reason, 0) > 0 or any(c.close_reason == reason for c in server.conns)
    )


async def until(pred: Callable[[], bool], timeout: float = BOUND_S) -> None:
    async with asyncio.timeout(timeout):
        while not pred():  # noqa: ASYNC110 - polls the server's state, which signals nothing
            await asyncio.sleep(0.02)


async def test_a_client_that_stops_reading_is_dropped_with_4002_and_memory_stays_bounded(host: Host) -> None:
    # the silence timeout is far away: only the send deadline can drop the client in time; the long
    # close timeout leaves the test all the time it needs to read up to the close frame
    env = await Env(host).setup(batch_ms=50, heartbeat_s=0.2, idle_timeout_s=600)
    server = await tuned(env, send_timeout_s=0.5, close_timeout_s=BOUND_S)
    seed_positions(env)
    _, secret = await env.token("stuck")
    stuck = await StuckClient.open(env.url, secret, ["positions", "quotes", "orders"])
    try:
        dropped, growth = await churn(env, closing(server, "slow_consumer"))
        assert dropped, "a client that stopped reading was never dropped"
        # the close frame waits behind what the client did not read; reading on reaches it
        code, reason = await stuck.read_until_close()
        assert code == SLOW_CONSUMER and "not taken within 0.5 s" in reason
        await until(lambda: not server.conns)
        assert server.stats.disconnects == {"slow_consumer": 1}
        assert growth < RSS_GROWTH_BOUND, f"RSS grew by {growth / 2**20:.1f} MiB"
    finally:
        stuck.close()


async def test_silence_is_detected_while_writes_are_stuck(host: Host) -> None:
    # the send deadline is far away: the client must be dropped by the silence check, which used
    # to wait behind a heartbeat ping stuck in the socket's flow control
    env = await Env(host).setup(batch_ms=50, heartbeat_s=0.1, idle_timeout_s=2.0)
    server = await tuned(env, send_timeout_s=600, close_timeout_s=0.5)
    seed_positions(env)
    _, secret = await env.token("stuck")
    stuck = await StuckClient.open(env.url, secret, ["positions", "quotes"])
    loop = asyncio.get_running_loop()
    talked = [loop.time()]
    pings: list[asyncio.Task[None]] = []

    def stuck_but_talking() -> bool:  # the client pings (and is heard) until the server's writes wait
        if loop.time() - talked[0] > 0.1:
            talked[0] = loop.time()
            pings.append(loop.create_task(stuck.send({"type": "ping"})))
        return stuck_writes(server)()

    try:
        ok, _ = await churn(env, stuck_but_talking)
        await asyncio.gather(*pings)
        assert ok, "the server's writes never had to wait for the stuck client"
        assert server.stats.disconnects == {} and len(server.conns) == 1  # heard, so not dropped yet
        # now it is silent too, with the heartbeat's ping stuck behind the unsent events
        dropped, _ = await churn(env, closing(server, "idle_timeout"))
        assert dropped, "a silent client with a full socket was never dropped"
        await stuck.wait_gone()  # it never read the close frame: aborted after the close timeout
        await until(lambda: not server.conns)
        assert server.stats.disconnects == {"idle_timeout": 1}
    finally:
        stuck.close()


async def test_pings_from_a_client_that_does_not_read_cannot_pile_up(host: Host) -> None:
    # the library answers every ping with a pong, unpaced: a client that sends pings and reads
    # nothing made the server buffer all the pongs; the outbound budget cuts it off
    env = await Env(host).setup(idle_timeout_s=600)
    server = await tuned(env, send_timeout_s=600, max_outbound_bytes=256 * 1024, close_timeout_s=1.0)
    _, secret = await env.token("flood")
    stuck = await StuckClient.open(env.url, secret, [])
    loop = asyncio.get_running_loop()
    burst = b"".join(client_frame(0x9, os.urandom(125)) for _ in range(2000))  # ~260 KB of pings
    base = peak = rss()
    sent = 0
    try:
        async with asyncio.timeout(BOUND_S):
            while sent < 64 * 1024 * 1024 and not closing(server, "slow_consumer")():
                try:
                    await loop.sock_sendall(stuck.sock, burst)
                except OSError:  # the server aborted the connection
                    break
                sent += len(burst)
                peak = max(peak, rss())
                await asyncio.sleep(0)
        # before the fix about as many pong bytes as ping bytes sent were kept for the client
        assert peak - base < 32 * 1024 * 1024, f"RSS grew by {(peak - base) / 2**20:.1f} MiB"
        await until(lambda: not server.conns)
        assert server.stats.disconnects == {"slow_consumer": 1}
    finally:
        stuck.close()


async def test_stopping_the_server_does_not_wait_on_a_stuck_client(host: Host) -> None:
    env = await Env(host).setup(batch_ms=50, idle_timeout_s=600)
    server = await tuned(env, send_timeout_s=600, close_timeout_s=0.5)
    seed_positions(env)
    _, secret = await env.token("stuck")
    stuck = await StuckClient.open(env.url, secret, ["positions", "quotes"])
    try:
        ok, _ = await churn(env, stuck_writes(server))
        assert ok, "the server's writes never had to wait for the stuck client"
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(server.stop(), BOUND_S)
        took = loop.time() - started
        assert not server.conns and not server.running
        await stuck.wait_gone()
        assert server.stats.disconnects == {"server_stopped": 1}
        assert took < BOUND_S / 2, f"stop took {took:.1f} s"
    finally:
        stuck.close()


async def test_a_client_that_reads_is_unaffected_while_a_stuck_one_is_dropped(host: Host) -> None:
    env = await Env(host).setup(batch_ms=50, idle_timeout_s=600)
    # a 3 s deadline: even a busy machine hands a reading client its frames in time
    server = await tuned(env, send_timeout_s=3.0, max_outbound_bytes=1024 * 1024, close_timeout_s=1.0)
    seed_positions(env)
    _, secret = await env.token("both")
    healthy = await env.client(secret)
    await healthy.subscribe("positions", "quotes")
    stuck = await StuckClient.open(env.url, secret, ["positions", "quotes"])
    received: dict[str, list[int]] = {"positions": [], "quotes": []}

    async def read() -> None:
        while True:
            msg = await healthy.next(BOUND_S)
            if msg["type"] == "event":
                received[msg["topic"]].append(msg["seq"])

    reader = asyncio.get_running_loop().create_task(read())
    try:
        dropped, _ = await churn(env, closing(server, "slow_consumer"))
        assert dropped
        # and it goes on: the healthy client keeps getting events after the other one is gone
        before = len(received["positions"])
        ok, _ = await churn(env, lambda: len(received["positions"]) >= before + 10)
        assert ok, "the healthy client stopped receiving"
        assert not reader.done()
        await until(lambda: len(server.conns) == 1)
        for seqs in received.values():  # every event, numbered without a gap
            assert seqs == list(range(1, len(seqs) + 1))
        assert server.stats.disconnects == {"slow_consumer": 1}
        assert [c.close_reason for c in server.conns] == [None]
    finally:
        reader.cancel()
        stuck.close()
    with contextlib.suppress(ConnectionClosed):
        await healthy.close()
