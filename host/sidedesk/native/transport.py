"""The stdio shell around the framing: a private stdout, a reader thread, locked frame writes.

Chrome talks to us over fd 0/1. At start we take a private dup of fd 1 for frames and point
fd 1 (and `sys.stdout`) at stderr, so a stray `print()` or a C library writing to stdout can
never corrupt the channel. A single reader thread (asyncio's pipe readers do not work on
Windows' stdin; with the exit-deadline timer, the only threads in the host) decodes frames and
hands them to the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sidedesk.native.framing import DEFAULT_MAX_INBOUND, FrameDecoder, FrameError, Item, encode_body

READ_CHUNK = 64 * 1024


@dataclass
class Counters:
    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    bad_frames: int = 0


class EndOfInput:
    """Sentinel put on the queue when stdin closes (Chrome closed the port)."""


@dataclass
class StdioTransport:
    in_fd: int
    out_fd: int
    max_inbound: int = DEFAULT_MAX_INBOUND
    counters: Counters = field(default_factory=Counters)
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
        """Write one frame atomically with respect to every other writer (raises FrameTooLarge)."""
        frame = encode_body(body)
        with self._lock:
            view = memoryview(frame)
            while view:
                n = os.write(self.out_fd, view)
                view = view[n:]
            self.counters.frames_out += 1
            self.counters.bytes_out += len(frame)

    def start_reader(
        self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Item | EndOfInput], None]
    ) -> threading.Thread:
        """Run the blocking reader in a daemon thread; items are delivered on the loop."""

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
                self.counters.bytes_in += len(chunk)
                for item in decoder.feed(chunk):
                    if isinstance(item, FrameError):
                        self.counters.bad_frames += 1
                    else:
                        self.counters.frames_in += 1
                    post(item)
                    if isinstance(item, FrameError) and item.fatal:
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
