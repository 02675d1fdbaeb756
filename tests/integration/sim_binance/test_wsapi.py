# ruff: noqa: E501  (wire payloads and signature vectors read best unbroken)
"""WS API over loopback: KAT signatures (raw payload), session logon, order/algo methods, envelope."""

from __future__ import annotations

import json
from decimal import Decimal

import aiohttp
import pytest
from simclient import FrozenClock, WsApi

from sidedesk_sim.binance import BinanceSim, Identity
from sidedesk_sim.binance.auth import (
    ED25519_API_KEY,
    KAT1_API_KEY,
    KAT1_SECRET,
    KAT2_API_KEY,
    KAT4_PUBLIC_PEM,
)


async def _frozen(ts: int, price: str, identities: list[Identity] | None = None) -> BinanceSim:
    s = BinanceSim(seed=3, clock=FrozenClock(ts), run_clock=False, identities=identities)
    s.engine.set_volatility("BTCUSDT", Decimal(0))
    s.engine.set_price("BTCUSDT", Decimal(price), ts)
    return await s.start()


async def _raw(ws: aiohttp.ClientWebSocketResponse, text: str) -> dict[str, object]:
    await ws.send_str(text)
    reply: dict[str, object] = await ws.receive_json(timeout=5)
    return reply


async def test_kat2_vectors_over_ws(http: aiohttp.ClientSession) -> None:
    sim = await _frozen(1645423376532, "52000")
    try:
        ws = await http.ws_connect(sim.ws_api_url)
        frame = (
            '{"id":"k2","method":"order.place","params":{"symbol":"BTCUSDT","side":"SELL","type":"LIMIT",'
            '"timeInForce":"GTC","quantity":0.01000000,"price":52000.00,"recvWindow":100,"timestamp":1645423376532,'
            f'"apiKey":"{KAT2_API_KEY}","signature":"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"}}}}'
        )
        ok = await _raw(ws, frame)
        assert ok["id"] == "k2" and ok["status"] == 200, ok
        assert isinstance(ok["rateLimits"], list) and ok["rateLimits"][1]["count"] == 1
        # the same numbers written differently are a different payload
        bad = await _raw(ws, frame.replace("52000.00", "52000.0"))
        assert bad["status"] == 400 and bad["error"] == {
            "code": -1022,
            "msg": "Signature for this request is not valid.",
        }
        # non-ASCII symbol: signature verified on the raw UTF-8 text, so the error is the symbol, not -1022
        na = {"apiKey": KAT2_API_KEY, "price": "0.10000000", "quantity": "1.00000000", "recvWindow": 5000,
              "side": "BUY", "symbol": "１２３４５６", "timeInForce": "GTC", "timestamp": 1645423376532, "type": "LIMIT",
              "signature": "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"}  # fmt: skip
        r = await _raw(ws, json.dumps({"id": 2, "method": "order.place", "params": na}, ensure_ascii=False))
        assert r["id"] == 2 and r["error"] == {"code": -1121, "msg": "Invalid symbol."}
        r = await _raw(
            ws, json.dumps({"id": 3, "method": "order.place", "params": na})
        )  # \\u escapes: same text
        assert r["error"]["code"] == -1121  # type: ignore[index]
        await ws.close()
    finally:
        await sim.stop()


async def test_percent_encoded_payload_rejected_raw_accepted(http: aiohttp.ClientSession) -> None:
    sim = await _frozen(1591702613943, "9001")
    try:
        ws = await http.ws_connect(sim.ws_api_url)
        params = {"apiKey": KAT1_API_KEY, "newClientOrderId": "sim:test/1", "price": "9000", "quantity": "1",
                  "recvWindow": "5000", "side": "BUY", "symbol": "BTCUSDT", "timeInForce": "GTC",
                  "timestamp": "1591702613943", "type": "LIMIT"}  # fmt: skip
        enc = {**params, "signature": "ed6100d5a8b515f75f5d450a9ace702ef3e94feba293e026c18be4bd59f75960"}
        r = await _raw(ws, json.dumps({"id": 1, "method": "order.place", "params": enc}))
        assert r["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
        raw = {**params, "signature": "4ce285e23aa8c1bc31f895d003fce509882f677c7431a68dace6dabbef3c0660"}
        r = await _raw(ws, json.dumps({"id": 2, "method": "order.place", "params": raw}))
        assert r["status"] == 200 and r["result"]["clientOrderId"] == "sim:test/1"  # type: ignore[index]
        await ws.close()
    finally:
        await sim.stop()


async def test_ed25519_session_logon_derived_vector(http: aiohttp.ClientSession) -> None:
    ed = Identity(KAT1_API_KEY, "ed25519", "main", public_pem=KAT4_PUBLIC_PEM)
    sim = await _frozen(1591702613943, "9001", identities=[ed])
    try:
        ws = await http.ws_connect(sim.ws_api_url + "?returnRateLimits=false")
        logon = {"apiKey": KAT1_API_KEY, "timestamp": 1591702613943,
                 "signature": "p8pPGLrMBR3xw7yNSJbDAraI70lUKb8bNJT357s4H13282eT+y0sBjGMzM+H98R/3kLyfTR0pEvxrdZVTnd6DQ=="}  # fmt: skip
        r = await _raw(ws, json.dumps({"id": None, "method": "session.logon", "params": logon}))
        assert r["id"] is None and r["status"] == 200 and "rateLimits" not in r
        assert r["result"]["apiKey"] == KAT1_API_KEY and r["result"]["authorizedSince"] == 1591702613943  # type: ignore[index]
        # logged on: no apiKey/signature, but the timestamp is still required
        order = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "1",
            "price": "9000",
        }
        r = await _raw(ws, json.dumps({"id": 5, "method": "order.place", "params": order}))
        assert r["error"]["code"] == -1102  # type: ignore[index]
        r = await _raw(
            ws,
            json.dumps({"id": 6, "method": "order.place", "params": {**order, "timestamp": 1591702613943}}),
        )
        assert r["status"] == 200, r
        r = await _raw(ws, json.dumps({"id": 7, "method": "session.logout"}))
        assert r["result"]["apiKey"] is None  # type: ignore[index]
        r = await _raw(
            ws,
            json.dumps({"id": 8, "method": "order.place", "params": {**order, "timestamp": 1591702613943}}),
        )
        assert r["error"]["code"] == -1102  # type: ignore[index]
        await ws.close()
    finally:
        await sim.stop()


async def test_hmac_logon_refused(wsapi: WsApi) -> None:
    r = await wsapi.call("session.logon")
    assert r["status"] == 400 and r["error"]["code"] == -1002 and "HMAC" in r["error"]["msg"]
    st = await wsapi.send("session.status")
    assert st["result"]["apiKey"] is None


async def test_builtin_ed25519_identity_logs_on(sim: BinanceSim, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(sim.ws_api_url)
    client = WsApi(sim, ws, sim.identities[ED25519_API_KEY])
    r = await client.call("session.logon")
    assert r["status"] == 200, r
    r = await client.send("v2/account.balance", {"timestamp": sim.now_ms()})
    assert r["status"] == 200 and r["result"][0]["asset"] == "USDT"
    await ws.close()


async def test_order_methods(wsapi: WsApi) -> None:
    place = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
             "price": "59000.0", "newClientOrderId": "ws-1"}  # fmt: skip
    r = await wsapi.call("order.place", place)
    assert (
        r["status"] == 200
        and "avgPrice" not in r["result"]
        and r["result"]["selfTradePreventionMode"] == "EXPIRE_MAKER"
    )
    oid = r["result"]["orderId"]
    r = await wsapi.call(
        "order.modify",
        {"symbol": "BTCUSDT", "orderId": oid, "side": "BUY", "quantity": "0.010", "price": "59000.0"},
    )
    assert r["error"] == {"code": -5027, "msg": "No need to modify the order."}
    r = await wsapi.call("order.modify", {"symbol": "BTCUSDT", "orderId": oid, "side": "BUY", "quantity": "0.010",
                                          "price": "59100.0", "modifyId": 7})  # fmt: skip
    assert r["result"]["price"] == "59100.00" and r["result"]["modifyId"] == 7
    r = await wsapi.call("order.status", {"symbol": "BTCUSDT", "origClientOrderId": "ws-1"})
    assert r["result"]["status"] == "NEW" and r["result"]["price"] == "59100.00"
    r = await wsapi.call("order.cancel", {"symbol": "BTCUSDT", "orderId": oid})
    assert r["result"]["status"] == "CANCELED" and "cumQuote" not in r["result"]
    r = await wsapi.call("order.cancel", {"symbol": "BTCUSDT", "orderId": oid})
    assert r["error"]["code"] == -2011
    r = await wsapi.call("order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010",
                                         "newOrderRespType": "RESULT"})  # fmt: skip
    assert r["result"]["status"] == "FILLED" and r["result"]["executedQty"] == "0.010"
    r = await wsapi.call(
        "order.place", {"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET", "quantity": "0.010"}
    )
    assert r["error"]["code"] == -4120
    r = await wsapi.call("v2/account.position", {"symbol": "BTCUSDT"})
    assert r["result"][0]["positionAmt"] == "0.010"
    r = await wsapi.call("v2/account.status")
    assert [p["symbol"] for p in r["result"]["positions"]] == ["BTCUSDT"]


async def test_algo_methods(wsapi: WsApi) -> None:
    await wsapi.call(
        "order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    r = await wsapi.call("algoOrder.place", {"algoType": "CONDITIONAL", "symbol": "BTCUSDT", "side": "SELL",
                                             "type": "TRAILING_STOP_MARKET", "quantity": "0.010", "callbackRate": "1.0",
                                             "activatePrice": "61000", "clientAlgoId": "trail-1", "reduceOnly": "true"})  # fmt: skip
    assert r["status"] == 200, r
    assert r["result"]["clientAlgoId"] == "trail-1" and r["result"]["orderType"] == "TRAILING_STOP_MARKET"
    r2 = await wsapi.call("algoOrder.cancel", {"clientAlgoId": "trail-1"})
    assert r2["result"] == {
        "algoId": r["result"]["algoId"],
        "clientAlgoId": "trail-1",
        "code": "200",
        "msg": "success",
    }
    r3 = await wsapi.call("algoOrder.cancel", {"algoId": r["result"]["algoId"]})
    assert r3["error"]["code"] == -2011


async def test_envelope_errors(wsapi: WsApi) -> None:
    await wsapi.ws.send_str("{not json")
    r = await wsapi.ws.receive_json(timeout=5)
    assert r["id"] is None and r["status"] == 400
    r = await wsapi.send("order.teleport")
    assert r["status"] == 400 and "Unknown method" in r["error"]["msg"]
    r = await wsapi.send("order.place", {"symbol": "BTCUSDT"})
    assert r["error"]["code"] == -1102 and "apiKey" in r["error"]["msg"]
    r = await wsapi.send("order.status", {"apiKey": "x" * 64, "signature": "00", "timestamp": 1})
    assert r["status"] == 401 and r["error"]["code"] == -2015
    r = await wsapi.call("order.status", {"symbol": "BTCUSDT", "orderId": 1, "returnRateLimits": False})
    assert "rateLimits" not in r and r["error"]["code"] == -2013
    r = await wsapi.send("userDataStream.start", {"apiKey": KAT1_API_KEY})
    assert len(r["result"]["listenKey"]) == 64
    r = await wsapi.send("userDataStream.ping", {"apiKey": KAT1_API_KEY})
    assert len(r["result"]["listenKey"]) == 64
    assert (await wsapi.send("userDataStream.stop", {"apiKey": KAT1_API_KEY}))["result"] == {}
    wsapi.ident = Identity(KAT1_API_KEY, "hmac", "main", secret=KAT1_SECRET[::-1])
    assert (await wsapi.call("v2/account.balance"))["error"]["code"] == -1022


@pytest.mark.parametrize("skew", [10_000, -10_000])
async def test_clock_skew_gives_1021(
    sim: BinanceSim, http: aiohttp.ClientSession, wsapi: WsApi, skew: int
) -> None:
    p = wsapi.signed({})  # signed with the unskewed time
    async with http.post(sim.control_url + "/clock", json={"skew_ms": skew}) as resp:
        assert resp.status == 200
    r = await wsapi.send("v2/account.balance", p)
    assert r["error"]["code"] == -1021
