"""Market and user-data stream endpoints (binance.md §4.2, §5.1).

Accepted URLs: `/<route>/ws[/<stream>/<stream>…]`, `/<route>/stream?streams=a/b`, `/private/ws/<listenKey>`,
`/private/ws?listenKey=K&events=A/B`, `/private/stream?listenKey=K1&events=…&listenKey=K2…`, and the legacy
unrouted `/ws…` and `/stream…`, which serve only `/public` streams (silent otherwise, with a warning).
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from sidedesk_sim.binance.conn import Conn
from sidedesk_sim.binance.streams import LISTEN_KEY_RE, Route, Subscriptions, parse_events

if TYPE_CHECKING:
    from sidedesk_sim.binance.sim import BinanceSim

log = logging.getLogger("sidedesk_sim.binance")

MAX_STREAMS = 1024


class StreamConn(Conn):
    def __init__(
        self, sim: BinanceSim, ws: web.WebSocketResponse, request: web.Request, subs: Subscriptions
    ) -> None:
        super().__init__(sim, ws, request, subs.route)
        self.subs = subs
        self.mark_buckets: dict[str, int] = {}  # stream name -> last cadence bucket sent
        self.stream_state: dict[str, dict[str, Any]] = {}  # tickers, klines: what was sent when
        self._inbound: list[float] = []

    def push(self, stream: str, payload: Any) -> None:
        data = {"stream": stream, "data": payload} if self.subs.combined else payload
        self.send(json.dumps(data, ensure_ascii=False))

    def inbound_ok(self) -> bool:
        """At most `max_inbound_per_s` client messages per second (Binance disconnects beyond 10)."""
        now = time.monotonic()
        self._inbound = [t for t in self._inbound if now - t < 1.0]
        self._inbound.append(now)
        return len(self._inbound) <= self.sim.config.max_inbound_per_s


def _warn_silent(route: Route, names: list[str]) -> None:
    for n in names:
        log.warning(
            "stream %r on the %s route would deliver nothing on Binance (routed streams since 2026-04-23)",
            n,
            route,
        )


async def handle(sim: BinanceSim, request: web.Request, route: Route, combined: bool) -> web.StreamResponse:
    tail = request.match_info.get("tail", "")
    subs = Subscriptions(route=route, combined=combined, known_symbols=frozenset(sim.engine.instruments))
    initial: list[str] = []
    if combined:
        initial = [s for s in request.query.get("streams", "").split("/") if s]
    elif tail:
        initial = [s for s in tail.split("/") if s]
    # `?listenKey=K&events=A/B` (repeatable, paired in order)
    keys = request.query.getall("listenKey", [])
    events = request.query.getall("events", [])
    for i, key in enumerate(keys):
        if route == "private":
            subs.listen_keys[key] = parse_events(events[i] if i < len(events) else None)
            subs.streams.append(key)
        else:
            _warn_silent(route, [key])
    # bare path segments after /ws/ that are not stream names (ccxt's bucket numbers) mean "none"
    initial = [s for s in initial if not s.isdigit()]
    if initial:
        _warn_silent(route, subs.subscribe(initial))
    for key in subs.listen_keys:
        if sim.listen_keys.account_of(key, sim.now_ms()) is None:
            log.warning("stream connection with an unknown or expired listenKey: it will stay silent")
    ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 16)
    await ws.prepare(request)
    conn = StreamConn(sim, ws, request, subs)
    sim.streams.add(conn)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                if not conn.inbound_ok():
                    log.warning(
                        "stream connection exceeded %d messages/s: disconnected", sim.config.max_inbound_per_s
                    )
                    await conn.close()
                    break
                _control(conn, msg.data)
            elif msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                conn.pong()
            if conn.closed.is_set():
                break
    finally:
        sim.streams.discard(conn)
        await conn.finish()
    return ws


def _reply(conn: StreamConn, payload: dict[str, Any]) -> None:
    conn.send(json.dumps(payload, ensure_ascii=False))


def _control(conn: StreamConn, text: str) -> None:
    """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY (binance.md §5.1)."""
    try:
        msg = json.loads(text)
    except ValueError as exc:
        _reply(conn, {"error": {"code": 3, "msg": f"Invalid JSON: {exc}"}, "id": None})
        return
    if not isinstance(msg, dict):
        _reply(conn, {"error": {"code": 3, "msg": "Invalid JSON: expected an object"}, "id": None})
        return
    req_id = msg.get("id")
    # docs: an unsigned INT; the official SDK sends UUID strings, which Binance accepts too
    if isinstance(req_id, bool) or not (isinstance(req_id, str) or (isinstance(req_id, int) and req_id >= 0)):
        _reply(conn, {"error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
                      "id": None})  # fmt: skip
        return
    method = msg.get("method")
    params = msg.get("params", [])
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            _reply(conn, {"error": {"code": 2, "msg": "Invalid request: params must be a list of strings"},
                          "id": req_id})  # fmt: skip
            return
        if method == "SUBSCRIBE":
            if len(conn.subs.streams) + len(params) > MAX_STREAMS:
                too_many = f"Invalid request: too many streams (max {MAX_STREAMS})"
                _reply(conn, {"error": {"code": 2, "msg": too_many}, "id": req_id})
                return
            silent = conn.subs.subscribe(params)
            _warn_silent(conn.subs.route, [s for s in silent if not LISTEN_KEY_RE.match(s)])
            if conn.subs.route != "private":
                _warn_silent(conn.subs.route, [s for s in silent if LISTEN_KEY_RE.match(s)])
        else:
            conn.subs.unsubscribe(params)
            for p in params:  # a later SUBSCRIBE starts afresh
                conn.stream_state.pop(p, None)
                conn.mark_buckets.pop(p, None)
        _reply(conn, {"result": None, "id": req_id})
    elif method == "LIST_SUBSCRIPTIONS":
        _reply(conn, {"result": list(conn.subs.streams), "id": req_id})
    elif method == "SET_PROPERTY":
        if (
            isinstance(params, list)
            and len(params) == 2
            and params[0] == "combined"
            and isinstance(params[1], bool)
        ):
            conn.subs.combined = params[1]
            _reply(conn, {"result": None, "id": req_id})
        else:
            _reply(conn, {"error": {"code": 0, "msg": "Unknown property"}, "id": req_id})
    elif method == "GET_PROPERTY":
        if isinstance(params, list) and params == ["combined"]:
            _reply(conn, {"result": conn.subs.combined, "id": req_id})
        else:
            _reply(conn, {"error": {"code": 0, "msg": "Unknown property"}, "id": req_id})
    else:
        _reply(conn, {"error": {"code": 1, "msg": "Invalid value type: expected SUBSCRIBE/UNSUBSCRIBE/"
                                "LIST_SUBSCRIPTIONS/SET_PROPERTY/GET_PROPERTY"}, "id": req_id})  # fmt: skip
