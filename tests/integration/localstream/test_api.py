"""The `localstream.*` messages: settings, tokens shown once then masked, errors that lose nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.integration.localstream.conftest import Env, Host, HostError, call


async def test_tokens_are_shown_once_then_masked_and_kept_as_digests(env: Env) -> None:
    out = await call(env.host, "localstream.create_token", {"name": "journal", "accounts": [env.accounts[0]]})
    secret = out["secret"]
    assert secret.startswith("sdls_") and len(secret) == 48
    assert out["token"]["masked"] == f"{secret[:9]}…{secret[-4:]}"
    listing = await call(env.host, "localstream.tokens")
    assert listing["tokens"][0]["accounts"] == [env.accounts[0]]
    assert secret not in str(listing) and secret not in str(await call(env.host, "localstream.get"))
    stored = env.host.services.vault.item("localstream.tokens")
    assert secret not in str(stored) and len(stored[0]["digest"]) == 64
    # the vault file is rewritten with the item (and reads back after a lock)
    env.host.services.vault.lock()
    await env.host.services.vault.unlock("correct horse battery staple 9")
    assert env.host.services.vault.item("localstream.tokens") == stored
    assert [e.name for e in env.host.services.vault.entries()] == [
        "alpha",
        "beta",
    ]  # not listed as an account


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"name": "x", "accounts": ["nope"]}, "no broker account with id nope"),
        ({"name": "x", "accounts": []}, "at least one account"),
        ({"name": ""}, "name"),
        ({"name": "x", "extra": 1}, "extra"),
    ],
)
async def test_bad_token_requests(env: Env, payload: dict[str, object], needle: str) -> None:
    with pytest.raises(HostError) as err:
        await call(env.host, "localstream.create_token", payload)
    assert err.value.code == "invalid" and needle in err.value.message + str(err.value.details)
    assert (await call(env.host, "localstream.tokens"))["tokens"] == []


async def test_duplicate_names_and_unknown_ids(env: Env) -> None:
    await env.token("same")
    with pytest.raises(HostError, match="already has this name"):
        await call(env.host, "localstream.create_token", {"name": "SAME"})
    for type_ in ("localstream.rotate_token", "localstream.revoke_token"):
        with pytest.raises(HostError) as err:
            await call(env.host, type_, {"id": "ffffffffffff"})
        assert err.value.code == "invalid"


async def test_settings_are_validated_and_a_taken_port_keeps_the_old_settings(env: Env) -> None:
    before = await call(env.host, "localstream.get")
    assert before["running"] and before["url"].startswith("ws://127.0.0.1:")
    for payload, needle in (
        ({"port": 80}, "1024 to 65535"),
        ({"batch_ms": 10}, "batch_ms"),
        ({"allowed_origins": ["file:///etc"]}, "origin"),
        ({"allowed_origins": ["null"]}, "origin"),
    ):
        with pytest.raises(HostError) as err:
            await call(env.host, "localstream.set", payload)
        assert err.value.code == "invalid" and needle in err.value.message
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(HostError) as err:
            await call(env.host, "localstream.set", {"port": port})
        assert err.value.code == "rejected" and str(port) in err.value.message
    after = await call(env.host, "localstream.get")
    assert after["settings"]["port"] == 0 and after["running"] and after["error"] is None
    assert env.host.services.settings.config.localstream.port == 0
    # the file on disk agrees
    assert '"port": 0' in (env.host.paths.config_file).read_text()


async def test_switching_off_and_on_and_stats(env: Env) -> None:
    _, secret = await env.token("all")
    c = await env.client(secret)
    await c.subscribe("status")
    stats = await call(env.host, "localstream.stats")
    assert stats["running"] and stats["localstream"]["active_connections"] == 1
    assert stats["localstream"]["messages_sent"] >= 3 and stats["localstream"]["latency_avg_ms"] is not None
    off = await call(env.host, "localstream.set", {"enabled": False})
    assert not off["running"] and off["url"] is None
    stats = (await call(env.host, "localstream.stats"))["localstream"]
    assert stats["active_connections"] == 0 and stats["disconnects"] == {"server_stopped": 1}
    assert stats["disconnect_rate"] == 0.0
    on = await call(env.host, "localstream.set", {"enabled": True})
    assert on["running"]
    c2 = await env.client(secret)
    await c2.close()


async def test_the_host_starts_the_stream_when_enabled(tmp_path: Path) -> None:
    from tests.integration.localstream.conftest import make_host

    host: Host = make_host(tmp_path, enabled=True)
    try:
        host.warm_up()  # what the host does right after it answered `hello`

        svc = host.services.localstream
        assert svc._task is not None
        await svc._task
        assert svc.running
        info = await call(host, "localstream.get")
        assert info["tokens_loaded"] is False  # no vault yet
    finally:
        await host.shutdown()
    assert not svc.running
