"""hello and ping are answered without pydantic (api/fast.py); their pydantic models (system.py)
document them in the schema. The two must accept and refuse exactly the same payloads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sidedesk.api import fast
from sidedesk.api.system import HelloReply, HelloRequest, PingReply, PingRequest
from sidedesk.native.framing import DEFAULT_MAX_INBOUND
from sidedesk.runtime import Host
from sidedesk.store import startup
from sidedesk.store.paths import Paths
from tests.unit.test_dispatch import MemoryTransport

PAYLOADS: list[dict[str, Any]] = [
    {},
    {"client": "sidedesk-extension", "client_version": "0.1.0"},
    {"client": None},
    {"client": 5},
    {"client": "x" * 64},
    {"client": "x" * 65},
    {"client_version": "y" * 33},
    {"client": True},
    {"bogus": 1},
    {"t": 1},
    {"t": 1.5, "rtt_ms": 0},
    {"t": "1.5"},
    {"t": True},
    {"t": float("nan")},
    {"t": float("inf")},
    {"rtt_ms": -1},
    {"rtt_ms": 600_000},
    {"rtt_ms": 600_001},
    {"rtt_ms": None, "t": None},
    {"sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0": 1},
]


def model_accepts(model: type[Any], payload: dict[str, Any]) -> bool:
    try:
        model.model_validate(payload)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("payload", PAYLOADS)
def test_fast_checks_agree_with_the_models(payload: dict[str, Any]) -> None:
    assert (not fast.check_hello(payload)) == model_accepts(HelloRequest, payload)
    assert (not fast.check_ping(payload)) == model_accepts(PingRequest, payload)


def test_fast_replies_satisfy_the_reply_models(tmp_path: Path) -> None:
    host = Host(MemoryTransport(), Paths(tmp_path / "c", tmp_path / "d", tmp_path / "l"))
    HelloReply.model_validate(fast.hello(host, {}))
    PingReply.model_validate(fast.ping(host, {"t": 3, "rtt_ms": 1.25}))
    assert list(host.metrics.native_rtt_ms) == [1.25]


def test_a_secret_used_as_a_key_is_not_echoed() -> None:
    (problem,) = fast.check_hello({"sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0": 1})
    assert problem["field"] == "<unexpected key>"


def test_start_settings_default_matches_the_framing_limit() -> None:
    assert startup.DEFAULT_MAX_INBOUND == DEFAULT_MAX_INBOUND


def test_start_settings_read_what_they_can_and_default_the_rest(tmp_path: Path) -> None:
    f = tmp_path / "config.json"
    assert startup.read_start_settings(f) == startup.StartSettings()
    f.write_text("{broken")
    assert startup.read_start_settings(f) == startup.StartSettings()
    f.write_text('{"max_inbound_bytes": 4096, "status_interval_s": true, "log_level": "DEBUG",'
                 ' "extra_extension_ids": ["abc", 3]}')  # fmt: skip
    assert startup.read_start_settings(f) == startup.StartSettings(4096, 5.0, "DEBUG", ("abc",))


def test_the_start_path_does_not_import_pydantic() -> None:
    # Everything `sidedesk native` imports before its first reply: pydantic (and cryptography,
    # aiohttp) cost well over the start-up budget and must load only after `hello`.
    code = (
        "import sys\n"
        "import sidedesk.main, sidedesk.runtime, sidedesk.native.transport, sidedesk.api.fast\n"
        "heavy = sorted(m for m in ('pydantic', 'cryptography', 'aiohttp', 'websockets')"
        " if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
