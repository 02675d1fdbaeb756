"""The host process: one asyncio loop serving the native port.

Frames come in from the reader thread, each request is dispatched as its own task (a slow one,
such as a vault unlock running its KDF, never blocks the others) and every reply, push and
chunk leaves through the transport's single locked writer.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sidedesk import PROTOCOL_VERSION, __version__
from sidedesk.api.catalog import load_handlers
from sidedesk.api.dispatch import dispatch
from sidedesk.api.envelope import reply_error
from sidedesk.core.stream import Stream
from sidedesk.native.framing import MAX_OUTBOUND, Frame, FrameError, Item, dumps, split_text
from sidedesk.native.transport import Counters, EndOfInput
from sidedesk.store.config import HostConfig
from sidedesk.store.paths import Paths

log = logging.getLogger(__name__)

SHUTDOWN_BUDGET_S = 1.5  # Chrome SIGKILLs the host 2 s after closing stdin


class Transport(Protocol):
    counters: Counters

    def write_body(self, body: bytes) -> None: ...

    def start_reader(
        self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Item | EndOfInput], None]
    ) -> object: ...


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Metrics:
    errors: int = 0
    handler_us: deque[float] = field(default_factory=lambda: deque(maxlen=2048))
    native_rtt_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))


VaultState = Literal["absent", "locked", "unlocked"]
ShutdownHook = Callable[[], Awaitable[None] | None]


class Host:
    def __init__(
        self,
        transport: Transport,
        paths: Paths,
        config: HostConfig,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        load_handlers()
        self.transport = transport
        self.paths = paths
        self.config = config
        self.clock = clock
        self.started = clock()
        self.metrics = Metrics()
        self.stream = Stream(self.send, clock)
        self.stream.provide_snapshot("status", self.status)
        self._chunk_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._shutdown_hooks: list[ShutdownHook] = []
        self._stopping = asyncio.Event()

    # -- state shown to the extension ---------------------------------------------------------
    def vault_state(self) -> VaultState:
        return "locked" if self.paths.vault_file.exists() else "absent"

    def capabilities(self) -> list[str]:
        return ["status", "stats", "chunked-replies"]

    def status(self) -> dict[str, Any]:
        return {
            "host_version": __version__,
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "uptime_s": round(self.clock() - self.started, 3),
            "vault": self.vault_state(),
            "brokers": [],
        }

    def on_shutdown(self, hook: ShutdownHook) -> None:
        self._shutdown_hooks.append(hook)

    # -- output ----------------------------------------------------------------------------------
    def send(self, obj: dict[str, Any]) -> None:
        body = dumps(obj)
        if len(body) <= MAX_OUTBOUND:
            self.transport.write_body(body)
            return
        pieces = split_text(body.decode("utf-8"))
        cid = next(self._chunk_ids)
        for i, piece in enumerate(pieces):
            chunk = {
                "v": PROTOCOL_VERSION,
                "type": "chunk",
                "chunk_id": cid,
                "index": i,
                "count": len(pieces),
            }
            chunk["data"] = piece
            self.transport.write_body(dumps(chunk))

    # -- input -----------------------------------------------------------------------------------
    def _deliver(self, item: Item | EndOfInput) -> None:
        if isinstance(item, EndOfInput):
            self._stopping.set()
        elif isinstance(item, FrameError):
            self.metrics.errors += 1
            log.warning("bad frame: %s", item.message)
            self.send(reply_error(item.request_id, "", {"code": item.code, "message": item.message}))
            if item.fatal:
                self._stopping.set()
        else:
            task = asyncio.get_running_loop().create_task(self._handle(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(self, frame: Frame) -> None:
        t0 = time.perf_counter_ns()
        reply = await dispatch(self, frame.message)
        if "error" in reply:
            self.metrics.errors += 1
        try:
            self.send(reply)
        except OSError as exc:  # the browser went away mid-reply
            log.warning("could not write reply: %s", exc)
            self._stopping.set()
        self.metrics.handler_us.append((time.perf_counter_ns() - t0) / 1000)

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.status_interval_s)
            self.stream.publish("status", self.status())

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport.start_reader(loop, self._deliver)
        status_task = loop.create_task(self._status_loop())
        log.info("host %s ready (pid %d)", __version__, os.getpid())
        await self._stopping.wait()
        log.info("input closed; shutting down")
        status_task.cancel()
        await self.shutdown()

    async def shutdown(self) -> None:
        self.stream.close()
        for task in list(self._tasks):
            task.cancel()
        deadline = self.clock() + SHUTDOWN_BUDGET_S
        for hook in self._shutdown_hooks:
            remaining = deadline - self.clock()
            if remaining <= 0:
                log.error("shutdown budget exhausted; skipping remaining hooks")
                break
            try:
                result = hook()
                if result is not None:
                    await asyncio.wait_for(result, remaining)
            except Exception:
                log.exception("shutdown hook failed")
