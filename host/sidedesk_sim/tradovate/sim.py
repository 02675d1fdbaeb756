"""`TradovateSim`: the Tradovate simulator as one in-process object (aiohttp on 127.0.0.1).

    async with TradovateSim(seed=1) as sim:
        sim.rest_url      # http://127.0.0.1:PORT/v1          (REST, auth)
        sim.ws_url        # ws://127.0.0.1:PORT/v1/websocket   (trading / user data)
        sim.md_url        # ws://127.0.0.1:PORT/md/v1/websocket (market data)
        sim.control_url   # http://127.0.0.1:PORT/_sim

One port serves everything (the real service splits demo/live and md hosts; brokers.md §1.1).
Sockets speak the SockJS-like text frames (`o`, `h`, `a[...]`, `c[...]`); a socket that has not
sent anything (normally `[]`) for `client_timeout_s` is closed; `h` goes out after `heartbeat_s`
without any other frame. A clock task advances the engine every `tick_ms`, turns its events into
`props` events for the sockets that synced the account, and sends changed quotes to md sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from sidedesk_sim.engine import Engine
from sidedesk_sim.server import SimServer
from sidedesk_sim.tradovate import control, wire
from sidedesk_sim.tradovate.auth import TOKEN_TTL_MS, Auth, Session, User, iso
from sidedesk_sim.tradovate.book import Book
from sidedesk_sim.tradovate.exchange import Exchange
from sidedesk_sim.tradovate.faults import Faults
from sidedesk_sim.tradovate.instruments import Contract, contracts, engine_instrument

log = logging.getLogger("sidedesk_sim.tradovate")

# test-only credentials of the built-in user (printed by `sidedesk sim tradovate`)
BUILTIN_USER: dict[str, str] = {
    "name": "demo",
    "password": "demo-password",
    "cid": "8",
    "sec": "sim-secret-0008",
}
DEFAULT_BALANCE = Decimal(100_000)


@dataclass
class SimConfig:
    tick_ms: int = 100
    heartbeat_s: float = 2.5
    # The real timeout is undocumented (brokers.md §5 q1); the official clients send `[]` every 2.5 s.
    client_timeout_s: float = 10.0
    token_ttl_ms: int = TOKEN_TTL_MS
    # None: the front month and the next quarter on the simulator's clock at start (`sim.cme`);
    # "H7" pins the first listed month
    month: str | None = None
    balance: Decimal = DEFAULT_BALANCE
    # accounts of the built-in user (a login with several: DEMO700001, DEMO700002, ...); more
    # users, each with 1..10 accounts, through `POST /_sim/users`
    builtin_accounts: int = 1


def _wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass(eq=False)
class Conn:
    kind: str  # "trading" | "md"
    ws: web.WebSocketResponse
    session: Session | None = None
    accounts: set[int] = field(default_factory=set)  # synced accounts (props go to this socket)
    entity_types: set[str] | None = None  # None: every type
    quotes: set[int] = field(default_factory=set)  # subscribed contract ids (md)
    sent_quotes: dict[int, dict[str, Any]] = field(default_factory=dict)
    muted: bool = False
    last_rx: float = field(default_factory=time.monotonic)
    last_tx: float = field(default_factory=time.monotonic)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    closing: bool = False

    def push(self, text: str) -> None:
        if not self.closing:
            self.last_tx = time.monotonic()
            self.queue.put_nowait(text)

    def close(self, code: int, reason: str) -> None:
        """Send `c[code,"reason"]`, then end the socket."""
        if self.closing:
            return
        self.push(wire.close_frame(code, reason))
        self.closing = True
        self.queue.put_nowait(None)

    def abort(self) -> None:
        self.closing = True
        self.queue.put_nowait(None)


class TradovateSim:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        config: SimConfig | None = None,
        clock: Callable[[], int] | None = None,
        builtin_user: bool = True,
    ) -> None:
        self.host = host
        self.seed = seed
        self.config = config or SimConfig()
        self._clock = clock or _wall_ms
        self.contracts: tuple[Contract, ...] = contracts(self.config.month, self._clock())
        self.engine = Engine([engine_instrument(c) for c in self.contracts], seed, self._clock())
        self.book = Book(self.engine, self.contracts, self.now_ms)
        self.auth = Auth(self.config.token_ttl_ms)
        self.faults = Faults()
        self.exchange = Exchange(self)
        self.conns: set[Conn] = set()
        self.server = SimServer(host, port, "tradovate")
        if builtin_user:
            u = BUILTIN_USER
            self.add_user(u["name"], u["password"], int(u["cid"]), u["sec"], self.config.builtin_accounts)

    def now_ms(self) -> int:
        return self._clock()

    def add_user(
        self, name: str, password: str, cid: int, sec: str, accounts: int = 1, balance: Decimal | None = None
    ) -> User:
        user = self.auth.add_user(name, password, cid, sec, accounts)
        for a in user.accounts:
            self.book.add_account(a, balance if balance is not None else self.config.balance, self.now_ms())
        return user

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Jump `symbol`'s last price now and send what it caused (fills, quotes)."""
        self.book.set_price(symbol, price, self.now_ms())
        self.flush()

    # -- URLs -------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/v1/websocket"

    @property
    def md_url(self) -> str:
        return f"ws://{self.host}:{self.port}/md/v1/websocket"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_sim"

    def info(self) -> dict[str, Any]:
        """What `sidedesk sim tradovate` prints: URLs, contracts and the test-only credentials."""
        return {
            "sim": "tradovate",
            "base": self.base_url,
            "rest": self.rest_url,
            "ws": self.ws_url,
            "md": self.md_url,
            "control": self.control_url,
            "seed": self.seed,
            "contracts": [c.name for c in self.contracts],
            "users": [
                {
                    "name": u.name,
                    "password": u.password,
                    "cid": u.cid,
                    "sec": u.sec,
                    "userId": u.id,
                    "accounts": [a.name for a in u.accounts],
                }
                for u in self.auth.users.values()
            ],
        }

    # -- lifecycle --------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/websocket", self._trading_ws)
        app.router.add_get("/md/v1/websocket", self._md_ws)
        app.router.add_route("*", "/v1/{tail:.*}", self._rest)
        control.add_routes(app, self)
        return app

    async def start(self) -> TradovateSim:
        await self.server.start(self.build_app())
        self.server.start_clock(self.step, self.config.tick_ms / 1000)
        log.info("tradovate simulator listening on %s", self.base_url)
        return self

    async def stop(self) -> None:
        await self.server.stop_clock()
        for c in list(self.conns):
            c.abort()
            with contextlib.suppress(Exception):
                await c.ws.close()
        await self.server.stop()

    async def __aenter__(self) -> TradovateSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def step(self) -> None:
        """One clock step: advance the engine, fan out, supervise the sockets."""
        now = self.now_ms()
        self.book.step(now)
        self.flush()
        mono = time.monotonic()
        for c in list(self.conns):
            if c.closing:
                continue
            if c.session is not None and not c.session.alive(now):
                c.close(3000, "Access token expired")
            elif mono - c.last_rx > self.config.client_timeout_s:
                c.close(1000, "Heartbeat timeout")  # brokers.md §5 q1: the real code is undocumented
            elif not c.muted and mono - c.last_tx >= self.config.heartbeat_s:
                c.push(wire.HEARTBEAT)

    # -- fan-out ----------------------------------------------------------------------------------
    def flush(self, first: tuple[Conn, dict[str, Any]] | None = None) -> None:
        """Send the pending `props` entities (and `first`, a response, ahead of them on its socket)."""
        entities = self.book.take()
        batches: dict[Conn, list[dict[str, Any]]] = {}
        if first is not None:
            batches[first[0]] = [first[1]]
        for c in self.conns:
            if c.kind != "trading" or c.session is None or not c.accounts:
                continue
            for account_id, etype, event, entity in entities:
                if account_id in c.accounts and (c.entity_types is None or etype in c.entity_types):
                    batches.setdefault(c, []).append(wire.props(etype, event, entity))
        for c, messages in batches.items():
            c.push(wire.array_frame(messages))
        moved, self.book.market_moved = self.book.market_moved, set()
        if moved:
            self._quotes({ct.id for ct in self.contracts if ct.name in moved})

    def _quote_entries(self, contract: Contract) -> dict[str, Any]:
        m = self.engine.market(contract.name)
        return {
            "Bid": {"price": m.bid, "size": m.bid_qty},
            "Offer": {"price": m.ask, "size": m.ask_qty},
            "Trade": {"price": m.last_price, "size": 1},
        }

    def _quotes(self, contract_ids: set[int], only: Conn | None = None) -> None:
        now = iso(self.now_ms())
        for c in [only] if only is not None else list(self.conns):
            if c.kind != "md" or c.session is None:
                continue
            quotes = []
            for ct in self.contracts:
                if ct.id not in contract_ids or ct.id not in c.quotes:
                    continue
                entries = self._quote_entries(ct)
                prev = c.sent_quotes.get(ct.id, {})
                # partial updates: only the entries that changed (brokers.md §1.8)
                changed = {k: v for k, v in entries.items() if prev.get(k) != v}
                if not changed:
                    continue
                c.sent_quotes[ct.id] = entries
                quotes.append({"timestamp": now, "contractId": ct.id, "entries": changed})
            if quotes:
                c.push(wire.array_frame([wire.event("md", {"quotes": quotes})]))

    # -- WebSockets -------------------------------------------------------------------------------
    async def _trading_ws(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_ws(request, "trading")

    async def _md_ws(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_ws(request, "md")

    async def _serve_ws(self, request: web.Request, kind: str) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Conn(kind, ws)
        if self.faults.take("mute_heartbeat", kind) is not None:
            conn.muted = True
        self.conns.add(conn)
        conn.push(wire.OPEN)
        writer = asyncio.create_task(self._writer(conn), name=f"tradovate-sim-{kind}-writer")
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                conn.last_rx = time.monotonic()
                if conn.closing:
                    break
                try:
                    self._on_frame(conn, msg.data)
                except Exception:
                    log.exception("tradovate sim: request failed")
        finally:
            self.conns.discard(conn)
            conn.abort()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _writer(self, conn: Conn) -> None:
        while True:
            text = await conn.queue.get()
            if text is None:
                with contextlib.suppress(Exception):
                    await conn.ws.close()
                return
            try:
                await conn.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    def _reply(self, conn: Conn, rid: int, status: int, data: Any = None) -> None:
        if status != 200 and isinstance(data, str):
            data = wire.error_text(data)
        self.flush((conn, wire.response(rid, status, data)))

    def _on_frame(self, conn: Conn, text: str) -> None:
        if text.strip() == wire.CLIENT_HEARTBEAT:
            return
        try:
            req = wire.parse_request(text)
        except wire.BadFrame as exc:
            log.info("tradovate sim: unreadable request dropped (%s)", exc)
            return
        now = self.now_ms()
        if req.endpoint == "authorize":
            session = self.auth.session_for(req.body.strip(), now, md=conn.kind == "md")
            if session is None:
                self._reply(conn, req.id, 401, "Access is denied")
                return
            conn.session = session
            self._reply(conn, req.id, 200)
            return
        if conn.session is None or not conn.session.alive(now):
            self._reply(conn, req.id, 401, "Access is denied")
            return
        if self.faults.take("http_429", req.endpoint) is not None:
            self._reply(conn, req.id, 429)
            return
        try:
            body = req.json_body()
        except ValueError:
            self._reply(conn, req.id, 400, "The body is not valid JSON")
            return
        if conn.kind == "md":
            self._md_request(conn, req.endpoint, req.id, body)
            return
        if req.endpoint == "user/syncrequest":
            status, data, wanted = self.exchange.sync(conn.session, body)
            if status == 200:
                # a syncrequest subscribes this socket for good (it cannot be cancelled: §1.4)
                types = body.get("entityTypes")
                conn.entity_types = set(types) if types is not None else None
                conn.accounts = set(wanted)
            self._reply(conn, req.id, status, data)
            return
        penalty = self.auth.penalize(req.endpoint, body, now)
        if penalty is not None:
            self._reply(conn, req.id, 200, penalty)
            return
        status, data = self.exchange.call(conn.session, req.endpoint, req.query, body)
        if self.faults.take("lose_reply", req.endpoint) is not None:
            self.flush()
            conn.abort()
            return
        self._reply(conn, req.id, status, data)

    def _md_request(self, conn: Conn, endpoint: str, rid: int, body: Any) -> None:
        if endpoint not in ("md/subscribequote", "md/unsubscribequote"):
            self._reply(conn, rid, 404, f"Not found: {endpoint}")
            return
        symbol = body.get("symbol") if isinstance(body, dict) else None
        contract = self.book.contract(symbol)
        if contract is None:
            self._reply(conn, rid, 404, f"Unknown symbol {symbol!r}")
            return
        if endpoint == "md/unsubscribequote":
            conn.quotes.discard(contract.id)
            conn.sent_quotes.pop(contract.id, None)
            self._reply(conn, rid, 200, {})
            return
        conn.quotes.add(contract.id)
        conn.sent_quotes.pop(contract.id, None)
        self._reply(conn, rid, 200, {})
        self._quotes({contract.id}, only=conn)  # the current quote right after the ack

    # -- REST -------------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        endpoint = request.match_info["tail"].strip("/").lower()
        now = self.now_ms()
        body: Any = None
        if request.method == "POST" and request.can_read_body:
            try:
                raw = await request.read()
                body = json.loads(raw, parse_float=Decimal) if raw.strip() else None
            except ValueError:
                return web.Response(status=400, text="The body is not valid JSON")
        if endpoint == "auth/accesstokenrequest":
            if request.method != "POST":
                return web.Response(status=405)
            if self.faults.take("http_429", "auth") is not None:
                return web.Response(status=429)
            penalty = self.auth.penalize("auth", body, now)
            if penalty is not None:
                return _json(penalty)
            return _json(self.auth.request_token(body, now))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if endpoint == "auth/renewaccesstoken":
            renewed = self.auth.renew(token, now)
            if renewed is None:
                return web.Response(status=401, text="Access is denied")
            return _json(renewed)
        session = self.auth.session_for(token, now)
        if session is None:
            return web.Response(status=401, text="Access is denied")
        if self.faults.take("http_429", endpoint) is not None:
            return web.Response(status=429)
        penalty = self.auth.penalize(endpoint, body, now)
        if penalty is not None:
            return _json(penalty)
        query = {k.lower(): v for k, v in request.query.items()}
        status, data = self.exchange.call(session, endpoint, query, body)
        self.flush()
        if status != 200:
            return web.Response(status=status, text=str(data))
        return _json(data)


def _json(data: Any) -> web.Response:
    return web.Response(text=wire.dumps(data), content_type="application/json")


__all__ = ["BUILTIN_USER", "SimConfig", "TradovateSim"]
