# ruff: noqa: E501  (wire payloads and signature vectors read best unbroken)
"""Unmodified third-party clients against the simulator, pointed at 127.0.0.1 by URL overrides only.

Deviation documented here and in the README: the official SDK signs `urlencode(sorted(params))`, i.e.
percent-encoded values; Binance (and the simulator) sign the raw values, so the SDK works only while no
value needs escaping. `test_sdk_percent_encoding_deviation` pins the strict behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import ccxt.pro as ccxtpro
import pytest
from binance_common.configuration import (
    ConfigurationRestAPI,
    ConfigurationWebSocketAPI,
    ConfigurationWebSocketStreams,
)
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)

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
    # ccxt 4.5 keys the futures URLs as 'linear' (older releases: 'future'); it rewrites a URL ending in
    # /ws to /<public|market|private>/ws, i.e. it uses the routed streams
    ex.urls["api"]["ws"]["linear"] = sim.stream_url + "/ws"
    ex.urls["api"]["ws"]["ws-api"]["linear"] = sim.ws_api_url
    return ex


async def test_ccxt_rest(sim: BinanceSim) -> None:
    ex = _ccxt(sim)
    try:
        markets = await ex.load_markets()
        assert SYMBOL in markets and markets[SYMBOL]["precision"]["price"] == 0.1
        assert (await ex.fetch_balance())["USDT"]["free"] == 100000.0
        limit = await ex.create_order(SYMBOL, "limit", "buy", 0.01, 59000)
        assert limit["status"] == "open"
        assert (await ex.cancel_order(limit["id"], SYMBOL))["status"] == "canceled"
        market = await ex.create_order(SYMBOL, "market", "buy", 0.01)
        assert market["id"]
        positions = await ex.fetch_positions()
        assert [(p["symbol"], p["contracts"], p["side"]) for p in positions] == [(SYMBOL, 0.01, "long")]
        stop = await ex.create_order(
            SYMBOL, "STOP_MARKET", "sell", 0.01, None, {"stopPrice": 55000, "reduceOnly": True}
        )
        assert stop["info"]["algoId"] == int(stop["id"]) and stop["info"]["orderType"] == "STOP_MARKET"
        assert sim.engine.open_algo_orders("main")[0].algo_id == int(stop["id"])
        canceled = await ex.cancel_order(stop["id"], SYMBOL, {"stop": True})
        assert canceled["info"]["code"] == "200"
        assert sim.engine.open_algo_orders("main") == []
    finally:
        await ex.close()


async def test_ccxt_pro_ws(sim: BinanceSim) -> None:
    ex = _ccxt(sim)
    try:
        await ex.load_markets()
        placed = await ex.create_order_ws(SYMBOL, "limit", "buy", 0.01, 59000)
        assert placed["status"] == "open" and sim.engine.open_orders("main")[0].order_id == int(placed["id"])
        watcher = asyncio.create_task(ex.watch_orders(SYMBOL))
        for _ in range(50):  # bounded: wait until the private stream is connected
            if any(c.subs.listen_keys for c in sim.streams):
                break
            await asyncio.sleep(0.05)
        filled = await ex.create_order(SYMBOL, "market", "buy", 0.01)
        orders = await asyncio.wait_for(watcher, 5)
        assert orders[-1]["id"] == filled["id"]
        assert any(c.kind == "private" for c in sim.streams)
        mark = await asyncio.wait_for(ex.watch_mark_price(SYMBOL), 5)
        assert mark["symbol"] == SYMBOL and mark["markPrice"] > 0
        assert any(c.kind == "market" for c in sim.streams)
    finally:
        await ex.close()


def _sdk(sim: BinanceSim) -> DerivativesTradingUsdsFutures:
    return DerivativesTradingUsdsFutures(
        config_rest_api=ConfigurationRestAPI(
            api_key=KAT1_API_KEY, api_secret=KAT1_SECRET, base_path=sim.rest_url
        ),
        config_ws_api=ConfigurationWebSocketAPI(
            api_key=KAT1_API_KEY, api_secret=KAT1_SECRET, stream_url=sim.ws_api_url
        ),
        config_ws_streams=ConfigurationWebSocketStreams(stream_url=sim.stream_url),
    )


async def test_official_sdk_ws_api_and_user_stream(sim: BinanceSim) -> None:
    client = _sdk(sim)
    # the SDK's REST client is synchronous (requests): keep it off the event loop that serves the sim
    listen_key = (await asyncio.to_thread(client.rest_api.start_user_data_stream)).data().listen_key
    streams = await client.websocket_streams.create_connection()
    got: list[Any] = []
    handle = await streams.user_data(listen_key)
    handle.on("message", got.append)
    conn = await client.websocket_api.create_connection()
    try:
        placed = (await conn.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.01,
                                       price=59000.0, new_client_order_id="sdk-1")).data().result  # fmt: skip
        assert placed.status == "NEW" and placed.client_order_id == "sdk-1"
        canceled = (await conn.cancel_order(symbol="BTCUSDT", order_id=placed.order_id)).data().result
        assert canceled.status == "CANCELED"
        for _ in range(50):
            if len(got) >= 2:
                break
            await asyncio.sleep(0.05)
        statuses = [g.actual_instance.o.x for g in got]
        assert statuses == ["NEW", "CANCELED"]
    finally:
        await conn.close_connection()
        await streams.close_connection()


async def test_sdk_percent_encoding_deviation(sim: BinanceSim, caplog: pytest.LogCaptureFixture) -> None:
    """A client id with ':' is signed percent-encoded by the SDK: the strict sim answers -1022, as Binance."""
    client = _sdk(sim)
    conn = await client.websocket_api.create_connection()
    try:
        with contextlib.suppress(Exception):  # the SDK logs the error reply; it may or may not raise
            await conn.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.01,
                                 price=59000.0, new_client_order_id="sdk:1")  # fmt: skip
        assert sim.engine.open_orders("main") == []
        assert "-1022" in caplog.text and "percent-encoded payload" in caplog.text
    finally:
        await conn.close_connection()
