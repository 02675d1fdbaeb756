from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sidedesk.api.dispatch import check_envelope
from sidedesk.main import compose
from sidedesk.native.framing import MAX_OUTBOUND
from sidedesk.native.transport import Counters
from sidedesk.runtime import Host
from sidedesk.store.config import HostConfig
from sidedesk.store.paths import Paths


class MemoryTransport:
    """Collects written frames; the host under test never touches real stdio."""

    def __init__(self) -> None:
        self.counters = Counters()
        self.bodies: list[bytes] = []

    def write_body(self, body: bytes) -> None:
        self.bodies.append(body)

    def start_reader(self, loop: asyncio.AbstractEventLoop, deliver: Any) -> None:
        return None


@pytest.fixture
def host(tmp_path: Path) -> Host:
    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "l")
    return Host(MemoryTransport(), paths, HostConfig(), compose=compose)


@pytest.mark.parametrize(
    ("message", "needle"),
    [
        ({"v": 2, "id": 1, "type": "ping"}, "unsupported protocol version 2"),
        ({"id": 1, "type": "ping"}, "unsupported protocol version None"),
        ({"v": True, "id": 1, "type": "ping"}, "unsupported protocol version True"),
        ({"v": 1, "type": "ping"}, "missing or invalid 'id'"),
        ({"v": 1, "id": [1], "type": "ping"}, "missing or invalid 'id'"),
        ({"v": 1, "id": 1}, "missing or invalid 'type'"),
        ({"v": 1, "id": 1, "type": "ping", "payload": [1]}, "'payload' must be a JSON object"),
        ({"v": 1, "id": 1, "type": "ping", "extra": 1}, "unexpected envelope field(s): extra"),
    ],
)
def test_envelope_problems_are_bad_request(message: dict[str, Any], needle: str) -> None:
    err = check_envelope(message)
    assert err is not None and err.code == "bad_request" and needle in err.message


async def test_unknown_type_lists_known_types(host: Host) -> None:
    reply = await host.dispatch({"v": 1, "id": "a", "type": "nope"})
    assert reply["id"] == "a"
    assert reply["error"]["code"] == "unknown_type"
    assert "hello" in reply["error"]["details"]["known"]


async def test_invalid_payload_names_the_field_but_never_echoes_the_value(host: Host) -> None:
    secret = "hunter2-super-secret-value"
    reply = await host.dispatch({"v": 1, "id": 7, "type": "ping", "payload": {"t": secret}})
    assert reply["error"]["code"] == "invalid"
    assert reply["error"]["details"]["errors"][0]["field"] == "t"
    assert secret not in str(reply)


async def test_unexpected_payload_fields_are_refused(host: Host) -> None:
    reply = await host.dispatch({"v": 1, "id": 7, "type": "hello", "payload": {"bogus": 1}})
    assert reply["error"]["code"] == "invalid"


async def test_hello_reports_versions_and_vault_state(host: Host) -> None:
    reply = await host.dispatch({"v": 1, "id": 1, "type": "hello", "payload": {}})
    ok = reply["ok"]
    assert ok["protocol_version"] == 1 and ok["vault"] == "absent" and ok["host_version"]


async def test_subscribe_returns_snapshot_then_events_continue_the_sequence(host: Host) -> None:
    reply = await host.dispatch({"v": 1, "id": 1, "type": "subscribe", "payload": {"topics": ["status"]}})
    assert reply["ok"]["snapshots"]["status"]["seq"] == 0
    host.stream.publish("status", {"x": 1})
    transport = host.transport
    assert isinstance(transport, MemoryTransport)
    assert b'"topic":"status","seq":1' in transport.bodies[-1]


async def test_a_handler_crash_is_internal_with_a_log_reference_only(host: Host) -> None:
    from sidedesk.api.registry import REGISTRY, Handler
    from sidedesk.api.system import PingReply, PingRequest

    async def boom(h: Host, req: PingRequest) -> PingReply:
        raise RuntimeError("api-secret-abcdef leaked?")

    REGISTRY["test.boom"] = Handler("test.boom", PingRequest, PingReply, boom, "")
    try:
        reply = await host.dispatch({"v": 1, "id": 1, "type": "test.boom", "payload": {}})
    finally:
        del REGISTRY["test.boom"]
    assert reply["error"]["code"] == "internal"
    assert "api-secret" not in reply["error"]["message"] and "ref" in reply["error"]["message"]


def test_replies_too_large_for_one_frame_are_chunked(host: Host) -> None:
    import json

    transport = host.transport
    assert isinstance(transport, MemoryTransport)
    big = {"v": 1, "id": 1, "type": "x", "ok": {"blob": "é" * 700_000}}
    host.send(big)
    assert len(transport.bodies) > 1
    chunks = [json.loads(b) for b in transport.bodies]
    assert all(len(b) <= MAX_OUTBOUND for b in transport.bodies)
    assert [c["index"] for c in chunks] == list(range(len(chunks)))
    assert {c["count"] for c in chunks} == {len(chunks)}
    assert json.loads("".join(c["data"] for c in chunks)) == big


async def test_an_unexpected_key_that_looks_like_a_secret_is_not_echoed(host: Host) -> None:
    secret_key = "sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    reply = await host.dispatch({"v": 1, "id": 8, "type": "hello", "payload": {secret_key: 1, "bogus": 2}})
    fields = [e["field"] for e in reply["error"]["details"]["errors"]]
    assert secret_key not in str(reply)
    assert "<unexpected key>" in fields and "bogus" in fields
