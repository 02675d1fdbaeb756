"""`@ticker`, `@miniTicker`, `!ticker@arr`, `!miniTicker@arr`, `@kline_<interval>` (route `/market`)
and `@trade` (route `/public`) over loopback, read with a raw `websockets` client: the documented
field sets, values that agree with the trades, klines that close with `x` true, and names Binance
does not serve (wrong route, unknown symbol or interval) acknowledged and silent.

Field sets: Binance USDⓈ-M docs `websocket-market-streams/{Individual-Symbol-Ticker-Streams,
Individual-Symbol-Mini-Ticker-Stream, Kline-Candlestick-Streams, All-Market-Tickers-Streams}`; the
`trade` frame as observed (JKorf/Binance.Net#1218)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from simclient import FrozenClock
from websockets.asyncio.client import ClientConnection, connect

from sidedesk_sim.binance import BinanceSim

TICKER_FIELDS = {"e", "E", "s", "p", "P", "w", "c", "Q", "o", "h", "l", "v", "q", "O", "C", "F", "L", "n"}
MINI_FIELDS = {"e", "E", "s", "c", "o", "h", "l", "v", "q"}
KLINE_FIELDS = {"t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"}
TRADE_FIELDS = {"e", "E", "T", "s", "t", "p", "q", "X", "m"}
NOON = 1_796_644_800_000  # 2026-12-07 12:00:00 UTC


async def frames(ws: ClientConnection, until: Callable[[Any], bool], timeout: float = 6.0) -> list[Any]:
    """Frames up to and including the first for which `until` holds (bounded in time)."""
    out: list[Any] = []
    async with asyncio.timeout(timeout):
        while True:
            out.append(json.loads(await ws.recv()))
            if until(out[-1]):
                return out


async def silent(ws: ClientConnection, seconds: float) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    return False


def data(frame: Any, stream: str) -> bool:
    return isinstance(frame, dict) and frame.get("stream") == stream


@pytest.fixture
async def live() -> AsyncIterator[BinanceSim]:
    """The sim with its random walk on: the engine trades every step."""
    async with BinanceSim(seed=11) as s:
        yield s


async def registered(sim: BinanceSim, n: int) -> None:
    for _ in range(100):  # bounded: the server has taken the connections
        if len(sim.streams) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("stream connections not registered")


async def test_documented_frames_agree_with_the_trades(live: BinanceSim) -> None:
    volatility = live.engine.instrument("BTCUSDT").volatility
    live.engine.set_volatility("BTCUSDT", Decimal(0))  # no BTC trade until both sockets listen
    url = f"{live.stream_url}/market/stream?streams=btcusdt@ticker/btcusdt@miniTicker/btcusdt@kline_1m"
    async with connect(url) as market, connect(f"{live.stream_url}/public/ws/btcusdt@trade") as public:
        await registered(live, 2)
        live.engine.set_volatility("BTCUSDT", volatility)
        trades = await frames(public, lambda f: len(f) > 0)
        got = await frames(market, lambda f: data(f, "btcusdt@ticker") and f["data"]["n"] >= 3)
        trades += await frames(public, lambda f: f["t"] >= got[-1]["data"]["L"])
        ticker = got[-1]["data"]
        mini = next(f["data"] for f in reversed(got) if data(f, "btcusdt@miniTicker"))
        kline = next(f["data"] for f in reversed(got) if data(f, "btcusdt@kline_1m"))
    assert set(ticker) == TICKER_FIELDS and ticker["e"] == "24hrTicker" and ticker["s"] == "BTCUSDT"
    assert set(mini) == MINI_FIELDS and mini["e"] == "24hrMiniTicker"
    assert kline["e"] == "kline" and set(kline["k"]) == KLINE_FIELDS and kline["k"]["i"] == "1m"
    assert kline["k"]["x"] is False and kline["k"]["T"] == kline["k"]["t"] + 59_999
    assert all(set(t) == TRADE_FIELDS and t["e"] == "trade" and t["X"] == "MARKET" for t in trades)
    # the ticker is the 24 h rolling window (O..C) over the trades seen on @trade
    assert ticker["C"] - ticker["O"] == 86_400_000 and ticker["C"] == ticker["E"]
    assert ticker["F"] == trades[0]["t"] == 1
    by_id = {t["t"]: t for t in trades}
    window = [by_id[i] for i in range(ticker["F"], ticker["L"] + 1)]
    assert ticker["n"] == len(window)
    assert Decimal(ticker["v"]) == sum(Decimal(t["q"]) for t in window)
    assert ticker["c"] == window[-1]["p"] and ticker["Q"] == window[-1]["q"]
    high, low = Decimal(ticker["h"]), Decimal(ticker["l"])
    assert high == max(Decimal(ticker["o"]), *(Decimal(t["p"]) for t in window))
    assert low == min(Decimal(ticker["o"]), *(Decimal(t["p"]) for t in window))
    assert Decimal(ticker["p"]) == Decimal(ticker["c"]) - Decimal(ticker["o"])
    assert len(ticker["P"].split(".")[1]) == 3


async def test_kline_closes_with_x_true_and_matches_its_trades() -> None:
    clock = FrozenClock(NOON - 2_000)  # 11:59:58
    async with BinanceSim(seed=3, clock=clock, run_clock=False) as sim:
        url = f"{sim.stream_url}/market/ws/btcusdt@kline_1m"
        async with connect(url) as kl, connect(f"{sim.stream_url}/public/ws/btcusdt@trade") as tr:
            await registered(sim, 2)
            while clock.ms < NOON + 300:
                clock.ms += 100
                sim.step()
                await asyncio.sleep(0)
            got = await frames(kl, lambda f: f["k"]["t"] == NOON)
            trades = await frames(tr, lambda f: f["T"] >= NOON)
    final = next(f["k"] for f in got if f["k"]["x"])
    assert final["t"] == NOON - 60_000 and final["T"] == NOON - 1
    assert [f["k"]["x"] for f in got].count(True) == 1 and got[-1]["k"]["x"] is False
    inside = [t for t in trades if t["T"] < NOON]
    assert inside and final["n"] == len(inside)
    assert final["f"] == inside[0]["t"] and final["L"] == inside[-1]["t"]
    assert Decimal(final["v"]) == sum(Decimal(t["q"]) for t in inside)
    bought = [t for t in inside if not t["m"]]  # the taker bought
    assert Decimal(final["V"]) == sum((Decimal(t["q"]) for t in bought), Decimal(0))
    assert final["c"] == inside[-1]["p"] and got[-1]["k"]["o"] == final["c"]


async def test_a_price_jump_moves_tickers_and_all_market_arrays_carry_changes(sim: BinanceSim) -> None:
    """With a calm market (no trades) the ticker still comes every cadence; a price set from the
    control plane moves close/high/low without volume; `!ticker@arr` then lists only BTCUSDT."""
    async with connect(f"{sim.stream_url}/market/stream?streams=!ticker@arr/!miniTicker@arr") as ws:
        first = await frames(ws, lambda f: data(f, "!ticker@arr"))
        assert {t["s"] for t in first[-1]["data"]} == set(sim.engine.instruments)
        sim.publish(sim.engine.set_price("BTCUSDT", Decimal("61000"), sim.now_ms()))
        moved = await frames(ws, lambda f: data(f, "!ticker@arr") and f["data"][0]["c"] == "61000.00")
    rows = moved[-1]["data"]
    assert [r["s"] for r in rows] == ["BTCUSDT"]
    assert rows[0]["h"] == "61000.00" and rows[0]["o"] == "60000.00" and rows[0]["v"] == "0.000"
    assert rows[0]["n"] == 0 and rows[0]["F"] == rows[0]["L"] == -1
    mini = [f for f in moved if data(f, "!miniTicker@arr")]
    assert all(set(r) == MINI_FIELDS for f in mini for r in f["data"])


async def test_names_binance_does_not_serve_are_acknowledged_and_silent(live: BinanceSim) -> None:
    base = live.stream_url
    async with connect(f"{base}/market/ws/1") as market, connect(f"{base}/ws") as legacy:
        await market.send(json.dumps({"method": "SUBSCRIBE", "params": [
            "btcusdt@kline_7m", "foousdt@ticker", "!ticker", "btcusdt@ticker@arr", "btcusdt@trade",
        ], "id": 1}))  # fmt: skip
        assert json.loads(await market.recv()) == {"result": None, "id": 1}
        await legacy.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@ticker"], "id": 2}))
        assert json.loads(await legacy.recv()) == {"result": None, "id": 2}
        assert await silent(market, 2.5) and await silent(legacy, 0.5)
        await market.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
        listed = json.loads(await market.recv())
        assert listed["id"] == 3 and "btcusdt@kline_7m" in listed["result"]
        # the legacy route is `/public`: @trade is served there
        await legacy.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 4}))
        got = await frames(legacy, lambda f: f.get("e") == "trade")
        assert got[-1]["s"] == "BTCUSDT"
        # and a correct /market subscription on the same connection delivers
        await market.send(json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@kline_5m"], "id": 5}))
        got = await frames(market, lambda f: f.get("e") == "kline")
        assert got[-1]["k"]["i"] == "5m" and got[-1]["s"] == "ETHUSDT"
