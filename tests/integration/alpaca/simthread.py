"""The Alpaca simulator on its own loop in a daemon thread (tests.support.simthread), for
synchronous clients: alpaca-py's TradingClient, the host process tests. Prices are calm: they
move where a test moves them."""

from __future__ import annotations

from decimal import Decimal

from sidedesk_sim.alpaca import AlpacaSim
from tests.support import simthread


class SimThread(simthread.SimThread[AlpacaSim]):
    """Started as it is made: alpaca-py's TradingClient is synchronous (requests)."""

    def __init__(self) -> None:
        super().__init__(lambda: AlpacaSim(seed=5), name="alpaca-sim")
        self.start()

    def price(self, symbol: str, price: str) -> None:
        """Trade `symbol` at `price` now (quotes and trades go out on the data stream)."""

        def go() -> None:
            self.sim.book.absorb(self.sim.engine.set_price(symbol, Decimal(price), self.sim.now_ms()))
            self.sim.step()

        self.on_loop(go)
