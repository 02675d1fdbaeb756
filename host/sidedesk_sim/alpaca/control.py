"""The Alpaca simulator's control plane under `/_sim/` (never on an Alpaca path). JSON in and out.

Bad input answers 400 `{"error": "..."}` and changes nothing. Routes:
GET /info, GET /market?symbol, POST /price {symbol, price}, POST /path {symbol, path},
POST /volatility {symbol, volatility}, POST /session {mode: open|closed|nyse},
POST /accounts {account, key_id?, secret_key?, cash?}, POST /positions {account, symbol, qty,
entry_price?}, GET /orders?account, POST /cancel {account, order_id}, POST /faults (as Binance's:
kind, target, count, frames, ms, status), GET|DELETE /faults, POST /disconnect {target:
trading|data|*}, POST /rate-limits {force: [429, ...]}, POST /step.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sidedesk_sim.alpaca import wire
from sidedesk_sim.alpaca.errors import AlpacaError
from sidedesk_sim.alpaca.session import MODES
from sidedesk_sim.control_http import BadRequest, market_view, text_field
from sidedesk_sim.control_http import add_routes as register
from sidedesk_sim.control_http import decimal_field as _dec

if TYPE_CHECKING:
    from sidedesk_sim.alpaca.sim import AlpacaSim


def _symbol(sim: AlpacaSim, body: dict[str, Any]) -> str:
    symbol = text_field(body, "symbol")
    assert symbol is not None
    if symbol not in sim.book.stocks:
        raise BadRequest(f"unknown symbol {symbol!r}")
    return symbol


def _account(sim: AlpacaSim, body: dict[str, Any]) -> str:
    account = text_field(body, "account", required=False) or "main"
    if account not in sim.accounts:
        raise BadRequest(f"unknown account {account!r}")
    return account


def info(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    return sim.info()


def market(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    return market_view(sim.engine, _symbol(sim, body), mark=False)


def set_price(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    price = _dec(body, "price")
    assert price is not None
    if price <= 0:
        raise BadRequest("price must be > 0")
    sim.book.absorb(sim.engine.set_price(symbol, price, sim.now_ms()))
    sim.step()  # triggers see the new price at once
    return market_view(sim.engine, symbol, mark=False)


def set_path(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    path = text_field(body, "path")
    assert path is not None
    try:
        sim.book.absorb(sim.engine.set_path(symbol, path, sim.now_ms()))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    sim.publish()
    return market_view(sim.engine, symbol, mark=False)


def set_volatility(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    vol = _dec(body, "volatility")
    assert vol is not None
    if vol < 0:
        raise BadRequest("volatility must be ≥ 0")
    sim.engine.set_volatility(symbol, vol)
    return market_view(sim.engine, symbol, mark=False)


def set_session(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    mode = body.get("mode")
    if mode not in MODES:
        raise BadRequest(f"mode must be one of {', '.join(MODES)}")
    sim.set_session(mode)
    return wire.clock(sim.book.session.view(sim.now_ms()))


def create_account(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    account = text_field(body, "account")
    assert account is not None
    key_id = text_field(body, "key_id", required=False) or "PK" + secrets.token_hex(9).upper()
    secret = text_field(body, "secret_key", required=False) or secrets.token_urlsafe(30)
    cash = _dec(body, "cash", required=False)
    if cash is not None and cash < 0:
        raise BadRequest("cash must be ≥ 0")
    try:
        ident = sim.add_account(account, key_id, secret, cash if cash is not None else Decimal(100_000))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    return ident.describe()


def set_position(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    account = _account(sim, body)
    symbol = _symbol(sim, body)
    qty = _dec(body, "qty")
    entry = _dec(body, "entry_price", required=False)
    assert qty is not None
    if entry is None:
        entry = sim.engine.market(symbol).last_price
    out = sim.engine.set_position(account, symbol, qty, entry, sim.now_ms())
    sim.book.absorb(list(out.events))
    if out.reject is not None:
        raise BadRequest(out.reject.detail)
    sim.publish()
    return sim.positions_json(account, symbol)


def open_orders(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    account = _account(sim, body)
    return [wire.order(o) for o in sim.book.open_orders(account)]


def cancel(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    """Cancel an order behind the client's back (another app, the dashboard)."""
    account = _account(sim, body)
    order_id = text_field(body, "order_id")
    assert order_id is not None
    try:
        sim.book.cancel(account, order_id, sim.now_ms())
    except AlpacaError as exc:
        raise BadRequest(exc.message) from exc
    sim.publish()
    return {"ok": True}


def arm_fault(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    try:
        return sim.faults.arm(body).to_json()
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def list_faults(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    return [f.to_json() for f in sim.faults.active]


def clear_faults(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    sim.faults.clear()
    return {"ok": True}


def disconnect(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    target = body.get("target", "*")
    if target not in ("*", "trading", "data"):
        raise BadRequest("target must be trading, data or *")
    n = 0
    for conn in list(sim.streams):
        if target in ("*", conn.kind):
            conn.abort()
            n += 1
    return {"dropped": n}


def rate_limits(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    force = body.get("force", [])
    if not isinstance(force, list) or any(s not in (429, 500, 502, 503, 504) for s in force):
        raise BadRequest("force must be a list of 429/5xx statuses")
    sim.forced.extend(force)
    return {"forced": list(sim.forced)}


def step(sim: AlpacaSim, body: dict[str, Any]) -> Any:
    sim.step()
    return {"time": sim.now_ms()}


ROUTES: list[tuple[str, str, Callable[[AlpacaSim, dict[str, Any]], Any]]] = [
    ("GET", "/info", info),
    ("GET", "/market", market),
    ("POST", "/price", set_price),
    ("POST", "/path", set_path),
    ("POST", "/volatility", set_volatility),
    ("POST", "/session", set_session),
    ("POST", "/accounts", create_account),
    ("POST", "/positions", set_position),
    ("GET", "/orders", open_orders),
    ("POST", "/cancel", cancel),
    ("POST", "/faults", arm_fault),
    ("GET", "/faults", list_faults),
    ("DELETE", "/faults", clear_faults),
    ("POST", "/disconnect", disconnect),
    ("POST", "/rate-limits", rate_limits),
    ("POST", "/step", step),
]


def add_routes(app: web.Application, sim: AlpacaSim) -> None:
    register(app, sim, ROUTES)
