"""The send deadline and outbound budget (limits.SendLimits) and the published close codes."""

from __future__ import annotations

import json
from types import SimpleNamespace

from sidedesk.localstream.limits import (
    CLOSE_CODES,
    CLOSE_IDLE,
    CLOSE_POLICY,
    CLOSE_REVOKED,
    CLOSE_SERVER_STOPPED,
    CLOSE_SLOW_CONSUMER,
    DEFAULT_MAX_OUTBOUND_BYTES,
    DEFAULT_SEND_TIMEOUT_S,
    WRITE_HIGH_WATER,
    SendLimits,
)
from sidedesk.localstream.schema import SCHEMA_FILE
from sidedesk.store.config import LocalStreamSettings


def test_defaults_and_settings() -> None:
    limits = SendLimits.of(LocalStreamSettings())
    assert limits == SendLimits(DEFAULT_SEND_TIMEOUT_S, DEFAULT_MAX_OUTBOUND_BYTES)
    assert limits.send_timeout_s == 5.0 and 1 << 20 <= limits.max_outbound_bytes <= 4 << 20
    # the writer pauses long before the budget: a healthy connection never gets near it
    assert limits.max_outbound_bytes >= WRITE_HIGH_WATER * 8
    # settings that carry the limits are honoured (configure() re-reads them)
    custom = SimpleNamespace(send_timeout_s=0.25, max_outbound_bytes=65536)
    assert SendLimits.of(custom) == SendLimits(0.25, 65536)


def test_behind_counts_what_waits_besides_the_frame_being_written() -> None:
    limits = SendLimits(5.0, 1000)
    assert not limits.behind(0) and not limits.behind(1000)
    assert limits.behind(1001)
    # a frame larger than the budget may go out alone; anything piling up behind it counts
    assert not limits.behind(50_000, in_flight=50_000)
    assert not limits.behind(51_000, in_flight=50_000)
    assert limits.behind(51_001, in_flight=50_000)


def test_close_codes_are_distinct_valid_and_published() -> None:
    codes = [CLOSE_SERVER_STOPPED, CLOSE_POLICY, CLOSE_IDLE, CLOSE_REVOKED, CLOSE_SLOW_CONSUMER]
    assert len(set(codes)) == len(codes) and sorted(CLOSE_CODES) == sorted(codes)
    assert CLOSE_SLOW_CONSUMER == 4002  # documented; clients may depend on it
    for code in codes:  # RFC 6455 7.4: registered codes or the application's 4000-4999
        assert code in (1001, 1008) or 4000 <= code <= 4999
    published = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["close_codes"]
    assert {int(c) for c in published} == set(codes)
    assert published["4002"].startswith("slow_consumer:") and "send_timeout_s" in published["4002"]
