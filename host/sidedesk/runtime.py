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
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sidedesk import PROTOCOL_VERSION, __version__
from sidedesk.api.catalog import load_handlers
from sidedesk.api.context import Metrics
from sidedesk.api.dispatch import dispatch
from sidedesk.api.stream import Hub, Stream
from sidedesk.api.wire import reply_error
from sidedesk.native.framing import MAX_OUTBOUND, Frame, FrameError, Item, dumps, split_text
from sidedesk.native.transport import Counters, EndOfInput
from sidedesk.store.paths import Paths
from sidedesk.store.startup import StartSettings

if TYPE_CHECKING:
    from sidedesk.api.context import Services
    from sidedesk.store.config import HostConfig

log = logging.getLogger(__name__)

SHUTDOWN_BUDGET_S = 1.0  # Chrome SIGKILLs the host 2 s after closing stdin; the hard exit is at 1.2 s


class Transport(Protocol):
    counters: Counters

    def write_body(self, body: bytes) -> None: ...

    def start_reader(
        self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Item | EndOfInput], None]
    ) -> object: ...


VaultState = Literal["absent", "locked", "unlocked"]
ShutdownHook = Callable[[], Awaitable[None] | None]
# builds every service once (the composition root, sidedesk/main.py), given how to push a topic
Compose = Callable[["Host"], "Services"]


class Host:
    """One native-messaging session: the transport, the push stream, and the services it serves
    (built by `compose` on first use, after `hello` has been answered)."""

    def __init__(
        self,
        transport: Transport,
        paths: Paths,
        config: HostConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        start: StartSettings | None = None,
        compose: Compose | None = None,
        hub: Hub | None = None,
        shared: Services | None = None,
    ) -> None:
        self.transport = transport
        self.paths = paths
        self.initial_config = config
        if start is None:
            start = (
                StartSettings(
                    max_inbound_bytes=config.max_inbound_bytes,
                    status_interval_s=config.status_interval_s,
                    log_level=config.log_level,
                    extra_extension_ids=tuple(config.extra_extension_ids),
                )
                if config is not None
                else StartSettings()
            )
        self.start = start
        self._clock = clock
        self.started = clock()
        self.metrics = Metrics()
        self.stream = Stream(self.send, clock)
        self.stream.provide_snapshot("status", self.status)
        # the services publish on the hub; a service shares one hub (and its services) between
        # every session, the in-process host has its own
        self.hub = hub if hub is not None else Hub()
        self.hub.attach(self.stream)
        self._chunk_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._shutdown_hooks: list[ShutdownHook] = []
        self._input_closed_hooks: list[Callable[[], None]] = []
        self._stopping = asyncio.Event()
        self._compose = compose
        self._services: Services | None = shared

    # -- the Session protocol (api/context.py) ---------------------------------------------------
    def clock(self) -> float:
        return self._clock()

    @property
    def counters(self) -> Counters:
        return self.transport.counters

    def capabilities(self) -> list[str]:
        return ["status", "stats", "chunked-replies", "vault", "trading", "asl", "localstream"]

    def vault_state(self) -> VaultState:
        if self._services is None:  # not loaded yet, so it cannot be unlocked
            return "locked" if self.paths.vault_file.exists() else "absent"
        return self._services.vault.state

    # -- services ---------------------------------------------------------------------------------
    @property
    def services(self) -> Services:
        """Every service, built once on first use: the vault, the books, links, order entry,
        protection and the local stream (and their imports: cryptography, pydantic models)."""
        if self._services is None:
            if self._compose is None:
                raise RuntimeError("this host was started without services")
            self._services = self._compose(self)
            self.on_shutdown(self._services.close)
        return self._services

    @property
    def services_loaded(self) -> bool:
        return self._services is not None

    def warm_up(self) -> None:
        load_handlers()
        if self._compose is not None:  # services of our own: a service starts its stream once itself
            self.services.localstream.start_soon()  # starts it only if switched on in Setup

    def _warm_up_safely(self) -> None:
        if self._stopping.is_set():
            return
        try:
            self.warm_up()
        except Exception:  # e.g. an unreadable journal: requests will report it when they need it
            log.exception("warm-up failed")

    def status(self) -> dict[str, Any]:
        if self._services is not None:
            return self._services.status.payload()
        return {
            "host_version": __version__,
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "uptime_s": round(self.clock() - self.started, 3),
            "vault": self.vault_state(),
            "vault_rev": 0,
            "settings_rev": 0,
            "brokers": [],
            "unprotected": [],
        }

    def stop(self) -> None:
        """End this session (the service is stopping): as if its input had closed."""
        self._stopping.set()

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
            for hook in self._input_closed_hooks:
                hook()
        elif isinstance(item, FrameError):
            self.metrics.errors += 1
            log.warning("bad frame: %s", item.message)
            self._reply(
                reply_error(item.request_id, item.request_type, {"code": item.code, "message": item.message})
            )
            if item.fatal:
                self._stopping.set()
        else:
            task = asyncio.get_running_loop().create_task(self._handle(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def on_input_closed(self, hook: Callable[[], None]) -> None:
        """Called on the loop the moment stdin ends (before shutdown starts)."""
        self._input_closed_hooks.append(hook)

    def _reply(self, reply: dict[str, Any]) -> None:
        """Send one reply; if it cannot be encoded, its id still gets a coded `internal` error."""
        try:
            self.send(reply)
        except OSError as exc:  # the browser went away mid-reply
            log.warning("could not write reply: %s", exc)
            self._stopping.set()
        except Exception as exc:  # a result JSON cannot carry (NaN, a stray object)
            ref = secrets.token_hex(4)
            log.error(
                "reply to %s could not be encoded (ref %s): %s", reply.get("type"), ref, type(exc).__name__
            )
            err = {
                "code": "internal",
                "message": f"the host could not encode its reply; see the host log (ref {ref})",
            }
            try:
                self.send(reply_error(reply.get("id"), str(reply.get("type", "")), err))
            except Exception:  # the id itself would not encode either
                self.send(reply_error(None, "", err))

    async def _handle(self, frame: Frame) -> None:
        t0 = time.perf_counter_ns()
        reply = await self.dispatch(frame.message)
        if "error" in reply:
            self.metrics.errors += 1
        self._reply(reply)
        self.metrics.handler_us.append((time.perf_counter_ns() - t0) / 1000)

    async def dispatch(self, message: dict[str, Any]) -> dict[str, Any]:
        return await dispatch(self, lambda: self.services, message)

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.start.status_interval_s)
            self.stream.publish("status", self.status())

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport.start_reader(loop, self._deliver)
        status_task = loop.create_task(self._status_loop())
        # Build the rest once the first frames (hello) had their chance to be answered.
        warm = loop.call_later(0.05, self._warm_up_safely)
        log.info("host %s ready (pid %d)", __version__, os.getpid())
        await self._stopping.wait()
        warm.cancel()  # a host closed before it warmed up must not start building (or writing) now
        log.info("input closed; shutting down")
        status_task.cancel()
        await self.shutdown()

    async def shutdown(self) -> None:
        self.hub.detach(self.stream)
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
