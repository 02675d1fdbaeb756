"""Who may connect: every refusal happens on the HTTP upgrade, before one byte of the portfolio."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.localstream.conftest import ALL, Env, HostError, call, make_host


async def raw_handshake(url: str, headers: dict[str, str]) -> bytes:
    """Send an upgrade request by hand and read everything the server sends until it closes."""
    host, port = url.removeprefix("ws://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET / HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]  # fmt: skip
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(65536), 5)
    finally:
        writer.close()


async def with_portfolio(env: Env) -> None:
    """Rows that must not leak to a refused client."""
    env.position(env.accounts[0], "BTCUSDT", "0.5")
    env.balance(env.accounts[0], "1234.5")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "auth_missing"),
        ({"Authorization": "Bearer sdls_" + "A" * 43}, "auth_invalid"),
        ({"Authorization": "Bearer not-a-token"}, "auth_invalid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "auth_missing"),
        ({"Authorization": "Bearer"}, "auth_missing"),
        ({"Sec-WebSocket-Protocol": "sidedesk.v1, bearer.sdls_" + "B" * 43}, "auth_invalid"),
    ],
)
async def test_auth_failures_are_refused_before_any_data(
    env: Env, headers: dict[str, str], reason: str
) -> None:
    await env.token("good")
    await with_portfolio(env)
    raw = await raw_handshake(env.url, headers)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401"), head
    assert b"Upgrade: websocket" not in head
    assert b"BTCUSDT" not in raw and b"1234.5" not in raw and env.accounts[0].encode() not in raw
    assert b"bearer token" in body.lower()
    assert env.svc.stats()["refused"] == {reason: 1}
    assert env.svc.stats()["active_connections"] == 0


async def test_a_browser_origin_not_on_the_list_is_refused_even_with_a_valid_token(env: Env) -> None:
    _, secret = await env.token("good")
    await with_portfolio(env)
    for origin in ("https://evil.example", "null", "http://localhost:3000"):
        raw = await raw_handshake(env.url, {"Authorization": f"Bearer {secret}", "Origin": origin})
        assert raw.startswith(b"HTTP/1.1 403"), raw[:80]
        assert b"BTCUSDT" not in raw and b"1234.5" not in raw
    with pytest.raises(InvalidStatus) as err:
        await connect(
            env.url, origin="https://evil.example", additional_headers={"Authorization": f"Bearer {secret}"}
        )  # type: ignore[arg-type]
    assert err.value.response.status_code == 403
    assert env.svc.stats()["refused"] == {"origin": 4}


async def test_an_allowed_origin_connects_with_the_subprotocol_form_of_the_token(env: Env) -> None:
    _, secret = await env.token("dashboard")
    info = await call(env.host, "localstream.set", {"allowed_origins": ["HTTP://LocalHost:3000/"]})
    assert info["settings"]["allowed_origins"] == ["http://localhost:3000"]
    ws = await connect(
        env.url, origin="http://localhost:3000", subprotocols=["sidedesk.v1", f"bearer.{secret}"]
    )  # type: ignore[list-item,arg-type]
    try:
        assert ws.subprotocol == "sidedesk.v1"
        assert '"hello"' in str(await asyncio.wait_for(ws.recv(), 5))
    finally:
        await ws.close()


async def test_rotation_and_revocation_cut_live_connections_and_old_secrets(env: Env) -> None:
    tid, secret = await env.token("script")
    c = await env.client(secret)
    await c.subscribe(*ALL)
    rotated = await call(env.host, "localstream.rotate_token", {"id": tid})
    new_secret = rotated["secret"]
    assert new_secret != secret and rotated["token"]["id"] == tid
    with pytest.raises(ConnectionClosed) as closed:
        await c.until(lambda m: False)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    with pytest.raises(InvalidStatus) as err:
        await env.client(secret)
    assert err.value.response.status_code == 401
    c2 = await env.client(new_secret)
    await call(env.host, "localstream.revoke_token", {"id": tid})
    with pytest.raises(ConnectionClosed):
        await c2.until(lambda m: False)
    with pytest.raises(InvalidStatus):
        await env.client(new_secret)
    assert env.svc.stats()["disconnects"] == {"token_revoked": 2}


async def test_tokens_are_unknown_until_the_vault_is_unlocked_once(tmp_path: Path) -> None:
    # a first host creates the vault and a token, then a second host starts with the vault locked
    first = make_host(tmp_path)
    env = await Env(first).setup()
    _, secret = await env.token("script")
    await first.shutdown()
    second = make_host(tmp_path)
    try:
        second.services.settings.update(
            localstream={**second.services.settings.config.localstream.model_dump(), "enabled": True}
        )
        env2 = Env(second)
        await env2.svc.apply()
        raw = await raw_handshake(env2.url, {"Authorization": f"Bearer {secret}"})
        assert raw.startswith(b"HTTP/1.1 503") and b"unlock the vault" in raw
        with pytest.raises(HostError) as err:
            await call(second, "localstream.create_token", {"name": "x"})
        assert err.value.code == "locked"
        await second.services.vault.unlock("correct horse battery staple 9")
        c = await env2.client(secret)
        second.services.vault.lock()  # locking again keeps the stream going: the digests stay in memory
        assert (await c.barrier()) == []
        c3 = await env2.client(secret)
        await c3.close()
        await c.close()
    finally:
        await second.shutdown()
