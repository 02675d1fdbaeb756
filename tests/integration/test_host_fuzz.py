"""Fuzzing the real host process over its pipes, as Chrome would feed it.

Structured mutations of every message type in the protocol's JSON Schema (valid-looking
payloads with one field replaced by a hostile value, envelope fields broken, keys added or
dropped) and raw bodies. The oracle, the native channel's rule (README, "Protocol"): every frame
that can be read to an id gets exactly one reply, `ok` or an error with a known code; a frame
that cannot gets one coded error with a null id; the host still answers `ping`; closing stdin
ends it within 2 s. Bounded: a few thousand frames, well under a minute.
"""

from __future__ import annotations

import itertools
import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostproc import HostProcess
from tests.support.wait import WAIT_S

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "host/sidedesk/api/schema/protocol.json").read_text()
)
TYPES = sorted(SCHEMA["messages"])
CODES = set(SCHEMA["error_codes"])
_ids = itertools.count(1_000)

HOSTILE: list[Any] = [
    None,
    True,
    -1,
    0,
    2**63,
    10**60,
    1e308,
    -0.0,
    "",
    "\ud800",
    "a\udfffb",
    "x" * 5000,
    "\u0000",
    "😀" * 50,
    "1e999",
    "NaN",
    "-0",
    [],
    {},
    [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]],
    {"a": {"b": {"c": {"d": {"e": {}}}}}},
    "../../etc/passwd",
    "BTCUSDT",
    "0.00000000000000000001",
]


def sample(spec: dict[str, Any]) -> Any:
    """A plausible value for one JSON-schema property (enough to get past the model's checks)."""
    if "enum" in spec:
        return spec["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in spec:
            return sample(spec[key][0])
    kind = spec.get("type")
    if kind == "string":
        return "BTCUSDT" if spec.get("maxLength", 64) >= 7 else "x"
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return None


def base_payload(type_: str) -> dict[str, Any]:
    request = SCHEMA["messages"][type_].get("request") or {}
    props: dict[str, Any] = request.get("properties") or {}
    return {name: sample(spec) for name, spec in props.items()}


@st.composite
def structured(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """A request and the id its reply must carry (None: no usable id, so a null-id error)."""
    type_ = draw(st.sampled_from(TYPES))
    payload = base_payload(type_)
    mutation = draw(st.sampled_from(["field", "drop", "extra", "id", "type", "v", "payload", "none"]))
    rid: Any = next(_ids)
    msg: dict[str, Any] = {"v": 1, "id": rid, "type": type_, "payload": payload}
    hostile = draw(st.sampled_from(HOSTILE))
    if mutation == "field" and payload:
        payload[draw(st.sampled_from(sorted(payload)))] = hostile
    elif mutation == "drop" and payload:
        del payload[draw(st.sampled_from(sorted(payload)))]
    elif mutation == "extra":
        payload[draw(st.sampled_from(["zz", "\ud800", "a" * 300, "apiSecret"]))] = hostile
    elif mutation == "id":
        if isinstance(hostile, str):
            rid = hostile + str(rid)  # still unique, still a valid id
        elif isinstance(hostile, int) and not isinstance(hostile, bool):
            rid = hostile + rid if hostile > 0 else -rid
        else:
            rid = None
        msg["id"] = hostile if rid is None else rid
    elif mutation == "type":
        msg["type"] = hostile if not isinstance(hostile, str) else hostile + type_
    elif mutation == "v":
        msg["v"] = hostile
    elif mutation == "payload":
        msg["payload"] = hostile
    return msg, rid


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    home = tmp_path_factory.mktemp("fuzz")
    (home / "config").mkdir()
    kdf = {"memory_kib": 1024, "iterations": 1, "lanes": 1}
    (home / "config" / "config.json").write_text(json.dumps({"vault_kdf": kdf, "max_inbound_bytes": 65536}))
    with HostProcess(home) as h:
        assert h.request("hello", {})["ok"]
        yield h
        assert h.request("ping", {"t": 1.0})["ok"]["t"] == 1.0
        h.close_stdin()
        assert h.wait(WAIT_S) == 0


def write(host: HostProcess, body: bytes) -> None:
    host.write_raw(struct.pack("=I", len(body)) + body)


def replies_until_ping(host: HostProcess, want: Any, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Every reply (not pushes) up to both the fuzzed frame's reply and a fresh ping's reply."""
    ping_id = f"ping-{next(_ids)}"
    host.send({"v": 1, "id": ping_id, "type": "ping", "payload": {}})
    got: list[dict[str, Any]] = []
    seen_ping = False
    deadline = time.monotonic() + timeout
    while not seen_ping or (want is not None and not any(r.get("id") == want for r in got)):
        frame = host.read_frame(max(0.01, deadline - time.monotonic()))
        if frame.get("type") in ("event", "chunk", "batch"):
            continue
        if frame.get("id") == ping_id:
            assert frame.get("ok") is not None, frame
            seen_ping = True
            continue
        got.append(frame)
    return got


def check_reply(reply: dict[str, Any]) -> None:
    assert ("ok" in reply) != ("error" in reply), reply
    if "error" in reply:
        assert reply["error"]["code"] in CODES, reply
        assert isinstance(reply["error"]["message"], str) and reply["error"]["message"]


SETTINGS = settings(
    max_examples=1200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@SETTINGS
@given(structured())
def test_every_structured_frame_gets_exactly_one_coded_reply(
    host: HostProcess, case: tuple[dict[str, Any], Any]
) -> None:
    msg, rid = case
    write(host, json.dumps(msg).encode("utf-8", "surrogatepass"))
    got = replies_until_ping(host, rid)
    for reply in got:
        check_reply(reply)
    if rid is not None:
        assert [r.get("id") for r in got].count(rid) == 1, got
    else:
        assert len(got) == 1 and got[0]["id"] is None and got[0]["error"]["code"] == "bad_request", got


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=30,
        ).map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
    )
)
def test_raw_bodies_never_stop_the_host(host: HostProcess, body: bytes) -> None:
    write(host, body)
    for reply in replies_until_ping(host, None):
        check_reply(reply)
