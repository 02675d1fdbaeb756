"""`BinanceSim`: the Binance USDⓈ-M simulator as one in-process object (aiohttp on 127.0.0.1).

    async with BinanceSim(seed=1) as sim:
        sim.rest_url, sim.ws_api_url, sim.stream_url, sim.control_url, sim.identities

One port serves REST (`/fapi/...`), the WS API (`/ws-fapi/v1`), every stream route and the control
plane (`/_sim/...`). A clock task advances the engine every `tick_ms` and fans its events out to the
stream connections in the documented order (binance.md §4.8): TRADE_LITE before its ORDER_TRADE_UPDATE,
ACCOUNT_UPDATE after the fills, ALGO_UPDATE around the triggered order's own updates.

Market streams: `@bookTicker`, `@aggTrade` and `@trade` as the engine's prices and trades happen;
`@markPrice` every 3 s (1 s with `@1s`); `@ticker`/`@miniTicker` every 2 s, `!ticker@arr`/`!miniTicker@arr`
every 1 s with the symbols whose statistics changed; `@kline_<interval>` every 250 ms when the kline
changed, and its final update (`x` true) once it has closed (marketdata.py folds the trades).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from aiohttp import web

from sidedesk_sim.binance import control, rest, streamsrv, wire, wsapi
from sidedesk_sim.binance.auth import API_KEY_RE, Identity, builtin_identities
from sidedesk_sim.binance.conn import Conn
from sidedesk_sim.binance.errors import BinanceError
from sidedesk_sim.binance.exchange import Exchange
from sidedesk_sim.binance.faults import Faults
from sidedesk_sim.binance.limits import LimitConfig, RateLimiter
from sidedesk_sim.binance.listenkeys import TTL_MS, ListenKeys
from sidedesk_sim.binance.marketdata import MarketData
from sidedesk_sim.binance.streams import StreamName
from sidedesk_sim.binance.streamsrv import StreamConn
from sidedesk_sim.engine import (
    AccountUpdate,
    AggTrade,
    AlgoUpdate,
    BookTickerUpdate,
    ConfigUpdate,
    Engine,
    EngineEvent,
    Instrument,
    OrderUpdate,
    default_instruments,
)
from sidedesk_sim.server import SimServer

log = logging.getLogger("sidedesk_sim.binance")

DEFAULT_BALANCES = {"USDT": Decimal(100_000)}


@dataclass
class SimConfig:
    tick_ms: int = 100
    ping_interval_s: float = 180.0
    pong_timeout_s: float = 600.0
    max_connection_age_s: float = 24 * 3600.0
    max_inbound_per_s: int = 10
    listen_key_ttl_ms: int = TTL_MS
    ticker_ms: int = 2000  # `<symbol>@ticker`, `<symbol>@miniTicker` (docs: update speed 2000 ms)
    all_tickers_ms: int = 1000  # `!ticker@arr`, `!miniTicker@arr` (docs: 1000 ms)
    kline_ms: int = 250  # `@kline_<interval>` (docs: 250 ms)


def _wall_ms() -> int:
    return int(time.time() * 1000)


class BinanceSim:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        clock: Callable[[], int] | None = None,
        config: SimConfig | None = None,
        limits: LimitConfig | None = None,
        identities: Iterable[Identity] | None = None,
        instruments: Iterable[Instrument] | None = None,
        balances: dict[str, Decimal] | None = None,
        run_clock: bool = True,
    ) -> None:
        self.host = host
        self.seed = seed
        self.config = config or SimConfig()
        self._clock = clock or _wall_ms
        # Our (the client's) clock's drift, as the exchange's time minus ours: see `server_time_ms`.
        self.skew_ms = 0
        self.run_clock = run_clock
        self.engine = Engine(list(instruments) if instruments else default_instruments(), seed, self._clock())
        self.market_data = MarketData(
            {s: self.engine.market(s).last_price for s in self.engine.instruments}, self._clock()
        )
        self.limiter = RateLimiter(limits)
        self.listen_keys = ListenKeys(random.Random(seed * 31 + 7), self.config.listen_key_ttl_ms)
        self.faults = Faults()
        self.exchange = Exchange(self.engine, self.limiter, self.listen_keys, self.publish)
        self.default_balances = dict(balances or DEFAULT_BALANCES)
        self.identities: dict[str, Identity] = {}
        for ident in identities if identities is not None else builtin_identities():
            self.add_identity(ident)
        self.connections: set[Conn] = set()  # WS API
        self.streams: set[StreamConn] = set()
        self.server = SimServer(host, port, "binance")

    # ---- identities and time -------------------------------------------------------------------
    def add_identity(self, ident: Identity) -> Identity:
        if ident.api_key in self.identities:
            raise ValueError("an identity with this API key exists")
        if not API_KEY_RE.match(ident.api_key):
            raise ValueError("API keys are 1-128 letters and digits")
        if not self.engine.has_account(ident.account_id):
            out = self.engine.create_account(ident.account_id, self.default_balances, self.now_ms())
            if out.reject is not None:
                raise ValueError(out.reject.detail)
        self.identities[ident.api_key] = ident
        return ident

    def identity(self, api_key: str) -> Identity:
        if not API_KEY_RE.match(api_key):
            raise BinanceError(-2014)
        ident = self.identities.get(api_key)
        if ident is None:
            raise BinanceError(-2015)
        return ident

    def now_ms(self) -> int:
        """The exchange's own clock: engine, events (E/T), limits and listenKeys; it never jumps."""
        return self._clock()

    def server_time_ms(self) -> int:
        """The exchange's time as a drifted client meets it: `serverTime` and the timestamp check.

        Client and simulator share this computer's clock, so "our clock is `skew_ms` behind the
        exchange's" is modelled where the two clocks meet: the time the exchange reports and the
        `timestamp`/`recvWindow` rule (-1021). A real exchange's clock does not jump when ours
        does, so its event times stay on `now_ms` and stay monotonic.
        """
        return self._clock() + self.skew_ms

    def error_body(self, exc: BinanceError) -> dict[str, Any]:
        """An error as a client reads it: the times in its `data` (a 429/418's `serverTime` and
        `retryAfter`) on the clock the exchange reports, so `retryAfter - serverTime` holds."""
        body = exc.body()
        data = body.get("data")
        if self.skew_ms and isinstance(data, dict):
            body["data"] = {
                k: v + self.skew_ms if k in ("serverTime", "retryAfter") and isinstance(v, int) else v
                for k, v in data.items()
            }
        return body

    # ---- URLs ------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server.port

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_api_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws-fapi/v1"

    @property
    def stream_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.port}/_sim"

    def info(self) -> dict[str, Any]:
        """What `sidedesk sim binance` prints: URLs and the (public, test-only) keys."""
        return {
            "sim": "binance-usdm",
            "rest": self.rest_url,
            "ws_api": self.ws_api_url,
            "streams": {
                "root": self.stream_url,
                "public": f"{self.stream_url}/public",
                "market": f"{self.stream_url}/market",
                "private": f"{self.stream_url}/private",
            },
            "control": self.control_url,
            "seed": self.seed,
            "symbols": list(self.engine.instruments),
            "keys": [i.describe() for i in self.identities.values()],
        }

    # ---- lifecycle -------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application()

        async def rest_handler(request: web.Request) -> web.StreamResponse:
            return await rest.handle(self, request)

        async def ws_api_handler(request: web.Request) -> web.StreamResponse:
            return await wsapi.handle(self, request)

        def stream_handler(route: Any, combined: bool) -> Any:
            async def h(request: web.Request) -> web.StreamResponse:
                return await streamsrv.handle(self, request, route, combined)

            return h

        app.router.add_route("*", "/fapi/{tail:.*}", rest_handler)
        app.router.add_route("*", "/sapi/{tail:.*}", rest_handler)  # the key's permissions
        app.router.add_get("/ws-fapi/v1", ws_api_handler)
        for prefix, route in (
            ("", "legacy"),
            ("/public", "public"),
            ("/market", "market"),
            ("/private", "private"),
        ):
            app.router.add_get(f"{prefix}/ws", stream_handler(route, False))
            app.router.add_get(f"{prefix}/ws/{{tail:.*}}", stream_handler(route, False))
            app.router.add_get(f"{prefix}/stream", stream_handler(route, True))
        control.add_routes(app, self)
        return app

    async def start(self) -> BinanceSim:
        await self.server.start(self.build_app())
        if self.run_clock:
            self.server.start_clock(self.step, self.config.tick_ms / 1000)
        log.info("binance simulator listening on %s", self.rest_url)
        return self

    async def stop(self) -> None:
        await self.server.stop_clock()
        for c in [*self.connections, *self.streams]:
            await c.close()
        await self.server.stop()

    async def __aenter__(self) -> BinanceSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def step(self) -> None:
        """One clock step: advance the engine, fan out, expire listenKeys, sample mark prices."""
        now = self.now_ms()
        self.publish(self.engine.advance(now))
        for key, _account in self.listen_keys.due(now):
            self._listen_key_expired(key, now)
        self._mark_prices(now)
        self._statistics(now)

    # ---- fan-out ---------------------------------------------------------------------------------
    def publish(self, events: list[EngineEvent]) -> None:
        """Turn engine events into Binance frames and queue them on the subscribed connections."""
        now = self.now_ms()
        per_account: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        moved: set[str] = set()
        for ev in events:
            if isinstance(ev, OrderUpdate):
                inst = self.engine.instrument(ev.order.symbol)
                items = per_account.setdefault(ev.account_id, [])
                e_ms = max(now, ev.time_ms)
                if wire.is_trade(ev):
                    items.append(("TRADE_LITE", wire.trade_lite(ev, e_ms)))
                items.append(("ORDER_TRADE_UPDATE", wire.order_trade_update(ev, inst, e_ms)))
            elif isinstance(ev, AlgoUpdate):
                inst = self.engine.instrument(ev.algo.symbol)
                per_account.setdefault(ev.account_id, []).append(
                    ("ALGO_UPDATE", wire.algo_update(ev, inst, max(now, ev.time_ms)))
                )
            elif isinstance(ev, AccountUpdate):
                per_account.setdefault(ev.account_id, []).append(
                    ("ACCOUNT_UPDATE", wire.account_update(ev, max(now, ev.time_ms)))
                )
            elif isinstance(ev, ConfigUpdate):
                per_account.setdefault(ev.account_id, []).append(
                    ("ACCOUNT_CONFIG_UPDATE", wire.config_update(ev, max(now, ev.time_ms)))
                )
            elif isinstance(ev, BookTickerUpdate):
                inst = self.engine.instrument(ev.symbol)
                self._market(
                    "bookTicker", ev.symbol, partial(wire.book_ticker, ev, inst, max(now, ev.time_ms))
                )
                moved.add(ev.symbol)
            elif isinstance(ev, AggTrade):
                inst = self.engine.instrument(ev.symbol)
                self.market_data.symbols[ev.symbol].trade(
                    ev.price, ev.qty, ev.first_trade_id, ev.buyer_is_maker, ev.time_ms
                )
                self._market("aggTrade", ev.symbol, partial(wire.agg_trade, ev, inst, max(now, ev.time_ms)))
                self._market("trade", ev.symbol, partial(wire.trade, ev, inst, max(now, ev.time_ms)))
        for symbol in moved:  # a price jump without a trade still moves tickers and klines
            self.market_data.symbols[symbol].price(self.engine.market(symbol).last_price, now)
        for account, items in per_account.items():
            self._deliver_user(account, items, now)

    def _market(self, kind: str, symbol: str, build: Callable[[], dict[str, Any]]) -> None:
        """Push to the subscribers; the frame is built once, and only if someone subscribed."""
        payload: dict[str, Any] | None = None
        for conn in self.streams:
            for s in conn.subs.live_streams():
                if s.kind == kind and (s.symbol == symbol or s.symbol is None):
                    if payload is None:
                        payload = build()
                    conn.push(s.name, payload)

    def _deliver_user(self, account: str, items: list[tuple[str, dict[str, Any]]], now: int) -> None:
        key = self.listen_keys.key_of(account, now)
        if key is None:
            return
        targets = [c for c in self.streams if key in c.subs.listen_keys]
        if not targets:
            return
        order = self.faults.transform_user_events([str(i) for i in range(len(items))])
        sequence = [items[int(i)] for i in order]
        delay = self.faults.take("delay", "user_events")

        def send() -> None:
            for conn in targets:
                for etype, payload in sequence:
                    if conn.subs.wants_user_event(key, etype):
                        conn.push(key, payload)

        if delay is not None:
            asyncio.get_running_loop().call_later(delay.ms / 1000, send)
        else:
            send()

    def _listen_key_expired(self, key: str, now: int) -> None:
        payload = wire.listen_key_expired(key, now)
        for conn in self.streams:
            if conn.subs.wants_user_event(key, "listenKeyExpired"):
                conn.push(key, payload)

    def _mark_prices(self, now: int) -> None:
        for conn in self.streams:
            for s in conn.subs.live_streams():
                if s.kind != "markPrice":
                    continue
                bucket = now // s.every_ms
                if conn.mark_buckets.get(s.name) == bucket:
                    continue
                conn.mark_buckets[s.name] = bucket
                if s.symbol is not None:
                    inst = self.engine.instrument(s.symbol)
                    conn.push(s.name, wire.mark_price_update(self.engine.market(s.symbol), inst, now))
                else:
                    rows = [
                        wire.mark_price_update(self.engine.market(sym), inst, now)
                        for sym, inst in self.engine.instruments.items()
                    ]
                    conn.push(s.name, rows)

    def _statistics(self, now: int) -> None:
        """Tickers and klines, on their cadences (SimConfig), for the connections that asked."""
        self.market_data.roll(now)
        for conn in self.streams:
            for s in conn.subs.live_streams():
                if s.kind in ("ticker", "miniTicker"):
                    self._ticker(conn, s, now)
                elif s.kind == "kline":
                    self._kline(conn, s, now)

    def _ticker(self, conn: StreamConn, s: StreamName, now: int) -> None:
        every = self.config.ticker_ms if s.symbol is not None else self.config.all_tickers_ms
        state = conn.stream_state.setdefault(s.name, {})
        if state.get("bucket") == now // every:
            return
        state["bucket"] = now // every
        build = wire.ticker_24h if s.kind == "ticker" else wire.mini_ticker
        if s.symbol is not None:
            stats = self.market_data.symbols[s.symbol].rolling(now)
            conn.push(s.name, build(stats, self.engine.instrument(s.symbol), now))
            return
        rows = []  # all-market arrays carry only the tickers that changed (docs)
        for symbol, market in self.market_data.symbols.items():
            stats = market.rolling(now)
            if state.get(symbol) != stats.version:
                state[symbol] = stats.version
                rows.append(build(stats, self.engine.instrument(symbol), now))
        if rows:
            conn.push(s.name, rows)

    def _kline(self, conn: StreamConn, s: StreamName, now: int) -> None:
        assert s.symbol is not None
        state = conn.stream_state.setdefault(s.name, {})
        if state.get("bucket") == now // self.config.kline_ms:
            return
        state["bucket"] = now // self.config.kline_ms
        market = self.market_data.symbols[s.symbol]
        inst = self.engine.instrument(s.symbol)
        current = market.klines[s.interval]
        sent = state.get("open")
        if sent is not None and sent < current.open_ms:
            last = market.closed.get(s.interval)
            if last is not None and last.open_ms >= sent:  # its final update, `x` true
                conn.push(s.name, wire.kline(last, s.symbol, s.interval, inst, now, closed=True))
        if (current.open_ms, current.version) != (sent, state.get("version")):
            conn.push(s.name, wire.kline(current, s.symbol, s.interval, inst, now, closed=False))
            state["open"], state["version"] = current.open_ms, current.version
