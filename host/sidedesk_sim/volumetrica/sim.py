"""The Volumetrica simulator: one aiohttp app on one port (127.0.0.1 by default).

- `POST /api/v2/auth/token` (header `PltfKey`, JSON login/password): `{"success":true,"data":
  {"tradingWssEndpoint","tradingWssToken",...}}`; a token logs in once.
- `GET /trading` (WebSocket, binary frames, one protobuf message each): LoginReq (a reused or
  unknown token: LoginMsg{Success:false, ReasonCode:CREDENTIALS}; a second session of the same
  user throws the first out with LoggedOff unless KeepConcurrentSessionOn), Ping -> Pong echoing
  AckValue, InfoReq modes 1-3 (+ subscription), ContractReq, SymbolLookup, Order
  (insert/modify/remove, brackets), CancelFlatReq; pushes OrderInfo, PositionInfo, BalanceInfo,
  BracketInfo, LogMsg. A session without a Ping for `ping_timeout_s` (60 s) is closed.
- Control plane under `/_sim/` (JSON): `price`, `log`, `disconnect`, `fault`, `state`, `config`,
  `account` (`{"header"?, "mode"?, "balance"?}`: one more account for the built-in login).
- A login holds one or more accounts (`SimConfig.accounts`, `--accounts N`; the first is
  evaluation 123456 "SIM-EVAL-1", the next ones funded 123457 "SIM-FUNDED-2", ...): InfoResp lists
  every account of the session's login with their orders and positions (each line carrying its
  AccNumber), orders go to the AccNumber they name (another login's account is refused), and
  pushes reach every session of the login.
- CancelFlatReq (FLAT, CANCEL, FLAT_CANCEL on an account's contracts): working orders cancelled
  first, then the position closed at market, in one venue step (`Exchange.cancel_flat` says why);
  each order records what cancelled it (`VolOrder.canceled_by`). AccountHistoricalSessionReq
  (v5.1) answers the session's orders, finished ones too. `lose_order_replies` also swallows a
  CancelFlatReq's OrderInfo and answer.
- Protocol `5.1` (default) or `5` (`protocol=`, `sidedesk sim volumetrica --protocol 5`): the
  trading socket reads and writes that version's wire (brokers/volumetrica/protocol/dialect.py): v5 keeps
  quantities and client ids in int32, moves IsTradingEnabled to field 5, has no Source, no
  KeepConcurrentSessionOn (so a v5 login always throws the user's other sessions out) and no
  Version in the login answer; v5.1 answers Version 51. `SimConfig.reported_version` makes the
  login answer say another number (tests of a server whose version is unknown or wrong).

Not modelled: market data (dxFeed), hedging accounts, OCO groups other than brackets, trailing
bracket modes, daily P&L resets, commissions, risk rules (drawdown/profit target are -1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import WSMsgType, web

from sidedesk.brokers.volumetrica.protocol import dialect, wire
from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk_sim.engine import Engine
from sidedesk_sim.volumetrica.exchange import Exchange, Push
from sidedesk_sim.volumetrica.instruments import contracts, engine_instrument, looked_up

log = logging.getLogger(__name__)

BUILTIN_PLATFORM_KEY = "SIM-PLATFORM-KEY-0001"
BUILTIN_LOGIN = "demo"
BUILTIN_PASSWORD = "demo-password"  # noqa: S105 (the simulator's test user)
BUILTIN_ACCOUNT = 123456
PROTOCOLS = {"5": dialect.V5, "5.1": dialect.V5_1}


@dataclass
class SimConfig:
    tick_ms: int = 100
    ping_timeout_s: float = 60.0
    # None: the front month and the next quarter on the simulator's clock at start (`sim.cme`);
    # "H27" pins the first listed month
    month: str | None = None
    balance: Decimal = Decimal(50_000)
    reported_version: int | None = None  # None: the protocol's own (v5: none, v5.1: 51)
    accounts: int = 1  # accounts of the built-in login


@dataclass
class Session:
    ws: web.WebSocketResponse
    user: str = ""
    logged_in: bool = False
    subscribed: bool = False
    last_ping: float = field(default_factory=time.monotonic)
    closing: bool = False


@dataclass
class Faults:
    reject_login: int = 0  # answer the next N logins with Success false (UNEXPECTED_ERROR)
    lose_order_replies: int = 0  # execute the next N order requests but send nothing back for them


def _wall_ms() -> int:
    return int(time.time() * 1000)


class VolumetricaSim:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        config: SimConfig | None = None,
        clock: Callable[[], int] | None = None,
        protocol: str = "5.1",
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
        self.protocol = protocol
        self.dialect = PROTOCOLS[protocol]
        self.host, self.port, self.config = host, port, config or SimConfig()
        self._now = clock or _wall_ms
        self.contracts = contracts(self.config.month, self.now_ms())
        self.engine = Engine(
            [engine_instrument(c) for c in self.contracts],
            seed=seed,
            start_ms=self.now_ms(),
            step_ms=self.config.tick_ms,
        )
        self.exchange = Exchange(self.engine, self.contracts)
        if not 1 <= self.config.accounts <= 10:
            raise ValueError("accounts must be 1..10")
        self.users: dict[str, tuple[str, list[int]]] = {BUILTIN_LOGIN: (BUILTIN_PASSWORD, [])}
        for _ in range(self.config.accounts):
            self.add_account()
        self.platform_keys = {BUILTIN_PLATFORM_KEY}
        self.tokens: dict[str, str] = {}  # unused token -> user
        self.used_tokens: set[str] = set()
        self.sessions: list[Session] = []
        self.faults = Faults()
        self.logins = 0
        self.frames_in = 0
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def now_ms(self) -> int:
        return self._now()

    def add_account(
        self, header: str | None = None, mode: int | None = None, balance: Decimal | None = None
    ) -> int:
        """One more account for the built-in login: its number (the first is BUILTIN_ACCOUNT, an
        evaluation; the next ones are funded)."""
        mine = self.users[BUILTIN_LOGIN][1]
        number = BUILTIN_ACCOUNT + len(self.exchange.accounts)
        first = not mine
        kind = "EVAL" if first else "FUNDED"
        self.exchange.add_account(
            number,
            header or f"SIM-{kind}-{len(mine) + 1}",
            self.config.balance if balance is None else balance,
            self.now_ms(),
            mode=(pb.MODE_EVALUATION if first else pb.MODE_FUNDED) if mode is None else mode,
        )
        mine.append(number)
        return number

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> VolumetricaSim:
        app = web.Application()
        app.router.add_post("/api/v2/auth/token", self._token)
        app.router.add_get("/trading", self._trading)
        for name in ("price", "log", "disconnect", "fault", "config", "account"):
            app.router.add_post(f"/_sim/{name}", self._control)
        app.router.add_get("/_sim/state", self._state)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._clock()), loop.create_task(self._watch_pings())]
        return self

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        for s in list(self.sessions):
            with contextlib.suppress(Exception):
                await s.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> VolumetricaSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def trading_url(self) -> str:
        return f"ws://{self.host}:{self.port}/trading"

    def info(self) -> dict[str, Any]:
        return {
            "exchange": "volumetrica",
            "protocol": self.protocol,
            "base_url": self.base_url,
            "trading_url": self.trading_url,
            "control_url": self.base_url + "/_sim",
            "platform_key": BUILTIN_PLATFORM_KEY,
            "login": BUILTIN_LOGIN,
            "password": BUILTIN_PASSWORD,
            "account": BUILTIN_ACCOUNT,
            "contracts": {c.feed_symbol: c.contract_id for c in self.contracts},
        }

    # -- REST token -------------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        def fail(status: int, message: str) -> web.Response:
            return web.json_response(
                {"success": False, "statusCode": status, "message": message}, status=status
            )

        if request.headers.get("PltfKey") not in self.platform_keys:
            return fail(401, "platform key not valid")
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return fail(400, "the body must be JSON")
        if not isinstance(body, dict):
            return fail(400, "the body must be a JSON object")
        user = self.users.get(str(body.get("login", "")))
        if user is None or not secrets.compare_digest(user[0], str(body.get("password", ""))):
            return fail(401, "login or password not valid")
        token = secrets.token_urlsafe(24)
        self.tokens[token] = str(body["login"])
        data = {
            "tradingWssEndpoint": self.trading_url,
            "tradingWssToken": token,
            "tradingRestReportHost": self.base_url,
            "tradingRestReportToken": secrets.token_urlsafe(16),
            "tradingRestTokenExpiration": self.now_ms() + 3_600_000,
            "tradingApiVersion": 3,
        }
        if body.get("withDetails"):
            data["dataExchanges"] = ["CME"]
        return web.json_response({"success": True, "data": data})

    # -- trading socket ---------------------------------------------------------------------------
    async def _trading(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        s = Session(ws)
        self.sessions.append(s)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    self.frames_in += 1
                    await self._handle(s, msg.data)
                elif msg.type == WSMsgType.TEXT:
                    await self._send(
                        s, pb.ServerResponseMsg(log_msg=pb.LogInfoMsg(msg="binary protobuf frames only"))
                    )
        finally:
            with contextlib.suppress(ValueError):
                self.sessions.remove(s)
        return ws

    async def _send(self, s: Session, msg: pb.ServerResponseMsg) -> None:
        if s.ws.closed or s.closing:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await s.ws.send_bytes(dialect.encode_server(msg, self.dialect))

    async def _handle(self, s: Session, data: bytes) -> None:
        req = wire.parse_client(data, self.dialect)
        if isinstance(req, wire.ParseError):
            await self._send(
                s, pb.ServerResponseMsg(log_msg=pb.LogInfoMsg(msg=f"frame not understood: {req.reason}"))
            )
            return
        if req.HasField("login_req"):
            await self._login(s, req.login_req)
            return
        if req.HasField("ping"):
            s.last_ping = time.monotonic()
            await self._send(
                s, pb.ServerResponseMsg(pong=pb.PongMsg(connected=True, ack_value=req.ping.ack_value))
            )
            return
        if not s.logged_in:
            await self._send(s, pb.ServerResponseMsg(log_msg=pb.LogInfoMsg(msg="log in first")))
            return
        now = self.now_ms()
        accounts = self.users[s.user][1]
        acc = accounts[0]
        if req.HasField("info_req"):
            modes = set(req.info_req.modes) or {req.info_req.mode}
            s.subscribed = True
            await self._send(
                s,
                pb.ServerResponseMsg(
                    info_msg=self.exchange.info(
                        [a for a in accounts if not req.info_req.accounts or a in req.info_req.accounts],
                        modes,
                        req.info_req.request_id,
                        now,
                    )
                ),
            )
            await self._send(
                s, pb.ServerResponseMsg(balance_info=[self.exchange.balance(a) for a in accounts])
            )
        elif req.HasField("contract_req"):
            await self._send(s, pb.ServerResponseMsg(contract_msg=self._contract(req.contract_req)))
        elif req.HasField("symbol_lookup"):
            await self._send(s, pb.ServerResponseMsg(symbol_lookup=self._lookup(req.symbol_lookup)))
        elif req.order:
            pushes: list[Push] = []
            for om in req.order:
                target = (
                    om.order_insert.acc_number or om.order_modify.acc_number or om.order_remove.acc_number
                )
                a = target if target in accounts else acc
                if om.HasField("order_insert"):
                    pushes += self.exchange.insert(a, om.order_insert, now)
                elif om.HasField("order_modify"):
                    pushes += self.exchange.modify(a, om.order_modify, now)
                elif om.HasField("order_remove"):
                    pushes += self.exchange.remove(a, om.order_remove, now)
            if self.faults.lose_order_replies > 0:
                self.faults.lose_order_replies -= 1
                pushes = [(a, m) for a, m in pushes if not m.order_info]
            await self._dispatch(pushes)
        elif req.HasField("cancel_flat_req"):
            a = req.cancel_flat_req.acc_number if req.cancel_flat_req.acc_number in accounts else acc
            pushes = self.exchange.cancel_flat(a, req.cancel_flat_req, now)
            if self.faults.lose_order_replies > 0:  # executed, nothing of it sent back
                self.faults.lose_order_replies -= 1
                pushes = [(a, m) for a, m in pushes if not m.order_info and not m.HasField("cancel_flat_msg")]
            await self._dispatch(pushes)
        elif req.HasField("account_historical_session_req"):  # v5.1 only: v5 reads no field 17
            resp = self.exchange.history(accounts, req.account_historical_session_req)
            await self._send(s, pb.ServerResponseMsg(account_historical_session_resp=resp))

    async def _login(self, s: Session, req: pb.LoginRequestMsg) -> None:
        self.logins += 1
        user = self.tokens.pop(req.token, None)
        if user is None:
            reason = "token already used" if req.token in self.used_tokens else "token not valid"
            ans = pb.LoginResponseMsg(success=False, reason=reason, reason_code=pb.LOGIN_CREDENTIALS)
            await self._send(s, pb.ServerResponseMsg(login_msg=ans))
            return
        self.used_tokens.add(req.token)
        if self.faults.reject_login > 0:
            self.faults.reject_login -= 1
            ans = pb.LoginResponseMsg(
                success=False, reason="simulated login failure", reason_code=pb.LOGIN_UNEXPECTED_ERROR
            )
            await self._send(s, pb.ServerResponseMsg(login_msg=ans))
            return
        if not req.keep_concurrent_session_on:  # always so in v5: the field does not exist there
            for other in [o for o in self.sessions if o is not s and o.logged_in and o.user == user]:
                await self._send(
                    other, pb.ServerResponseMsg(logged_off=pb.LoggedOffMsg(reason="concurrent session"))
                )
                other.closing = True
                with contextlib.suppress(Exception):
                    await other.ws.close(code=1000, message=b"logged off")
        s.user, s.logged_in, s.last_ping = user, True, time.monotonic()
        s.subscribed = req.account_subscription_mode in (
            pb.SUBSCRIPTION_EXISTING,
            pb.SUBSCRIPTION_EXISTING_AND_NEW,
        )
        reported = self.config.reported_version
        version = dialect.REPORTED[self.dialect] if reported is None else reported
        await self._send(
            s, pb.ServerResponseMsg(login_msg=pb.LoginResponseMsg(success=True, version=version))
        )

    def _contract(self, req: pb.ContractReqMsg) -> pb.ContractRespMsg:
        c = (
            self.exchange.by_id.get(req.contract_id)
            if req.contract_id
            else self.exchange.by_feed.get(req.feed_symbol)
        )
        if c is None:  # unknown: ContractId -1, as the vendor's sample expects
            return pb.ContractRespMsg(
                feed_symbol=req.feed_symbol, contract_id=-1, request_id=req.request_id, is_final=True
            )
        info = pb.ContractInfoMsg(
            contract_name=c.symbol,
            symbol=c.root,
            exchange="CME",
            description=c.description,
            tick_size=float(c.tick_size),
            tick_value=float(c.tick_value),
            feed_symbol=c.feed_symbol,
            contract_id=c.contract_id,
            symbol_id=c.symbol_id,
            quote_currency="USD",
            base_currency="USD",
            tradable_quantity_minimum=1,
            category=pb.CATEGORY_FUTURE,
        )
        return pb.ContractRespMsg(
            feed_symbol=c.feed_symbol,
            category=pb.CATEGORY_FUTURE,
            contract_id=c.contract_id,
            contract_info=info,
            request_id=req.request_id,
            is_final=True,
        )

    def _lookup(self, req: pb.SymbolLookupReqMsg) -> pb.SymbolLookupRespMsg:
        text = req.filter.strip().upper()
        resp = pb.SymbolLookupRespMsg(request_id=req.request_id)
        for c in looked_up(self.contracts, self.now_ms()):
            if not text or c.root == text or c.symbol.startswith(text) or text in c.description.upper():
                resp.symbols.add(
                    symbol=c.feed_symbol,
                    description=c.description,
                    exchange="CME",
                    tick_size=float(c.tick_size),
                    category=pb.CATEGORY_FUTURE,
                    data_feed_product=c.root,
                    contract_id=c.contract_id,
                    tradable_quantity_minimum=1,
                )
        return resp

    async def _dispatch(self, pushes: list[Push]) -> None:
        for acc, msg in pushes:
            for s in list(self.sessions):
                if s.logged_in and s.subscribed and acc in self.users.get(s.user, ("", []))[1]:
                    await self._send(s, msg)

    async def push_log(self, text: str, acc: int = BUILTIN_ACCOUNT) -> None:
        await self._dispatch([(acc, pb.ServerResponseMsg(log_msg=pb.LogInfoMsg(msg=text, acc_number=acc)))])

    # -- clocks -----------------------------------------------------------------------------------
    def step(self) -> list[Push]:
        now = self.now_ms()
        return self.exchange.absorb(self.engine.advance(now), now) + self.exchange.mark_updates(now)

    async def _clock(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_ms / 1000)
            try:
                await self._dispatch(self.step())
            except Exception:
                log.exception("volumetrica sim: clock step failed")

    async def _watch_pings(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            for s in list(self.sessions):
                if s.logged_in and not s.closing and now - s.last_ping > self.config.ping_timeout_s:
                    s.closing = True
                    log.info("volumetrica sim: session of %s closed: no ping", s.user)
                    with contextlib.suppress(Exception):
                        await s.ws.close(code=1008, message=b"ping timeout")

    # -- control plane ----------------------------------------------------------------------------
    async def _control(self, request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[-1]
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            result = await self.control(name, body)
        except (ValueError, KeyError, InvalidOperation) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(result)

    async def control(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        if name == "price":
            symbol = str(body["symbol"])
            if symbol not in self.exchange.by_symbol:
                raise ValueError(f"unknown symbol {symbol!r}")
            now = self.now_ms()
            events = self.engine.set_price(symbol, Decimal(str(body["price"])), now)
            await self._dispatch(self.exchange.absorb(events, now) + self.exchange.mark_updates(now))
            return {"symbol": symbol, "price": str(body["price"])}
        if name == "log":
            await self.push_log(str(body["message"]), int(body.get("account", BUILTIN_ACCOUNT)))
            return {"sent": True}
        if name == "disconnect":
            n = 0
            for s in list(self.sessions):
                s.closing = True
                with contextlib.suppress(Exception):
                    await s.ws.close(code=1012, message=b"simulated disconnect")
                n += 1
            return {"closed": n}
        if name == "fault":
            kind = body.get("kind")
            count = body.get("count", 1)
            if kind not in ("reject_login", "lose_order_replies") or not isinstance(count, int) or count < 0:
                raise ValueError("fault needs kind reject_login | lose_order_replies and a count >= 0")
            setattr(self.faults, kind, count)
            return {"kind": kind, "count": count}
        if name == "account":
            mode = body.get("mode")
            header = body.get("header")
            number = self.add_account(
                str(header) if header else None,
                pb.AccountMode.Value(f"MODE_{str(mode).upper()}") if mode else None,
                Decimal(str(body["balance"])) if "balance" in body else None,
            )
            return {"account": number, "header": self.exchange.accounts[number]}
        if name == "config":
            if "ping_timeout_s" in body:
                value = float(body["ping_timeout_s"])
                if value <= 0:
                    raise ValueError("ping_timeout_s must be > 0")
                self.config.ping_timeout_s = value
            return {"ping_timeout_s": self.config.ping_timeout_s}
        raise ValueError(f"unknown control {name!r}")

    def state(self) -> dict[str, Any]:
        orders = [
            {
                "org_server_id": o.org_server_id,
                "account": o.acc,
                "symbol": o.contract.symbol,
                "client_id": o.org_client_id,
                "quantity": o.quantity,
                "filled": o.filled,
                "type": pb.OrderType.Name(o.order_type),
                "price": o.price,
                "open": o.open,
                "source": o.source,
            }
            for o in self.exchange.orders.values()
        ]
        by_account = {
            str(acc): {str(p.symbol): str(p.amount) for p in self.engine.positions(str(acc)) if p.amount}
            for acc in self.exchange.accounts
        }
        return {
            "orders": orders,
            "positions": by_account[str(BUILTIN_ACCOUNT)],
            "positions_by_account": by_account,
            "sessions": len(self.sessions),
            "logins": self.logins,
        }

    async def _state(self, request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(self.state()), content_type="application/json")
