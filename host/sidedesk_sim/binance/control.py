"""The simulator's control plane under `/_sim/` (never on a Binance path). JSON in, JSON out.

Bad input answers 400 `{"error": "..."}` and changes nothing. See the README section for payloads.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from sidedesk_sim.binance import wire
from sidedesk_sim.binance.auth import Identity, load_public_key
from sidedesk_sim.binance.errors import BinanceError
from sidedesk_sim.binance.exchange import Ctx
from sidedesk_sim.binance.orders import reject_error
from sidedesk_sim.binance.params import Params
from sidedesk_sim.control_http import BadRequest, market_view, text_field
from sidedesk_sim.control_http import add_routes as register
from sidedesk_sim.control_http import decimal_field as _dec
from sidedesk_sim.engine import AlgoUpdate, OrderUpdate, PositionSide

if TYPE_CHECKING:
    from sidedesk_sim.binance.sim import BinanceSim

JsonHandler = Callable[["BinanceSim", dict[str, Any]], Any]


def _symbol(sim: BinanceSim, body: dict[str, Any]) -> str:
    symbol = text_field(body, "symbol")
    assert symbol is not None
    if symbol not in sim.engine.instruments:
        raise BadRequest(f"unknown symbol {symbol!r}")
    return symbol


def _account(sim: BinanceSim, body: dict[str, Any]) -> str:
    account = text_field(body, "account")
    assert account is not None
    if not sim.engine.has_account(account):
        raise BadRequest(f"unknown account {account!r}")
    return account


# ---- handlers ---------------------------------------------------------------------------------------


def info(sim: BinanceSim, body: dict[str, Any]) -> Any:
    return sim.info()


def set_price(sim: BinanceSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    price = _dec(body, "price")
    mark = _dec(body, "mark", required=False)
    assert price is not None
    if price <= 0 or (mark is not None and mark <= 0):
        raise BadRequest("prices must be > 0")
    sim.publish(sim.engine.set_price(symbol, price, sim.now_ms(), mark=mark))
    return market_view(sim.engine, symbol)


def set_path(sim: BinanceSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    path = text_field(body, "path")
    assert path is not None
    try:
        sim.publish(sim.engine.set_path(symbol, path, sim.now_ms()))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    return market_view(sim.engine, symbol)


def set_volatility(sim: BinanceSim, body: dict[str, Any]) -> Any:
    symbol = _symbol(sim, body)
    vol = _dec(body, "volatility")
    assert vol is not None
    if vol < 0:
        raise BadRequest("volatility must be ≥ 0")
    sim.engine.set_volatility(symbol, vol)
    return market_view(sim.engine, symbol)


def market(sim: BinanceSim, body: dict[str, Any]) -> Any:
    return market_view(sim.engine, _symbol(sim, body))


def create_account(sim: BinanceSim, body: dict[str, Any]) -> Any:
    """Create an account (if new) and an API key for it; returns the key material for the test client."""
    account = text_field(body, "account")
    assert account is not None
    kind = body.get("key_type", "hmac")
    if kind not in ("hmac", "ed25519", "rsa"):
        raise BadRequest("key_type must be hmac, ed25519 or rsa")
    api_key = text_field(body, "api_key", required=False) or secrets.token_hex(32)
    if api_key in sim.identities:
        raise BadRequest("api_key is already registered")
    balances_in = body.get("balances", {"USDT": "100000"})
    if not isinstance(balances_in, dict):
        raise BadRequest("balances must be an object of asset -> amount")
    balances = {}
    for asset, amount in balances_in.items():
        d = _dec({"v": amount}, "v")
        assert d is not None
        if d < 0:
            raise BadRequest("balances must be ≥ 0")
        balances[str(asset)] = d
    secret = private_pem = public_pem = ""
    if kind == "hmac":
        secret = text_field(body, "secret", required=False) or secrets.token_hex(32)
    else:
        public_pem = text_field(body, "public_key", required=False) or ""
        if public_pem:
            try:
                load_public_key(kind, public_pem)
            except ValueError as exc:
                raise BadRequest(f"public_key is not a valid {kind} PEM key") from exc
        else:
            priv: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey = (
                ed25519.Ed25519PrivateKey.generate()
                if kind == "ed25519"
                else rsa.generate_private_key(65537, 2048)
            )
            private_pem = priv.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode("ascii")
            public_pem = (
                priv.public_key()
                .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
                .decode("ascii")
            )
    if not sim.engine.has_account(account):
        out = sim.engine.create_account(account, balances or sim.default_balances, sim.now_ms())
        if out.reject is not None:
            raise BadRequest(out.reject.detail)
    if body.get("hedge_mode") is True:
        sim.publish(list(sim.engine.set_hedge_mode(account, True, sim.now_ms()).events))
    try:
        ident = sim.add_identity(
            Identity(
                api_key,
                kind,
                account,
                secret=secret,
                public_pem=public_pem,
                private_pem=private_pem,
                can_trade=body.get("can_trade", True) is not False,
            )
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc  # fmt: skip
    return ident.describe()


def set_key(sim: BinanceSim, body: dict[str, Any]) -> Any:
    """An API key's settings, as a user changes them on Binance's API Management page:
    `{"api_key", "can_trade"?, "enable_withdrawals"?, "ip_restrict"?}` (what apiRestrictions
    reports), or `{"api_key", "revoke": true}` to delete the key (then -2015 everywhere)."""
    api_key = text_field(body, "api_key")
    assert api_key is not None
    ident = sim.identities.get(api_key)
    if ident is None:
        raise BadRequest("unknown api_key")
    if body.get("revoke") is True:
        del sim.identities[api_key]
        return {"api_key": api_key, "revoked": True}
    flags = {"can_trade": ident.can_trade, "enable_withdrawals": ident.enable_withdrawals,
             "ip_restrict": ident.ip_restrict}  # fmt: skip
    for name in flags:
        if name in body:
            if not isinstance(body[name], bool):
                raise BadRequest(f"{name} must be true or false")
            flags[name] = body[name]
    sim.identities[api_key] = replace(
        ident,
        can_trade=flags["can_trade"],
        enable_withdrawals=flags["enable_withdrawals"],
        ip_restrict=flags["ip_restrict"],
    )
    return {"api_key": api_key, **flags}


def deposit(sim: BinanceSim, body: dict[str, Any]) -> Any:
    account = _account(sim, body)
    asset = text_field(body, "asset", required=False) or "USDT"
    amount = _dec(body, "amount")
    assert amount is not None
    out = sim.engine.deposit(account, asset, amount, sim.now_ms())
    sim.publish(list(out.events))
    if out.reject is not None:
        raise BadRequest(out.reject.detail)
    return {"ok": True}


def set_position(sim: BinanceSim, body: dict[str, Any]) -> Any:
    account = _account(sim, body)
    symbol = _symbol(sim, body)
    amount = _dec(body, "amount")
    entry = _dec(body, "entry_price", required=False)
    ps = body.get("position_side")
    if ps is not None and ps not in ("BOTH", "LONG", "SHORT"):
        raise BadRequest("position_side must be BOTH, LONG or SHORT")
    assert amount is not None
    if entry is None:
        entry = sim.engine.market(symbol).mark_price
    out = sim.engine.set_position(
        account, symbol, amount, entry, sim.now_ms(), PositionSide(ps) if ps is not None else None
    )
    sim.publish(list(out.events))
    if out.reject is not None:
        raise BadRequest(out.reject.detail)
    inst = sim.engine.instrument(symbol)
    return [wire.position_v2(p, inst) for p in sim.engine.positions(account, symbol)]


def positions(sim: BinanceSim, body: dict[str, Any]) -> Any:
    """The account's open positions, as /fapi/v3/positionRisk shows them (no weight, no key)."""
    account = _account(sim, body)
    return [
        wire.position_v2(p, sim.engine.instrument(p.symbol))
        for p in sim.engine.positions(account)
        if p.amount != 0
    ]


def place_order(sim: BinanceSim, body: dict[str, Any]) -> Any:
    """Place an order "as another platform" (the exchange's own UI, another bot): same validation
    and events as a client order, no signature or rate limit. `params` are Binance order params."""
    account = _account(sim, body)
    raw = body.get("params")
    if not isinstance(raw, dict):
        raise BadRequest("'params' must be an object of Binance order parameters")
    p = Params.from_ws(raw)
    ident = next((i for i in sim.identities.values() if i.account_id == account), None)
    if ident is None:
        ident = Identity("control" + account.replace("-", "")[:40] or "control", "hmac", account)
    name = "algoOrder.place" if "algoType" in raw else "order.place"
    try:
        return sim.exchange.call(name, Ctx(p, ident, "control", "control", sim.now_ms()))
    except BinanceError as exc:
        return web.json_response(exc.body(), status=exc.status)


def cancel(sim: BinanceSim, body: dict[str, Any]) -> Any:
    """Cancel an order or algo order behind the client's back."""
    account = _account(sim, body)
    now = sim.now_ms()
    if "algoId" in body or "clientAlgoId" in body:
        algo_id = body.get("algoId")
        if algo_id is not None and (isinstance(algo_id, bool) or not isinstance(algo_id, int)):
            raise BadRequest("algoId must be an integer")
        out = sim.engine.cancel_algo(account, algo_id=algo_id, client_id=body.get("clientAlgoId"), now_ms=now)
    else:
        symbol = _symbol(sim, body)
        order_id = body.get("orderId")
        if order_id is not None and (isinstance(order_id, bool) or not isinstance(order_id, int)):
            raise BadRequest("orderId must be an integer")
        client_id = body.get("origClientOrderId")
        if order_id is None and client_id is None:
            raise BadRequest("orderId or origClientOrderId is required")
        out = sim.engine.cancel_order(account, symbol, order_id=order_id, client_id=client_id, now_ms=now)
    sim.publish(list(out.events))
    if out.reject is not None:
        err = reject_error(out.reject.reason, detail=out.reject.detail, context="cancel")
        return web.json_response(err.body(), status=404)
    return {"ok": True}


def open_orders(sim: BinanceSim, body: dict[str, Any]) -> Any:
    account = _account(sim, body)
    return {
        "orders": [wire.order_result(o, sim.engine.instrument(o.symbol), variant="status")
                   for o in sim.engine.open_orders(account)],
        "algoOrders": [wire.algo_result(a, sim.engine.instrument(a.symbol), rest=True)
                       for a in sim.engine.open_algo_orders(account)],
    }  # fmt: skip


def order_log(sim: BinanceSim, body: dict[str, Any]) -> Any:
    """Every order / algo state change in sequence (neutral names), optionally for one account."""
    account = body.get("account")
    if account is not None and not isinstance(account, str):
        raise BadRequest("account must be a string")
    out: list[dict[str, Any]] = []
    for e in sim.engine.order_log(account):
        if isinstance(e, OrderUpdate):
            o = e.order
            out.append({"kind": "order", "time": e.time_ms, "account": e.account_id, "orderId": o.order_id,
                        "clientOrderId": o.client_id, "symbol": o.symbol, "side": o.side.value,
                        "type": o.type.value, "origType": o.orig_type.value, "exec": e.exec_type.value,
                        "status": o.status.value, "qty": f"{o.quantity:f}", "price": f"{o.price:f}",
                        "executedQty": f"{o.executed_qty:f}",
                        "lastQty": f"{e.fill.qty:f}" if e.fill else "0",
                        "lastPrice": f"{e.fill.price:f}" if e.fill else "0"})  # fmt: skip
        elif isinstance(e, AlgoUpdate):
            a = e.algo
            out.append({"kind": "algo", "time": e.time_ms, "account": e.account_id, "algoId": a.algo_id,
                        "clientAlgoId": a.client_id, "symbol": a.symbol, "side": a.side.value,
                        "type": a.type.value, "status": a.status.value, "orderId": a.order_id})  # fmt: skip
    return out


def arm_fault(sim: BinanceSim, body: dict[str, Any]) -> Any:
    try:
        return sim.faults.arm(body).to_json()
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def list_faults(sim: BinanceSim, body: dict[str, Any]) -> Any:
    return [f.to_json() for f in sim.faults.active]


def clear_faults(sim: BinanceSim, body: dict[str, Any]) -> Any:
    sim.faults.clear()
    return {"ok": True}


async def disconnect(sim: BinanceSim, body: dict[str, Any]) -> Any:
    target = body.get("target", "*")
    if not isinstance(target, str):
        raise BadRequest("target must be a string")
    n = 0
    for conn in [*sim.connections, *sim.streams]:
        if target in ("*", conn.kind) or (target == "stream" and conn.kind != "ws-api"):
            conn.abort()
            n += 1
    return {"dropped": n}


def set_clock(sim: BinanceSim, body: dict[str, Any]) -> Any:
    skew = body.get("skew_ms")
    if isinstance(skew, bool) or not isinstance(skew, int):
        raise BadRequest("skew_ms must be an integer (milliseconds, may be negative)")
    sim.skew_ms = skew
    return {"skew_ms": skew, "serverTime": sim.server_time_ms()}


def rate_limits(sim: BinanceSim, body: dict[str, Any]) -> Any:
    """`{"force": [429, 418]}` answers the next requests with those statuses; `{"clear": true}`
    drops forced statuses not yet used and lifts any ban; other keys reconfigure."""
    if body.get("clear") is True:
        sim.limiter.clear()
    force = body.get("force", [])
    if not isinstance(force, list) or any(s not in (429, 418) for s in force):
        raise BadRequest("force must be a list of 429/418")
    cfg = sim.limiter.config
    updates: dict[str, int] = {}
    for name in (
        "weight_per_minute",
        "orders_per_10s",
        "orders_per_minute",
        "rejections_before_ban",
        "ban_ms",
    ):
        if name in body:
            v = body[name]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise BadRequest(f"{name} must be a non-negative integer")
            updates[name] = v
    for name, v in updates.items():
        setattr(cfg, name, v)
    sim.limiter.forced.extend(force)
    return {"config": vars(cfg), "forced": list(sim.limiter.forced)}


def expire_listen_key(sim: BinanceSim, body: dict[str, Any]) -> Any:
    key = body.get("listenKey")
    if key is None and isinstance(body.get("account"), str):
        key = sim.listen_keys.key_of(body["account"], sim.now_ms())
    if not isinstance(key, str) or not sim.listen_keys.expire(key):
        raise BadRequest("no such listenKey")
    sim.step()
    return {"expired": key}


def step(sim: BinanceSim, body: dict[str, Any]) -> Any:
    sim.step()
    return {"serverTime": sim.now_ms()}


ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", "/info", info),
    ("GET", "/market", market),
    ("POST", "/price", set_price),
    ("POST", "/path", set_path),
    ("POST", "/volatility", set_volatility),
    ("POST", "/accounts", create_account),
    ("POST", "/keys", set_key),
    ("POST", "/deposit", deposit),
    ("POST", "/positions", set_position),
    ("GET", "/positions", positions),
    ("POST", "/orders", place_order),
    ("GET", "/orders", open_orders),
    ("POST", "/cancel", cancel),
    ("GET", "/order-log", order_log),
    ("POST", "/faults", arm_fault),
    ("GET", "/faults", list_faults),
    ("DELETE", "/faults", clear_faults),
    ("POST", "/disconnect", disconnect),
    ("POST", "/clock", set_clock),
    ("POST", "/rate-limits", rate_limits),
    ("POST", "/listen-keys/expire", expire_listen_key),
    ("POST", "/step", step),
]


def add_routes(app: web.Application, sim: BinanceSim) -> None:
    register(app, sim, ROUTES)
