"""The host's stdin readers: on POSIX a pipe or a socket is read on the event loop itself (one
wake-up per frame: the thread's hand-off cost ~20-40 µs of each back-to-back order), anything
else (a file here; Windows' stdin) by a thread. Both deliver the same items, in order, on the
loop, and neither can stop silently. Where the loop reads, it writes without blocking."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sidedesk.native import framing
from sidedesk.native.framing import Frame, FrameError, encode
from sidedesk.native.transport import MAX_PENDING_OUTPUT, EndOfInput, StdioTransport

posix_only = pytest.mark.skipif(os.name != "posix", reason="the loop reads stdin on POSIX only")

FRAMES = [encode({"v": 1, "id": i, "type": "ping", "payload": {}}) for i in range(4)]
BAD = framing.HEADER.pack(3) + b"{x}"  # a frame whose body is not JSON: an error, then more


def pipe_source(chunks: list[bytes]) -> Iterator[int]:
    """A pipe whose writer sends `chunks` one by one from a thread (a frame split across writes
    arrives in pieces), then closes."""
    r, w = os.pipe()

    def write() -> None:
        for c in chunks:
            os.write(w, c)
        os.close(w)

    t = threading.Thread(target=write)
    t.start()
    try:
        yield r
    finally:
        t.join(5)
        os.close(r)


def read_all(fd: int, deliver_extra: Callable[[object], None] | None = None) -> tuple[list[object], object]:
    got: list[object] = []
    started: list[object] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def deliver(item: object) -> None:
            got.append(item)
            if isinstance(item, EndOfInput):
                done.set()
            if deliver_extra is not None:
                deliver_extra(item)

        loop.set_exception_handler(lambda _loop, ctx: got.append(("loop error", ctx.get("message"))))
        started.append(StdioTransport(in_fd=fd, out_fd=-1).start_reader(loop, deliver))
        await asyncio.wait_for(done.wait(), 5)

    asyncio.run(run())
    return got, started[0]


def ids(items: list[object]) -> list[object]:
    return [i.message["id"] if isinstance(i, Frame) else type(i).__name__ for i in items]


@posix_only
def test_a_pipe_is_read_on_the_loop_in_order_with_frames_split_across_writes() -> None:
    whole = b"".join(FRAMES[:3])
    chunks = [whole, FRAMES[3][:5], FRAMES[3][5:], BAD, FRAMES[0]]
    for fd in pipe_source(chunks):
        got, reader = read_all(fd)
    assert reader is None  # no thread: the loop watches the pipe
    assert ids(got) == [0, 1, 2, 3, "FrameError", 0, "EndOfInput"]
    assert not [t for t in threading.enumerate() if t.name == "stdin-reader"]


@posix_only
def test_a_socket_is_read_on_the_loop_too() -> None:
    a, b = socket.socketpair()
    with a, b:
        b.sendall(b"".join(FRAMES))
        b.shutdown(socket.SHUT_WR)
        got, reader = read_all(a.fileno())
    assert reader is None
    assert ids(got) == [0, 1, 2, 3, "EndOfInput"]


def test_a_file_is_read_by_the_thread_with_the_same_items(tmp_path: Path) -> None:
    f = tmp_path / "stdin"
    f.write_bytes(b"".join(FRAMES) + BAD + FRAMES[0])
    fd = os.open(f, os.O_RDONLY)
    try:
        got, reader = read_all(fd)
    finally:
        os.close(fd)
    assert isinstance(reader, threading.Thread)
    assert ids(got) == [0, 1, 2, 3, "FrameError", 0, "EndOfInput"]


# the loop reads stdin on POSIX only: elsewhere there is no loop path to test
@pytest.fixture(params=["loop", "thread"] if os.name == "posix" else ["thread"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    data = b"".join(FRAMES)
    if request.param == "thread":
        f = tmp_path / "stdin"
        f.write_bytes(data)
        fd = os.open(f, os.O_RDONLY)
        yield fd
        os.close(fd)
    else:
        yield from pipe_source([data])


def test_a_reader_that_fails_posts_a_fatal_error_and_end_of_input(
    monkeypatch: pytest.MonkeyPatch, source: int
) -> None:
    def explode(self: object, data: bytes) -> list[object]:
        raise RecursionError("boom")

    monkeypatch.setattr(framing.FrameDecoder, "feed", explode)
    got, _ = read_all(source)
    assert isinstance(got[0], FrameError) and got[0].fatal and got[0].code == "internal"
    assert isinstance(got[-1], EndOfInput)


def test_a_deliver_that_raises_is_the_loops_error_and_the_input_goes_on(source: int) -> None:
    def fail_on_first(item: object) -> None:
        if isinstance(item, Frame) and item.message["id"] == 0:
            raise RuntimeError("handler bug")

    got, _ = read_all(source, fail_on_first)
    assert ids([i for i in got if not isinstance(i, tuple)]) == [0, 1, 2, 3, "EndOfInput"]
    assert [i for i in got if isinstance(i, tuple)]  # reported through the loop's handler


# -- output, where the loop reads ------------------------------------------------------------------


@posix_only
def test_replies_the_pipe_cannot_take_are_queued_in_order_and_written_as_it_drains() -> None:
    """The loop must never block writing: a browser that sends a burst before it reads would fill
    both pipes and stop both sides (the fuzz suite's 10 000 frames did)."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    frames = [{"v": 1, "id": i, "ok": {"pad": "x" * 1000}} for i in range(300)]  # ~300 KB: > a pipe

    async def run() -> StdioTransport:
        loop = asyncio.get_running_loop()
        t = StdioTransport(in_fd=in_r, out_fd=out_w)
        assert t.start_reader(loop, lambda item: None) is None
        for f in frames:
            t.write_body(json.dumps(f).encode())  # never blocks, whoever reads
        assert t._queued  # the pipe took part of it; the rest waits, in order
        got = await loop.run_in_executor(None, read_frames, out_r, len(frames))
        assert [g["id"] for g in got] == list(range(len(frames)))
        assert not t._queued
        return t

    try:
        t = asyncio.run(run())
        assert t.counters.frames_out == len(frames)
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)


@posix_only
def test_what_is_still_queued_at_exit_is_written_and_a_reader_gone_for_good_is_an_error() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    body = json.dumps({"v": 1, "id": 0, "ok": {"pad": "y" * 60_000}}).encode()

    async def fill() -> StdioTransport:
        t = StdioTransport(in_fd=in_r, out_fd=out_w)
        t.start_reader(asyncio.get_running_loop(), lambda item: None)
        for _ in range(4):
            t.write_body(body)
        assert t._queued
        return t

    try:
        t = asyncio.run(fill())  # the loop is gone, frames still queued
        reader = threading.Thread(target=lambda: got.extend(read_frames(out_r, 4)))
        got: list[dict[str, object]] = []
        reader.start()
        t.flush_output()
        reader.join(5)
        assert len(got) == 4 and not t._queued
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)

    # nobody reading at all: past MAX_PENDING_OUTPUT the write fails as a broken pipe would
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()

    async def overflow() -> None:
        t = StdioTransport(in_fd=in_r, out_fd=out_w)
        t.start_reader(asyncio.get_running_loop(), lambda item: None)
        with pytest.raises(OSError, match="stopped reading"):
            for _ in range(MAX_PENDING_OUTPUT // len(body) + 2):
                t.write_body(body)

    try:
        asyncio.run(overflow())
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)


def read_frames(fd: int, n: int) -> list[dict[str, object]]:
    buf = b""
    out: list[dict[str, object]] = []
    while len(out) < n:
        chunk = os.read(fd, 65536)
        assert chunk, "the pipe closed early"
        buf += chunk
        while len(buf) >= 4:
            (size,) = framing.HEADER.unpack(buf[:4])
            if len(buf) < 4 + size:
                break
            out.append(json.loads(buf[4 : 4 + size]))
            buf = buf[4 + size :]
    return out
