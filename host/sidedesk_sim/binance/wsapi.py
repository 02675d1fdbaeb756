"""The WS API endpoint `/ws-fapi/v1` (binance.md §2): envelope, session logon, per-request signatures.

Requests on one connection are processed in arrival order. The signature payload is rebuilt from the
raw JSON literals (numbers keep their text), sorted by key, without percent-encoding (§3.1).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from sidedesk_sim.binance.auth import (
    Identity,
    RawNumber,
    verify,
    ws_payload,
    ws_payload_percent_encoded,
)
from sidedesk_sim.binance.conn import Conn
from sidedesk_sim.binance.errors import UNKNOWN_OUTCOME_MSG, BinanceError, mandatory
from sidedesk_sim.binance.exchange import ENDPOINTS, WS_METHODS, Ctx
from sidedesk_sim.binance.params import Params, check_timestamp

if TYPE_CHECKING:
    from sidedesk_sim.binance.sim import BinanceSim

log = logging.getLogger("sidedesk_sim.binance")

SESSION_METHODS = frozenset({"session.logon", "session.status", "session.logout"})


@dataclass
class Session:
    connected_since: int
    return_rate_limits: bool
    identity: Identity | None = None
    authorized_since: int | None = None

    def status(self, now_ms: int) -> dict[str, Any]:
        return {
            "apiKey": self.identity.api_key if self.identity else None,
            "authorizedSince": self.authorized_since,
            "connectedSince": self.connected_since,
            "returnRateLimits": self.return_rate_limits,
            "serverTime": now_ms,
        }


def _echo_id(value: object) -> object:
    """The request id as the client sent it (numbers were parsed as `RawNumber` text)."""
    if isinstance(value, RawNumber):
        text = str(value)
        try:
            return int(text)
        except ValueError:
            return float(text)
    return value


async def handle(sim: BinanceSim, request: web.Request) -> web.StreamResponse:
    ip = request.remote or "127.0.0.1"
    try:
        sim.limiter.charge_weight(ip, 5, sim.now_ms())  # a handshake costs 5 weight
    except BinanceError as exc:
        return web.json_response(sim.error_body(exc), status=exc.status)
    ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
    await ws.prepare(request)
    conn = Conn(sim, ws, request, "ws-api")
    session = Session(sim.now_ms(), request.query.get("returnRateLimits", "true").lower() != "false")
    sim.connections.add(conn)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                if not await _process(sim, conn, session, msg.data):
                    break
            elif msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                conn.pong()
            elif msg.type == WSMsgType.BINARY:
                conn.send(
                    json.dumps(
                        _error_frame(None, BinanceError(-1000, msg="Binary frames are not supported."))
                    )
                )
            if conn.closed.is_set():
                break
    finally:
        sim.connections.discard(conn)
        await conn.finish()
    return ws


def _error_frame(req_id: object, exc: BinanceError) -> dict[str, Any]:
    return {"id": req_id, "status": exc.status, "error": exc.body()}


async def _process(sim: BinanceSim, conn: Conn, session: Session, text: str) -> bool:
    """Handle one request frame; False when the connection was dropped by a fault."""
    try:
        frame = json.loads(text, parse_float=RawNumber, parse_int=RawNumber)
    except ValueError:
        conn.send(json.dumps(_error_frame(None, BinanceError(-1000, msg="Malformed request: invalid JSON."))))
        return True
    if not isinstance(frame, dict):
        conn.send(
            json.dumps(_error_frame(None, BinanceError(-1000, msg="Malformed request: expected an object.")))
        )
        return True
    req_id = _echo_id(frame.get("id"))
    method = frame.get("method")
    params = frame.get("params", {})
    if params is None:
        params = {}
    if sim.faults.take("drop_at_method", str(method)) is not None:
        log.warning("fault: dropping WS API connection at %s", method)
        conn.abort()
        return False
    delay = sim.faults.take("delay", str(method))
    if delay is not None:
        await asyncio.sleep(delay.ms / 1000)
    reply: dict[str, Any] = {"id": req_id}
    rate_limits = session.return_rate_limits
    account: str | None = None
    try:
        if "id" not in frame:
            raise mandatory("id")
        if not isinstance(method, str) or not method:
            raise mandatory("method")
        if not isinstance(params, dict):
            raise mandatory("params")
        rl = params.get("returnRateLimits")
        if isinstance(rl, bool):
            rate_limits = rl
        now = sim.now_ms()
        if method in SESSION_METHODS:
            sim.limiter.charge_weight(conn.ip, 2, now)
            result = _session(sim, session, method, params, now)
        elif method in WS_METHODS:
            ep = ENDPOINTS[method]
            p = Params.from_ws(params)
            sim.limiter.charge_weight(conn.ip, ep.weight_for(p), now)
            identity = _authenticate(sim, session, ep.security, params, p, now)
            account = identity.account_id if identity else None
            if ep.orders and account is not None:
                sim.limiter.charge_order(account, now)
            lose = sim.faults.take("lose_reply", method)
            result = sim.exchange.call(method, Ctx(p, identity, conn.ip, "ws", now, sim.skew_ms))
            if lose is not None:
                log.warning("fault: %s executed, reply replaced by %d", method, lose.status)
                raise BinanceError(-1000, status=lose.status, msg=UNKNOWN_OUTCOME_MSG)
        else:
            raise BinanceError(-1000, msg=f"Unknown method '{method}'.")
        reply["status"] = 200
        reply["result"] = result
    except BinanceError as exc:
        reply["status"] = exc.status
        reply["error"] = sim.error_body(exc)
    if rate_limits:
        reply["rateLimits"] = sim.limiter.ws_rate_limits(conn.ip, account, sim.now_ms())
    conn.send(json.dumps(reply, ensure_ascii=False))
    return True


def _identity(sim: BinanceSim, api_key: object) -> Identity:
    if not isinstance(api_key, str) or not api_key:
        raise mandatory("apiKey")
    return sim.identity(api_key)


def _check_signature(identity: Identity, params: dict[str, object]) -> None:
    sig = params.get("signature")
    if not isinstance(sig, str) or not sig:
        raise mandatory("signature")
    if verify(identity, ws_payload(params), sig):
        return
    if verify(identity, ws_payload_percent_encoded(params), sig):
        # Binance signs the raw values; clients that urlencode (official SDK, ...) fail on values with
        # reserved or non-ASCII characters. Say so in the log: it is the usual cause of -1022.
        log.warning("signature matches the percent-encoded payload, not the raw one: rejected (-1022)")
    raise BinanceError(-1022)


def _authenticate(
    sim: BinanceSim, session: Session, security: str, params: dict[str, object], p: Params, now: int
) -> Identity | None:
    if security == "NONE":
        return None
    if security == "USER_STREAM":
        if "apiKey" in params or session.identity is None:
            return _identity(sim, params.get("apiKey"))
        return session.identity
    # SIGNED: ad hoc signature (overrides the session key) or a logged-on session
    if "signature" in params or session.identity is None:
        identity = _identity(sim, params.get("apiKey"))
        _check_signature(identity, params)
    else:
        identity = session.identity
        if "apiKey" in params and params["apiKey"] != identity.api_key:
            raise BinanceError(-2015)
    check_timestamp(p, now + sim.skew_ms)
    return identity


def _session(
    sim: BinanceSim, session: Session, method: str, params: dict[str, object], now: int
) -> dict[str, Any]:
    if method == "session.logon":
        identity = _identity(sim, params.get("apiKey"))
        _check_signature(identity, params)
        check_timestamp(Params.from_ws(params), now + sim.skew_ms)
        if identity.kind != "ed25519":
            # Docs: "Only Ed25519 keys are supported for this feature." The futures error is undocumented
            # (binance.md §11 #1); spot answers -2028, which means something else on futures, so the
            # simulator uses -1002 with spot's wording.
            kind = "HMAC-SHA-256" if identity.kind == "hmac" else "RSA"
            raise BinanceError(-1002, msg=f"{kind} API key is not supported.")
        session.identity = identity
        session.authorized_since = now
        return session.status(now + sim.skew_ms)
    if method == "session.logout":
        session.identity = None
        session.authorized_since = None
        return session.status(now + sim.skew_ms)
    return session.status(now + sim.skew_ms)


__all__ = ["Session", "handle"]
