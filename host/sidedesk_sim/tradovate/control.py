"""The Tradovate simulator's control plane under `/_sim/` (never on a Tradovate path). JSON in and out;
bad input answers 400 `{"error": "..."}` and changes nothing.

| route | body | does |
|---|---|---|
| GET /info | | URLs, contracts, users |
| GET /market?symbol= | | last, bid, ask |
| POST /price | {symbol, price} | jump the last price (fires stops, fills limits) |
| POST /path | {symbol, path} | scripted path, e.g. "+1% over 2s" |
| POST /volatility | {symbol, volatility} | 0 freezes the price |
| POST /users | {name, password, cid, sec, accounts?, balance?} | a new user with accounts |
| GET /orders?account= | | the account's Tradovate orders (id, type, status, prices, text, canceledBy) |
| POST /faults | {kind, target?, count?, failureReason?, failureText?} | see faults.py |
| POST /penalty | {target?: "auth", seconds, captcha?, count?} | p-ticket penalty |
| DELETE /faults | | disarm everything |
| POST /disconnect | {target?: "trading" \\| "md" \\| "*"} | drop sockets abruptly |
| POST /mute | {target?: "trading" \\| "md" \\| "*"} | open sockets stop sending `h` |
| POST /tokens/expire | {user} | end the user's sessions (their sockets are closed) |
| POST /config | {token_ttl_s?, client_timeout_s?, heartbeat_s?} | timing (tests compress them) |
| POST /step | | one clock step now |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sidedesk_sim.control_http import BadRequest, market_view, text_field
from sidedesk_sim.control_http import add_routes as register
from sidedesk_sim.control_http import decimal_field as _dec

if TYPE_CHECKING:
    from sidedesk_sim.tradovate.sim import TradovateSim


def _symbol(sim: TradovateSim, body: dict[str, Any]) -> str:
    c = sim.book.contract(_str(body, "symbol"))
    if c is None:
        raise BadRequest(f"unknown symbol {body.get('symbol')!r}")
    return c.name


def info(sim: TradovateSim, body: dict[str, Any]) -> Any:
    return sim.info()


def market(sim: TradovateSim, body: dict[str, Any]) -> Any:
    return market_view(sim.engine, _symbol(sim, body), mark=False, time=False)


def set_price(sim: TradovateSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    price = _dec(body, "price")
    assert price is not None
    if price <= 0:
        raise BadRequest("price must be > 0")
    sim.set_price(symbol, price)
    return market_view(sim.engine, symbol, mark=False, time=False)


def set_path(sim: TradovateSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    try:
        sim.engine.set_path(symbol, _str(body, "path"), sim.now_ms())
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    return market_view(sim.engine, symbol, mark=False, time=False)


def set_volatility(sim: TradovateSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    vol = _dec(body, "volatility")
    assert vol is not None
    if vol < 0:
        raise BadRequest("volatility must be ≥ 0")
    sim.engine.set_volatility(symbol, vol)
    return market_view(sim.engine, symbol, mark=False, time=False)


def add_user(sim: TradovateSim, body: dict[str, Any]) -> Any:
    cid = body.get("cid", 0)
    accounts = body.get("accounts", 1)
    if isinstance(cid, bool) or not isinstance(cid, int) or cid < 0:
        raise BadRequest("cid must be a non-negative integer")
    if isinstance(accounts, bool) or not isinstance(accounts, int) or not 1 <= accounts <= 10:
        raise BadRequest("accounts must be an integer 1..10")
    balance = _dec(body, "balance", required=False)
    if balance is not None and balance < 0:
        raise BadRequest("balance must be ≥ 0")
    try:
        user = sim.add_user(
            _str(body, "name"), _str(body, "password"), cid, _str(body, "sec"), accounts, balance
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    return {"userId": user.id, "name": user.name, "accounts": [a.to_json() for a in user.accounts]}


def orders(sim: TradovateSim, body: dict[str, Any]) -> Any:
    account = body.get("account")
    out = []
    for tv in sim.book.orders.values():
        if account is not None and str(account) not in (str(tv.account.id), tv.account.name):
            continue
        out.append(
            {
                "id": tv.id,
                "account": tv.account.name,
                "symbol": tv.contract.name,
                "action": tv.leg.action,
                "orderType": tv.leg.order_type,
                "status": tv.status,
                "qty": tv.qty,
                "filled": tv.cum_qty,
                "price": None if tv.leg.price is None else f"{tv.leg.price:f}",
                "stopPrice": None if tv.stop is None else f"{tv.stop:f}",
                "text": tv.leg.text,
                "parentId": tv.parent_id,
                "ocoId": tv.oco_id,
                "isAutomated": tv.automated,
                "canceledBy": tv.canceled_by,
            }
        )
    return out


def arm_fault(sim: TradovateSim, body: dict[str, Any]) -> Any:
    try:
        return sim.faults.arm(body).to_json()
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def penalty(sim: TradovateSim, body: dict[str, Any]) -> Any:
    seconds, count = body.get("seconds", 1), body.get("count", 1)
    for name, v in (("seconds", seconds), ("count", count)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise BadRequest(f"{name} must be an integer ≥ 1")
    captcha = body.get("captcha", False)
    if not isinstance(captcha, bool):
        raise BadRequest("captcha must be true or false")
    sim.auth.arm_penalty(_str(body, "target", "auth"), seconds, captcha, count)
    return {"ok": True}


def clear_faults(sim: TradovateSim, body: dict[str, Any]) -> Any:
    sim.faults.clear()
    sim.auth.armed.clear()
    return {"ok": True}


def _targets(sim: TradovateSim, body: dict[str, Any]) -> list[Any]:
    target = body.get("target", "*")
    if target not in ("*", "trading", "md"):
        raise BadRequest("target must be trading, md or *")
    return [c for c in sim.conns if target in ("*", c.kind)]


def disconnect(sim: TradovateSim, body: dict[str, Any]) -> Any:
    conns = _targets(sim, body)
    for c in conns:
        c.abort()
    return {"dropped": len(conns)}


def mute(sim: TradovateSim, body: dict[str, Any]) -> Any:
    conns = _targets(sim, body)
    for c in conns:
        c.muted = True
    return {"muted": len(conns)}


def expire_tokens(sim: TradovateSim, body: dict[str, Any]) -> Any:
    n = sim.auth.expire_user(_str(body, "user"))
    sim.step()
    return {"expired": n}


def configure(sim: TradovateSim, body: dict[str, Any]) -> Any:
    updates: dict[str, float] = {}
    for name in ("token_ttl_s", "client_timeout_s", "heartbeat_s"):
        if name in body:
            v = body[name]
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                raise BadRequest(f"{name} must be a number > 0")
            updates[name] = float(v)
    if "token_ttl_s" in updates:
        sim.config.token_ttl_ms = int(updates["token_ttl_s"] * 1000)
        sim.auth.token_ttl_ms = sim.config.token_ttl_ms
    if "client_timeout_s" in updates:
        sim.config.client_timeout_s = updates["client_timeout_s"]
    if "heartbeat_s" in updates:
        sim.config.heartbeat_s = updates["heartbeat_s"]
    return {
        "token_ttl_s": sim.config.token_ttl_ms / 1000,
        "client_timeout_s": sim.config.client_timeout_s,
        "heartbeat_s": sim.config.heartbeat_s,
    }


def step(sim: TradovateSim, body: dict[str, Any]) -> Any:
    sim.step()
    return {"time": sim.now_ms()}


ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", "/info", info),
    ("GET", "/market", market),
    ("POST", "/price", set_price),
    ("POST", "/path", set_path),
    ("POST", "/volatility", set_volatility),
    ("POST", "/users", add_user),
    ("GET", "/orders", orders),
    ("POST", "/faults", arm_fault),
    ("POST", "/penalty", penalty),
    ("DELETE", "/faults", clear_faults),
    ("POST", "/disconnect", disconnect),
    ("POST", "/mute", mute),
    ("POST", "/tokens/expire", expire_tokens),
    ("POST", "/config", configure),
    ("POST", "/step", step),
]


def add_routes(app: web.Application, sim: TradovateSim) -> None:
    register(app, sim, ROUTES)


def _str(body: dict[str, Any], name: str, default: str | None = None) -> str:
    v = text_field(body, name, default=default)
    assert v is not None
    return v
