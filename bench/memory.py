"""Benchmark 6: memory over a long run. A service that runs for days must stay flat.

The load of the measured leak, compressed: mark ticks pumped into the host's market stream
while a limit order is placed far from the market and every order cancelled, cycle after cycle
(in real use one cycle every 2 s). The host's RSS is sampled at checkpoints; the slope over
cycles, after a warm-up, is reported as MiB per 1 000 cycles and extrapolated to MiB per hour of
the real load (1 800 cycles an hour, 2 000 ticks/s). A number to watch across runs, not a test.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bench.common import HostPipe, SimProcess, rss_mib

CYCLES_PER_HOUR = 1800  # a limit order and a cancel-all every 2 s


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of (cycle, MiB)."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in points) / den


def run(
    sim: SimProcess, host: HostPipe, *, cycles: int, warmup: int, checkpoints: int, rate: int
) -> dict[str, Any]:
    snaps = host.request("subscribe", {"topics": ["quotes"]})["snapshots"]
    mark = Decimal(snaps["quotes"]["payload"]["quotes"]["BTCUSDT"]["mark"])
    price = str((mark * Decimal("0.8")).quantize(Decimal("0.1")))
    ticket = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.004", "price": price}

    def cycle() -> None:
        host.request("order.place", {"ticket": ticket, "confirmed": True})
        host.request("orders.cancel_all", {})

    for _ in range(warmup):
        cycle()
    every = max(1, cycles // checkpoints)
    seconds = max(1.0, cycles / 200)  # ticks keep coming for about as long as the cycles take
    sim.send({"cmd": "pump", "symbol": "BTCUSDT", "rate": rate, "seconds": seconds, "base": str(mark + 1)})
    points: list[tuple[int, float]] = []
    for i in range(cycles + 1):
        if i % every == 0:
            rss = rss_mib(host.pid)
            if rss is not None:
                points.append((i, rss["rss"]))
            host.drain(0.0)
        if i < cycles:
            cycle()
    sim.answer(timeout=seconds * 4 + 30)
    per_cycle = slope(points)
    return {
        "cycles": cycles,
        "tick_rate": rate,
        "rss_mib_start": points[0][1] if points else None,
        "rss_mib_end": points[-1][1] if points else None,
        "mib_per_1000_cycles": round(per_cycle * 1000, 3),
        "mib_per_hour_of_real_load": round(per_cycle * CYCLES_PER_HOUR, 2),
        "points": points,
    }
