"""The framing's bounds: what a body may hold before it reaches the JSON parser, what comes
back when it holds more (the stdin readers: test_stdio_reader.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.api.fast import check_ping
from sidedesk.native.framing import (
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    MAX_STRING_CHARS,
    Frame,
    FrameError,
    dumps,
    parse_body,
)


def test_depth_at_the_bound_parses_and_one_more_is_refused_by_id() -> None:
    inner = MAX_DEPTH - 1  # the envelope object is the first level
    ok = parse_body(('{"id":1,"p":' + "[" * inner + "]" * inner + "}").encode())
    assert isinstance(ok, Frame)
    bad = parse_body(('{"id":1,"type":"t","p":' + "[" * (inner + 1) + "]" * (inner + 1) + "}").encode())
    assert isinstance(bad, FrameError)
    assert (bad.code, bad.request_id, bad.request_type) == ("bad_request", 1, "t")


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    item = parse_body(json.dumps({"id": 2, "s": "[" * 500}).encode())
    assert isinstance(item, Frame)


def test_digits_inside_strings_are_fine_in_numbers_they_are_bounded() -> None:
    assert isinstance(parse_body(json.dumps({"id": 3, "s": "9" * 5000}).encode()), Frame)
    assert isinstance(parse_body(('{"id":3,"n":' + "9" * MAX_NUMBER_CHARS + "}").encode()), Frame)
    bad = parse_body(('{"id":3,"n":' + "9" * (MAX_NUMBER_CHARS + 1) + "}").encode())
    assert isinstance(bad, FrameError) and bad.request_id == 3


def test_long_strings_are_bounded_and_the_id_still_found() -> None:
    bad = parse_body(json.dumps({"s": "y" * (MAX_STRING_CHARS + 1), "id": "abc"}).encode())
    assert isinstance(bad, FrameError) and bad.request_id == "abc"


def test_an_id_too_large_to_hold_is_no_id() -> None:
    bad = parse_body(('{"id":' + "1" * 5000 + "}").encode())
    assert isinstance(bad, FrameError) and bad.request_id is None


def test_dumps_escapes_lone_surrogates_and_refuses_nan() -> None:
    body = dumps({"id": "\ud800x", "type": "é"})
    assert json.loads(body) == {"id": "\ud800x", "type": "é"}
    assert dumps({"a": "é"}) == '{"a":"é"}'.encode()
    with pytest.raises(ValueError):
        dumps({"t": float("nan")})


def test_ping_check_says_huge_integers_are_not_numbers() -> None:
    problems = check_ping({"t": 10**400, "rtt_ms": 10**309})
    assert {p["field"] for p in problems} == {"t", "rtt_ms"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_parse_body_never_raises(body: bytes) -> None:
    assert isinstance(parse_body(body), Frame | FrameError)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='[]{}"\\,:0123456789e-.abc ', max_size=300))
def test_parse_body_never_raises_on_json_like_text(text: str) -> None:
    item = parse_body(text.encode())
    assert isinstance(item, Frame | FrameError)
