# ruff: noqa: E501  (wire payloads and signature vectors read best unbroken)
"""Streams over loopback: user data on /private (allow-list, order, expiry), market routes, control messages,
and the control plane's faults."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import pytest
from simclient import Rest, WsApi, control, no_frame, recv_until

from sidedesk_sim.binance import BinanceSim, SimConfig


async def _listen_key(rest: Rest) -> str:
    return str((await rest.call("POST", "/fapi/v1/listenKey", signed=False))[1]["listenKey"])


async def test_user_events_in_documented_order(
    sim: BinanceSim, http: aiohttp.ClientSession, rest: Rest, wsapi: WsApi
) -> None:
    key = await _listen_key(rest)
    ws = await http.ws_connect(f"{sim.stream_url}/private/ws/{key}")
    r = await wsapi.call(
        "order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    oid = r["result"]["orderId"]
    frames = await recv_until(ws, lambda f: f["e"] == "ACCOUNT_UPDATE")
    kinds = [(f["e"], f.get("o", {}).get("x")) for f in frames]
    assert kinds == [
        ("ORDER_TRADE_UPDATE", "NEW"),
        ("TRADE_LITE", None),
        ("ORDER_TRADE_UPDATE", "TRADE"),
        ("ACCOUNT_UPDATE", None),
    ]
    assert frames[1]["i"] == oid and frames[1]["t"] == frames[2]["o"]["t"]
    fill = frames[2]["o"]
    assert fill["X"] == "FILLED" and fill["l"] == "0.01" and fill["N"] == "USDT" and Decimal(fill["n"]) > 0
    assert frames[3]["a"]["m"] == "ORDER" and frames[3]["a"]["P"][0]["pa"] == "0.01"
    # an algo stop that triggers: ALGO_UPDATE NEW, TRIGGERING, TRIGGERED, the order's own flow, FINISHED
    r = await wsapi.call("algoOrder.place", {"algoType": "CONDITIONAL", "symbol": "BTCUSDT", "side": "SELL",
                                             "type": "STOP_MARKET", "triggerPrice": "59000", "closePosition": "true"})  # fmt: skip
    assert r["status"] == 200, r
    st, _ = await control(http, sim, "POST", "/price", {"symbol": "BTCUSDT", "price": "58900"})
    assert st == 200
    frames = await recv_until(ws, lambda f: f["e"] == "ALGO_UPDATE" and f["o"]["X"] == "FINISHED")
    algo = [f["o"]["X"] for f in frames if f["e"] == "ALGO_UPDATE"]
    assert algo == ["NEW", "TRIGGERING", "TRIGGERED", "FINISHED"]
    triggered = next(f for f in frames if f["e"] == "ALGO_UPDATE" and f["o"]["X"] == "TRIGGERED")
    fills = [f for f in frames if f["e"] == "ORDER_TRADE_UPDATE" and f["o"]["x"] == "TRADE"]
    assert (
        fills and str(fills[-1]["o"]["i"]) == triggered["o"]["ai"] and fills[-1]["o"]["ot"] == "STOP_MARKET"
    )
    await ws.close()


async def test_events_allow_list_and_listen_key_expiry(
    sim: BinanceSim, http: aiohttp.ClientSession, rest: Rest, wsapi: WsApi
) -> None:
    key = await _listen_key(rest)
    only = await http.ws_connect(f"{sim.stream_url}/private/ws?listenKey={key}&events=ACCOUNT_UPDATE")
    every = await http.ws_connect(f"{sim.stream_url}/private/stream?listenKey={key}")
    await wsapi.call(
        "order.place", {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    got = await recv_until(only, lambda f: True)
    assert got[0]["e"] == "ACCOUNT_UPDATE"
    wrapped = await recv_until(every, lambda f: f["data"]["e"] == "ACCOUNT_UPDATE")
    assert {f["stream"] for f in wrapped} == {key} and len(wrapped) == 4
    st, _ = await control(http, sim, "POST", "/listen-keys/expire", {"listenKey": key})
    assert st == 200
    expired = await recv_until(every, lambda f: f["data"]["e"] == "listenKeyExpired")
    assert expired[-1]["data"]["listenKey"] == key
    assert await no_frame(only)  # not in its allow-list
    # the old key delivers nothing any more; a new key is a different key
    await wsapi.call(
        "order.place", {"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.010"}
    )
    assert await no_frame(every)
    assert await _listen_key(rest) != key
    assert (await rest.call("PUT", "/fapi/v1/listenKey", {"listenKey": key}, signed=False))[1][
        "code"
    ] == -1125


async def test_sdk_style_subscribe_of_a_bare_listen_key(
    sim: BinanceSim, http: aiohttp.ClientSession, rest: Rest, wsapi: WsApi
) -> None:
    key = await _listen_key(rest)
    ws = await http.ws_connect(f"{sim.stream_url}/private/stream")
    await ws.send_json({"method": "SUBSCRIBE", "params": [key], "id": "7b2c0b1e-uuid"})
    assert await ws.receive_json(timeout=5) == {"result": None, "id": "7b2c0b1e-uuid"}
    await wsapi.call(
        "order.place", {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    frames = await recv_until(ws, lambda f: f["data"]["e"] == "ACCOUNT_UPDATE")
    assert frames[0] == {"stream": key, "data": frames[0]["data"]}
    # legacy /ws with the same key stays silent (decommissioned on Binance)
    legacy = await http.ws_connect(f"{sim.stream_url}/ws/{key}")
    await wsapi.call(
        "order.place", {"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.010"}
    )
    assert await no_frame(legacy)


async def test_market_routes_and_control_messages(sim: BinanceSim, http: aiohttp.ClientSession) -> None:
    market = await http.ws_connect(f"{sim.stream_url}/market/stream?streams=btcusdt@markPrice@1s")
    frame = (await recv_until(market, lambda f: True))[0]
    assert frame["stream"] == "btcusdt@markPrice@1s" and frame["data"]["e"] == "markPriceUpdate"
    assert frame["data"]["s"] == "BTCUSDT" and {"p", "ap", "i", "P", "r", "T"} <= set(frame["data"])
    # legacy and /public are silent for @markPrice (acknowledged, never delivered)
    legacy = await http.ws_connect(f"{sim.stream_url}/ws")
    await legacy.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@markPrice@1s"], "id": 1})
    assert await legacy.receive_json(timeout=5) == {"result": None, "id": 1}
    assert await no_frame(legacy, 1.3)
    public = await http.ws_connect(f"{sim.stream_url}/public/ws/1")
    await public.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 2})
    assert await public.receive_json(timeout=5) == {"result": None, "id": 2}
    await control(http, sim, "POST", "/price", {"symbol": "BTCUSDT", "price": "61000"})
    book = await recv_until(public, lambda f: f.get("e") == "bookTicker")
    assert book[-1]["s"] == "BTCUSDT" and Decimal(book[-1]["b"]) < Decimal(book[-1]["a"])
    await public.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 3})
    listed = await recv_until(public, lambda f: f.get("id") == 3)
    assert listed[-1]["result"] == ["btcusdt@bookTicker"]
    await public.send_json({"method": "UNSUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 4})
    await recv_until(public, lambda f: f.get("id") == 4)
    await public.send_json({"method": "SUBSCRIBE", "params": ["x"], "id": -1})
    err = await recv_until(public, lambda f: "error" in f)
    assert err[-1]["error"]["code"] == 2
    agg = await http.ws_connect(f"{sim.stream_url}/market/ws/btcusdt@aggTrade")
    await control(http, sim, "POST", "/volatility", {"symbol": "BTCUSDT", "volatility": "0.001"})
    trade = await recv_until(agg, lambda f: f.get("e") == "aggTrade")
    assert trade[-1]["s"] == "BTCUSDT" and "nq" in trade[-1]


async def test_inbound_message_limit_disconnects(http: aiohttp.ClientSession) -> None:
    async with BinanceSim(config=SimConfig(max_inbound_per_s=3)) as sim:
        ws = await http.ws_connect(f"{sim.stream_url}/public/ws")
        for i in range(5):
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": i})
        msgs = []
        async with asyncio.timeout(5):
            async for m in ws:
                msgs.append(m)
        assert ws.closed and len(msgs) <= 3


async def test_server_ping_and_max_age(http: aiohttp.ClientSession) -> None:
    async with BinanceSim(config=SimConfig(ping_interval_s=0.2, max_connection_age_s=1.5)) as sim:
        ws = await http.ws_connect(sim.ws_api_url, autoping=False)
        kinds = []
        async with asyncio.timeout(5):
            async for m in ws:
                kinds.append(m.type)
                if m.type == aiohttp.WSMsgType.PING:
                    await ws.pong(m.data)
        assert aiohttp.WSMsgType.PING in kinds and ws.closed


async def test_fault_drop_after_frames_and_at_method(
    sim: BinanceSim, http: aiohttp.ClientSession, wsapi: WsApi
) -> None:
    st, fault = await control(
        http, sim, "POST", "/faults", {"kind": "drop_after_frames", "target": "ws-api", "frames": 2}
    )
    assert st == 200 and fault["frames"] == 2
    assert (await wsapi.send("session.status"))["status"] == 200
    await wsapi.ws.send_json({"id": 2, "method": "session.status"})
    msgs = [m async for m in wsapi.ws]
    assert [m.type for m in msgs][-1] in (
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSED,
        aiohttp.WSMsgType.ERROR,
    ) or wsapi.ws.closed
    ws = await http.ws_connect(sim.ws_api_url)
    client = WsApi(sim, ws, wsapi.ident)
    await control(http, sim, "POST", "/faults", {"kind": "drop_at_method", "target": "order.place"})
    await ws.send_json({"id": 1, "method": "order.place", "params": client.signed(
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"})})  # fmt: skip
    assert [m async for m in ws] == [] or ws.closed
    assert sim.engine.open_orders("main") == [] and sim.engine.positions("main", "BTCUSDT")[0].amount == 0
    assert (await control(http, sim, "GET", "/faults"))[1] == []


async def test_fault_lose_reply_executes_the_order(
    sim: BinanceSim, http: aiohttp.ClientSession, rest: Rest, wsapi: WsApi
) -> None:
    await control(http, sim, "POST", "/faults", {"kind": "lose_reply", "target": "order.place"})
    r = await wsapi.call(
        "order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    assert r["status"] == 503 and "Unknown error" in r["error"]["msg"]
    assert sim.engine.positions("main", "BTCUSDT")[0].amount == Decimal("0.010")
    await control(
        http, sim, "POST", "/faults", {"kind": "lose_reply", "target": "POST /fapi/v1/order", "status": 504}
    )
    st, _body, _ = await rest.call(
        "POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    assert st == 504
    assert sim.engine.positions("main", "BTCUSDT")[0].amount == Decimal("0.020")
    log = (await control(http, sim, "GET", "/order-log?account=main"))[1]
    assert [e["exec"] for e in log if e["kind"] == "order"].count("TRADE") >= 2


async def test_fault_duplicate_and_reorder_user_events(
    sim: BinanceSim, http: aiohttp.ClientSession, rest: Rest, wsapi: WsApi
) -> None:
    key = await _listen_key(rest)
    ws = await http.ws_connect(f"{sim.stream_url}/private/ws/{key}")
    await control(http, sim, "POST", "/faults", {"kind": "duplicate_user_events", "count": 1})
    await control(http, sim, "POST", "/faults", {"kind": "reorder_user_events", "count": 1})
    await wsapi.call("order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                     "quantity": "0.010", "price": "50000.0", "newClientOrderId": "a"})  # fmt: skip
    first = await recv_until(ws, lambda f: True)
    assert first[0]["o"]["c"] == "a"
    await wsapi.call(
        "order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    frames = await recv_until(ws, lambda f: f["e"] == "ACCOUNT_UPDATE", timeout=3)
    assert frames[0] == first[0]  # the resting order's single event, duplicated
    # the market order's first pair is swapped: TRADE_LITE arrives before ORDER_TRADE_UPDATE NEW
    assert [f["e"] for f in frames[1:]] == [
        "TRADE_LITE",
        "ORDER_TRADE_UPDATE",
        "ORDER_TRADE_UPDATE",
        "ACCOUNT_UPDATE",
    ]
    assert [frames[2]["o"]["x"], frames[3]["o"]["x"]] == ["NEW", "TRADE"]


async def test_control_plane_accounts_positions_and_behind_the_back_cancel(
    sim: BinanceSim, http: aiohttp.ClientSession, rest: Rest
) -> None:
    st, ident = await control(http, sim, "POST", "/accounts", {"account": "bob", "key_type": "ed25519",
                                                                "balances": {"USDT": "5000"}})  # fmt: skip
    assert st == 200 and ident["type"] == "ed25519" and "BEGIN PRIVATE KEY" in ident["privateKey"]
    assert (await control(http, sim, "POST", "/accounts", {"account": "x", "key_type": "dsa"}))[0] == 400
    st, rows = await control(http, sim, "POST", "/positions", {"account": "main", "symbol": "ETHUSDT", "amount": "1.5",
                                                               "entry_price": "2900"})  # fmt: skip
    assert st == 200 and rows[0]["positionAmt"] == "1.500"
    assert (
        await control(
            http, sim, "POST", "/positions", {"account": "ghost", "symbol": "ETHUSDT", "amount": "1"}
        )
    )[0] == 400
    st, placed = await control(http, sim, "POST", "/orders", {"account": "main", "params": {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010", "price": "50000"}})  # fmt: skip
    assert st == 200 and placed["status"] == "NEW"
    st, bad = await control(http, sim, "POST", "/orders", {"account": "main", "params": {"symbol": "BTCUSDT", "side": "BUY",
                                                                                         "type": "STOP_MARKET"}})  # fmt: skip
    assert bad["code"] == -4120
    st, opened, _ = await rest.call("GET", "/fapi/v1/openOrders")
    assert [o["orderId"] for o in opened] == [placed["orderId"]]
    st, _ = await control(
        http, sim, "POST", "/cancel", {"account": "main", "symbol": "BTCUSDT", "orderId": placed["orderId"]}
    )
    assert st == 200
    assert (await rest.call("GET", "/fapi/v1/openOrders"))[1] == []
    assert (
        await control(http, sim, "POST", "/cancel", {"account": "main", "symbol": "BTCUSDT", "orderId": 1})
    )[0] == 404
    st, _m = await control(http, sim, "POST", "/path", {"symbol": "BTCUSDT", "path": "+5% over 1s"})
    assert st == 200
    assert (await control(http, sim, "POST", "/path", {"symbol": "BTCUSDT", "path": "sideways"}))[0] == 400
    assert (await control(http, sim, "POST", "/faults", {"kind": "nope"}))[0] == 400
    async with http.post(sim.control_url + "/price", data=b"[") as r:
        assert r.status == 400
    st, info = await control(http, sim, "GET", "/info")
    assert info["rest"] == sim.rest_url and any(k["account"] == "bob" for k in info["keys"])


@pytest.mark.parametrize("skew_ms", [8_000, -8_000])
async def test_clock_skew_is_our_clock_drifting_and_event_times_stay_monotonic(
    sim: BinanceSim, http: aiohttp.ClientSession, rest: Rest, wsapi: WsApi, skew_ms: int
) -> None:
    """The clock fault stands for OUR clock drifting from the exchange's: the exchange reports its
    time `skew_ms` away from ours and judges timestamps by it (-1021 until the client resyncs),
    while its own clock, the event times E/T of the user stream, goes on without a jump."""
    key = await _listen_key(rest)
    ws = await http.ws_connect(f"{sim.stream_url}/private/ws/{key}")
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    assert (await wsapi.call("order.place", market))["status"] == 200
    before = await recv_until(ws, lambda f: f["e"] == "ACCOUNT_UPDATE")
    st, _ = await control(http, sim, "POST", "/clock", {"skew_ms": skew_ms})
    assert st == 200
    # Signed with our (drifted) clock: outside the exchange's recvWindow, on both transports.
    assert (await wsapi.call("order.place", market))["error"]["code"] == -1021
    status, body, _ = await rest.call("GET", "/fapi/v2/balance")
    assert status == 400 and body["code"] == -1021
    # The exchange's time, as a client resyncing reads it, is `skew_ms` from ours.
    ours = sim.now_ms()
    served = (await rest.call("GET", "/fapi/v1/time", signed=False, key=False))[1]["serverTime"]
    assert abs(served - ours - skew_ms) < 1_000, (served, ours)
    # Resynced (timestamp = our clock + the offset measured): accepted, and its events follow the
    # earlier ones in time, on the exchange's own clock.
    assert (await wsapi.call("order.place", {**market, "timestamp": ours + skew_ms}))["status"] == 200
    after = await recv_until(ws, lambda f: f["e"] == "ACCOUNT_UPDATE")
    times = [f["E"] for f in [*before, *after]] + [f["o"]["T"] for f in [*before, *after] if "o" in f]
    assert [f["E"] for f in [*before, *after]] == sorted(f["E"] for f in [*before, *after]), times
    assert all(abs(t - ours) < 5_000 for t in times), (times, ours)
    await ws.close()


async def test_a_ban_reports_its_end_on_the_drifted_clock(
    sim: BinanceSim, http: aiohttp.ClientSession, rest: Rest
) -> None:
    """With our clock drifted, the exchange's `serverTime` and a ban's `retryAfter` stay on one
    clock: a client that subtracts them waits as long as the ban lasts, however far we drifted."""
    st, _ = await control(http, sim, "POST", "/clock", {"skew_ms": -8_000})
    assert st == 200
    st, _ = await control(http, sim, "POST", "/rate-limits", {"force": [418], "ban_ms": 60_000})
    assert st == 200
    status, body, headers = await rest.call("GET", "/fapi/v1/time", signed=False, key=False)
    assert status == 418, body
    left_ms = body["data"]["retryAfter"] - body["data"]["serverTime"]
    assert 0 < left_ms <= 60_000, body
    assert abs(left_ms - int(headers["Retry-After"]) * 1000) < 2_000, (body, headers)
    assert abs(body["data"]["serverTime"] - (sim.now_ms() - 8_000)) < 1_000, body
