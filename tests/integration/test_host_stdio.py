"""The host spawned exactly as Chrome spawns it, fed good and bad frames over its pipes."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostproc import HostProcess
from tests.support.wait import WAIT_S


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostProcess]:
    # the stdio host itself, in the process Chrome starts (the service off): its own pipes
    (tmp_path / "config").mkdir()
    config = {"max_inbound_bytes": 4096, "service": {"enabled": False}}
    (tmp_path / "config" / "config.json").write_text(json.dumps(config))
    with HostProcess(tmp_path) as h:
        yield h


def assert_still_serving(host: HostProcess) -> None:
    assert host.request("ping", {"t": 1.5})["ok"]["t"] == 1.5


def test_hello(host: HostProcess) -> None:
    ok = host.request("hello", {"client": "test"})["ok"]
    assert ok["protocol_version"] == 1 and ok["pid"] == host.proc.pid


def test_length_prefix_over_the_limit_gets_an_error_and_the_stream_continues(host: HostProcess) -> None:
    host.write_raw(struct.pack("=I", 10_000) + b"x" * 10_000)
    err = host.read_frame()
    assert err["id"] is None and err["error"]["code"] == "bad_request"
    assert "exceeds the 4096-byte limit" in err["error"]["message"]
    assert_still_serving(host)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"\xc3\x28{}", "not valid UTF-8"),
        (b'{"v":1,', "not valid JSON"),
        (b"[1,2,3]", "must be a JSON object"),
        (b"42", "must be a JSON object"),
    ],
)
def test_undecodable_frames_get_a_coded_error(host: HostProcess, body: bytes, needle: str) -> None:
    host.write_raw(struct.pack("=I", len(body)) + body)
    err = host.read_frame()
    assert err["error"]["code"] == "bad_request" and needle in err["error"]["message"]
    assert_still_serving(host)


def test_unknown_type_wrong_version_and_invalid_payload(host: HostProcess) -> None:
    assert host.request("trade.moon")["error"]["code"] == "unknown_type"
    host.send({"v": 9, "id": "x", "type": "ping", "payload": {}})
    wrong_v = host.reply_to("x")
    assert wrong_v["error"]["code"] == "bad_request" and "v1" in wrong_v["error"]["message"]
    bad = host.request("subscribe", {"topics": ["nonsense"]})
    assert bad["error"]["code"] == "invalid" and bad["error"]["details"]["errors"][0]["field"].startswith(
        "topics"
    )
    assert_still_serving(host)


def test_ten_thousand_frames_in_a_burst_are_all_answered(host: HostProcess) -> None:
    n = 10_000
    burst = b"".join(
        struct.pack("=I", len(b)) + b
        for b in (
            json.dumps({"v": 1, "id": i, "type": "ping", "payload": {"t": i}}).encode() for i in range(n)
        )
    )
    host.write_raw(burst)
    seen = set()
    for _ in range(n):
        frame = host.read_frame()
        assert frame["ok"]["t"] == frame["id"]
        seen.add(frame["id"])
    assert seen == set(range(n))
    stats = host.request("stats")["ok"]
    assert stats["frames_in"] == n + 1 and stats["errors"] == 0


def test_stdin_closed_mid_frame_exits_cleanly(host: HostProcess) -> None:
    host.request("hello")
    host.write_raw(struct.pack("=I", 100) + b'{"v":1')
    host.close_stdin()
    assert host.wait(WAIT_S) == 0  # by itself (how soon is EXIT_DEADLINE_S's job, not a stopwatch's)
    assert "middle of a frame" in host.log_text()


def test_eof_exits_cleanly_with_a_subscription_running(host: HostProcess) -> None:
    host.request("subscribe", {"topics": ["status"]})
    host.close_stdin()
    assert host.wait(WAIT_S) == 0


def test_garbage_length_prefix_ends_the_session_cleanly(host: HostProcess) -> None:
    host.write_raw(b"GET / HTTP/1.1\r\n\r\n")  # 'GET ' read as a length: ~542 MB
    err = host.read_frame()
    assert err["error"]["code"] == "bad_request" and "out of sync" in err["error"]["message"]
    assert host.wait(5) == 0


def test_status_events_are_numbered_per_topic(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.json").write_text(json.dumps({"status_interval_s": 0.05}))
    with HostProcess(tmp_path) as h:
        snap = h.request("subscribe", {"topics": ["status"]})["ok"]["snapshots"]["status"]
        seqs = [h.read_event("status")["seq"] for _ in range(3)]
        assert seqs == [snap["seq"] + 1, snap["seq"] + 2, snap["seq"] + 3]


def test_wrong_origin_is_refused_before_any_frame(tmp_path: Path) -> None:
    with HostProcess(tmp_path, args=["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"]) as h:
        assert h.wait(5) == 2
        assert h.proc.stdout is not None and h.proc.stdout.read() == b""
        assert "refusing to serve origin" in h.stderr_text()


def test_a_damaged_settings_file_falls_back_to_defaults_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.json").write_text("{broken")
    with HostProcess(tmp_path) as h:
        assert h.request("hello")["ok"]["protocol_version"] == 1
        # the full settings load right after start (and on first use): defaults, and the reason
        assert h.request("risk.get")["ok"]["limits"]["max_orders_per_minute"] == 60
        h.close_stdin()
        h.wait(5)
        assert "config.json is invalid" in h.log_text()


def test_stray_prints_and_raw_fd1_writes_cannot_corrupt_the_channel() -> None:
    # The transport's guarantee, exercised in a real process: after take_over_stdio, print()
    # and even a C-level write to fd 1 land on stderr, and only frames reach the real stdout.
    script = textwrap.dedent(
        """
        import os
        from sidedesk.native.transport import StdioTransport
        t = StdioTransport.take_over_stdio()
        print("stray print from a handler")
        os.write(1, b"raw bytes on fd 1")
        t.write_body(b'{"ok":true}')
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30, check=True)
    assert proc.stdout == struct.pack("=I", 11) + b'{"ok":true}'
    assert b"stray print from a handler" in proc.stderr and b"raw bytes on fd 1" in proc.stderr
