"""`sidedesk service`: the whole host (vault, broker links, ASL, watchdog, journal, local stream,
pushes) in one long-lived process per OS user, serving any number of panels through their
proxies over the local endpoint. Services are built once (main.compose); each proxy connection
is a native session (runtime.Host) sharing them and their push hub, so every panel sees every
event. Single instance: an exclusive lock in the private run folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sidedesk import PROTOCOL_VERSION, __version__
from sidedesk.api.stream import Hub
from sidedesk.native.framing import (
    DEFAULT_MAX_INBOUND,
    HEADER,
    FrameDecoder,
    FrameError,
    Item,
    encode,
    encode_body,
    parse_body,
)
from sidedesk.native.transport import MAX_PENDING_OUTPUT, READ_CHUNK, Counters, EndOfInput, ingest
from sidedesk.service import endpoint, lifetime
from sidedesk.store.paths import Paths
from sidedesk.store.startup import StartSettings

if TYPE_CHECKING:
    from sidedesk.api.context import Services
    from sidedesk.runtime import Host
    from sidedesk.store.config import HostConfig

log = logging.getLogger("sidedesk.service")

FIRST_FRAME_TIMEOUT_S = 5.0
LIFETIME_CHECK_S = 1.0
# a locked service at login retries the keychain every `service.keychain_retry_s` (30 s) for two
# hours; then it waits for the password (and says so)
UNATTENDED_FOR_S = 2 * 3600.0


@dataclass
class SocketTransport:
    """A proxy connection as a native-messaging transport (runtime.Host's `Transport`)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    max_inbound: int = DEFAULT_MAX_INBOUND
    counters: Counters = field(default_factory=Counters)

    def write_body(self, body: bytes) -> None:
        frame = encode_body(body)
        if self.writer.transport.get_write_buffer_size() > MAX_PENDING_OUTPUT:
            self.writer.transport.abort()  # the proxy is not reading: end its session
            raise OSError("the proxy stopped reading; session dropped")
        self.writer.write(frame)
        self.counters.frames_out += 1
        self.counters.bytes_out += len(frame)

    def start_reader(
        self, loop: asyncio.AbstractEventLoop, deliver: Callable[[Item | EndOfInput], None]
    ) -> object:
        async def read() -> None:
            decoder = FrameDecoder(self.max_inbound)
            try:
                while True:
                    chunk = await self.reader.read(READ_CHUNK)
                    if not chunk:
                        tail = decoder.eof()
                        if tail is not None:
                            deliver(tail)
                        return
                    if not ingest(decoder, chunk, self.counters, deliver):
                        return
            except (OSError, asyncio.IncompleteReadError) as exc:
                deliver(FrameError("internal", f"reading from the proxy failed: {exc}", fatal=True))
            except Exception as exc:  # the reader never dies silently (see native/transport.py)
                deliver(FrameError("internal", f"the proxy reader failed: {type(exc).__name__}", fatal=True))
            finally:
                deliver(EndOfInput())

        return loop.create_task(read(), name="proxy-reader")


class Service:
    """The environment the services are built for (main.Environment) and the endpoint's server."""

    def __init__(self, paths: Paths, compose: Callable[[Any], Services], start: StartSettings) -> None:
        self.paths = paths
        self.initial_config: HostConfig | None = None
        self.hub = Hub()
        self.started = time.monotonic()
        self.start = start
        self._compose = compose
        self.services: Services | None = None
        self.sessions: set[Host] = set()
        self._stop = asyncio.Event()
        self._idle = lifetime.Idle()
        # unattended unlock: the attempt in flight, when the last began, and why it failed
        self._unattended_task: asyncio.Task[None] | None = None
        self._unattended_at: float | None = None
        self._unattended_reason: str | None = None
        self._unattended_tries = 0

    def clock(self) -> float:
        return time.monotonic()

    @property
    def socket_path(self) -> endpoint.Address:
        return endpoint.address(self.paths.data_dir)

    # -- lifecycle --------------------------------------------------------------------------------
    async def run(self) -> int:
        if sys.platform == "win32":
            return await _run_on_pipe(self)
        else:
            return await self._run_on_socket()

    if sys.platform != "win32":

        async def _run_on_socket(self) -> int:
            import fcntl  # POSIX: the lock; on Windows the pipe's first instance is

            path = self.socket_path
            assert isinstance(path, Path)
            run_dir = endpoint.private_dir(path.parent)
            lock = os.open(run_dir / endpoint.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("another service already runs for this user")
                os.close(lock)
                return 3
            os.ftruncate(lock, 0)  # the lock file names the holder (doctor, and a stop that must kill)
            os.write(lock, f"{os.getpid()}\n".encode())
            try:
                sock = endpoint.listen(path)

                async def listen() -> Callable[[], object]:
                    server = await asyncio.start_unix_server(self.connection, sock=sock)
                    return server.close

                code = await self.serve(listen, str(path))
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                return code
            finally:
                os.close(lock)

    async def serve(self, listen: Callable[[], Awaitable[Callable[[], object]]], where: str) -> int:
        """Build the services, accept panels until asked to stop (or the lifetime rule says so),
        then stop: journal flushed, exchange-side stops left where they are."""
        self.services = self._compose(self)
        import sidedesk.runtime  # noqa: F401  (every panel's session: loaded once, before the first)

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # (Windows: none)
                loop.add_signal_handler(sig, self._stop.set)
        close_listener = await listen()
        self.services.localstream.start_soon()
        log.info("service %s ready (pid %d) on %s", __version__, os.getpid(), where)
        self._unattended_task = loop.create_task(self._unattended_unlock())
        watcher = loop.create_task(self._lifetime_loop())
        await self._stop.wait()
        self._unattended_task.cancel()
        watcher.cancel()
        close_listener()
        for host in list(self.sessions):
            host.stop()
        await self.services.close()
        log.info("service stopped")
        return 0

    def holdings(self) -> tuple[int, int]:
        """Positions and open orders on connected accounts: what the service keeps protecting;
        and positions the journal last knew on accounts not up yet (a start with the vault
        locked): what it must say are unprotected, and resume once unlocked."""
        svc = self.services
        if svc is None:
            return 0, 0
        positions = orders = 0
        for link in svc.links.links.values():
            if not link.tradable or link.account_id in svc.books.last_known:
                continue
            positions += sum(
                1 for p in svc.books.portfolio.positions.positions(link.account_id) if p.quantity
            )
            orders += len(svc.books.open_orders(link.account_id))
        for account_id in svc.books.last_known:
            positions += sum(1 for p in svc.books.known_positions(account_id) if p.quantity)
        return positions, orders

    def exposure(self) -> bool:
        """A position or an open order to protect, or a last known position nothing protects yet."""
        return any(self.holdings())

    def policy(self) -> lifetime.Policy:
        if self.services is None:
            return lifetime.Policy()
        s = self.services.settings.config.service
        return lifetime.Policy(s.keep_protecting, s.always, s.idle_exit_s)

    async def _unattended_unlock(self) -> None:
        """A service started after a crash or at login opens the vault with the key in the OS
        keychain when unattended unlock is on; the vault's listener then reconnects the accounts
        the last service held something on, so ASL and the watchdog resume. Otherwise it stays
        locked, and the positions the journal last knew show as Unprotected with "unlock to
        resume protection". A keychain not reachable yet (a login whose keyring opens a little
        later) is tried again from the lifetime loop."""
        assert self.services is not None
        vault = self.services.vault
        if vault.state != "locked":
            return
        self._unattended_at = self.clock()
        reason = await vault.unlock_unattended()
        if reason is None:
            log.info("unattended unlock: the vault is open, protection resumes without a password")
        elif reason != self._unattended_reason:  # once per reason: a retry every 30 s says it once
            log.info("the vault stays locked until unlocked with its password: %s", reason)
        self._unattended_reason = reason

    def _unattended_due(self) -> bool:
        """While the vault has never been opened here and unattended unlock is on: try again every
        `service.keychain_retry_s` (one attempt at a time). A vault locked after an unlock (by the trader,
        or the auto-lock) stays locked."""
        svc = self.services
        if svc is None or svc.vault.state != "locked" or svc.status.vault_ever_unlocked:
            return False
        if self._unattended_task is not None and not self._unattended_task.done():
            return False
        retry_s = svc.settings.config.service.keychain_retry_s
        if self._unattended_at is not None and self.clock() - self._unattended_at < retry_s:
            return False
        self._unattended_at = self.clock()  # the header is read at most this often too
        if not svc.vault.unattended:
            return False
        self._unattended_tries += 1
        tries = math.ceil(UNATTENDED_FOR_S / retry_s)
        if self._unattended_tries > tries:
            if self._unattended_tries == tries + 1:
                log.warning(
                    "unattended unlock: the keychain did not answer in %d tries; waiting for the password",
                    tries,
                )
            return False
        return True

    async def _lifetime_loop(self) -> None:
        while True:
            await asyncio.sleep(LIFETIME_CHECK_S)
            try:
                if self._unattended_due():
                    self._unattended_task = asyncio.get_running_loop().create_task(self._unattended_unlock())
            except Exception:  # a retry's failure never stops the service
                log.exception("could not retry the unattended unlock")
            self._idle, leave = lifetime.step(
                self.policy(),
                self._idle,
                sessions=len(self.sessions),
                exposure=self.exposure(),
                now=self.clock(),
            )
            if leave:
                log.info("nothing to protect and no panel for %.0f s: exiting", self.policy().idle_exit_s)
                self._stop.set()

    def status(self) -> dict[str, Any]:
        svc = self.services
        positions, orders = self.holdings()
        return {
            "pid": os.getpid(),
            "version": __version__,
            "protocol": PROTOCOL_VERSION,
            "service_protocol": endpoint.SERVICE_PROTOCOL,
            "uptime_s": round(self.clock() - self.started, 1),
            "sessions": len(self.sessions),
            "exposure": positions > 0 or orders > 0,
            "positions": positions,
            "open_orders": orders,
            "vault": svc.vault.state if svc is not None else "absent",
            "accounts": svc.links.brokers_status() if svc is not None else [],
            "unprotected": [u.to_payload() for u in svc.status.unprotected()] if svc is not None else [],
        }

    # -- connections ------------------------------------------------------------------------------
    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One local client. Cancelled only when the service stops: end quietly (on Python 3.11
        asyncio's stream callback logs a cancelled connection task as an error)."""
        try:
            await self._connection(reader, writer)
        except asyncio.CancelledError:
            writer.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if sys.platform != "win32":  # (Windows: the pipe's DACL admits this user only)
            sock = writer.get_extra_info("socket")
            uid = endpoint.peer_uid(sock) if sock is not None else None
            if uid is not None and uid != os.getuid():
                log.warning("refused a connection from uid %d", uid)
                writer.close()
                return
        try:
            first = await asyncio.wait_for(self._first_frame(reader), FIRST_FRAME_TIMEOUT_S)
        except (TimeoutError, ValueError, OSError, asyncio.IncompleteReadError) as exc:
            log.warning("a local client sent no valid first frame: %s", type(exc).__name__)
            writer.close()
            return
        kind = first.get("type")
        if kind == "service.status":
            self._reply(writer, {"type": "service.status", **self.status()})
            await _close(writer)
        elif kind == "service.stop":
            self._reply(writer, {"type": "service.stopping", "pid": os.getpid()})
            await _close(writer)
            self._stop.set()
        elif kind == "proxy.hello":
            await self._session(first, reader, writer)
        else:
            self._reply(writer, {"type": "error", "message": f"unknown first frame {str(kind)[:40]!r}"})
            await _close(writer)

    async def _first_frame(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        (n,) = HEADER.unpack(await reader.readexactly(HEADER.size))
        if n > endpoint.MAX_CONTROL_FRAME:
            raise ValueError("first frame too large")
        item = parse_body(await reader.readexactly(n))  # bounded, as every native frame
        if isinstance(item, FrameError):
            raise ValueError(item.message)
        return item.message

    def _reply(self, writer: asyncio.StreamWriter, obj: dict[str, Any]) -> None:
        writer.write(encode(obj))

    async def _session(
        self, hello: dict[str, Any], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        theirs = hello.get("service_protocol")
        if theirs != endpoint.SERVICE_PROTOCOL:
            self._reply(
                writer,
                {
                    "type": "proxy.refused",
                    "service_protocol": endpoint.SERVICE_PROTOCOL,
                    "version": __version__,
                },
            )
            await _close(writer)
            return
        self._reply(
            writer,
            {
                "type": "proxy.welcome",
                "service_protocol": endpoint.SERVICE_PROTOCOL,
                "version": __version__,
                "pid": os.getpid(),
            },
        )
        from sidedesk.runtime import Host

        assert self.services is not None
        transport = SocketTransport(reader, writer, self.start.max_inbound_bytes)
        host = Host(transport, self.paths, start=self.start, hub=self.hub, shared=self.services)
        self.sessions.add(host)
        log.info("panel attached (%s); %d session(s)", str(hello.get("origin"))[:80], len(self.sessions))
        try:
            await host.serve()
        finally:
            self.sessions.discard(host)
            await _close(writer)
            log.info("panel detached; %d session(s)", len(self.sessions))


async def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 1.0)


if sys.platform == "win32":

    async def _run_on_pipe(self: Service) -> int:
        """Windows: the per-user pipe (not run on this project's CI; see service/winpipe.py)."""
        from sidedesk.service import win32, winpipe

        name = str(self.socket_path)
        sa = win32.SecurityAttributes(winpipe.sddl_for(win32.current_sid()))
        try:
            first = win32.create_instance(name, sa, True)  # fails if the name exists: one service
        except OSError:
            log.info("another service already runs for this user (or %s is taken)", name)
            return 3
        run_dir = endpoint.run_dir(self.paths.data_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / endpoint.LOCK_NAME).write_text(f"{os.getpid()}\n", encoding="ascii")
        loop = asyncio.get_running_loop()

        async def listen() -> Callable[[], object]:
            return loop.create_task(win32.serve(name, sa, self.connection, first)).cancel

        return await self.serve(listen, name)
