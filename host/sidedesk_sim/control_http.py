"""Shared plumbing of the simulators' control planes (`/_sim/...`, never a broker's own paths).

JSON in (query string and/or body), JSON out; bad input is `400 {"error": ...}` and changes
nothing. Each simulator keeps its own handlers and route table and registers them here.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from aiohttp import web

from sidedesk_sim.engine import Engine

PREFIX = "/_sim"
S = TypeVar("S")
Route = tuple[str, str, Callable[[S, dict[str, Any]], Any]]


class BadRequest(Exception):
    """The control request is malformed; its message is the reply's `error`."""


def decimal_field(body: dict[str, Any], name: str, *, required: bool = True) -> Decimal | None:
    v = body.get(name)
    if v is None:
        if required:
            raise BadRequest(f"'{name}' is required")
        return None
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise BadRequest(f"'{name}' must be a decimal string")
    try:
        d = Decimal(str(v))
    except InvalidOperation as exc:
        raise BadRequest(f"'{name}' must be a decimal string") from exc
    if not d.is_finite():
        raise BadRequest(f"'{name}' must be finite")
    return d


def text_field(
    body: dict[str, Any], name: str, *, required: bool = True, default: str | None = None
) -> str | None:
    v = body.get(name, default)
    if v is None:
        if required:
            raise BadRequest(f"'{name}' is required")
        return None
    if not isinstance(v, str) or not v:
        raise BadRequest(f"'{name}' must be a non-empty string")
    return v


def market_view(engine: Engine, symbol: str, *, mark: bool = True, time: bool = True) -> dict[str, Any]:
    m = engine.market(symbol)
    out: dict[str, Any] = {"symbol": symbol, "last": f"{m.last_price:f}"}
    if mark:
        out["mark"] = f"{m.mark_price:f}"
    out.update({"bid": f"{m.bid:f}", "ask": f"{m.ask:f}"})
    if time:
        out["time"] = m.time_ms
    return out


def set_volatility(engine: Engine, symbol: str, body: dict[str, Any]) -> None:
    vol = decimal_field(body, "volatility")
    assert vol is not None
    if vol < 0:
        raise BadRequest("volatility must be ≥ 0")
    engine.set_volatility(symbol, vol)


def add_routes(app: web.Application, sim: S, routes: Iterable[Route[S]]) -> None:
    for method, path, fn in routes:
        app.router.add_route(method, PREFIX + path, _wrap(sim, fn))


def _wrap(
    sim: S, fn: Callable[[S, dict[str, Any]], Any]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = dict(request.query)
        if request.method != "GET" and request.can_read_body:
            try:
                data = json.loads(await request.read() or b"{}")
            except ValueError:
                return web.json_response({"error": "body must be JSON"}, status=400)
            if not isinstance(data, dict):
                return web.json_response({"error": "body must be a JSON object"}, status=400)
            body.update(data)
        try:
            result = fn(sim, body)
            if hasattr(result, "__await__"):
                result = await result
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result)

    return handler
