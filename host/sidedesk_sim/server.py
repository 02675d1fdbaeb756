"""The part every simulator shares: an aiohttp app served on one port of 127.0.0.1 (port 0 picks
a free one) and a clock task that steps the simulator every tick."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)


class SimServer:
    def __init__(self, host: str, port: int, name: str) -> None:
        self.host = host
        self._port = port
        self.name = name
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._clock: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        return self._site is not None

    @property
    def port(self) -> int:
        """The bound port (the chosen one when started with port 0)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError(f"{self.name} simulator not started")
        return int(self._runner.addresses[0][1])

    async def start(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self._port)
        await self._site.start()

    def start_clock(self, step: Callable[[], None], tick_s: float) -> None:
        if self._clock is None:
            self._clock = asyncio.get_running_loop().create_task(
                self._run(step, tick_s), name=f"{self.name}-clock"
            )

    async def stop_clock(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None

    async def stop(self) -> None:
        await self.stop_clock()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    async def _run(self, step: Callable[[], None], tick_s: float) -> None:
        while True:
            await asyncio.sleep(tick_s)
            try:
                step()
            except Exception:  # a bug must not stop the clock; it is logged with its traceback
                log.exception("%s simulator clock step failed", self.name)
