"""Trading REST (brokers.md §3.4): account, clock, assets, orders, positions.

Auth is the `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` header pair. Faults (control plane) act on
routes named like `POST /v2/orders`: `drop_at_method` closes the connection before executing,
`lose_reply` executes and then answers 5xx, `delay` holds the reply.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sidedesk_sim.alpaca import wire
from sidedesk_sim.alpaca.errors import RATE_LIMITED, AlpacaError, invalid, malformed, not_found, unauthorized
from sidedesk_sim.alpaca.orders_in import decimal_field, parse_order, parse_replace

if TYPE_CHECKING:
    from sidedesk_sim.alpaca.sim import AlpacaSim

Handler = Callable[["AlpacaSim", web.Request, str], Awaitable[Any]]
ZERO = Decimal(0)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise malformed() from None


async def get_account(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    return sim.account_json(account)


async def get_clock(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    return wire.clock(sim.book.session.view(sim.now_ms()))


async def get_assets(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    status = request.query.get("status")
    if status not in (None, "active"):
        return []
    return [wire.asset(s) for s in sim.book.stocks.values()]


async def get_asset(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    key = request.match_info["symbol"]
    for s in sim.book.stocks.values():
        if key in (s.symbol, s.asset_id):
            return wire.asset(s)
    raise not_found("asset not found")


async def post_order(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    req = parse_order(await _body(request))
    o = sim.book.submit(account, req, sim.now_ms())
    sim.publish()
    return wire.order(o)


async def get_orders(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    q = request.query
    status = q.get("status", "open")
    if status not in ("open", "closed", "all"):
        raise invalid("invalid status")
    try:
        limit = int(q.get("limit", "50"))
    except ValueError:
        raise invalid("invalid limit") from None
    if not 1 <= limit <= 500:
        raise invalid("limit must be between 1 and 500")
    symbols = {s for s in q.get("symbols", "").split(",") if s}
    side = q.get("side")
    rows = [o for o in sim.book.orders.values() if o.account == account]
    if status == "open":
        rows = [o for o in rows if o.is_open]
    elif status == "closed":
        rows = [o for o in rows if not o.is_open]
    if symbols:
        rows = [o for o in rows if o.symbol in symbols]
    if side in ("buy", "sell"):
        rows = [o for o in rows if o.side == side]
    rows.sort(key=lambda o: o.submitted_ms, reverse=q.get("direction", "desc") != "asc")
    return [wire.order(o) for o in rows[:limit]]


def _order_id(request: web.Request) -> str:
    """The `{order_id}` path segment; one that is not an order id (a UUID) is 422 / 40010001, not
    404 (alpacahq/Alpaca-API#135, where Alpaca answered `{"code":40010001,"message":"order_id is
    missing"}`)."""
    oid = request.match_info["order_id"]
    try:
        uuid.UUID(oid)
    except ValueError:
        raise invalid("order_id is missing") from None
    return oid


async def get_order(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    return wire.order(sim.book.find(account, _order_id(request)))


async def get_by_client_id(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    cid = request.query.get("client_order_id")
    if not cid:
        raise invalid("client_order_id is required")
    return wire.order(sim.book.by_client_id(account, cid))


async def patch_order(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    req = parse_replace(await _body(request))
    new = sim.book.replace(account, _order_id(request), req, sim.now_ms())
    sim.publish()
    return wire.order(new)


async def delete_order(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    sim.book.cancel(account, _order_id(request), sim.now_ms())
    sim.publish()
    return web.Response(status=204)


async def delete_orders(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    out = []
    for o in sim.book.open_orders(account):
        sim.book.cancel(account, o.id, sim.now_ms())
        out.append({"id": o.id, "status": 200, "body": wire.order(o)})
    sim.publish()
    return _json(out, status=207)


async def get_positions(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    return sim.positions_json(account)


async def get_position(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    symbol = sim.symbol_of(request.match_info["symbol"])
    rows = sim.positions_json(account, symbol)
    if not rows:
        raise not_found("position does not exist")
    return rows[0]


def _close_input(sim: AlpacaSim, account: str, symbol: str, body: dict[str, Any]) -> dict[str, Any]:
    pos = sim.book.position(account, symbol)
    if pos == ZERO:
        raise not_found("position does not exist")
    qty = decimal_field(body, "qty")
    pct = decimal_field(body, "percentage")
    if qty is not None and pct is not None:
        raise invalid("qty and percentage are mutually exclusive")
    size = abs(pos)
    if pct is not None:
        if pct > 100:
            raise invalid("percentage must be ≤ 100")
        size = (size * pct / 100).quantize(Decimal("0.000000001"))
    elif qty is not None:
        if qty > size:
            raise invalid(f"qty {qty} is more than the position {size}")
        size = qty
    return {"symbol": symbol, "side": "sell" if pos > 0 else "buy", "type": "market",
            "time_in_force": "day", "qty": f"{size:f}"}  # fmt: skip


async def delete_position(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    symbol = sim.symbol_of(request.match_info["symbol"])
    body = dict(request.query)
    o = sim.book.submit(account, parse_order(_close_input(sim, account, symbol, body)), sim.now_ms())
    sim.publish()
    return wire.order(o)


async def delete_positions(sim: AlpacaSim, request: web.Request, account: str) -> Any:
    if request.query.get("cancel_orders") in ("true", "True", "1"):
        for o in sim.book.open_orders(account):
            sim.book.cancel(account, o.id, sim.now_ms())
    out = []
    for row in sim.positions_json(account):
        try:
            req = parse_order(_close_input(sim, account, row["symbol"], {}))
            o = sim.book.submit(account, req, sim.now_ms())
            out.append({"symbol": row["symbol"], "status": 200, "body": wire.order(o)})
        except AlpacaError as exc:
            out.append({"symbol": row["symbol"], "status": exc.status, "body": exc.body()})
    sim.publish()
    return _json(out, status=207)


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/v2/account", get_account),
    ("GET", "/v2/clock", get_clock),
    ("GET", "/v2/assets", get_assets),
    ("GET", "/v2/assets/{symbol}", get_asset),
    ("POST", "/v2/orders", post_order),
    ("GET", "/v2/orders", get_orders),
    ("DELETE", "/v2/orders", delete_orders),
    ("GET", "/v2/orders:by_client_order_id", get_by_client_id),
    ("GET", "/v2/orders/{order_id}", get_order),
    ("PATCH", "/v2/orders/{order_id}", patch_order),
    ("DELETE", "/v2/orders/{order_id}", delete_order),
    ("GET", "/v2/positions", get_positions),
    ("DELETE", "/v2/positions", delete_positions),
    ("GET", "/v2/positions/{symbol}", get_position),
    ("DELETE", "/v2/positions/{symbol}", delete_position),
]


def add_routes(app: web.Application, sim: AlpacaSim) -> None:
    for method, path, fn in ROUTES:
        name = f"{method} {path.split('{')[0].rstrip('/')}"
        app.router.add_route(method, path, _wrap(sim, fn, name))


def _wrap(sim: AlpacaSim, fn: Handler, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        account = sim.authenticate(
            request.headers.get("APCA-API-KEY-ID"), request.headers.get("APCA-API-SECRET-KEY")
        )
        if account is None:
            return _json(unauthorized().body(), status=401)
        if sim.forced:
            status = sim.forced.pop(0)
            return _json({"code": RATE_LIMITED, "message": "rate limit exceeded"}, status=status)
        faults = sim.faults
        if faults.take("drop_at_method", name) is not None:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        delay = faults.take("delay", name)
        try:
            result = await fn(sim, request, account)
        except AlpacaError as exc:
            return _json(exc.body(), status=exc.status)
        lost = faults.take("lose_reply", name)
        if delay is not None:
            await asyncio.sleep(delay.ms / 1000)
        if lost is not None:
            return web.Response(text="upstream connect error", status=lost.status)
        if isinstance(result, web.StreamResponse):
            return result
        return _json(result)

    return handler
