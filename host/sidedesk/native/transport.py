"""The stdio shell around the framing: a private stdout, a reader thread, locked frame writes.

Chrome talks to us over fd 0/1. At start we take a private dup of fd 1 for frames and point
fd 1 (and `sys.stdout`) at stderr, so a stray `print()` or a C library writing to stdout can
never corrupt the channel. Where stdin is a pipe or a socket on POSIX (Chrome's case), the loop
itself reads it: a frame wakes the loop once. Elsewhere (Windows' stdin, where asyncio cannot
watch a pipe; a terminal or a file) a reader thread decodes frames and hands them to the loop,
which costs a second wake-up per frame (measured back to back: ~20-40 µs of a 1.1 ms order round
trip). Either way every item reaches `deliver` through `call_soon` on the loop, in order.

Where the loop reads, it must never block writing: a peer that sends a long burst before it
reads (the fuzz suite's 10 000 frames) would otherwise fill both pipes and stop both sides. So
stdout is then non-blocking too: what the pipe does not take at once is queued, in order, and
written as it drains; more than MAX_PENDING_OUTPUT queued means the browser stopped reading
(an OSError, as a broken pipe). `flush_output` writes what is left at exit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import stat
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sidedesk.native.framing import DEFAULT_MAX_INBOUND, FrameDecoder, FrameError, Item, encode_body

READ_CHUNK = 64 * 1024
MAX_PENDING_OUTPUT = 8 * 1024 * 1024  # queued replies beyond this: the browser is not reading


@dataclass
class Counters:
    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    bad_frames: int = 0


class EndOfInput:
    """Sentinel put on the queue when stdin closes (Chrome closed the port)."""


def ingest(
    decoder: FrameDecoder, chunk: bytes, counters: Counters, post: Callable[[Item | EndOfInput], None]
) -> bool:
    """Decode one chunk read from the browser (or a proxy) and post its items, counted; False
    once a fatal error ends the input."""
    counters.bytes_in += len(chunk)
    for item in decoder.feed(chunk):
        if isinstance(item, FrameError):
            counters.bad_frames += 1
        else:
            counters.frames_in += 1
        post(item)
        if isinstance(item, FrameError) and item.fatal:
            return False
    return True


def _pipe_or_socket(fd: int) -> bool:
    """What the loop can watch (not a file, a terminal, or a descriptor we cannot inspect)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@dataclass
class StdioTransport:
    in_fd: int
    out_fd: int
    max_inbound: int = DEFAULT_MAX_INBOUND
    counters: Counters = field(default_factory=Counters)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # the loop path's output: frames (or their rest) the pipe has not taken yet, in order
    _queued: collections.deque[memoryview] | None = None
    _queued_bytes: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _write_error: OSError | None = None

    @classmethod
    def take_over_stdio(cls, max_inbound: int = DEFAULT_MAX_INBOUND) -> StdioTransport:
        """Claim fd 0/1 for frames; from here on fd 1 and sys.stdout write to stderr."""
        out_fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        if hasattr(os, "set_inheritable"):
            os.set_inheritable(out_fd, False)
        return cls(in_fd=0, out_fd=out_fd, max_inbound=max_inbound)

    def write_body(self, body: bytes) -> None:
        """Write one frame atomically with respect to every other writer (raises FrameTooLarge,
        and OSError once the browser is gone or not reading)."""
        frame = encode_body(body)
        with self._lock:
            if self._queued is None:
                view = memoryview(frame)
                while view:
                    n = os.write(self.out_fd, view)
                    view = view[n:]
            else:
                self._write_or_queue(memoryview(frame))
            self.counters.frames_out += 1
            self.counters.bytes_out += len(frame)

    def _write_or_queue(self, view: memoryview) -> None:
        assert self._queued is not None and self._loop is not None
        if self._write_error is not None:
            raise OSError(f"writing to the browser failed: {self._write_error}")
        if not self._queued:
            try:
                n = os.write(self.out_fd, view)
            except BlockingIOError:
                n = 0
            if n == len(view):
                return
            view = view[n:]
            self._loop.add_writer(self.out_fd, self._drain)
        elif self._queued_bytes + len(view) > MAX_PENDING_OUTPUT:  # refused whole: no torn frame
            raise OSError(f"the browser stopped reading ({self._queued_bytes} bytes of replies waiting)")
        self._queued.append(view)
        self._queued_bytes += len(view)

    def _drain(self) -> None:
        with self._lock:
            queued = self._queued
            assert queued is not None and self._loop is not None
            try:
                while queued:
                    head = queued[0]
                    n = os.write(self.out_fd, head)
                    self._queued_bytes -= n
                    if n < len(head):
                        queued[0] = head[n:]
                        return
                    queued.popleft()
            except BlockingIOError:
                return
            except OSError as exc:  # the browser went away: the next write says so
                self._write_error = exc
                queued.clear()
                self._queued_bytes = 0
            self._loop.remove_writer(self.out_fd)

    def flush_output(self) -> None:
        """Write what is still queued, blocking (at exit, the loop gone; the hard exit deadline
        bounds a browser that does not read)."""
        with self._lock:
            if not self._queued:
                return
            try:
                os.set_blocking(self.out_fd, True)
                for view in self._queued:
                    while view:
                        view = view[os.write(self.out_fd, view) :]
            except OSError:
                pass  # the browser is gone: nobody is left to read them
            self._queued.clear()
            self._queued_bytes = 0

    def start_reader(
        self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Item | EndOfInput], None]
    ) -> threading.Thread | None:
        """Read frames and deliver them on the loop: on the loop itself where stdin can be
        watched (returns None), else from a daemon thread (returned)."""
        if self._read_on_loop(loop, deliver):
            return None
        return self._start_thread(loop, deliver)

    def _read_on_loop(
        self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Item | EndOfInput], None]
    ) -> bool:
        if os.name != "posix":
            return False
        fd = self.in_fd
        if not _pipe_or_socket(fd):
            return False  # a terminal (shared with the shell) or a file: the thread reads it
        try:
            os.set_blocking(fd, False)
        except OSError:
            return False
        decoder = FrameDecoder(self.max_inbound)

        def post(item: Item | EndOfInput) -> None:
            loop.call_soon(deliver, item)  # a failing `deliver` is the loop's error, not input's end

        def stop(last: Item | None = None) -> None:
            loop.remove_reader(fd)
            if last is not None:
                post(last)
            post(EndOfInput())

        def on_readable() -> None:
            # as the thread: whatever stops reading, the loop hears of it and of the end of input
            try:
                try:
                    chunk = os.read(fd, READ_CHUNK)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError as exc:
                    stop(FrameError("internal", f"reading stdin failed: {exc}", fatal=True))
                    return
                if not chunk:
                    stop(decoder.eof())
                elif not ingest(decoder, chunk, self.counters, post):
                    stop()
            except Exception as exc:
                stop(FrameError("internal", f"the stdin reader failed: {type(exc).__name__}", fatal=True))

        try:
            loop.add_reader(fd, on_readable)
        except (OSError, ValueError, NotImplementedError):
            os.set_blocking(fd, True)
            return False
        self._queue_output(loop)
        return True

    def _queue_output(self, loop: asyncio.AbstractEventLoop) -> None:
        """Make stdout non-blocking (a pipe or a socket: a file or a terminal is written as is)."""
        if not _pipe_or_socket(self.out_fd):
            return
        try:
            os.set_blocking(self.out_fd, False)
        except OSError:
            return  # written blocking, as before
        with self._lock:
            self._loop = loop
            self._queued = collections.deque()

    def _start_thread(
        self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Item | EndOfInput], None]
    ) -> threading.Thread:
        def post(item: Item | EndOfInput) -> None:
            with contextlib.suppress(RuntimeError):  # loop already closed: shutting down
                loop.call_soon_threadsafe(deliver, item)

        def read_all() -> None:
            decoder = FrameDecoder(self.max_inbound)
            while True:
                try:
                    chunk = os.read(self.in_fd, READ_CHUNK)
                except OSError as exc:
                    post(FrameError("internal", f"reading stdin failed: {exc}", fatal=True))
                    return
                if not chunk:
                    tail = decoder.eof()
                    if tail is not None:
                        post(tail)
                    return
                if not ingest(decoder, chunk, self.counters, post):
                    return

        def run() -> None:
            # The reader never dies silently: whatever stops it, the loop hears of it and of the
            # end of input, so the host answers what it has and exits instead of waiting forever.
            try:
                read_all()
            except BaseException as exc:  # the one place that must catch everything
                post(FrameError("internal", f"the stdin reader failed: {type(exc).__name__}", fatal=True))
            finally:
                post(EndOfInput())

        thread = threading.Thread(target=run, name="stdin-reader", daemon=True)
        thread.start()
        return thread
