"""One crafted frame at a time, as an attacker would send it: each gets one coded reply, the
host keeps answering, and closing stdin still ends it within 2 s. Each case is a defect measured
on the host before the native channel's bounds (see the README's "Protocol" section)."""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostproc import HostProcess
from tests.support.wait import WAIT_S


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostProcess]:
    with HostProcess(tmp_path) as h:
        yield h


def send_text(host: HostProcess, text: str) -> None:
    body = text.encode("utf-8", "surrogatepass")
    host.write_raw(struct.pack("=I", len(body)) + body)


def assert_alive_then_exits(host: HostProcess) -> None:
    assert host.request("ping", {"t": 2.5})["ok"]["t"] == 2.5
    host.close_stdin()
    assert host.wait(WAIT_S) == 0


def test_json_nested_a_thousand_levels_is_answered_by_id(host: HostProcess) -> None:
    send_text(host, '{"v":1,"id":7,"type":"ping","payload":' + "[" * 1000 + "]" * 1000 + "}")
    reply = host.reply_to(7)
    assert reply["error"]["code"] == "bad_request"
    assert "nested deeper than" in reply["error"]["message"]
    assert reply["type"] == "ping"
    assert_alive_then_exits(host)


def test_unclosed_deep_nesting_gets_a_null_id_error(host: HostProcess) -> None:
    send_text(host, "[" * 5000)
    reply = host.reply_to(None)
    assert reply["error"]["code"] == "bad_request"
    assert_alive_then_exits(host)


@pytest.mark.parametrize("where", ["payload", "id"])
def test_an_integer_of_4301_digits_is_refused_with_one_reply(host: HostProcess, where: str) -> None:
    big = "9" * 4301
    if where == "payload":
        send_text(host, '{"v":1,"id":8,"type":"ping","payload":{"t":' + big + "}}")
        reply = host.reply_to(8)
    else:
        send_text(host, '{"v":1,"id":' + big + ',"type":"ping","payload":{}}')
        reply = host.reply_to(None)  # an id no one can hold is not an id
    assert reply["error"]["code"] == "bad_request"
    assert "digits" in reply["error"]["message"]
    assert_alive_then_exits(host)


@pytest.mark.parametrize("field", ["t", "rtt_ms"])
def test_a_309_digit_integer_in_ping_is_invalid_not_a_crash(host: HostProcess, field: str) -> None:
    # Within the digit bound the fast path judges it; past it the framing refuses it by id.
    send_text(host, '{"v":1,"id":9,"type":"ping","payload":{"' + field + '":1' + "0" * 60 + "}}")
    reply = host.reply_to(9)
    assert "ok" in reply or reply["error"]["code"] == "invalid"
    send_text(host, '{"v":1,"id":10,"type":"ping","payload":{"' + field + '":' + "9" * 309 + "}}")
    reply = host.reply_to(10)
    assert reply["error"]["code"] == "bad_request"
    assert_alive_then_exits(host)


@pytest.mark.parametrize(
    ("text", "rid"),
    [
        ('{"v":1,"id":"\\ud800","type":"ping","payload":{}}', "\ud800"),
        ('{"v":1,"id":11,"type":"\\ud800","payload":{}}', 11),
        ('{"v":1,"id":"a\\udfffb","type":"x\\ud800","payload":{}}', "a\udfffb"),
    ],
)
def test_lone_surrogates_are_echoed_exactly_in_one_reply(host: HostProcess, text: str, rid: object) -> None:
    send_text(host, text)
    reply = host.reply_to(rid)
    assert reply["id"] == rid
    assert "ok" in reply or reply["error"]["code"] in {"unknown_type", "bad_request"}
    assert "Traceback" not in host.log_text()
    assert_alive_then_exits(host)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_refused_by_id(host: HostProcess, constant: str) -> None:
    send_text(host, '{"v":1,"id":12,"type":"ping","payload":{"t":' + constant + "}}")
    reply = host.reply_to(12)
    assert reply["error"]["code"] == "bad_request"
    assert_alive_then_exits(host)


def test_a_string_over_the_bound_is_refused_by_id(host: HostProcess) -> None:
    send_text(
        host, json.dumps({"v": 1, "id": 13, "type": "vault.unlock", "payload": {"password": "x" * 70_000}})
    )
    reply = host.reply_to(13)
    assert reply["error"]["code"] == "bad_request"
    assert "x" * 50 not in json.dumps(reply)  # the offending value is never echoed
    assert_alive_then_exits(host)


def test_eof_ends_the_host_even_mid_kdf(tmp_path: Path) -> None:
    # A vault created with a slow KDF keeps a worker thread busy well past Chrome's 2 s grace;
    # the host leaves anyway (the write is atomic, so the vault is either absent or whole).
    (tmp_path / "config").mkdir()
    # the host in the browser's process (a proxy would leave at once; the service's KDF is its own)
    slow = {"vault_kdf": {"memory_kib": 65536, "iterations": 60, "lanes": 1}, "service": {"enabled": False}}
    (tmp_path / "config" / "config.json").write_text(json.dumps(slow))
    with HostProcess(tmp_path) as h:
        assert h.request("ping", {})["ok"]
        h.send(
            {"v": 1, "id": 99, "type": "vault.create", "payload": {"password": "a long enough passphrase 1"}}
        )
        time.sleep(0.3)
        h.close_stdin()
        assert h.wait(WAIT_S) == 0
        # the exit deadline ended it, not the KDF finishing (a stopwatch would fail on a busy machine)
        assert "shutdown overran" in h.log_text()
