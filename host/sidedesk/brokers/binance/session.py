"""The I/O shell around the pure Binance modules: one WS API connection, REST, and the streams.

- WS API (`ws-fapi`): one persistent connection; request ids map replies to futures; every reply's
  `rateLimits` feeds the local limiter. Ed25519 keys log the session on once (`session.logon`);
  HMAC/RSA keys sign every request (binance.md §2.4). A `-1021`/`-5028` reply resyncs the clock
  and the request is sent once more (it was rejected, so it did not execute). A request made while
  the connection is being re-established waits for it (bounded by `reconnect_wait_s`).
- REST (aiohttp): exchangeInfo, time, leverage, position mode, open (algo) orders, cancel-all.
- Streams: user data on `/private/ws?listenKey=…&events=…` (allow-list including
  `listenKeyExpired`), mark price on `/market`, book ticker on `/public` (binance.md §4.2, §5.1).

Connections are `net.ws.ResilientWebSocket`s (reconnect with back-off, heartbeats, rotation).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any, Literal

import aiohttp

from sidedesk.brokers.binance.clock import ClockSync, local_ms, sync
from sidedesk.brokers.binance.config import Endpoints
from sidedesk.brokers.binance.protocol import messages as msg
from sidedesk.brokers.binance.protocol import replies
from sidedesk.brokers.binance.protocol.errors import describe, is_clock_error
from sidedesk.brokers.binance.protocol.events import StreamEvent, parse_stream_frame
from sidedesk.brokers.binance.protocol.fields import MalformedMessage, ParseError
from sidedesk.brokers.binance.protocol.ratelimit import RateLimiter
from sidedesk.domain import BrokerError
from sidedesk.net.ws import AuthFailed, ResilientWebSocket, WsStatus

log = logging.getLogger(__name__)

Environment = Literal["live", "testnet", "demo", "simulator"]
# When the current task's last WS API request left for the socket (per task, so concurrent
# requests never read each other's time).
SENT_NS: ContextVar[int] = ContextVar("binance_sent_ns", default=0)
# the key itself is refused (invalid, revoked, or not allowed from this IP)
REVOKED_CODES = (-2014, -2015)
USER_EVENTS = (
    "ORDER_TRADE_UPDATE",
    "ACCOUNT_UPDATE",
    "ALGO_UPDATE",
    "ACCOUNT_CONFIG_UPDATE",
    "listenKeyExpired",
)


class BinanceSession:
    def __init__(
        self,
        endpoints: Endpoints,
        creds: msg.Credentials,
        *,
        on_event: Callable[[StreamEvent], None],
        on_status: Callable[[WsStatus], None] | None = None,
        on_auth_failed: Callable[[str], None] | None = None,
        limiter: RateLimiter | None = None,
        clock: ClockSync | None = None,
        account_id: str = "",
        recv_window: int = msg.DEFAULT_RECV_WINDOW,
        request_timeout_s: float = 10.0,
        reconnect_wait_s: float = 2.0,
        user_events: Iterable[str] = USER_EVENTS,
        keepalive_s: float = 30 * 60,
        now: Callable[[], float] = local_ms,
    ) -> None:
        self.endpoints = endpoints
        self.creds = creds
        self.limiter = limiter or RateLimiter()
        self.clock = clock or ClockSync()
        self.account_id = account_id
        self.recv_window = recv_window
        self.request_timeout_s = request_timeout_s
        self.reconnect_wait_s = reconnect_wait_s
        self.user_events = tuple(user_events)
        self.keepalive_s = keepalive_s
        self._now = now
        self._on_event = on_event
        self._on_status = on_status
        self._on_auth_failed = on_auth_failed
        # set once Binance says the key itself is invalid, revoked or not allowed from this IP:
        # every socket stops and nothing is retried until the account is set up again
        self.auth_error: str | None = None
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[msg.WsReply]] = {}
        self._http: aiohttp.ClientSession | None = None
        self._sync_lock = asyncio.Lock()
        self._logged_on = False
        self._logon_done = asyncio.Event()
        self._listen_key: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._mark_symbols: set[str] = set()
        self._book_symbols: set[str] = set()
        self.parse_errors = 0
        self.api = ResilientWebSocket(
            "binance-api",
            self._api_url,
            self._on_api_message,
            on_open=self._on_api_open,
            on_close=self._on_api_close,
            on_status=on_status,
            max_age_s=23 * 3600,  # rotate before Binance's 24 h limit
        )
        self.user = ResilientWebSocket(
            "binance-user", self._user_url, self._on_stream_message, on_status=on_status, max_age_s=23 * 3600
        )
        self.market = ResilientWebSocket(
            "binance-market",
            self._market_url,
            self._on_stream_message,
            on_status=on_status,
            max_age_s=23 * 3600,
        )
        self.public = ResilientWebSocket(
            "binance-public",
            self._public_url,
            self._on_stream_message,
            on_status=on_status,
            max_age_s=23 * 3600,
        )

    # -- lifecycle --------------------------------------------------------------------------------

    async def start_api(self, timeout_s: float = 10.0) -> None:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout_s))
        self.api.start()
        try:
            await self.api.wait_connected(timeout_s)
        except TimeoutError as exc:
            detail = self.api.status.last_error or "no answer"
            raise BrokerError("not_connected", f"could not reach the Binance WS API ({detail})") from exc

    async def start_user_stream(self, timeout_s: float = 10.0) -> None:
        self.user.start()
        try:
            await self.user.wait_connected(timeout_s)
        except TimeoutError as exc:
            detail = self.user.status.last_error or "no answer"
            raise BrokerError(
                "not_connected", f"could not open the Binance account stream ({detail})"
            ) from exc
        self._spawn(self._keepalive_loop(), "binance-listenkey-keepalive")
        self._spawn(self._resync_loop(), "binance-clock-resync")

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        if self._listen_key is not None and self.api.connected:
            with contextlib.suppress(BrokerError):
                await asyncio.wait_for(self.call(msg.user_stream_stop()), 2.0)
        for ws in (self.public, self.market, self.user, self.api):
            await ws.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    # -- time -------------------------------------------------------------------------------------

    async def sync_time(self, samples: int = 5) -> None:
        async with self._sync_lock:
            if not self.clock.needs_resync(self._now()):
                return  # another caller synced while we waited for the lock

            async def fetch() -> int:
                return replies.server_time_ms(await self.rest(msg.server_time(), _no_sync=True))

            try:
                ok = await sync(self.clock, fetch, samples=samples, now=self._now)
            except MalformedMessage as exc:
                raise BrokerError(
                    "internal", "Binance's time endpoint answered something unreadable"
                ) from exc
            if not ok:
                raise BrokerError(
                    "not_connected", "could not sync the clock with Binance (round trips too slow)"
                )

    def server_now_ms(self) -> int:
        return self.clock.server_now_ms(self._now())

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.clock.resync_every_ms / 1000)
            try:
                self.clock.mark_stale()
                await self.sync_time()
            except BrokerError as exc:
                log.warning("periodic time sync failed: %s", exc.message)

    # -- rate limits ------------------------------------------------------------------------------

    def _acquire(self, weight: int, orders: int) -> None:
        verdict = self.limiter.acquire(self.server_now_ms(), weight=weight, orders=orders)
        if not verdict.allowed:
            raise BrokerError(
                "rate_limited",
                f"Binance's {verdict.pool} limit is nearly used up; "
                f"try again in {verdict.retry_after_s:.1f} s",
                verdict.pool,
                verdict.retry_after_s,
            )

    def _failure(self, status: int, code: int | None, text: str, retry_after_ms: int | None) -> BrokerError:
        retry_s: float | None = None
        if retry_after_ms is not None:
            retry_s = max(0.0, (retry_after_ms - self.server_now_ms()) / 1000)
        elif status in (418, 429) or code == -1003:
            retry_s = 60.0 if status != 418 else 120.0  # Binance bans start at 2 minutes
        err = describe(status, code, text, retry_after_s=retry_s)
        if code in REVOKED_CODES or status == 401:
            self._revoked(err.message)
        if err.code == "rate_limited" and retry_s:
            self.limiter.block_until(self.server_now_ms() + int(retry_s * 1000), f"HTTP {status}")
        return err

    def _revoked(self, message: str) -> None:
        if self.auth_error is not None:
            return
        self.auth_error = message
        log.error("Binance refused the API key (%s); stopping this account's connections", message)
        if self._on_auth_failed is not None:
            self._on_auth_failed(message)
        with contextlib.suppress(RuntimeError):
            self._spawn(self._stop_sockets(), "binance-auth-stop")

    async def _stop_sockets(self) -> None:
        for ws in (self.public, self.market, self.user, self.api):
            await ws.stop()

    # -- WS API -----------------------------------------------------------------------------------

    async def _api_url(self) -> str:
        return self.endpoints.ws_api

    async def _on_api_open(self, ws: ResilientWebSocket) -> None:
        # Replies are only read once this hook returns, so logon is sent here and its reply
        # handled by `_on_api_message`; signed requests wait for it (bounded) via `_logon_done`.
        self._logged_on = False
        self._logon_done.clear()
        if not self.creds.signer.supports_session_logon:
            self._logon_done.set()
            return
        if self.clock.stale:
            await self.sync_time()
        rid = f"logon-{next(self._ids)}"
        params = msg.ws_params(msg.session_logon(), self.creds, timestamp=self.server_now_ms())
        fut: asyncio.Future[msg.WsReply] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        fut.add_done_callback(self._logon_reply)
        await ws.send(msg.encode_ws(rid, "session.logon", params))

    def _logon_reply(self, fut: asyncio.Future[msg.WsReply]) -> None:
        if not fut.cancelled() and fut.exception() is None and fut.result().ok:
            self._logged_on = True
        elif not fut.cancelled() and fut.exception() is None:
            r = fut.result()
            # fall back to per-request signatures, which every key type supports
            log.warning("session.logon refused (%s %s); signing each request", r.error_code, r.error_msg)
            if r.error_code in REVOKED_CODES or r.status == 401:
                self._revoked(describe(r.status, r.error_code, r.error_msg).message)
            if r.error_code in (-1021, -5028):
                self.clock.mark_stale()
        self._logon_done.set()

    def _on_api_close(self, reason: str) -> None:
        self._logged_on = False
        self._logon_done.clear()
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError(reason))

    def _on_api_message(self, data: str | bytes) -> None:
        reply = msg.parse_ws_reply(data)
        if isinstance(reply, ParseError):
            self.parse_errors += 1
            log.warning("unreadable WS API frame: %s", reply.reason)
            return
        if reply.rate_limits:
            self.limiter.observe(reply.rate_limits, self.server_now_ms())
        fut = self._pending.pop(str(reply.id), None)
        if fut is None:
            if reply.status == 401:  # key revoked mid-session (id null)
                log.error("Binance revoked the session: %s %s", reply.error_code, reply.error_msg)
            return
        if not fut.done():
            fut.set_result(reply)

    async def call(self, call: msg.WsCall) -> Any:
        """Send one WS API request and return its `result`, or raise BrokerError."""
        self._acquire(call.weight, call.orders)
        if call.security == "signed" and self.clock.stale:
            await self.sync_time()
        for attempt in (0, 1):
            reply = await self._roundtrip(call)
            if reply.ok:
                return reply.result
            err = self._failure(reply.status, reply.error_code, reply.error_msg, reply.retry_after_ms)
            if is_clock_error(err) and attempt == 0:
                log.info("%s: %s; resyncing the clock and retrying once", call.method, reply.error_code)
                self.clock.mark_stale()
                await self.sync_time()
                continue
            raise err
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait_api(self) -> None:
        """A request made while the WS API reconnects waits (bounded) for the connection instead of
        failing at once: a dropped connection is usually back in well under a second, and a request
        that was never written is safe to send late. Stopped or failed for good: refuse at once."""
        if self.api.connected:
            return
        if self.api.status.state not in ("connecting", "reconnecting"):
            raise BrokerError("not_connected", "the Binance connection is down; nothing was sent")
        try:
            await self.api.wait_connected(self.reconnect_wait_s)
        except TimeoutError as exc:
            detail = self.api.status.last_error or self.api.status.reason or "reconnecting"
            raise BrokerError(
                "not_connected", f"the Binance connection is down ({detail}); nothing was sent"
            ) from exc

    async def _roundtrip(self, call: msg.WsCall) -> msg.WsReply:
        await self._wait_api()
        if call.security == "signed" and self.creds.signer.supports_session_logon:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._logon_done.wait(), self.request_timeout_s)
        rid = str(next(self._ids))
        params = msg.ws_params(
            call,
            self.creds,
            timestamp=self.server_now_ms(),
            recv_window=self.recv_window,
            logged_on=self._logged_on,
        )
        fut: asyncio.Future[msg.WsReply] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        data = msg.encode_ws(rid, call.method, params)
        try:
            # this task's request: the host's intent -> socket latency, stamped as the frame is
            # handed to the socket. Stamped after the write, it read ~0.5 ms (bench, loopback,
            # 2 vCPUs, orders 2 ms apart): the write did not yield to the loop, yet returned that
            # late, after the frame had reached the simulator (host_us above the outside-in
            # figure) — the process descheduled while the exchange's, woken by the frame, ran
            SENT_NS.set(time.perf_counter_ns())
            await self.api.send(data)
        except ConnectionError as exc:
            self._pending.pop(rid, None)
            raise BrokerError("not_connected", "the Binance connection is down; nothing was sent") from exc
        try:
            return await asyncio.wait_for(fut, self.request_timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            self._pending.pop(rid, None)
            if call.mutates:
                raise BrokerError(
                    "unknown_outcome",
                    f"no answer from Binance to {call.method}; checking whether it took effect",
                ) from exc
            raise BrokerError("not_connected", f"no answer from Binance to {call.method}") from exc

    # -- REST -------------------------------------------------------------------------------------

    async def rest(self, call: msg.RestCall, *, base: str | None = None, _no_sync: bool = False) -> Any:
        """One REST call to `base` (default: the environment's REST host; the key-permission call
        goes to its `sapi` host)."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout_s))
        self._acquire(call.weight, 0)
        if call.security == "signed" and self.clock.stale and not _no_sync:
            await self.sync_time()
        for attempt in (0, 1):
            req = msg.encode_rest(
                call, self.creds, timestamp=self.server_now_ms(), recv_window=self.recv_window
            )
            try:
                async with self._http.request(
                    req.http_method, (base or self.endpoints.rest) + req.path_and_query, headers=req.headers
                ) as resp:
                    self.limiter.observe_headers(dict(resp.headers), self.server_now_ms())
                    body = await resp.text()
                    status = resp.status
                    retry_hdr = resp.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as exc:
                if call.mutates:
                    raise BrokerError(
                        "unknown_outcome", f"no answer from Binance to {call.path}; checking"
                    ) from exc
                raise BrokerError("not_connected", f"could not reach Binance ({type(exc).__name__})") from exc
            data = _json(body)
            if 200 <= status < 300 and not (isinstance(data, dict) and _is_error_body(data)):
                return data
            code = data.get("code") if isinstance(data, dict) else None
            text = str(data.get("msg", "")) if isinstance(data, dict) else body[:200]
            retry_ms = (
                self.server_now_ms() + int(float(retry_hdr) * 1000)
                if retry_hdr and retry_hdr.replace(".", "", 1).isdigit()
                else None
            )
            err = self._failure(status, code if isinstance(code, int) else None, text, retry_ms)
            if is_clock_error(err) and attempt == 0 and not _no_sync:
                self.clock.mark_stale()
                await self.sync_time()
                continue
            raise err
        raise AssertionError("unreachable")  # pragma: no cover

    # -- streams ----------------------------------------------------------------------------------

    async def _user_url(self) -> str:
        if self.auth_error is not None:
            raise AuthFailed(self.auth_error)
        try:
            result = await self.call(msg.user_stream_start())
        except BrokerError as exc:
            if self.auth_error is not None:  # the key is refused: stop, do not retry in a loop
                raise AuthFailed(exc.message) from exc
            raise
        self._listen_key = replies.listen_key(result)
        events = "/".join(self.user_events)
        return f"{self.endpoints.stream}/private/ws?listenKey={self._listen_key}&events={events}"

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_s)
            try:
                await self.call(msg.user_stream_ping())
            except BrokerError as exc:
                log.warning("listenKey keepalive failed (%s); reopening the account stream", exc.message)
                self.user.reconnect("listenKey keepalive failed")

    def _on_stream_message(self, data: str | bytes) -> None:
        out = parse_stream_frame(data, self.account_id)
        if isinstance(out, ParseError):
            self.parse_errors += 1
            log.warning("unreadable stream frame dropped: %s", out.reason)
            return
        for ev in out:
            self._on_event(ev)

    def renew_user_stream(self, reason: str) -> None:
        """After `listenKeyExpired`: reconnect; the URL callable fetches a fresh key."""
        self.user.reconnect(reason)

    async def subscribe(self, symbols: Iterable[str]) -> None:
        """Mark price (1 s) on /market and book ticker on /public for these symbols (added to the set)."""
        new = {s.lower() for s in symbols} - self._mark_symbols
        if not new:
            return
        self._mark_symbols |= new
        self._book_symbols |= new
        for ws, suffix in ((self.market, "@markPrice@1s"), (self.public, "@bookTicker")):
            if ws.connected:
                sub = {
                    "method": "SUBSCRIBE",
                    "params": [f"{s}{suffix}" for s in sorted(new)],
                    "id": next(self._ids),
                }
                await ws.send(json.dumps(sub))
            else:
                ws.start()

    async def _market_url(self) -> str:
        names = "/".join(f"{s}@markPrice@1s" for s in sorted(self._mark_symbols))
        return f"{self.endpoints.stream}/market/stream?streams={names}"

    async def _public_url(self) -> str:
        names = "/".join(f"{s}@bookTicker" for s in sorted(self._book_symbols))
        return f"{self.endpoints.stream}/public/stream?streams={names}"


def _json(body: str) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _is_error_body(data: Mapping[str, Any]) -> bool:
    # cancel-all endpoints answer {"code": 200, "msg": ...} on success; errors carry a negative code
    code = data.get("code")
    return isinstance(code, int) and code < 0


__all__ = ["SENT_NS", "USER_EVENTS", "BinanceSession"]
