"""The Alpaca simulator on its own loop in a daemon thread (for synchronous clients: alpaca-py's
TradingClient, the host process tests). Prices are calm: they move where a test moves them."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from decimal import Decimal
from typing import Any

from sidedesk_sim.alpaca import AlpacaSim
from tests.integration.alpaca.conftest import calm


class SimThread:
    """The simulator on its own loop: alpaca-py's TradingClient is synchronous (requests)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sim: AlpacaSim = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> AlpacaSim:
        sim = await AlpacaSim(seed=5).start()
        calm(sim)
        return sim

    def run(self, fn: Any) -> Any:
        fut: Future[Any] = Future()

        def go() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(go)
        return fut.result(10)

    def price(self, symbol: str, price: str) -> None:
        def go() -> None:
            self.sim.book.absorb(self.sim.engine.set_price(symbol, Decimal(price), self.sim.now_ms()))
            self.sim.step()

        self.run(go)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
