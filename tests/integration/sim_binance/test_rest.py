# ruff: noqa: E501  (wire payloads and signature vectors read best unbroken)
"""REST over loopback: KAT signatures as transmitted, error codes, weight headers, 429 → 418."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
import pytest
from simclient import FrozenClock, Rest, control

from sidedesk_sim.binance import BinanceSim, LimitConfig
from sidedesk_sim.binance.auth import KAT1_API_KEY

KAT_TS = 1591702613943


@pytest.fixture
async def frozen() -> object:
    clock = FrozenClock(KAT_TS)
    async with BinanceSim(seed=3, clock=clock, run_clock=False) as s:
        s.engine.set_volatility("BTCUSDT", Decimal(0))
        s.engine.set_price("BTCUSDT", Decimal("9001"), KAT_TS)
        yield s


async def test_kat1_exact_payload_is_accepted(frozen: BinanceSim, http: aiohttp.ClientSession) -> None:
    q = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
    sig = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    async with http.post(
        f"{frozen.rest_url}/fapi/v1/order?{q}&signature={sig}", headers={"X-MBX-APIKEY": KAT1_API_KEY}
    ) as r:
        body = await r.json()
        assert r.status == 200, body
        assert body["status"] == "NEW" and body["price"] == "9000.00" and body["origQty"] == "1.000"
        assert r.headers["X-MBX-ORDER-COUNT-10S"] == "1" and "X-MBX-USED-WEIGHT-1M" in r.headers
    async with http.post(f"{frozen.rest_url}/fapi/v1/order?{q.replace('9000', '9000.0')}&signature={sig}",
                         headers={"X-MBX-APIKEY": KAT1_API_KEY}) as r:  # fmt: skip
        assert r.status == 400 and (await r.json())["code"] == -1022


async def test_kat1b_query_plus_body(frozen: BinanceSim, http: aiohttp.ClientSession) -> None:
    body = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943&signature=30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"
    async with http.post(
        f"{frozen.rest_url}/fapi/v1/order?symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC",
        data=body, headers={"X-MBX-APIKEY": KAT1_API_KEY, "Content-Type": "application/x-www-form-urlencoded"},
    ) as r:  # fmt: skip
        assert r.status == 200, await r.text()


async def test_timestamp_errors(frozen: BinanceSim, http: aiohttp.ClientSession) -> None:
    rest = Rest(frozen, http)
    st, body, _ = await rest.call("GET", "/fapi/v3/account", {"timestamp": KAT_TS - 5001})
    assert (st, body["code"]) == (400, -1021) and "recvWindow" in body["msg"]
    st, body, _ = await rest.call("GET", "/fapi/v3/account", {"timestamp": KAT_TS + 1000})
    assert body == {"code": -1021, "msg": "Timestamp for this request was 1000ms ahead of the server's time."}


async def test_auth_errors(rest: Rest) -> None:
    st, body, _ = await rest.call("GET", "/fapi/v3/account", key=False)
    assert (st, body["code"]) == (401, -2014)
    rest.key = "A" * 64
    st, body, _ = await rest.call("GET", "/fapi/v3/account")
    assert (st, body["code"]) == (401, -2015)
    rest.key = "not a key!"
    assert (await rest.call("GET", "/fapi/v3/account"))[1]["code"] == -2014
    rest.key = KAT1_API_KEY
    rest.secret = "wrong"
    assert (await rest.call("GET", "/fapi/v3/account"))[1] == {
        "code": -1022,
        "msg": "Signature for this request is not valid.",
    }
    st, body, _ = await rest.call("GET", "/fapi/v3/account", signed=False)
    assert body["code"] == -1102 and "'signature'" in body["msg"]
    st, body, _ = await rest.call("GET", "/fapi/v1/nothing", signed=False)
    assert st == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"}, -1121),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_MARKET", "quantity": "0.01", "stopPrice": "1"},
            -4120,
        ),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "OCO", "quantity": "0.01"}, -1116),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}, -1102),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "-1"}, -4003),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.0001"}, -1111),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": "60000.05",
            },
            -4014,
        ),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}, -4164),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.01",
                "newClientOrderId": "x" * 40,
            },
            -4015,
        ),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.01",
                "newClientOrderId": "no spaces",
            },
            -1100,
        ),
        (
            {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.01", "reduceOnly": "true"},
            -2022,
        ),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "100"}, -2019),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTX",
                "quantity": "0.01",
                "price": "60010.0",
            },
            -5022,
        ),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "FOK",
                "quantity": "0.01",
                "price": "59000.0",
            },
            -5021,
        ),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.01",
                "positionSide": "LONG",
            },
            -4061,
        ),
    ],
)
async def test_order_errors(rest: Rest, params: dict[str, str], expected: int) -> None:
    st, body, _ = await rest.call("POST", "/fapi/v1/order", params)
    assert st == 400 and body["code"] == expected, body


async def test_order_lifecycle_and_unknown_orders(rest: Rest) -> None:
    lim = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
           "price": "59000.0", "newClientOrderId": "rest-1"}  # fmt: skip
    st, placed, _ = await rest.call("POST", "/fapi/v1/order", lim)
    assert st == 200 and placed["clientOrderId"] == "rest-1"
    st, dup, _ = await rest.call("POST", "/fapi/v1/order", lim)
    assert dup["code"] == -4116
    st, got, _ = await rest.call(
        "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": "rest-1"}
    )
    assert got["orderId"] == placed["orderId"] and got["status"] == "NEW"
    st, opened, _ = await rest.call("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})
    assert [o["orderId"] for o in opened] == [placed["orderId"]]
    st, modified, _ = await rest.call("PUT", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"],
                                                                 "side": "BUY", "quantity": "0.020", "price": "59001.0"})  # fmt: skip
    assert st == 200 and modified["origQty"] == "0.020" and modified["price"] == "59001.00"
    st, canceled, _ = await rest.call(
        "DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    )
    assert canceled["status"] == "CANCELED"
    st, again, _ = await rest.call(
        "DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    )
    assert again == {"code": -2011, "msg": "Unknown order sent."}
    st, missing, _ = await rest.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": 1})
    assert missing == {"code": -2013, "msg": "Order does not exist."}
    # the client id is free again once the order is closed (no idempotency, as on Binance)
    assert (await rest.call("POST", "/fapi/v1/order", lim))[0] == 200


async def test_algo_orders_rest(rest: Rest) -> None:
    await rest.call(
        "POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    sl = {"algoType": "CONDITIONAL", "symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET",
          "triggerPrice": "55000", "closePosition": "true", "workingType": "MARK_PRICE"}  # fmt: skip
    st, algo, _ = await rest.call("POST", "/fapi/v1/algoOrder", sl)
    assert st == 200 and algo["algoStatus"] == "NEW" and algo["orderType"] == "STOP_MARKET", algo
    st, second, _ = await rest.call("POST", "/fapi/v1/algoOrder", sl)
    assert second["code"] == -4130
    immediate = {**sl, "triggerPrice": "65000", "quantity": "0.010", "reduceOnly": "true"}
    del immediate["closePosition"]
    st, trig, _ = await rest.call("POST", "/fapi/v1/algoOrder", immediate)
    assert trig["code"] == -2021
    st, bad, _ = await rest.call(
        "POST", "/fapi/v1/algoOrder", {**sl, "type": "TRAILING_STOP_MARKET", "callbackRate": "1"}
    )
    assert bad["code"] == -4136
    st, opened, _ = await rest.call("GET", "/fapi/v1/openAlgoOrders", {"symbol": "BTCUSDT"})
    assert [a["algoId"] for a in opened] == [algo["algoId"]]
    st, status_, _ = await rest.call(
        "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": algo["algoId"]}
    )
    assert status_["code"] == -2013  # algo ids are not visible on the regular endpoints
    st, canceled, _ = await rest.call("DELETE", "/fapi/v1/algoOrder", {"algoId": algo["algoId"]})
    assert canceled["code"] == "200" and canceled["algoId"] == algo["algoId"]


async def test_account_endpoints_and_modes(rest: Rest) -> None:
    st, mode, _ = await rest.call("GET", "/fapi/v1/positionSide/dual")
    assert mode == {"dualSidePosition": False}
    assert (await rest.call("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "false"}))[1][
        "code"
    ] == -4059
    assert (await rest.call("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 500}))[1][
        "code"
    ] == -4028
    st, lev, _ = await rest.call("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 10})
    assert lev["leverage"] == 10
    for path in ("/fapi/v2/account", "/fapi/v3/account", "/fapi/v2/balance", "/fapi/v3/balance",
                 "/fapi/v2/positionRisk", "/fapi/v3/positionRisk"):  # fmt: skip
        st, body, _headers = await rest.call("GET", path)
        assert st == 200, (path, body)
    st, bal, _ = await rest.call("GET", "/fapi/v3/balance")
    assert bal[0]["asset"] == "USDT" and Decimal(bal[0]["balance"]) == 100000
    await rest.call(
        "POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"}
    )
    assert (await rest.call("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "true"}))[1][
        "code"
    ] == -4068
    st, pos, _ = await rest.call("GET", "/fapi/v3/positionRisk")
    assert [(p["symbol"], p["positionAmt"]) for p in pos] == [("BTCUSDT", "0.010")]


async def test_listen_key_rest(rest: Rest) -> None:
    _, a, _ = await rest.call("POST", "/fapi/v1/listenKey", signed=False)
    _, b, _ = await rest.call("POST", "/fapi/v1/listenKey", signed=False)
    assert a == b and len(a["listenKey"]) == 64
    assert (await rest.call("PUT", "/fapi/v1/listenKey", signed=False))[1] == a
    assert (await rest.call("DELETE", "/fapi/v1/listenKey", signed=False))[1] == {}
    _st, body, _ = await rest.call("PUT", "/fapi/v1/listenKey", signed=False)
    assert body["code"] == -1125


async def test_weight_429_then_418(http: aiohttp.ClientSession) -> None:
    async with BinanceSim(limits=LimitConfig(weight_per_minute=3, rejections_before_ban=1)) as sim:
        rest = Rest(sim, http)
        statuses = [(await rest.call("GET", "/fapi/v1/ping", signed=False))[0] for _ in range(6)]
        assert statuses[:3] == [200, 200, 200] and statuses[3] == 429 and statuses[-1] == 418
        st, body, headers = await rest.call("GET", "/fapi/v1/time", signed=False)
        assert st == 418 and body["code"] == -1003 and "banned" in body["msg"] and "Retry-After" in headers


async def test_orders_limit_and_forced_errors(http: aiohttp.ClientSession) -> None:
    async with BinanceSim(limits=LimitConfig(orders_per_10s=1)) as sim:
        rest = Rest(sim, http)
        order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
                 "price": "50000.0"}  # fmt: skip
        assert (await rest.call("POST", "/fapi/v1/order", order))[0] == 200
        st, body, _ = await rest.call("POST", "/fapi/v1/order", order)
        assert (st, body["code"]) == (429, -1015)
        st, _ = await control(http, sim, "POST", "/rate-limits", {"force": [429, 418], "ban_ms": 400})
        assert [(await rest.call("GET", "/fapi/v1/ping", signed=False))[0] for _ in range(3)] == [
            429,
            418,
            418,  # a forced 418 is a ban like any other: refused until it ends
        ]
        await asyncio.sleep(0.45)
        assert (await rest.call("GET", "/fapi/v1/ping", signed=False))[0] == 200


async def test_trading_disabled_account_gets_new_order_rejected(
    sim: BinanceSim, http: aiohttp.ClientSession
) -> None:
    st, ident = await control(http, sim, "POST", "/accounts", {"account": "ro", "can_trade": False})
    assert st == 200
    rest = Rest(sim, http, ident["apiKey"], ident["secret"])
    st, body, _ = await rest.call(
        "POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    )
    assert body == {"code": -2010, "msg": "NEW_ORDER_REJECTED"}
