"""One resilient WebSocket connection, shared by every broker client.

It keeps a URL connected: reconnects with full-jitter back-off, runs protocol heartbeats
(WebSocket pings, or an application ping such as Tradovate's `[]`), treats a silent connection
as dead, rotates proactively before the server's maximum connection age (Binance: 24 h), and
reconnects at once after the machine wakes from sleep. Every attempt and its outcome is
reported through `on_status`. What a (re)connection must do (log on, resubscribe, resync) is
the caller's `on_open`; raising `AuthFailed` there stops the retries for good.

Retry cap: after `fast_attempts` failed attempts in a row (default 8) the back-off gives way to a
slow retry every `slow_retry_s` (default 5 minutes), so a venue that is down (or a machine that is
offline) is not hammered, and the status says so (`slow`, and "retrying slowly" in `last_error`
for every adapter that shows it). It never stops by itself: a wake-up or an explicit
`reconnect()` still cuts the wait short, and only `Backoff.max_attempts` (unset by default) gives up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import websockets
from websockets.asyncio.client import ClientConnection, connect

from sidedesk.net.backoff import Backoff, WakeDetector

log = logging.getLogger(__name__)

State = Literal["connecting", "connected", "reconnecting", "stopped", "auth_failed", "gave_up"]


class AuthFailed(Exception):
    """Credentials refused, revoked or expired: retrying would only repeat it."""


class NotConnected(ConnectionError):
    pass


@dataclass(frozen=True, slots=True)
class WsStatus:
    name: str
    state: State
    attempt: int
    next_retry_s: float | None = None
    last_error: str | None = None
    reason: str | None = None  # why the last connection ended
    slow: bool = False  # past the fast attempts: retrying every `slow_retry_s`


@dataclass(frozen=True, slots=True)
class AppPing:
    interval_s: float
    payload: str | bytes


class ResilientWebSocket:
    def __init__(
        self,
        name: str,
        url: Callable[[], Awaitable[str]],
        on_message: Callable[[str | bytes], None],
        *,
        on_open: Callable[[ResilientWebSocket], Awaitable[None]] | None = None,
        on_close: Callable[[str], None] | None = None,
        on_status: Callable[[WsStatus], None] | None = None,
        backoff: Backoff | None = None,
        ping_interval_s: float | None = 20.0,
        ping_timeout_s: float | None = 20.0,
        app_ping: AppPing | None = None,
        stale_after_s: float | None = None,
        max_age_s: float | None = None,
        open_timeout_s: float = 10.0,
        max_size: int | None = 16 * 1024 * 1024,
        rand: Callable[[], float] = random.random,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
        supervise_every_s: float = 0.25,
        stable_after_s: float = 5.0,
        fast_attempts: int = 8,
        slow_retry_s: float = 300.0,
    ) -> None:
        if fast_attempts < 1 or slow_retry_s <= 0:
            raise ValueError("fast_attempts must be >= 1 and slow_retry_s > 0")
        self.name = name
        self._url = url
        self._on_message = on_message
        self._on_open = on_open
        self._on_close = on_close
        self._on_status = on_status
        self.backoff = backoff or Backoff()
        self._ping_interval = ping_interval_s
        self._ping_timeout = ping_timeout_s
        self._app_ping = app_ping
        self._stale_after = stale_after_s
        self._max_age = max_age_s
        self._open_timeout = open_timeout_s
        self._max_size = max_size
        self._rand = rand
        self._wall = wall
        self._mono = mono
        self._supervise_every = supervise_every_s
        self._stable_after = stable_after_s
        self.fast_attempts = fast_attempts
        self.slow_retry_s = slow_retry_s
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._closing: asyncio.Task[None] | None = None
        self._kick = asyncio.Event()  # cut a back-off wait short (wake, explicit reconnect)
        self._end_reason: str | None = None
        self._connected = asyncio.Event()
        self._wake = WakeDetector()
        self.attempt = 0
        self.connections = 0
        self.last_rx = 0.0
        self.status = WsStatus(name, "stopped", 0)

    # -- public ----------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._ws is not None and self._connected.is_set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"ws:{self.name}")

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def send(self, data: str | bytes) -> None:
        ws = self._ws
        if ws is None:
            raise NotConnected(f"{self.name}: not connected")
        try:
            await ws.send(data)
        except websockets.ConnectionClosed as exc:
            raise NotConnected(f"{self.name}: connection closed ({exc})") from exc

    def reconnect(self, reason: str) -> None:
        """Drop the current connection (if any) and connect again without back-off."""
        self._end_reason = f"requested: {reason}"
        self._kick.set()
        ws = self._ws
        if ws is not None:
            self._closing = asyncio.get_running_loop().create_task(ws.close(code=1000, reason=reason[:100]))

    async def stop(self) -> None:
        self._stopping = True
        self._kick.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._set_status("stopped")

    # -- loop ------------------------------------------------------------------------------------
    @property
    def slow(self) -> bool:
        """Past the fast attempts: the next retries come every `slow_retry_s`."""
        return self.attempt >= self.fast_attempts

    def _slow_note(self, error: str | None) -> str | None:
        if not self.slow or error is None:
            return error
        return f"{error}; retrying slowly, every {self.slow_retry_s:g} s"

    def _set_status(self, state: State, **kw: object) -> None:
        kw.setdefault("slow", self.slow and state in ("connecting", "reconnecting"))
        self.status = WsStatus(self.name, state, self.attempt, **kw)  # type: ignore[arg-type]
        if self._on_status is not None:
            try:
                self._on_status(self.status)
            except Exception:
                log.exception("%s: status callback failed", self.name)

    async def _run(self) -> None:
        last_error: str | None = None
        while not self._stopping:
            # "reconnecting" after any earlier connection, on purpose or not: whoever listens must
            # resync what it may have missed while the socket was down
            first = self.attempt == 0 and self.connections == 0
            self._set_status(
                "connecting" if first else "reconnecting", last_error=self._slow_note(last_error)
            )
            immediate = False
            try:
                url = await self._url()
                async with connect(
                    url,
                    ping_interval=self._ping_interval,
                    ping_timeout=self._ping_timeout,
                    open_timeout=self._open_timeout,
                    max_size=self._max_size,
                    compression=None,
                    close_timeout=1.0,
                ) as ws:
                    self._ws = ws
                    self._end_reason = None
                    self.last_rx = self._mono()
                    if self._on_open is not None:
                        await self._on_open(self)
                    self.connections += 1
                    connected_at = self._mono()
                    last_error = None
                    self._connected.set()
                    self._set_status("connected")
                    log.info("%s: connected (connection #%d)", self.name, self.connections)
                    await self._serve(ws)
                    # Only a connection that stayed up resets the back-off: a server that accepts
                    # and drops at once must not turn the retries into a hot loop.
                    if self._mono() - connected_at >= self._stable_after:
                        self.attempt = 0
                    immediate = self._ended_on_purpose()
            except AuthFailed as exc:
                self._cleanup(str(exc))
                log.error("%s: authentication failed, not retrying: %s", self.name, exc)
                self._set_status("auth_failed", last_error=str(exc))
                return
            except asyncio.CancelledError:
                self._cleanup("stopped")
                raise
            except (OSError, TimeoutError, websockets.WebSocketException, NotConnected) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: connection failed: %s", self.name, last_error)
            except Exception as exc:  # a bug in a callback: log it, keep the connection policy
                last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s: unexpected error", self.name)
            reason = self._end_reason or last_error or "closed by server"
            self._cleanup(reason)
            if self._stopped():
                break
            if immediate:
                log.info("%s: reconnecting now (%s)", self.name, reason)
                self._set_status("reconnecting", next_retry_s=0.0, reason=reason)
                continue
            if self.backoff.exhausted(self.attempt):
                self._set_status("gave_up", last_error=last_error, reason=reason)
                return
            self.attempt += 1
            if self.slow:
                # the cap: a steady, visible retry instead of more back-off (module docstring)
                delay = self.slow_retry_s
                if self.attempt == self.fast_attempts:
                    log.warning(
                        "%s: %d attempts failed in a row; retrying slowly, every %g s",
                        self.name,
                        self.attempt,
                        delay,
                    )
            else:
                delay = self.backoff.delay(self.attempt - 1, self._rand())
            self._set_status(
                "reconnecting",
                next_retry_s=round(delay, 3),
                last_error=self._slow_note(last_error),
                reason=reason,
            )
            self._kick.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), delay)

    def _ended_on_purpose(self) -> bool:
        """Rotation, wake-up and explicit requests reconnect at once, without back-off."""
        reason = self._end_reason
        return reason is not None and (
            reason in ("rotation", "woke from sleep") or reason.startswith("requested")
        )

    def _stopped(self) -> bool:
        return self._stopping

    def _cleanup(self, reason: str) -> None:
        was_open = self._ws is not None and self._connected.is_set()
        self._ws = None
        self._connected.clear()
        if was_open and self._on_close is not None:
            try:
                self._on_close(reason)
            except Exception:
                log.exception("%s: close callback failed", self.name)

    async def _serve(self, ws: ClientConnection) -> None:
        supervisor = asyncio.get_running_loop().create_task(self._supervise(ws))
        try:
            async for message in ws:
                self.last_rx = self._mono()
                try:
                    self._on_message(message)
                except Exception:  # one bad frame must not cost the connection
                    log.exception("%s: message handler failed", self.name)
        except websockets.ConnectionClosed:
            pass
        finally:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        if self._end_reason is None and ws.close_code is not None:
            self._end_reason = f"closed by server ({ws.close_code} {ws.close_reason})".strip()

    async def _supervise(self, ws: ClientConnection) -> None:
        opened = self._mono()
        next_app_ping = opened + (self._app_ping.interval_s if self._app_ping else 0.0)
        self._wake.tick(self._wall(), self._mono())
        while True:
            await asyncio.sleep(self._supervise_every)
            now = self._mono()
            reason = None
            if self._wake.tick(self._wall(), now):
                reason = "woke from sleep"
            elif self._stale_after is not None and now - self.last_rx > self._stale_after:
                reason = f"stale: nothing received for {now - self.last_rx:.1f}s"
            elif self._max_age is not None and now - opened >= self._max_age:
                reason = "rotation"
            if reason is not None:
                self._end_reason = reason
                log.info("%s: closing connection: %s", self.name, reason)
                await ws.close(code=1000, reason=reason[:100])
                return
            if self._app_ping is not None and now >= next_app_ping:
                next_app_ping = now + self._app_ping.interval_s
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ws.send(self._app_ping.payload)
