"""Native-messaging framing as pure functions and a push-style decoder.

A frame is a 32-bit length in the platform's native byte order followed by that many bytes of
UTF-8 JSON (Chromium reads the header by reinterpret-cast; every shipping platform is
little-endian, but we follow the spec and use native order).

The decoder never raises on bad input: it yields `Frame` or `FrameError` items so the shell can
answer each bad frame with a coded error and keep going, and only gives up (`fatal=True`) where
the byte stream cannot be resynchronised.

The rule of the native channel (README, "Protocol"): every frame that can be read to an `id` gets
exactly one reply, `ok` or a coded `error`, whatever it contains; a frame that cannot gets one
coded error with `id: null`. Before a body reaches the JSON parser its shape is bounded (nesting
depth, digits in a number, characters in a string), so no input can exhaust the parser's stack
or Python's int conversion; a frame over a bound is still read to its `id` (the offending parts
pruned) so its error reply can name it.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass

TYPE_CHECKING = False  # typing's constant without importing typing: `sidedesk native` starts here
if TYPE_CHECKING:
    from typing import Any

HEADER = struct.Struct("=I")
HEADER_SIZE = HEADER.size
# Chromium closes the port for a host->browser frame above 1,048,576 bytes; we stay strictly below.
MAX_OUTBOUND = 1024 * 1024 - 1
DEFAULT_MAX_INBOUND = 1024 * 1024
# Chromium refuses to send more than 64 MiB of JSON, so a larger prefix means the stream is garbage.
PLAUSIBLE_INBOUND = 64 * 1024 * 1024


# Bounds on what one inbound message may contain (no request of ours comes near them).
MAX_DEPTH = 32  # nested objects/arrays
MAX_NUMBER_CHARS = 64  # digits in one number (Python refuses ints of 4 301+ digits mid-parse)
MAX_STRING_CHARS = 65_536  # characters in one string


class FrameTooLarge(ValueError):
    """An outbound payload would exceed what Chrome accepts; the caller must chunk it."""


def dumps(obj: Any) -> bytes:
    """UTF-8 JSON that Chrome can parse: NaN/Infinity are refused (ValueError) rather than sent,
    and a lone surrogate echoed from input (say a request id) is \\u-escaped, which JSON and
    JavaScript strings keep exactly, instead of failing to encode."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


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
    request_type: str = ""


Item = Frame | FrameError


# A JSON string (escapes included), or one bracket: the tokens that decide depth and length.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_LONG_NUMBER = re.compile("[0-9]{" + str(MAX_NUMBER_CHARS + 1) + "}")
_OPEN = "[{"


def _shape(text: str) -> tuple[str | None, list[tuple[int, int, str]]]:
    """The first bound `text` breaks (or None), and the spans to cut to read it anyway.

    Cheap tests first: a body with fewer brackets than the depth bound cannot be too deep, one
    shorter than the string bound cannot hold a too-long string, one without a long run of
    digits cannot hold a too-long number. Only a body that fails one is scanned token by token.
    """
    deep = text.count("[") + text.count("{") > MAX_DEPTH
    long_text = len(text) > MAX_STRING_CHARS
    digits = _LONG_NUMBER.search(text) is not None
    if not (deep or long_text or digits):
        return None, []
    problem: str | None = None
    cuts: list[tuple[int, int, str]] = []  # (start, end, replacement)
    depth = 0
    cut_from = -1  # where the container that went over the depth bound opened
    skeleton: list[str] = []  # the text between strings, to look for long numbers
    last = 0
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok[0] == '"':
            skeleton.append(text[last : m.start()])
            last = m.end()
            if cut_from < 0 and len(tok) - 2 > MAX_STRING_CHARS:
                problem = problem or f"a string is longer than {MAX_STRING_CHARS} characters"
                cuts.append((m.start(), m.end(), '""'))
            continue
        if tok in _OPEN:
            depth += 1
            if depth > MAX_DEPTH and cut_from < 0:
                problem = problem or f"the message is nested deeper than {MAX_DEPTH} levels"
                cut_from = m.start()
        else:
            depth -= 1
            if cut_from >= 0 and depth == MAX_DEPTH:
                cuts.append((cut_from, m.end(), "null"))
                cut_from = -1
    skeleton.append(text[last:])
    if cut_from >= 0:  # never closed: the JSON is broken anyway; cut to the end
        cuts.append((cut_from, len(text), "null"))
    if problem is None and _LONG_NUMBER.search("".join(skeleton)):
        problem = f"a number has more than {MAX_NUMBER_CHARS} digits"
    return problem, cuts


def _pruned(text: str, cuts: list[tuple[int, int, str]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end, repl in sorted(cuts):
        if start < pos:  # inside a span already cut
            continue
        out += (text[pos:start], repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _capped_int(digits: str) -> int | None:
    return None if len(digits.lstrip("-")) > MAX_NUMBER_CHARS else int(digits)


def _zero(_: str) -> float:
    return 0.0


def _none(_: str) -> None:
    return None


def _salvage_id(text: str, cuts: list[tuple[int, int, str]]) -> tuple[str | int | None, str]:
    """The `id` and `type` of a message that broke a bound, read with the offending parts cut."""
    try:
        obj = json.loads(
            _pruned(text, cuts),
            parse_int=_capped_int,
            parse_float=lambda s: 0.0,
            parse_constant=lambda s: None,
        )
    except (ValueError, RecursionError):
        return None, ""
    if not isinstance(obj, dict):
        return None, ""
    rid = obj.get("id")
    if isinstance(rid, bool) or not isinstance(rid, str | int):
        rid = None
    type_ = obj.get("type")
    return rid, type_ if isinstance(type_, str) else ""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(body: bytes) -> Item:
    """Decode one frame body into a JSON object, or say precisely why not. Never raises."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FrameError("bad_request", f"message is not valid UTF-8 (byte {exc.start})")
    problem, cuts = _shape(text)
    if problem is not None:
        rid, type_ = _salvage_id(text, cuts)
        return FrameError("bad_request", f"message refused: {problem}", request_id=rid, request_type=type_)
    try:
        obj = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return FrameError("bad_request", f"message is not valid JSON: {exc.msg} at position {exc.pos}")
    except (ValueError, RecursionError) as exc:  # NaN/Infinity; the bounds make the rest unreachable
        rid, type_ = _salvage_id(text, [])
        return FrameError("bad_request", f"message refused: {exc}", request_id=rid, request_type=type_)
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
