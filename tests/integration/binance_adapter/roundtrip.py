"""Place → ack round trip of the Binance adapter against the simulator over loopback (printed, not
asserted: performance belongs in bench/).

Run: `.venv/bin/python -m tests.integration.binance_adapter.roundtrip [-n 200]`.

Each sample is `await broker.place(MARKET)`: build, sign, send on the WS API, the simulator's
validation and matching, and the parsed ACK. Alternating BUY/SELL keeps the account flat.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from decimal import Decimal

from sidedesk.brokers.binance.adapter import BinanceBroker
from sidedesk.core.orders import make_client_id
from sidedesk.domain import OrderRequest, OrderType, Side
from sidedesk_sim.binance import BinanceSim
from tests.integration.binance_adapter.simenv import builtin_key, config_for
from tests.support.eventlog import EventLog


async def measure(n: int, key: str) -> list[float]:
    async with BinanceSim(seed=1) as sim:
        for sym in sim.engine.instruments:
            sim.engine.set_volatility(sym, Decimal(0))
        broker = BinanceBroker("bench", config_for(sim, builtin_key(sim, key)), EventLog())
        await broker.connect()
        try:
            for i in range(10):  # warm-up (not counted)
                side = Side.BUY if i % 2 == 0 else Side.SELL
                await broker.place(
                    OrderRequest("BTCUSDT", side, OrderType.MARKET, Decimal("0.002"), make_client_id("m"))
                )
            out: list[float] = []
            for i in range(n):
                side = Side.BUY if i % 2 == 0 else Side.SELL
                order = OrderRequest("BTCUSDT", side, OrderType.MARKET, Decimal("0.002"), make_client_id("m"))
                t0 = time.perf_counter()
                await broker.place(order)
                out.append((time.perf_counter() - t0) * 1e6)
            return out
        finally:
            await broker.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=200)
    args = ap.parse_args()
    for key in ("hmac", "ed25519"):
        us = sorted(asyncio.run(measure(args.n, key)))
        p = statistics.quantiles(us, n=100)
        print(
            f"{key:8s} place→ack over loopback, {len(us)} MARKET orders: "
            f"median {statistics.median(us):.0f} µs, p90 {p[89]:.0f} µs, p99 {p[98]:.0f} µs, "
            f"max {us[-1]:.0f} µs"
        )


if __name__ == "__main__":
    main()
