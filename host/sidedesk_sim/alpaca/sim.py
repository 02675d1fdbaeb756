"""`AlpacaSim`: the Alpaca simulator as one in-process object (aiohttp on 127.0.0.1).

    async with AlpacaSim(seed=1) as sim:
        sim.base_url        # TradingClient(url_override=...), REST base without /v2
        sim.stream_url      # TradingStream(url_override=...)
        sim.data_url("iex") # StockDataStream(url_override=...)

One port serves trading REST (`/v2/...`), the trading stream (`/stream`), the market-data stream
(`/v2/iex`, `/v2/sip`, `/v2/test`) and the control plane (`/_sim/...`). A clock task advances the
engine every `tick_ms`, runs the session (open/close) and order triggers, and fans events out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from sidedesk_sim.alpaca import control, rest, streams, wire
from sidedesk_sim.alpaca.book import Book
from sidedesk_sim.alpaca.instruments import instruments, stocks
from sidedesk_sim.alpaca.session import Mode, Session
from sidedesk_sim.alpaca.streams import StreamConn
from sidedesk_sim.binance.faults import Faults
from sidedesk_sim.engine import AggTrade, BookTickerUpdate, Engine
from sidedesk_sim.server import SimServer

log = logging.getLogger("sidedesk_sim.alpaca")

# Test-only credentials of the built-in paper account (printed by `sidedesk sim alpaca`).
BUILTIN_KEY_ID = "PKSIDEDESKSIM0000001"
BUILTIN_SECRET = "sidedesk-simulator-secret-0000000000000000"  # noqa: S105 - public test key
DEFAULT_CASH = Decimal(100_000)


@dataclass
class SimConfig:
    tick_ms: int = 100
    trading_binary: bool = True  # paper trading sends trade_updates as binary frames (JSON inside)
    data_connections_per_key: int = 1  # Alpaca's default: one data connection per endpoint
    session: Mode = "open"


@dataclass
class Identity:
    key_id: str
    secret: str
    account: str

    def describe(self) -> dict[str, str]:
        return {"key_id": self.key_id, "secret_key": self.secret, "account": self.account}


@dataclass
class AccountMeta:
    created_ms: int
    last_equity: Decimal
    identities: list[str] = field(default_factory=list)


def _wall_ms() -> int:
    return int(time.time() * 1000)


class AlpacaSim:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        clock: Callable[[], int] | None = None,
        config: SimConfig | None = None,
        run_clock: bool = True,
    ) -> None:
        self.host = host
        self.seed = seed
        self.config = config or SimConfig()
        self._clock = clock or _wall_ms
        self.run_clock = run_clock
        now = self._clock()
        self.engine = Engine(instruments(), seed, now)
        self.book = Book(
            self.engine, stocks(), Session(self.config.session, now), random.Random(seed * 101 + 3)
        )
        self.faults = Faults()
        self.forced: list[int] = []  # statuses (429) the next REST requests get
        self.identities: dict[str, Identity] = {}
        self.accounts: dict[str, AccountMeta] = {}
        self.streams: set[StreamConn] = set()
        self.server = SimServer(host, port, "alpaca")
        self.add_account("main", BUILTIN_KEY_ID, BUILTIN_SECRET, DEFAULT_CASH)

    # -- accounts --------------------------------------------------------------------------------
    def add_account(self, account: str, key_id: str, secret: str, cash: Decimal) -> Identity:
        if key_id in self.identities:
            raise ValueError("this key id is registered already")
        if not self.engine.has_account(account):
            out = self.engine.create_account(account, {"USD": cash}, self.now_ms())
            if out.reject is not None:
                raise ValueError(out.reject.detail)
            self.accounts[account] = AccountMeta(self.now_ms(), cash)
        ident = Identity(key_id, secret, account)
        self.identities[key_id] = ident
        self.accounts[account].identities.append(key_id)
        return ident

    def authenticate(self, key_id: object, secret: object) -> str | None:
        ident = self.identities.get(key_id) if isinstance(key_id, str) else None
        if ident is None or not isinstance(secret, str) or secret != ident.secret:
            return None
        return ident.account

    def now_ms(self) -> int:
        return self._clock()

    def set_session(self, mode: Mode) -> None:
        self.book.session = Session(mode, self.now_ms())
        self.step()

    def symbol_of(self, key: str) -> str:
        for s in self.book.stocks.values():
            if key in (s.symbol, s.asset_id):
                return s.symbol
        return key

    # -- views -----------------------------------------------------------------------------------
    def positions_json(self, account: str, symbol: str | None = None) -> list[dict[str, Any]]:
        out = []
        for p in self.engine.positions(account, symbol if symbol in self.book.stocks else None):
            if p.amount == 0 or (symbol is not None and p.symbol != symbol):
                continue
            stock = self.book.stocks[p.symbol]
            side = "sell" if p.amount > 0 else "buy"
            held = self.book.held(account, p.symbol, side)
            last = self.book.last_price(p.symbol)
            lastday = self.engine.instrument(p.symbol).initial_price
            out.append(wire.position(p, stock, last, lastday, held))
        return out

    def account_json(self, account: str) -> dict[str, Any]:
        bal = self.engine.balance(account, "USD")
        long_v = short_v = cost = Decimal(0)
        for p in self.engine.positions(account):
            if p.amount == 0:
                continue
            value = p.amount * self.book.last_price(p.symbol)
            cost += p.amount * p.entry_price
            if value > 0:
                long_v += value
            else:
                short_v += value
        equity = bal.wallet_balance - cost + long_v + short_v
        meta = self.accounts[account]
        return wire.account(
            account,
            cash=bal.wallet_balance - cost,
            long_value=long_v,
            short_value=short_v,
            equity=equity,
            last_equity=meta.last_equity,
            buying_power=self.book.buying_power(account),
            initial_margin=bal.initial_margin,
            created_ms=meta.created_ms,
        )

    # -- URLs ------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def stream_url(self) -> str:
        return f"ws://{self.host}:{self.port}/stream"

    def data_url(self, feed: str = "iex") -> str:
        return f"ws://{self.host}:{self.port}/v2/{feed}"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_sim"

    def info(self) -> dict[str, Any]:
        """What `sidedesk sim alpaca` prints: URLs and the (public, test-only) keys."""
        return {
            "sim": "alpaca",
            "rest": self.base_url,
            "trading_stream": self.stream_url,
            "data_stream": self.data_url("iex"),
            "control": self.control_url,
            "seed": self.seed,
            "session": self.book.session.mode,
            "symbols": list(self.book.stocks),
            "keys": [i.describe() for i in self.identities.values()],
        }

    # -- lifecycle -------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application()

        async def trading(request: web.Request) -> web.StreamResponse:
            return await streams.handle_trading(self, request)

        async def data(request: web.Request) -> web.StreamResponse:
            return await streams.handle_data(self, request)

        app.router.add_get("/stream", trading)
        for feed in ("iex", "sip", "test", "delayed_sip"):
            app.router.add_get(f"/v2/{feed}", data)
        rest.add_routes(app, self)
        control.add_routes(app, self)
        return app

    async def start(self) -> AlpacaSim:
        await self.server.start(self.build_app())
        self.book.was_open = self.book.session.is_open(self.now_ms())
        if self.run_clock:
            self.server.start_clock(self.step, self.config.tick_ms / 1000)
        log.info("alpaca simulator listening on %s", self.base_url)
        return self

    async def stop(self) -> None:
        await self.server.stop_clock()
        for c in list(self.streams):
            await c.close()
        await self.server.stop()

    async def __aenter__(self) -> AlpacaSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def step(self) -> None:
        self.book.step(self.now_ms())
        self.publish()

    # -- fan-out ---------------------------------------------------------------------------------
    def publish(self) -> None:
        updates, market = self.book.drain()
        if updates:
            per_account: dict[str, list[dict[str, Any]]] = {}
            for u in updates:
                per_account.setdefault(u.order.account, []).append(wire.trade_update(u))
            for account, frames in per_account.items():
                self._deliver_trading(account, frames)
        if market:
            self._deliver_market(market)

    def _deliver_trading(self, account: str, frames: list[dict[str, Any]]) -> None:
        targets = [
            c
            for c in self.streams
            if c.kind == "trading" and c.account == account and "trade_updates" in c.listening
        ]
        if not targets:
            return
        order = self.faults.transform_user_events([str(i) for i in range(len(frames))])
        sequence = [frames[int(i)] for i in order]
        delay = self.faults.take("delay", "trade_updates")
        binary = self.config.trading_binary

        def send() -> None:
            for conn in targets:
                for f in sequence:
                    conn.send_obj(f, binary_json=binary)

        if delay is not None:
            asyncio.get_running_loop().call_later(delay.ms / 1000, send)
        else:
            send()

    def _deliver_market(self, events: list[Any]) -> None:
        conns = [c for c in self.streams if c.kind == "data" and c.account is not None]
        if not conns:
            return
        latest_quote: dict[str, BookTickerUpdate] = {}
        trades: list[AggTrade] = []
        for ev in events:
            if isinstance(ev, BookTickerUpdate):
                latest_quote[ev.symbol] = ev
            elif isinstance(ev, AggTrade):
                trades.append(ev)
        for conn in conns:
            batch = [wire.trade(t) for t in trades if _wants(conn.subs["trades"], t.symbol)]
            batch += [wire.quote(q) for s, q in latest_quote.items() if _wants(conn.subs["quotes"], s)]
            if batch:
                conn.send_obj(batch)


def _wants(subs: set[str], symbol: str) -> bool:
    return symbol in subs or "*" in subs
