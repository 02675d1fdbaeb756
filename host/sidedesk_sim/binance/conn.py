"""One server-side WebSocket connection: ordered sends, frame-count faults, server pings, max age.

Binance pings every 3 minutes, drops a connection that has not answered within 10 minutes and closes
every connection after 24 hours (binance.md §2.1). The intervals are configurable so tests can see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from sidedesk_sim.binance.sim import BinanceSim

log = logging.getLogger("sidedesk_sim.binance")


class Conn:
    def __init__(self, sim: BinanceSim, ws: web.WebSocketResponse, request: web.Request, kind: str) -> None:
        self.sim = sim
        self.ws = ws
        self.request = request
        self.kind = kind  # ws-api / public / market / private / legacy
        self.ip = request.remote or "127.0.0.1"
        self.sent = 0
        self.opened = time.monotonic()
        self.last_pong = self.opened
        self.closed = asyncio.Event()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._fault_frames: dict[int, int] = {}
        self._tasks = [
            asyncio.create_task(self._writer(), name=f"sim-{kind}-writer"),
            asyncio.create_task(self._keepalive(), name=f"sim-{kind}-ping"),
        ]

    def send(self, text: str) -> None:
        """Queue a text frame (safe to call from synchronous fan-out code)."""
        if not self.closed.is_set():
            self._queue.put_nowait(text)

    async def _writer(self) -> None:
        try:
            while True:
                text = await self._queue.get()
                if text is None or self.ws.closed:
                    return
                await self.ws.send_str(text)
                self.sent += 1
                if self._drop_due():
                    log.warning("fault: dropping %s connection after %d frames", self.kind, self.sent)
                    self.abort()
                    return
        except (ConnectionResetError, RuntimeError):
            self.abort()

    def _drop_due(self) -> bool:
        faults = self.sim.faults
        for f in list(faults.active):
            if f.kind != "drop_after_frames" or not f.matches(self.kind):
                continue
            n = self._fault_frames.get(f.id, 0) + 1
            self._fault_frames[f.id] = n
            if n >= f.frames:
                faults.take("drop_after_frames", self.kind)
                return True
        return False

    async def _keepalive(self) -> None:
        cfg = self.sim.config
        while not self.closed.is_set():
            await asyncio.sleep(min(cfg.ping_interval_s, cfg.max_connection_age_s, 1.0))
            now = time.monotonic()
            if now - self.opened >= cfg.max_connection_age_s:
                log.info("closing %s connection: maximum age reached", self.kind)
                await self.close()
                return
            if now - self.last_pong >= cfg.pong_timeout_s:
                log.info("closing %s connection: no pong within %ss", self.kind, cfg.pong_timeout_s)
                self.abort()
                return
            if now - getattr(self, "_last_ping", self.opened) >= cfg.ping_interval_s:
                self._last_ping = now
                with contextlib.suppress(ConnectionResetError, RuntimeError):
                    await self.ws.ping(b"sidedesk-sim")

    def pong(self) -> None:
        self.last_pong = time.monotonic()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (what a network failure looks like)."""
        self.closed.set()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await self.ws.close()

    async def finish(self) -> None:
        """Flush queued frames (bounded), then stop the helper tasks."""
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._tasks[0]), 1.0)
        self.closed.set()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
