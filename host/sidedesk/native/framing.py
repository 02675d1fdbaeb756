"""Native-messaging framing as pure functions and a push-style decoder.

A frame is a 32-bit length in the platform's native byte order followed by that many bytes of
UTF-8 JSON (Chromium reads the header by reinterpret-cast; every shipping platform is
little-endian, but we follow the spec and use native order).

The decoder never raises on bad input: it yields `Frame` or `FrameError` items so the shell can
answer each bad frame with a coded error and keep going, and only gives up (`fatal=True`) where
the byte stream cannot be resynchronised.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

HEADER = struct.Struct("=I")
HEADER_SIZE = HEADER.size
# Chromium closes the port for a host->browser frame above 1,048,576 bytes; we stay strictly below.
MAX_OUTBOUND = 1024 * 1024 - 1
DEFAULT_MAX_INBOUND = 1024 * 1024
# Chromium refuses to send more than 64 MiB of JSON, so a larger prefix means the stream is garbage.
PLAUSIBLE_INBOUND = 64 * 1024 * 1024


class FrameTooLarge(ValueError):
    """An outbound payload would exceed what Chrome accepts; the caller must chunk it."""


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_body(body: bytes) -> bytes:
    if len(body) > MAX_OUTBOUND:
        raise FrameTooLarge(f"frame of {len(body)} bytes exceeds the {MAX_OUTBOUND}-byte native limit")
    return HEADER.pack(len(body)) + body


def encode(obj: Any) -> bytes:
    return encode_body(dumps(obj))


@dataclass(frozen=True, slots=True)
class Frame:
    message: dict[str, Any]
    size: int


@dataclass(frozen=True, slots=True)
class FrameError:
    code: str  # api error code to answer with
    message: str
    fatal: bool = False  # the stream cannot continue after this
    request_id: str | int | None = None


Item = Frame | FrameError


def parse_body(body: bytes) -> Item:
    """Decode one frame body into a JSON object, or say precisely why not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FrameError("bad_request", f"message is not valid UTF-8 (byte {exc.start})")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return FrameError("bad_request", f"message is not valid JSON: {exc.msg} at position {exc.pos}")
    if not isinstance(obj, dict):
        return FrameError("bad_request", f"message must be a JSON object, got {type(obj).__name__}")
    return Frame(obj, len(body))


class FrameDecoder:
    """Incremental decoder: feed bytes as they arrive, collect frames and errors.

    An oversized but plausible frame is skipped (its body is discarded as it streams in) and
    reported once, so one bad message costs one error reply, not the connection.
    """

    def __init__(self, max_inbound: int = DEFAULT_MAX_INBOUND) -> None:
        self.max_inbound = max_inbound
        self._buf = bytearray()
        self._skip = 0  # bytes of an oversized body still to discard
        self.failed = False

    def feed(self, data: bytes) -> list[Item]:
        if self.failed:
            return []
        self._buf += data
        out: list[Item] = []
        while True:
            if self._skip:
                n = min(self._skip, len(self._buf))
                del self._buf[:n]
                self._skip -= n
                if self._skip:
                    return out
            if len(self._buf) < HEADER_SIZE:
                return out
            (length,) = HEADER.unpack_from(self._buf)
            if length > self.max_inbound:
                if length > PLAUSIBLE_INBOUND:
                    self.failed = True
                    out.append(
                        FrameError(
                            "bad_request",
                            f"length prefix {length} is not a plausible frame; the stream is out of sync",
                            fatal=True,
                        )
                    )
                    return out
                del self._buf[:HEADER_SIZE]
                self._skip = length
                out.append(
                    FrameError(
                        "bad_request", f"message of {length} bytes exceeds the {self.max_inbound}-byte limit"
                    )
                )
                continue
            if len(self._buf) < HEADER_SIZE + length:
                return out
            body = bytes(self._buf[HEADER_SIZE : HEADER_SIZE + length])
            del self._buf[: HEADER_SIZE + length]
            out.append(parse_body(body))

    def eof(self) -> FrameError | None:
        """Call at end of input: a partial frame left over is reported (the stream just ends)."""
        if self.failed:
            return None
        if self._buf or self._skip:
            pending = len(self._buf) + self._skip
            self._buf.clear()
            self._skip = 0
            return FrameError(
                "bad_request", f"input closed in the middle of a frame ({pending} bytes pending)", True
            )
        return None


# Each chunk carries at most this many characters of JSON text: 4 bytes per character at worst
# plus the chunk envelope stays well under MAX_OUTBOUND.
CHUNK_CHARS = 200_000


def split_text(text: str, max_chars: int = CHUNK_CHARS) -> list[str]:
    return [text[i : i + max_chars] for i in range(0, len(text), max_chars)] or [""]
