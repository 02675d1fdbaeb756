"""The host process: one asyncio loop serving the native port.

Frames come in from the reader thread, each request is dispatched as its own task (a slow one,
such as a vault unlock running its KDF, never blocks the others) and every reply, push and
chunk leaves through the transport's single locked writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sidedesk import PROTOCOL_VERSION, __version__
from sidedesk.api.catalog import load_handlers
from sidedesk.api.dispatch import dispatch
from sidedesk.api.stream import Stream
from sidedesk.api.wire import reply_error
from sidedesk.native.framing import MAX_OUTBOUND, Frame, FrameError, Item, dumps, split_text
from sidedesk.native.transport import Counters, EndOfInput
from sidedesk.store.paths import Paths
from sidedesk.store.startup import StartSettings

if TYPE_CHECKING:
    from sidedesk.store.config import HostConfig
    from sidedesk.trading.desk import Desk
    from sidedesk.vault.kdf import KdfParams
    from sidedesk.vault.service import VaultService

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


def vault_kdf(config: HostConfig) -> KdfParams | None:
    k = config.vault_kdf
    if k is None:
        return None
    from sidedesk.vault.kdf import KdfParams

    return KdfParams.argon2id(k.memory_kib, k.iterations, k.lanes)


class Host:
    def __init__(
        self,
        transport: Transport,
        paths: Paths,
        config: HostConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        start: StartSettings | None = None,
    ) -> None:
        self.transport = transport
        self.paths = paths
        self._config = config
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
        self.clock = clock
        self.started = clock()
        self.metrics = Metrics()
        self.stream = Stream(self.send, clock)
        self.stream.provide_snapshot("status", self.status)
        self._chunk_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._shutdown_hooks: list[ShutdownHook] = []
        self._input_closed_hooks: list[Callable[[], None]] = []
        self._stopping = asyncio.Event()
        self._vault: VaultService | None = None
        self._desk: Desk | None = None
        # Bumped on every vault change (unlock, lock, an account added or removed) and every saved
        # settings change; in the `status` topic so each panel view reloads what changed.
        self.vault_rev = 0
        self.settings_rev = 0

    # The vault and the desk (and their imports: cryptography, the trading models) are built on
    # first use, so that `hello` answers within the start-up budget; `warm_up` builds them right
    # after the host is ready.
    @property
    def config(self) -> HostConfig:
        """The full, validated settings (pydantic), loaded on first use: after `hello`."""
        if self._config is None:
            from sidedesk.store.config import ConfigError, HostConfig, load_config

            try:
                self._config = load_config(self.paths.config_file)
            except ConfigError as exc:
                log.error("%s; using the defaults", exc)
                self._config = HostConfig()
        return self._config

    @config.setter
    def config(self, value: HostConfig) -> None:
        self._config = value

    @property
    def vault(self) -> VaultService:
        if self._vault is None:
            from sidedesk.vault.service import VaultService

            self._vault = VaultService(
                self.paths.vault_file, kdf=vault_kdf(self.config), autolock_s=self.config.vault_autolock_s
            )
            self._vault.add_listener(self._vault_changed)
            self.on_shutdown(self._vault.lock)
        return self._vault

    @property
    def desk(self) -> Desk:
        if self._desk is None:
            from sidedesk.trading.desk import Desk

            self._desk = Desk(self)
        return self._desk

    @property
    def desk_loaded(self) -> bool:
        return self._desk is not None

    def warm_up(self) -> None:
        _ = self.config
        load_handlers()
        _ = self.vault, self.desk
        from sidedesk.localstream.service import service_for  # starts it only if switched on in Setup

        service_for(self).start_soon()

    def _warm_up_safely(self) -> None:
        if self._stopping.is_set():
            return
        try:
            self.warm_up()
        except Exception:  # e.g. an unreadable journal: requests will report it when they need it
            log.exception("warm-up failed")

    def _vault_changed(self) -> None:
        self.vault_rev += 1
        self.stream.publish("status", self.status)
        # After an unlock, reconnect the account the trader last used (its keys are readable now).
        # Locking does not disconnect: a connected account keeps managing its stops.
        wanted = self.config.active_account
        if self.vault.state == "unlocked" and wanted and self.desk.active_id is None:
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to reconnect yet
                asyncio.get_running_loop().create_task(self._reactivate(wanted))

    async def _reactivate(self, account_id: str) -> None:
        try:
            await self.desk.activate(account_id)
        except Exception as exc:
            self.desk.log("warning", f"could not reconnect account {account_id}: {exc}")

    def update_config(self, **changes: Any) -> HostConfig:
        """Validate, apply and save settings changes (the file is replaced atomically)."""
        from sidedesk.store.config import HostConfig, save_config

        data = self.config.model_dump()
        data.update({k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in changes.items()})
        self.config = HostConfig.model_validate(data)
        save_config(self.paths.config_file, self.config)
        self.settings_rev += 1
        self.stream.publish("status", self.status)
        return self.config

    # -- state shown to the extension ---------------------------------------------------------
    def vault_state(self) -> VaultState:
        if self._vault is None:  # not loaded yet, so it cannot be unlocked
            return "locked" if self.paths.vault_file.exists() else "absent"
        return self._vault.state

    def capabilities(self) -> list[str]:
        return ["status", "stats", "chunked-replies", "vault", "trading", "asl", "localstream"]

    def status(self) -> dict[str, Any]:
        return {
            "host_version": __version__,
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "uptime_s": round(self.clock() - self.started, 3),
            "vault": self.vault_state(),
            "vault_rev": self.vault_rev,
            "settings_rev": self.settings_rev,
            "brokers": self._desk.brokers_status() if self._desk is not None else [],
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
        reply = await dispatch(self, frame.message)
        if "error" in reply:
            self.metrics.errors += 1
        self._reply(reply)
        self.metrics.handler_us.append((time.perf_counter_ns() - t0) / 1000)

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
