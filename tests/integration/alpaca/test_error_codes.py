"""Alpaca's REST error statuses and codes as third-party tools see them, over HTTP: raw requests
(aiohttp) for every kind of refusal, and alpaca-py's `APIError` for a sub-penny price.

Expected values (host/sidedesk_sim/alpaca/errors.py has the sources): 400 / 40010000 for a body
that cannot be read, 422 / 40010001 for a refused value, 422 / 42210000 for a sub-penny price or
an order that is no longer cancelable, 403 / 40310000 for buying power, 404 / 40410000 for an
unknown order, 401 / 40110000 for bad keys."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest

from sidedesk_sim.alpaca import BUILTIN_KEY_ID, BUILTIN_SECRET, AlpacaSim
from tests.integration.alpaca.simthread import SimThread

HEADERS = {"APCA-API-KEY-ID": BUILTIN_KEY_ID, "APCA-API-SECRET-KEY": BUILTIN_SECRET}
BUY = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "qty": "1"}
LIMIT = {**BUY, "type": "limit", "limit_price": "150.00"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=HEADERS) as s:
        yield s


async def call(
    http: aiohttp.ClientSession,
    sim: AlpacaSim,
    method: str,
    path: str,
    body: Any = None,
    raw: str | None = None,
) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body} if body is not None else {}
    async with http.request(method, sim.base_url + path, **kwargs) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else None)


def error(status: int, payload: Any) -> tuple[int, int]:
    assert isinstance(payload, dict) and isinstance(payload.get("message"), str), payload
    return status, payload["code"]


async def test_order_refusals_carry_alpacas_status_and_code(
    sim: AlpacaSim, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, sim, "POST", "/v2/orders", {**LIMIT, "limit_price": "150.001"})
    assert error(status, body) == (422, 42210000)
    assert body["message"] == (
        "invalid limit_price 150.001. sub-penny increment does not fulfill minimum pricing criteria"
    )
    status, body = await call(http, sim, "POST", "/v2/orders", raw="{not json")
    assert error(status, body) == (400, 40010000) and body["message"] == "request body format is invalid"
    status, body = await call(http, sim, "POST", "/v2/orders", [BUY])
    assert error(status, body) == (400, 40010000)
    status, body = await call(http, sim, "POST", "/v2/orders", {**BUY, "qty": {"n": 1}})
    assert error(status, body) == (400, 40010000)
    status, body = await call(http, sim, "POST", "/v2/orders", {**BUY, "qty": "0"})
    assert error(status, body) == (422, 40010001)
    status, body = await call(http, sim, "POST", "/v2/orders", {**BUY, "symbol": "NOPE"})
    assert error(status, body) == (422, 40010001)
    status, body = await call(http, sim, "POST", "/v2/orders", {**BUY, "qty": "100000"})
    assert error(status, body) == (403, 40310000)
    assert (await call(http, sim, "POST", "/v2/orders", {**LIMIT, "client_order_id": "dup-1"}))[0] == 200
    status, body = await call(http, sim, "POST", "/v2/orders", {**LIMIT, "client_order_id": "dup-1"})
    assert error(status, body) == (422, 40010001)


async def test_order_id_errors(sim: AlpacaSim, http: aiohttp.ClientSession) -> None:
    status, filled = await call(http, sim, "POST", "/v2/orders", BUY)
    assert status == 200
    status, body = await call(http, sim, "DELETE", f"/v2/orders/{filled['id']}")
    assert error(status, body) == (422, 42210000) and body["message"] == 'order is already in "filled" state'
    status, body = await call(http, sim, "PATCH", f"/v2/orders/{filled['id']}", {"qty": "2"})
    assert error(status, body) == (422, 42210000)
    status, open_ = await call(http, sim, "POST", "/v2/orders", LIMIT)
    assert status == 200
    status, body = await call(http, sim, "PATCH", f"/v2/orders/{open_['id']}", {"limit_price": "149.995"})
    assert error(status, body) == (422, 42210000)
    status, body = await call(http, sim, "PATCH", f"/v2/orders/{open_['id']}", raw="[")
    assert error(status, body) == (400, 40010000)
    status, body = await call(http, sim, "GET", f"/v2/orders/{uuid.uuid4()}")
    assert error(status, body) == (404, 40410000)
    for method in ("GET", "DELETE"):
        status, body = await call(http, sim, method, "/v2/orders/not-an-order-id")
        assert error(status, body) == (422, 40010001)
    async with aiohttp.ClientSession() as anon, anon.get(sim.base_url + "/v2/account") as r:
        assert error(r.status, await r.json()) == (401, 40110000)


@pytest.fixture(scope="module")
def st() -> Iterator[SimThread]:
    s = SimThread()
    yield s
    s.stop()


def test_alpaca_py_sees_the_sub_penny_code(st: SimThread) -> None:
    client = TradingClient(BUILTIN_KEY_ID, BUILTIN_SECRET, paper=True, url_override=st.sim.base_url)
    with pytest.raises(APIError) as info:
        client.submit_order(
            LimitOrderRequest(
                symbol="AAPL", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=150.001
            )
        )
    assert info.value.status_code == 422 and info.value.code == 42210000
    assert "sub-penny increment does not fulfill minimum pricing criteria" in str(info.value.message)
