"""ccxt.pro's public watchers against the simulator, offline (URL overrides only): `watch_ticker`
(`@miniTicker`, or `@ticker` with name=ticker, on /market), `watch_ohlcv` (`@kline_<tf>` on
/market) and `watch_trades` (`@trade` on /public, ccxt's `getFutureWsCategory`)."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro

from sidedesk_sim.binance import BinanceSim
from sidedesk_sim.binance.auth import KAT1_API_KEY, KAT1_SECRET

SYMBOL = "BTC/USDT:USDT"


def _ccxt(sim: BinanceSim) -> Any:
    b = sim.rest_url
    ex = ccxtpro.binanceusdm(
        {"apiKey": KAT1_API_KEY, "secret": KAT1_SECRET, "options": {"fetchCurrencies": False}}
    )
    ex.urls["api"].update({
        "fapiPublic": b + "/fapi/v1", "fapiPublicV2": b + "/fapi/v2", "fapiPublicV3": b + "/fapi/v3",
        "fapiPrivate": b + "/fapi/v1", "fapiPrivateV2": b + "/fapi/v2", "fapiPrivateV3": b + "/fapi/v3",
        "fapiData": b + "/futures/data",
    })  # fmt: skip
    ex.urls["api"]["ws"]["linear"] = sim.stream_url + "/ws"  # ccxt routes it to /public|/market/ws
    return ex


async def test_ccxt_pro_watch_ticker_ohlcv_trades() -> None:
    async with BinanceSim(seed=5) as sim:  # the random walk trades every step
        ex = _ccxt(sim)
        try:
            await ex.load_markets()
            # ccxt's default name for watchTicker(s) is `miniTicker`; `ticker` asks for the full one
            mini = await asyncio.wait_for(ex.watch_ticker(SYMBOL), 6)
            assert mini["symbol"] == SYMBOL and mini["info"]["e"] == "24hrMiniTicker" and mini["last"] > 0
            ticker = await asyncio.wait_for(ex.watch_ticker("ETH/USDT:USDT", {"name": "ticker"}), 6)
            assert ticker["info"]["e"] == "24hrTicker" and ticker["last"] > 0
            assert ticker["high"] >= ticker["low"] and ticker["baseVolume"] >= 0
            candles = await asyncio.wait_for(ex.watch_ohlcv(SYMBOL, "1m"), 6)
            ts, o, h, low, c, v = candles[-1]
            assert ts % 60_000 == 0 and h >= max(o, c) and low <= min(o, c) and v >= 0
            trades = await asyncio.wait_for(ex.watch_trades(SYMBOL), 6)
            assert trades and trades[-1]["symbol"] == SYMBOL and trades[-1]["amount"] > 0
            assert trades[-1]["info"]["e"] == "trade"
            kinds = {c.kind for c in sim.streams}
            assert {"market", "public"} <= kinds
        finally:
            await ex.close()
