"""The simulator's wire behaviour seen by a raw client: frames, authorize, sync forms, heartbeats,
REST sign-in answers and the control plane's refusals."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

from sidedesk_sim.tradovate import BUILTIN_USER, TradovateSim
from sidedesk_sim.tradovate.instruments import front_name

MES = front_name("MES")

CREDS = {
    "name": BUILTIN_USER["name"],
    "password": BUILTIN_USER["password"],
    "appId": "t",
    "appVersion": "1",
    "cid": int(BUILTIN_USER["cid"]),
    "sec": BUILTIN_USER["sec"],
}


async def token(sim: TradovateSim, **over: Any) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(sim.rest_url + "/auth/accessTokenRequest", json={**CREDS, **over}) as r,
    ):
        assert r.status == 200
        data: dict[str, Any] = await r.json()
        return data


async def recv_json(ws: ClientConnection) -> list[dict[str, Any]]:
    while True:
        text = await asyncio.wait_for(ws.recv(), 3)
        assert isinstance(text, str)
        if text.startswith("a"):
            out: list[dict[str, Any]] = json.loads(text[1:])
            return out


async def test_bad_credentials_are_200_with_error_text(sim: TradovateSim) -> None:
    assert (await token(sim, password="nope"))["errorText"].startswith("Incorrect username or password")
    assert "errorText" in await token(sim, sec="wrong-secret")
    good = await token(sim)
    assert good["userId"] and good["accessToken"] != good["mdAccessToken"]


async def test_penalty_ticket_flow(sim: TradovateSim) -> None:
    sim.auth.arm_penalty("auth", 1, False, 1)
    first = await token(sim)
    assert set(first) == {"p-ticket", "p-time"} and first["p-time"] == 1
    early = await token(sim, **{"p-ticket": first["p-ticket"]})
    assert early["p-ticket"] == first["p-ticket"]  # too early: the same ticket again
    await asyncio.sleep(1.05)
    assert "accessToken" in await token(sim, **{"p-ticket": first["p-ticket"]})


async def test_socket_protocol(sim: TradovateSim) -> None:
    tok = await token(sim)
    async with connect(sim.ws_url) as ws:
        assert await ws.recv() == "o"
        await ws.send("account/list\n1\n\n")
        assert (await recv_json(ws)) == [{"s": 401, "i": 1, "d": '"Access is denied"'}]
        await ws.send(f"authorize\n2\n\n{tok['accessToken']}")
        assert (await recv_json(ws)) == [{"s": 200, "i": 2}]
        await ws.send("ACCOUNT/LIST\n3\n\n")  # endpoints are case-insensitive
        (resp,) = await recv_json(ws)
        assert resp["s"] == 200 and resp["d"][0]["name"].startswith("DEMO")
        await ws.send("quote/subscribe\n4\n\n")
        (resp,) = await recv_json(ws)
        assert resp == {"s": 404, "i": 4, "d": '"Not found: quote/subscribe"'}
        await ws.send('order/placeorder\n5\n\n{"action":')
        (resp,) = await recv_json(ws)
        assert resp["s"] == 400
        await ws.send(
            "user/syncrequest\n6\n\n" + json.dumps({"users": [tok["userId"]], "entityTypes": ["position"]})
        )
        (resp,) = await recv_json(ws)
        assert set(resp["d"]) == {"users", "positions"}
        await ws.send("user/syncrequest\n7\n\n" + json.dumps({"users": [tok["userId"] + 1]}))
        (resp,) = await recv_json(ws)
        assert resp["s"] == 403
        assert await asyncio.wait_for(ws.recv(), 2) == "h"  # idle: the server heartbeat (0.5 s here)


async def test_md_socket_takes_the_md_token(sim: TradovateSim) -> None:
    tok = await token(sim)
    async with connect(sim.ws_url) as ws:
        await ws.recv()
        await ws.send(f"authorize\n1\n\n{tok['mdAccessToken']}")
        assert (await recv_json(ws))[0]["s"] == 401  # the trading socket wants the access token
    async with connect(sim.md_url) as ws:
        await ws.recv()
        await ws.send(f"authorize\n1\n\n{tok['mdAccessToken']}")
        assert (await recv_json(ws))[0]["s"] == 200
        await ws.send(f'md/subscribeQuote\n2\n\n{{"symbol":"{MES}"}}')
        assert (await recv_json(ws))[0] == {"s": 200, "i": 2, "d": {}}
        (event,) = await recv_json(ws)
        quote = event["d"]["quotes"][0]
        assert quote["contractId"] == sim.book.contract(MES).id  # type: ignore[union-attr]
        assert set(quote["entries"]) == {"Bid", "Offer", "Trade"}
        sim.set_price(MES, sim.engine.market(MES).last_price + 1)
        (event,) = await recv_json(ws)
        assert event["e"] == "md"


async def test_a_silent_client_is_dropped(sim: TradovateSim) -> None:
    sim.config.client_timeout_s = 0.5
    async with connect(sim.ws_url) as ws:
        frames = []
        try:
            async for msg in ws:
                frames.append(msg)
        except Exception:
            pass
        assert frames[0] == "o" and frames[-1] == 'c[1000,"Heartbeat timeout"]'


async def test_control_plane_refuses_bad_input(sim: TradovateSim) -> None:
    async with aiohttp.ClientSession() as http:
        for path, body in (
            ("/faults", {"kind": "nope"}),
            ("/faults", {"kind": "reject", "failureReason": "X"}),
            ("/price", {"symbol": "XXX", "price": "1"}),
            ("/price", {"symbol": MES, "price": "-1"}),
            ("/users", {"name": "demo", "password": "p", "sec": "s"}),
            ("/config", {"heartbeat_s": 0}),
            ("/penalty", {"seconds": 0}),
        ):
            async with http.post(sim.control_url + path, json=body) as r:
                assert r.status == 400, path
                assert "error" in await r.json()
        async with http.post(sim.control_url + "/price", json={"symbol": MES, "price": "6001.00"}) as r:
            assert (await r.json())["last"] == "6001.00"
    assert not sim.faults.active


async def test_liquidate_position_over_rest_as_a_third_party_client(sim: TradovateSim) -> None:
    """`order/liquidateposition` as the partner docs give it: accountId, contractId and admin are
    required; the answer is a PlaceOrderResult (`orderId` of the closing order); the contract's
    working orders are cancelled by the command itself."""
    auth = await token(sim)
    headers = {"Authorization": f"Bearer {auth['accessToken']}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(sim.rest_url + "/account/list") as r:
            account = (await r.json())[0]
        async with http.get(sim.rest_url + "/contract/find", params={"name": MES}) as r:
            contract = await r.json()

        async def post(endpoint: str, body: dict[str, Any]) -> tuple[int, Any]:
            async with http.post(f"{sim.rest_url}/order/{endpoint}", json=body) as r:
                text = await r.text()
                return r.status, json.loads(text) if r.status == 200 else text  # 400: a plain text

        base = {
            "accountSpec": account["name"],
            "accountId": account["id"],
            "symbol": MES,
            "isAutomated": True,
        }
        status, entry = await post(
            "placeorder", base | {"action": "Buy", "orderQty": 1, "orderType": "Market"}
        )
        assert status == 200 and isinstance(entry["orderId"], int)
        status, stop = await post(
            "placeorder", base | {"action": "Sell", "orderQty": 1, "orderType": "Stop", "stopPrice": 5900}
        )
        assert status == 200
        liquidate = {"accountId": account["id"], "contractId": contract["id"], "admin": False}
        for missing in ("accountId", "contractId", "admin"):
            status, _ = await post("liquidateposition", {k: v for k, v in liquidate.items() if k != missing})
            assert status == 400, missing
        assert sim.book.orders[stop["orderId"]].is_open  # a refused request changed nothing
        status, out = await post("liquidateposition", liquidate | {"isAutomated": True})
        assert status == 200 and set(out) == {"orderId"} and isinstance(out["orderId"], int)
        closing = sim.book.orders[out["orderId"]]
        assert (
            closing.leg.order_type == "Market" and closing.leg.action == "Sell" and closing.status == "Filled"
        )
        assert sim.book.orders[stop["orderId"]].canceled_by == "order/liquidateposition"
