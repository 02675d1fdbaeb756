"""The I/O shell around the pure Tradovate modules: REST sign-in and renewal, the trading socket
and the market-data socket (brokers.md §1.1-§1.3, §1.8, §1.9).

- Sign-in: `auth/accesstokenrequest`; an HTTP 200 with `errorText` is refused credentials. A
  penalty `{"p-ticket","p-time"}` is waited out (up to `max_penalty_wait_s`) and the identical
  body resent with the ticket; with `p-captcha` a third-party app cannot recover, so it stops.
- The token is renewed with `auth/renewaccesstoken` before it expires (same session, the sockets
  stay up); when renewal fails, or the token is refused, a new sign-in replaces it.
- Both sockets are `ResilientWebSocket`s with the `[]` heartbeat every `heartbeat_s` and stale
  detection (the server sends `h` when idle, so silence means a dead link); after `fast_attempts`
  failed reconnects in a row they retry slowly, every `slow_retry_s` (net/ws.py). On every (re)open the
  trading socket sends `authorize` and `user/syncrequest` back to back; requests wait (bounded) for
  the sync. The md socket authorizes with `mdAccessToken` and resubscribes its quotes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from sidedesk.brokers.tradovate.config import Endpoints
from sidedesk.brokers.tradovate.protocol import frames as proto
from sidedesk.brokers.tradovate.protocol.messages import (
    Credentials,
    Token,
    TokenError,
    access_token_body,
    parse_token,
    sync_body,
)
from sidedesk.domain import BrokerError
from sidedesk.domain.errors import ErrorCode
from sidedesk.logs import register_secret
from sidedesk.net.backoff import Backoff
from sidedesk.net.ws import AppPing, AuthFailed, NotConnected, ResilientWebSocket, WsStatus

log = logging.getLogger(__name__)

CAPTCHA_WAIT_S = 3600.0  # brokers.md §1.9: a captcha penalty means waiting about an hour
LIMIT_WAIT_S = 3600.0  # a 429 has no ticket: back off for about an hour


def wall_ms() -> int:
    return int(time.time() * 1000)


class TradovateSession:
    def __init__(
        self,
        endpoints: Endpoints,
        creds: Credentials,
        *,
        on_props: Callable[[list[proto.PropsChange]], None],
        on_quotes: Callable[[list[proto.QuoteUpdate]], None],
        on_sync: Callable[[dict[str, Any]], None],
        on_status: Callable[[WsStatus], None] | None = None,
        request_timeout_s: float = 10.0,
        reconnect_wait_s: float = 5.0,
        heartbeat_s: float = 2.5,
        stale_after_s: float | None = 10.0,
        renew_lead_s: float = 600.0,
        max_penalty_wait_s: float = 60.0,
        backoff: Backoff | None = None,
        now: Callable[[], int] = wall_ms,
        fast_attempts: int = 8,
        slow_retry_s: float = 300.0,
    ) -> None:
        self.endpoints = endpoints
        self.creds = creds
        self.request_timeout_s = request_timeout_s
        self.reconnect_wait_s = reconnect_wait_s
        self.renew_lead_ms = int(renew_lead_s * 1000)
        self.max_penalty_wait_s = max_penalty_wait_s
        self._now = now
        self._on_props = on_props
        self._on_quotes = on_quotes
        self._on_sync = on_sync
        self.token: Token | None = None
        self._token_lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[proto.Response]] = {}
        self._ready = asyncio.Event()
        self._auth_refusals = 0
        self._md_symbols: list[str] = []
        self._renewer: asyncio.Task[None] | None = None
        # counters for tests and diagnostics
        self.sign_ins = 0
        self.renewals = 0
        self.penalties_waited = 0
        self.parse_errors = 0
        self.syncs = 0
        ping = AppPing(heartbeat_s, proto.HEARTBEAT)
        self.trading = ResilientWebSocket(
            "tradovate",
            self._trading_url,
            self._on_trading,
            on_open=self._on_trading_open,
            on_close=self._on_trading_close,
            on_status=on_status,
            ping_interval_s=None,
            app_ping=ping,
            stale_after_s=stale_after_s,
            backoff=backoff,
            fast_attempts=fast_attempts,
            slow_retry_s=slow_retry_s,
        )
        self.md = ResilientWebSocket(
            "tradovate-md",
            self._md_url,
            self._on_md,
            on_open=self._on_md_open,
            on_status=on_status,
            ping_interval_s=None,
            app_ping=ping,
            stale_after_s=stale_after_s,
            backoff=backoff,
            fast_attempts=fast_attempts,
            slow_retry_s=slow_retry_s,
        )

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, timeout_s: float = 15.0) -> None:
        """Sign in, open the trading socket and wait for its first sync; raise BrokerError."""
        await self.ensure_token()
        self.trading.start()
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError as exc:
            detail = self.trading.status.last_error or self.trading.status.reason or "no sync"
            raise BrokerError("not_connected", f"could not open the Tradovate socket ({detail})") from exc
        if self._renewer is None:
            self._renewer = asyncio.get_running_loop().create_task(self._renew_loop(), name="tradovate-renew")

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewer
            self._renewer = None
        for ws in (self.md, self.trading):
            await ws.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout_s))
        return self._http

    # -- REST ---------------------------------------------------------------------------------------
    async def _rest(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        token: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = proto.dumps(body)
        try:
            async with self._session().request(
                method, self.endpoints.rest + path, data=data, headers=headers, params=query
            ) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BrokerError("not_connected", f"could not reach Tradovate ({type(exc).__name__})") from exc
        if status == 429:
            raise BrokerError(
                "rate_limited",
                "Tradovate's request limit is reached (HTTP 429); wait about an hour before signing in again",
                429,
                LIMIT_WAIT_S,
            )
        try:
            parsed = proto.loads(text) if text.strip() else None
        except ValueError:
            parsed = text
        return status, parsed

    async def get(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        token = await self.ensure_token()
        status, data = await self._rest("GET", path, token=token.access, query=query)
        if status == 404:
            return None
        if status != 200:
            raise BrokerError("not_connected", f"Tradovate answered {path} with HTTP {status}", status)
        return data

    async def sign_in(self) -> Token:
        """A new session (accesstokenrequest); penalty tickets are waited out when short."""
        body = access_token_body(self.creds)
        for _ in range(5):
            status, data = await self._rest("POST", "/auth/accesstokenrequest", body=body)
            if status != 200:
                raise BrokerError("not_connected", f"Tradovate's sign-in answered HTTP {status}", status)
            penalty = proto.penalty_of(data)
            if penalty is not None:
                self._check_penalty(penalty, "sign-in")
                log.info("Tradovate sign-in penalty: waiting %.1f s before resending", penalty.seconds)
                self.penalties_waited += 1
                await asyncio.sleep(penalty.seconds)
                body = access_token_body(self.creds, penalty.ticket)
                continue
            try:
                token = parse_token(data, self._now())
            except TokenError as exc:
                raise BrokerError("auth", f"Tradovate refused the sign-in: {exc}") from exc
            self._adopt(token)
            self.sign_ins += 1
            return token
        raise BrokerError(
            "rate_limited", "Tradovate kept answering the sign-in with penalty tickets", "p-ticket"
        )

    def _check_penalty(self, p: proto.Penalty, what: str) -> None:
        if p.captcha:
            raise BrokerError(
                "rate_limited",
                f"Tradovate wants a captcha for this {what}, which an app cannot "
                "answer: sign in once on the Tradovate website and try again in about an hour",
                "p-captcha",
                CAPTCHA_WAIT_S,
            )
        if p.seconds > self.max_penalty_wait_s:
            raise BrokerError(
                "rate_limited",
                f"Tradovate asks to wait {p.seconds:.0f} s before the next {what}",
                "p-ticket",
                p.seconds,
            )

    def _adopt(self, token: Token) -> None:
        register_secret(token.access)
        register_secret(token.md)
        self.token = token

    async def renew(self) -> Token:
        token = self.token
        if token is None:
            raise BrokerError("auth", "no Tradovate token to renew")
        status, data = await self._rest("GET", "/auth/renewaccesstoken", token=token.access)
        if status != 200:
            raise BrokerError("auth", f"Tradovate refused the token renewal (HTTP {status})", status)
        try:
            renewed = parse_token(data, self._now())
        except TokenError as exc:
            raise BrokerError("auth", f"Tradovate refused the token renewal: {exc}") from exc
        self._adopt(renewed)
        self.renewals += 1
        return renewed

    async def ensure_token(self) -> Token:
        """A usable token: renewed when due, a new sign-in when missing, expired or not renewable."""
        async with self._token_lock:
            token, now = self.token, self._now()
            if token is None or token.expired(now):
                return await self.sign_in()
            if now >= token.renew_at_ms(self.renew_lead_ms):
                try:
                    return await self.renew()
                except BrokerError as exc:
                    if exc.code != "auth":
                        raise
                    log.info("Tradovate token renewal refused (%s); signing in again", exc.message)
                    return await self.sign_in()
            return token

    async def _renew_loop(self) -> None:
        while True:
            token = self.token
            wait_ms = 1000 if token is None else token.renew_at_ms(self.renew_lead_ms) - self._now()
            await asyncio.sleep(max(0.05, wait_ms / 1000))
            try:
                await self.ensure_token()
            except BrokerError as exc:
                log.warning("Tradovate token renewal failed: %s", exc.message)
                await asyncio.sleep(1.0)

    # -- trading socket ---------------------------------------------------------------------------
    async def _url_with_token(self, url: str) -> str:
        if self._auth_refusals >= 3:
            raise AuthFailed("Tradovate refused the access token three times in a row")
        try:
            await self.ensure_token()
        except BrokerError as exc:
            if exc.code == "auth" or exc.broker_code == "p-captcha":
                raise AuthFailed(exc.message) from exc
            raise NotConnected(exc.message) from exc
        return url

    async def _trading_url(self) -> str:
        return await self._url_with_token(self.endpoints.ws)

    async def _on_trading_open(self, ws: ResilientWebSocket) -> None:
        # Replies are read only after this hook returns: authorize and the sync go out back to back
        # and their answers are handled by callbacks; requests wait for `_ready`.
        self._ready.clear()
        token = self.token
        if token is None:
            raise NotConnected("no token")
        loop = asyncio.get_running_loop()
        auth_id, sync_id = next(self._ids), next(self._ids)
        auth: asyncio.Future[proto.Response] = loop.create_future()
        sync: asyncio.Future[proto.Response] = loop.create_future()
        self._pending[auth_id] = auth
        self._pending[sync_id] = sync
        auth.add_done_callback(self._authorized)
        sync.add_done_callback(self._synced)
        await ws.send(proto.encode_authorize(auth_id, token.access))
        await ws.send(proto.encode_request("user/syncrequest", sync_id, None, sync_body(token.user_id)))

    def _authorized(self, fut: asyncio.Future[proto.Response]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        resp = fut.result()
        if resp.ok:
            self._auth_refusals = 0
            return
        self._auth_refusals += 1
        log.warning("Tradovate refused the socket authorization (%s); signing in again", resp.status)
        self.token = None  # the session ended (expired or kicked): the next connect signs in
        self.trading.reconnect("authorize refused")

    def _synced(self, fut: asyncio.Future[proto.Response]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        resp = fut.result()
        if not resp.ok or not isinstance(resp.data, dict):
            if resp.status != 401:  # 401 is handled by the authorize callback
                log.warning("Tradovate syncrequest failed: %s %s", resp.status, proto.error_text(resp.data))
                self.trading.reconnect("syncrequest failed")
            return
        self.syncs += 1
        try:
            self._on_sync(resp.data)
        finally:
            self._ready.set()

    def _on_trading_close(self, reason: str) -> None:
        self._ready.clear()
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError(reason))

    def _on_trading(self, data: str | bytes) -> None:
        frame = proto.parse_frame(data)
        if isinstance(frame, proto.ParseError):
            self.parse_errors += 1
            log.warning("unreadable Tradovate frame dropped: %s", frame.reason)
            return
        if isinstance(frame, proto.Close):
            log.info("Tradovate closes the socket: %s %s", frame.code, frame.reason)
            return
        if not isinstance(frame, proto.Messages):
            return
        for err in frame.errors:
            self.parse_errors += 1
            log.warning("unreadable Tradovate message dropped: %s", err)
        for item in frame.items:
            if isinstance(item, proto.Response):
                fut = self._pending.pop(item.id, None)
                if fut is not None and not fut.done():
                    fut.set_result(item)
            elif item.name == "props":
                changes, errors = proto.props_changes(item.data)
                self.parse_errors += len(errors)
                if changes:
                    self._on_props(changes)
            elif item.name == "shutdown":
                s = proto.shutdown_of(item.data)
                log.warning("Tradovate shuts the socket down: %s %s", s.reason_code, s.reason)

    async def _wait_ready(self) -> None:
        if self._ready.is_set() and self.trading.connected:
            return
        if self.trading.status.state not in ("connecting", "reconnecting", "connected"):
            raise BrokerError("not_connected", "the Tradovate connection is down; nothing was sent")
        try:
            await asyncio.wait_for(self._ready.wait(), self.reconnect_wait_s)
        except TimeoutError as exc:
            detail = self.trading.status.last_error or self.trading.status.reason or "reconnecting"
            raise BrokerError(
                "not_connected", f"the Tradovate connection is down ({detail}); nothing was sent"
            ) from exc

    async def _roundtrip(
        self, endpoint: str, query: Mapping[str, object] | None, body: Any, mutates: bool
    ) -> proto.Response:
        await self._wait_ready()
        rid = next(self._ids)
        fut: asyncio.Future[proto.Response] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            await self.trading.send(proto.encode_request(endpoint, rid, query, body))
        except ConnectionError as exc:
            self._pending.pop(rid, None)
            raise BrokerError("not_connected", "the Tradovate connection is down; nothing was sent") from exc
        try:
            return await asyncio.wait_for(fut, self.request_timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            self._pending.pop(rid, None)
            if mutates:
                raise BrokerError(
                    "unknown_outcome",
                    f"no answer from Tradovate to {endpoint}; checking whether it took effect",
                ) from exc
            raise BrokerError("not_connected", f"no answer from Tradovate to {endpoint}") from exc

    async def request(
        self,
        endpoint: str,
        body: Any = None,
        query: Mapping[str, object] | None = None,
        *,
        mutates: bool = False,
    ) -> Any:
        """One request over the trading socket; returns `d` of a 2xx answer or raises BrokerError.
        A short penalty is waited out and the identical body resent with its `p-ticket`."""
        for _ in range(4):
            resp = await self._roundtrip(endpoint, query, body, mutates)
            if resp.status == 429:
                raise BrokerError(
                    "rate_limited",
                    "Tradovate's request limit is reached (429); nothing was done; wait before trying again",
                    429,
                    LIMIT_WAIT_S,
                )
            if resp.status == 401:
                self.token = None
                self.trading.reconnect("request refused with 401")
                raise BrokerError(
                    "not_connected", "Tradovate ended the session; reconnecting; nothing was done", 401
                )
            if not resp.ok:
                code: ErrorCode = "invalid" if 400 <= resp.status < 500 else "internal"
                raise BrokerError(
                    code, f"Tradovate: {proto.error_text(resp.data) or resp.status}", resp.status
                )
            penalty = proto.penalty_of(resp.data)
            if penalty is None:
                return resp.data
            self._check_penalty(penalty, endpoint)
            self.penalties_waited += 1
            log.info("Tradovate penalty on %s: waiting %.1f s, then resending", endpoint, penalty.seconds)
            await asyncio.sleep(penalty.seconds)
            body = {**(body if isinstance(body, dict) else {}), "p-ticket": penalty.ticket}
        raise BrokerError(
            "rate_limited", f"Tradovate kept answering {endpoint} with penalty tickets", "p-ticket"
        )

    # -- market data ------------------------------------------------------------------------------
    async def _md_url(self) -> str:
        return await self._url_with_token(self.endpoints.md)

    async def _on_md_open(self, ws: ResilientWebSocket) -> None:
        token = self.token
        if token is None:
            raise NotConnected("no token")
        await ws.send(proto.encode_authorize(next(self._ids), token.md))
        for symbol in self._md_symbols:
            await ws.send(
                proto.encode_request("md/subscribeQuote", next(self._ids), None, {"symbol": symbol})
            )

    def _on_md(self, data: str | bytes) -> None:
        frame = proto.parse_frame(data)
        if isinstance(frame, proto.ParseError):
            self.parse_errors += 1
            return
        if not isinstance(frame, proto.Messages):
            return
        for item in frame.items:
            if isinstance(item, proto.Event) and item.name == "md":
                quotes = proto.quotes_of(item.data)
                if quotes:
                    self._on_quotes(quotes)
            elif isinstance(item, proto.Response) and item.status == 401:
                log.warning("Tradovate refused the md authorization; reconnecting")
                self.md.reconnect("md authorize refused")

    async def subscribe_quotes(self, symbols: list[str]) -> None:
        new = [s for s in symbols if s not in self._md_symbols]
        if not new:
            return
        self._md_symbols.extend(new)
        if self.md.connected:
            for symbol in new:
                body = {"symbol": symbol}
                await self.md.send(proto.encode_request("md/subscribeQuote", next(self._ids), None, body))
        else:
            self.md.start()


__all__ = ["TradovateSession", "wall_ms"]
