"""The Binance simulator in its own process, for the benchmarks (never part of the product).

Run: `python bench/simproc.py [--seed N]`. Prints one JSON line (the simulator's `info()`) when
ready, then takes JSON-line commands on stdin and answers each with one JSON line on stdout:

- `{"cmd": "stamps"}`: arrival times (`perf_counter_ns`, CLOCK_MONOTONIC on Linux, so comparable
  with other processes on this machine) of every `order.place` frame the WS API has read since the
  last call, keyed by `newClientOrderId`. The stamp is taken when aiohttp hands the parsed frame to
  the simulator, i.e. just after it arrived on the socket.
- `{"cmd": "pump", "symbol": "BTCUSDT", "rate": 10000, "seconds": 3, "base": "60000"}`: push
  markPrice frames at `rate`/s to every connection subscribed to the symbol's mark price, the k-th
  frame carrying price `base + k/100` (so a consumer can tell which tick a push reflects); answers
  `{"sent": n, "t_ns": [...]}` with the time each frame was written to the socket.
- `{"cmd": "quit"}` (or end of stdin): stop.

Rate limits are raised far above Binance's so that 10 000 orders in a row measure the path, not
the limiter. Binds 127.0.0.1 only; every loop is bounded by the command that started it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
import time
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from sidedesk_sim.binance import BinanceSim, LimitConfig

STAMPS: dict[str, int] = {}
_orig_receive = web.WebSocketResponse.receive


async def _stamping_receive(self: web.WebSocketResponse, timeout: float | None = None) -> Any:
    msg = await _orig_receive(self, timeout)
    if msg.type == WSMsgType.TEXT and '"order.place"' in msg.data:
        t = time.perf_counter_ns()
        with contextlib.suppress(ValueError, KeyError, TypeError):
            STAMPS[json.loads(msg.data)["params"]["newClientOrderId"]] = t
    return msg


web.WebSocketResponse.receive = _stamping_receive  # type: ignore[method-assign,assignment]


def _mark_frame(symbol: str, price: str, now_ms: int) -> dict[str, Any]:
    return {
        "e": "markPriceUpdate",
        "E": now_ms,
        "s": symbol,
        "p": price,
        "ap": price,
        "i": price,
        "P": price,
        "r": "0.00010000",
        "T": now_ms - now_ms % 28_800_000 + 28_800_000,
    }


async def pump(sim: BinanceSim, symbol: str, rate: int, seconds: float, base: Decimal) -> dict[str, Any]:
    """Send `rate` mark-price frames per second for `seconds` (at most rate x seconds frames).

    Frames are written straight to the connections' sockets (not through the simulator's queue) and
    stamped once written, so a slow consumer shows up as a lower achieved rate, not a hidden backlog.
    """
    total = int(rate * seconds)
    stamps: list[int] = []
    start = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        targets = [
            (conn, s.name, conn.subs.combined)
            for conn in sim.streams
            for s in conn.subs.live_streams()
            if s.kind == "markPrice" and s.symbol == symbol
        ]
        now_ms = int(time.time() * 1000)
        while sent < due:
            frame = _mark_frame(symbol, str(base + Decimal(sent) / 100), now_ms)
            for conn, name, combined in targets:
                text = json.dumps({"stream": name, "data": frame} if combined else frame)
                await conn.ws.send_str(text)
            stamps.append(time.perf_counter_ns())
            sent += 1
        await asyncio.sleep(0.001)
        if time.perf_counter() - start > seconds * 3 + 5:  # cannot keep up at all: stop, say so
            break
    return {"sent": sent, "t_ns": stamps, "elapsed_s": time.perf_counter() - start}


async def serve(seed: int) -> None:
    big = 10**9
    limits = LimitConfig(weight_per_minute=big, orders_per_10s=big, orders_per_minute=big)
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            with contextlib.suppress(ValueError):
                loop.call_soon_threadsafe(commands.put_nowait, json.loads(line))
        loop.call_soon_threadsafe(commands.put_nowait, None)

    async with BinanceSim(seed=seed, limits=limits) as sim:
        for sym in sim.engine.instruments:
            sim.engine.set_volatility(sym, Decimal(0))  # calm prices: fills are deterministic
        print(json.dumps(sim.info()), flush=True)
        threading.Thread(target=read_stdin, name="simproc-stdin", daemon=True).start()
        while True:
            cmd = await commands.get()
            if cmd is None or cmd.get("cmd") == "quit":
                return
            if cmd.get("cmd") == "stamps":
                out: dict[str, Any] = {"stamps": dict(STAMPS)}
                STAMPS.clear()
            elif cmd.get("cmd") == "pump":
                out = await pump(
                    sim, str(cmd["symbol"]), int(cmd["rate"]), float(cmd["seconds"]), Decimal(cmd["base"])
                )
            else:
                out = {"error": f"unknown command {cmd.get('cmd')!r}"}
            print(json.dumps(out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.seed))


if __name__ == "__main__":
    main()
