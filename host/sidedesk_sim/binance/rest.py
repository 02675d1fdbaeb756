"""REST under `/fapi/...` (binance.md §3.1, §7): raw query + body signature, weight headers, errors.

The signature is checked over the query string and the body exactly as transmitted (before any
URL-decoding), concatenated without a separator, with the `signature` pair removed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sidedesk_sim.binance.auth import Identity, rest_payload, verify
from sidedesk_sim.binance.errors import UNKNOWN_OUTCOME_MSG, BinanceError, mandatory
from sidedesk_sim.binance.exchange import ENDPOINTS, REST_ROUTES, Ctx
from sidedesk_sim.binance.params import Params, check_timestamp

if TYPE_CHECKING:
    from sidedesk_sim.binance.sim import BinanceSim

log = logging.getLogger("sidedesk_sim.binance")


def _json(data: Any, status: int, headers: dict[str, str]) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False),
        status=status,
        headers=headers,
        content_type="application/json",
    )


async def handle(sim: BinanceSim, request: web.Request) -> web.Response:
    ip = request.remote or "127.0.0.1"
    route = f"{request.method} {request.path}"
    name = REST_ROUTES.get((request.method, request.path))
    account: str | None = None
    try:
        if name is None:
            raise BinanceError(
                -5000, status=404, msg=f"Path {request.path}, Method {request.method} is invalid"
            )
        ep = ENDPOINTS[name]
        raw_query = request.rel_url.raw_query_string
        try:
            raw_body = (await request.read()).decode("utf-8") if request.can_read_body else ""
        except UnicodeDecodeError as exc:
            raise BinanceError(-1100, msg="Illegal characters found in a parameter.") from exc
        if raw_body and request.content_type not in ("application/x-www-form-urlencoded", "", "text/plain"):
            raise BinanceError(-1000, msg="Content-Type must be application/x-www-form-urlencoded.")
        params = Params.from_form(raw_query, raw_body)
        now = sim.now_ms()
        sim.limiter.charge_weight(ip, ep.weight_for(params), now)
        identity = _authenticate(sim, request, ep.security, params, raw_query, raw_body, now)
        account = identity.account_id if identity else None
        if ep.orders and account is not None:
            sim.limiter.charge_order(account, now)
        delay = sim.faults.take("delay", route)
        if delay is not None:
            await asyncio.sleep(delay.ms / 1000)
        lose = sim.faults.take("lose_reply", route)
        result = sim.exchange.call(name, Ctx(params, identity, ip, "rest", sim.now_ms(), sim.skew_ms))
        if lose is not None:
            log.warning("fault: %s executed, reply replaced by %d", route, lose.status)
            raise BinanceError(-1000, status=lose.status, msg=UNKNOWN_OUTCOME_MSG)
        return _json(result, 200, sim.limiter.headers(ip, account, sim.now_ms()))
    except BinanceError as exc:
        headers = sim.limiter.headers(ip, account, sim.now_ms())
        if exc.status in (418, 429) and exc.data is not None:
            headers["Retry-After"] = str(max(1, (int(exc.data["retryAfter"]) - sim.now_ms()) // 1000))
        return _json(sim.error_body(exc), exc.status, headers)


def _authenticate(
    sim: BinanceSim,
    request: web.Request,
    security: str,
    params: Params,
    raw_query: str,
    raw_body: str,
    now: int,
) -> Identity | None:
    if security == "NONE":
        return None
    api_key = request.headers.get("X-MBX-APIKEY")
    if not api_key:
        raise BinanceError(-2014)
    identity = sim.identity(api_key)
    if security == "USER_STREAM":
        return identity
    payload, signature = rest_payload(raw_query, raw_body)
    if not signature:
        raise mandatory("signature")
    if "timestamp" not in params:
        raise mandatory("timestamp")
    if not verify(identity, payload, signature):
        raise BinanceError(-1022)
    check_timestamp(params, now + sim.skew_ms)
    return identity
