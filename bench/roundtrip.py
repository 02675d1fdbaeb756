"""Benchmark 2: order round trip against the loopback simulator, the host beside its peers.

- host: `order.place` frame written to the host's stdin -> the reply (the exchange's ack) read from
  its stdout, exactly what the extension waits for;
- ccxt.pro `create_order_ws` (defaults, i.e. its throttler on, and with `enableRateLimit` off);
- the official Binance SDK's WS-API client (`new_order`);
- the floor: a raw `websockets` client echoing a 310-byte `order.place`-sized frame off a server
  in another process, on asyncio and on uvloop.

Every client sends serially (one order in flight) to the same simulator process, MARKET orders
alternating BUY/SELL. The peers run in this process on asyncio, as their users run them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bench.common import ROOT, HostPipe, SimProcess, summary
from bench.order_path import place_orders

SYMBOL = "BTC/USDT:USDT"
FRAME_310 = json.dumps(
    {
        "id": "12345678",
        "method": "order.place",
        "params": {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "MARKET",
            "quantity": "0.002",
            "newClientOrderId": "sdmmwqrhdvj8523",
            "newOrderRespType": "ACK",
            "apiKey": "k" * 64,
            "timestamp": 1_760_000_000_000,
            "recvWindow": 5000,
            "signature": "a" * 64,
        },
    },
    separators=(",", ":"),
)


async def _serial(call: Callable[[int], Awaitable[Any]], n: int, warmup: int) -> list[float]:
    for i in range(warmup):
        await call(i)
    out = []
    pc = time.perf_counter_ns
    for i in range(n):
        t = pc()
        await call(i)
        out.append((pc() - t) / 1e6)
    return out


def _ccxt(sim: SimProcess, rate_limit: bool) -> Any:
    import ccxt.pro as ccxtpro

    key = sim.key()
    ex = ccxtpro.binanceusdm(
        {
            "apiKey": key["apiKey"],
            "secret": key["secret"],
            "enableRateLimit": rate_limit,
            "options": {"fetchCurrencies": False},
        }
    )
    b = sim.rest_url
    ex.urls["api"].update(
        {
            "fapiPublic": b + "/fapi/v1",
            "fapiPublicV2": b + "/fapi/v2",
            "fapiPublicV3": b + "/fapi/v3",
            "fapiPrivate": b + "/fapi/v1",
            "fapiPrivateV2": b + "/fapi/v2",
            "fapiPrivateV3": b + "/fapi/v3",
            "fapiData": b + "/futures/data",
        }
    )
    ex.urls["api"]["ws"]["linear"] = sim.stream_url + "/ws"
    ex.urls["api"]["ws"]["ws-api"]["linear"] = sim.ws_api_url
    return ex


async def ccxt_pro(sim: SimProcess, n: int, warmup: int, rate_limit: bool) -> list[float]:
    ex = _ccxt(sim, rate_limit)
    try:
        await ex.load_markets()

        async def one(i: int) -> Any:
            return await ex.create_order_ws(SYMBOL, "market", "buy" if i % 2 == 0 else "sell", 0.002)

        return await _serial(one, n, warmup)
    finally:
        await ex.close()


async def official_sdk(sim: SimProcess, n: int, warmup: int) -> list[float]:
    from binance_common.configuration import ConfigurationWebSocketAPI
    from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
        DerivativesTradingUsdsFutures,
    )

    key = sim.key()
    client = DerivativesTradingUsdsFutures(
        config_ws_api=ConfigurationWebSocketAPI(
            api_key=key["apiKey"], api_secret=key["secret"], stream_url=sim.ws_api_url
        )
    )
    conn = await client.websocket_api.create_connection()  # type: ignore[no-untyped-call]
    try:

        async def one(i: int) -> Any:
            side = "BUY" if i % 2 == 0 else "SELL"
            return (await conn.new_order(symbol="BTCUSDT", side=side, type="MARKET", quantity=0.002)).data()

        return await _serial(one, n, warmup)
    finally:
        await conn.close_connection()


async def _echo_client(port: int, n: int, warmup: int) -> list[float]:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}", compression=None) as ws:

        async def one(i: int) -> Any:
            await ws.send(FRAME_310)
            return await ws.recv()

        return await _serial(one, n, warmup)


def echo(loop: str, n: int, warmup: int) -> list[float]:
    """Echo round trips; server and client both on `loop` (asyncio or uvloop)."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "echo.py"), "--loop", loop],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        if loop == "uvloop":
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(_echo_client(port, n, warmup))
        return asyncio.run(_echo_client(port, n, warmup))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        if server.stdout is not None:
            server.stdout.close()


def run(sim: SimProcess, host: HostPipe, *, n: int, warmup: int, ccxt_throttled_n: int) -> dict[str, Any]:
    results: dict[str, list[float]] = {}
    place_orders(host, warmup, gap_s=0)
    results["sidedesk host (native in -> ack out)"] = [
        (r["t_reply"] - r["t_write"]) / 1e6 for r in place_orders(host, n, gap_s=0)
    ]
    errors: dict[str, str] = {}
    peers: list[tuple[str, Callable[[], Coroutine[Any, Any, list[float]]]]] = [
        ("ccxt.pro create_order_ws (rate limiter off)", lambda: ccxt_pro(sim, n, warmup, False)),
        ("official SDK WS API new_order", lambda: official_sdk(sim, n, warmup)),
    ]
    if ccxt_throttled_n:
        peers.append(
            (
                "ccxt.pro create_order_ws (defaults)",
                lambda: ccxt_pro(sim, ccxt_throttled_n, min(warmup, 3), True),
            )
        )
    for name, fn in peers:
        try:
            with contextlib.redirect_stdout(sys.stderr):  # the SDK prints; keep our stdout clean
                results[name] = asyncio.run(fn())
        except Exception as exc:  # a peer that cannot run is reported, not fatal
            errors[name] = f"{type(exc).__name__}: {exc}"[:300]
    results["floor: websockets echo (asyncio)"] = echo("asyncio", n, warmup)
    results["floor: websockets echo (uvloop)"] = echo("uvloop", n, warmup)
    table = {name: summary(v, "ms") for name, v in results.items()}
    host_p50 = table["sidedesk host (native in -> ack out)"]["p50"]
    ratios = {name: s["p50"] / host_p50 for name, s in table.items()}
    return {
        "n": n,
        "latency_ms": table,
        "peer_p50_over_host_p50": ratios,
        "errors": errors,
        "samples": results,
    }
