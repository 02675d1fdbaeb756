from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidedesk.native.framing import (
    HEADER,
    MAX_OUTBOUND,
    PLAUSIBLE_INBOUND,
    Frame,
    FrameDecoder,
    FrameError,
    FrameTooLarge,
    encode,
    encode_body,
    split_text,
)


def frame(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return struct.pack("=I", len(body)) + body


def test_length_is_native_order_and_counts_bytes_not_characters() -> None:
    data = encode({"s": "€ü漢"})
    (n,) = struct.unpack("=I", data[:4])
    assert n == len(data) - 4
    assert n == len('{"s":"€ü漢"}'.encode())
    assert HEADER.format == "=I"


def test_outbound_limit_is_strictly_below_one_mebibyte() -> None:
    assert len(encode_body(b"x" * MAX_OUTBOUND)) == MAX_OUTBOUND + 4
    with pytest.raises(FrameTooLarge):
        encode_body(b"x" * (MAX_OUTBOUND + 1))
    assert MAX_OUTBOUND + 1 == 1024 * 1024


def test_decoder_yields_frames_in_order() -> None:
    d = FrameDecoder()
    items = d.feed(frame({"a": 1}) + frame({"b": 2}))
    assert items == [Frame({"a": 1}, 8), Frame({"b": 2}, 8)]


@given(st.lists(st.dictionaries(st.text(max_size=5), st.integers()), max_size=8), st.data())
def test_decoder_reassembles_any_chunking(objs: list[dict[str, int]], data: st.DataObject) -> None:
    stream = b"".join(frame(o) for o in objs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    d = FrameDecoder()
    got = []
    last = 0
    for c in [*cuts, len(stream)]:
        got += d.feed(stream[last:c])
        last = c
    assert [i.message for i in got if isinstance(i, Frame)] == objs
    assert d.eof() is None


def test_oversized_frame_is_skipped_and_the_next_one_decodes() -> None:
    d = FrameDecoder(max_inbound=1024)
    big = struct.pack("=I", 5000) + b"z" * 5000
    items = d.feed(big[:100]) + d.feed(big[100:] + frame({"ok": True}))
    assert isinstance(items[0], FrameError) and not items[0].fatal
    assert "5000 bytes exceeds the 1024-byte limit" in items[0].message
    assert items[1] == Frame({"ok": True}, 12)


def test_implausible_length_prefix_is_fatal() -> None:
    d = FrameDecoder()
    items = d.feed(struct.pack("=I", PLAUSIBLE_INBOUND + 1) + b"garbage")
    assert len(items) == 1 and isinstance(items[0], FrameError) and items[0].fatal
    assert d.feed(frame({"a": 1})) == []  # nothing more after the stream is lost


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1,2]", "must be a JSON object, got list"),
        (b'"str"', "must be a JSON object, got str"),
    ],
)
def test_bad_bodies_are_reported_not_raised(body: bytes, needle: str) -> None:
    d = FrameDecoder()
    (item,) = d.feed(struct.pack("=I", len(body)) + body)
    assert isinstance(item, FrameError) and not item.fatal
    assert needle in item.message


def test_eof_mid_frame_is_reported() -> None:
    d = FrameDecoder()
    assert d.feed(frame({"a": 1})[:6]) == []
    tail = d.eof()
    assert tail is not None and tail.fatal and "middle of a frame" in tail.message


def test_split_text_round_trips() -> None:
    text = "é" * 450_001
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(len(p.encode()) + 200 < MAX_OUTBOUND for p in parts)
