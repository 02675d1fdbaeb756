"""Heartbeats and the silence timeout; per-token connection and message-rate limits."""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.localstream.conftest import Env, Host


async def silent_client(url: str, secret: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that completes the handshake and then never sends a frame (not even a pong)."""
    host, port = url.removeprefix("ws://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {secret}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101")
    return reader, writer


def masked_text(payload: bytes) -> bytes:
    """One client text frame (FIN, masked, as RFC 6455 requires of clients), under 64 KiB."""
    mask = os.urandom(4)
    size = len(payload)
    head = bytes([0x81, 0x80 | size]) if size < 126 else bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of the unmasked frames a server sent, in order."""
    out, i = [], 0
    while i + 2 <= len(data):
        size, i0 = data[i + 1] & 0x7F, i + 2
        if size == 126:
            size, i0 = int.from_bytes(data[i + 2 : i + 4], "big"), i + 4
        out.append((data[i] & 0x0F, data[i0 : i0 + size]))
        i = i0 + size
    return out


async def test_heartbeats_keep_a_responsive_client_and_silence_disconnects(host: Host) -> None:
    env = await Env(host).setup(heartbeat_s=0.1, idle_timeout_s=0.4)
    _, secret = await env.token("all")
    c = await env.client(secret)  # the websockets client answers pings: it is never silent
    reader, writer = await silent_client(env.url, secret)
    try:
        beats = 0
        while beats < 8:  # 0.8 s: twice the silence timeout
            msg = await c.next(2)
            beats += msg["type"] == "heartbeat"
        # the silent one was closed by the server: a close frame (code 4000) then EOF
        data = await asyncio.wait_for(reader.read(), 5)
        assert b"\x88" in data and (4000).to_bytes(2, "big") in data
        stats = env.svc.stats()
        assert stats["disconnects"] == {"idle_timeout": 1}
        assert stats["active_connections"] == 1 and stats["disconnect_rate"] == 0.5
        await c.close()
    finally:
        writer.close()


async def test_connection_limit_per_token(host: Host) -> None:
    env = await Env(host).setup(max_connections_per_token=2)
    _, one = await env.token("one")
    _, two = await env.token("two")
    a, b = await env.client(one), await env.client(one)
    with pytest.raises(InvalidStatus) as err:
        await env.client(one)
    assert err.value.response.status_code == 429
    other = await env.client(two)  # the limit is per token
    await a.close()
    await asyncio.sleep(0.05)
    c = await env.client(one)  # a slot is free again
    assert env.svc.stats()["refused"] == {"connection_limit": 1}
    for x in (b, other, c):
        await x.close()


async def test_message_rate_limit_per_token(host: Host) -> None:
    env = await Env(host).setup(max_messages_per_s=5)
    _, noisy = await env.token("noisy")
    _, calm = await env.token("calm")
    c = await env.client(noisy)
    for i in range(200):
        await c.ws.send(json.dumps({"type": "ping", "id": i}))
    pongs, errors = 0, []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            msg = await c.next()
            pongs += msg["type"] == "pong"
            if msg["type"] == "error":
                errors.append(msg)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert 10 <= pongs < 50  # the burst (10), a few refills, and no more
    assert len(errors) == 1 and errors[0]["code"] == "rate_limited"
    # another token is not affected
    ok = await env.client(calm)
    assert (await ok.barrier()) == []
    stats = env.svc.stats()
    assert stats["disconnects"].get("rate_limited") == 1 and stats["errors"]["rate_limited"] >= 50
    await ok.close()


async def test_a_burst_read_at_once_is_answered_before_the_rate_limit_closes_it(host: Host) -> None:
    """All 200 frames arrive in one write, so the server reads them before its writer runs once:
    the answers to the burst it accepted and the error saying why still go out before the close
    (they were dropped: the close started first and the writer stops sending once closing)."""
    env = await Env(host).setup(max_messages_per_s=5, heartbeat_s=30)
    _, noisy = await env.token("noisy")
    reader, writer = await silent_client(env.url, noisy)
    try:
        pings = (json.dumps({"type": "ping", "id": i}).encode() for i in range(200))
        writer.write(b"".join(masked_text(p) for p in pings))
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)  # up to the server's close and EOF
    finally:
        writer.close()
    frames = server_frames(data)
    texts = [json.loads(p) for op, p in frames if op == 0x1]
    assert frames and frames[-1][0] == 0x8 and frames[-1][1][:2] == (1008).to_bytes(2, "big"), frames[-3:]
    assert sum(m["type"] == "pong" for m in texts) >= 10, texts  # the burst
    assert [m["code"] for m in texts if m["type"] == "error"] == ["rate_limited"]
