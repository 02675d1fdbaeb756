"""The I/O shell: REST token, one binary WebSocket, login, requests by id, application pings.

Each (re)connection runs: POST for a fresh one-shot token (the URL callable of
`ResilientWebSocket`, so a reconnect never reuses a token) -> open the socket -> `LoginReq`
(ExistingAndNew) -> the login answer. Replies are read only after `on_open` returns, so the
login answer is handled in `_on_message`; requests wait for `ready` (bounded).

Heartbeat: `Ping{Connected}` every `ping_interval_s` (≤ 30 s: the vendor PDF says 30 s, with the
server dropping a session after 60 s of silence). The server's `Pong`s keep the connection fresh;
silence beyond twice the interval (+10 s) counts as a dead connection.

`LoggedOff` (another session logged in with the same user) ends the connection; the next
attempt logs in again with a new token. A second LoggedOff within `logged_off_window_s` stops
the retries (two programs would only keep throwing each other out). Our own login asks to keep
the user's other sessions (`keep_concurrent`, KeepConcurrentSessionOn: "default is false, so if
there is a concurrent session, it is dropped", vendor proto v5.1), so the trader's main platform
stays logged in beside Sidedesk; a v5 server has no such field and drops it regardless.

Protocol version: every login answer says which dialect the server speaks (`protocol/dialect.py`); every
frame after it is translated at this boundary, so the adapter sees one model. A version we do not
know, or frames that contradict the version, end the session with `refusal` set: nothing is sent
any more (orders are refused with that sentence), the socket is not retried, and `start` raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from sidedesk.brokers.volumetrica.protocol import dialect, wire
from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk.brokers.volumetrica.protocol.auth import (
    TOKEN_PATH,
    Credentials,
    Grant,
    TokenRefused,
    parse_grant,
    token_body,
)
from sidedesk.domain import BrokerError
from sidedesk.logs import register_secret
from sidedesk.net.backoff import Backoff
from sidedesk.net.ws import AppPing, AuthFailed, NotConnected, ResilientWebSocket, WsStatus

log = logging.getLogger(__name__)

MAX_PING_INTERVAL_S = 30.0
LOGIN_FAILURES_BEFORE_STOP = 3


class VolumetricaSession:
    def __init__(
        self,
        auth_url: str,
        creds: Credentials,
        *,
        on_frame: Callable[[pb.ServerResponseMsg], None],
        on_status: Callable[[WsStatus], None] | None = None,
        on_logged_in: Callable[[], None] | None = None,
        ping_interval_s: float = 25.0,
        request_timeout_s: float = 10.0,
        logged_off_window_s: float = 120.0,
        backoff: Backoff | None = None,
        keep_concurrent: bool = True,
    ) -> None:
        if not 0 < ping_interval_s <= MAX_PING_INTERVAL_S:
            raise BrokerError(
                "invalid", f"the Volumetrica ping interval must be 0 to {MAX_PING_INTERVAL_S:g} s"
            )
        self.auth_url = auth_url.rstrip("/")
        self.creds = creds
        self.request_timeout_s = request_timeout_s
        self.ping_interval_s = ping_interval_s
        self.keep_concurrent = keep_concurrent
        self.dialect: dialect.Dialect | None = None  # from this connection's login answer
        self.refusal: str | None = None  # why this server is not traded on (protocol/dialect.py)
        self._on_frame = on_frame
        self._on_logged_in = on_logged_in
        self._logged_off_window = logged_off_window_s
        self._http: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._ids = itertools.count(1)
        self._pending: dict[tuple[str, int], asyncio.Future[Any]] = {}
        self._history: dict[int, pb.AccountHistoricalSessionRespMsg] = {}  # answers in parts
        self.ready = asyncio.Event()
        self.login_failures = 0
        self.login_reason = ""
        self._logged_off: list[float] = []
        self.tokens_used = 0
        self.parse_errors = 0
        self.last_send_ns = 0
        self.ws = ResilientWebSocket(
            "volumetrica",
            self._url,
            self._on_message,
            on_open=self._on_open,
            on_close=self._on_close,
            on_status=on_status,
            ping_interval_s=None,  # the protocol's own Ping, not RFC 6455 pings
            app_ping=AppPing(ping_interval_s, wire.ping()),
            stale_after_s=ping_interval_s * 2 + 10,
            backoff=backoff,
        )

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self, timeout_s: float = 15.0) -> None:
        """Connect and log in; BrokerError if that does not happen within `timeout_s`."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout_s))
        self.refusal = None  # a new attempt reads the server's version anew
        self.ws.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not self.ready.is_set():
            st = self.ws.status
            if self.refusal is not None:
                raise BrokerError("not_connected", self.refusal)
            if st.state == "auth_failed":
                raise BrokerError("auth", st.last_error or "Volumetrica refused the login")
            if loop.time() > deadline or st.state == "gave_up":
                detail = self.login_reason or st.last_error or st.reason or "no answer"
                raise BrokerError("not_connected", f"could not log in to Volumetrica ({detail})")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), 0.05)

    async def close(self) -> None:
        await self.ws.stop()
        self._fail_pending("closed")
        if self._http is not None:
            await self._http.close()
            self._http = None

    # -- token and login --------------------------------------------------------------------------
    async def fetch_grant(self) -> Grant:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.request_timeout_s))
        headers = {"PltfKey": self.creds.platform_key, "Content-Type": "application/json"}
        try:
            async with self._http.post(
                self.auth_url + TOKEN_PATH, json=token_body(self.creds), headers=headers
            ) as r:
                try:
                    body = await r.json(content_type=None)
                except ValueError:
                    body = None
                return parse_grant(r.status, body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BrokerError(
                "not_connected", f"Volumetrica's login service is unreachable ({type(exc).__name__})"
            ) from exc

    async def _url(self) -> str:
        if self.refusal is not None:
            raise AuthFailed(self.refusal)  # stops the socket's retries: a new start() asks again
        now = time.monotonic()
        recent = [t for t in self._logged_off if now - t < self._logged_off_window]
        if len(recent) >= 2:
            raise AuthFailed(
                "logged off twice: another session uses this Volumetrica login; close it and reconnect"
            )
        if self.login_failures >= LOGIN_FAILURES_BEFORE_STOP:
            raise AuthFailed(
                f"Volumetrica refused the login {self.login_failures} times: {self.login_reason}"
            )
        try:
            grant = await self.fetch_grant()
        except TokenRefused as exc:
            raise AuthFailed(exc.message) from exc
        except BrokerError as exc:
            raise NotConnected(exc.message) from exc
        register_secret(grant.wss_token)
        if grant.report_token:
            register_secret(grant.report_token)
        self._token = grant.wss_token
        self.tokens_used += 1
        return grant.wss_endpoint

    async def _on_open(self, ws: ResilientWebSocket) -> None:
        self.ready.clear()
        self.dialect = None  # each login answer says it again (a server may be upgraded meanwhile)
        token, self._token = self._token, None  # one use only
        if token is None:
            raise NotConnected("no login token")
        await ws.send(wire.login(token, keep_concurrent=self.keep_concurrent))

    def _on_close(self, reason: str) -> None:
        self.ready.clear()
        self._fail_pending(reason)

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError(reason))

    # -- frames -----------------------------------------------------------------------------------
    def _on_message(self, data: str | bytes) -> None:
        if self.refusal is not None:
            return  # closing: nothing this server says is read any more
        try:
            msg = wire.parse_server(data, self.dialect)
        except dialect.Mismatch as exc:
            self._refuse(str(exc))
            return
        if isinstance(msg, wire.ParseError):
            self.parse_errors += 1
            log.warning("volumetrica: frame dropped: %s", msg.reason)
            return
        if msg.HasField("login_msg"):
            if not self._login_answer(msg.login_msg):
                return
            if self.dialect is dialect.V5 and len(msg.ListFields()) > 1:
                msg = wire.parse_server(data, self.dialect)  # the rest of the frame, read as v5
                if isinstance(msg, wire.ParseError):
                    return
        if msg.HasField("info_msg"):
            self._resolve("info", msg.info_msg.request_id, msg.info_msg)
        if msg.HasField("contract_msg"):
            self._resolve("contract", msg.contract_msg.request_id, msg.contract_msg)
        if msg.HasField("symbol_lookup"):
            self._resolve("lookup", msg.symbol_lookup.request_id, msg.symbol_lookup)
        if msg.HasField("cancel_flat_msg"):
            self._resolve("cancel_flat", msg.cancel_flat_msg.request_id, msg.cancel_flat_msg)
        if msg.HasField("account_historical_session_resp"):
            self._history_part(msg.account_historical_session_resp)
        if msg.HasField("logged_off"):
            self._logged_off.append(time.monotonic())
            self.ready.clear()
            log.warning("volumetrica: logged off by the server: %s", msg.logged_off.reason)
        self._on_frame(msg)
        if msg.HasField("logged_off"):
            self.ws.reconnect(f"logged off: {msg.logged_off.reason or 'no reason given'}")

    def _login_answer(self, ans: pb.LoginResponseMsg) -> bool:
        """False when the server is refused (a version we do not know): read nothing more of it."""
        if ans.success:
            self.login_failures = 0
            self.login_reason = ""
            spoken = dialect.from_login(ans)
            if isinstance(spoken, dialect.Unknown):
                self._refuse(spoken.message)
                return False
            log.info("volumetrica: the server speaks protocol %s (Version %d)", spoken, ans.version)
            self.dialect = spoken
            self.ready.set()
            if self._on_logged_in is not None:
                self._on_logged_in()
            return True
        self.login_failures += 1
        self.login_reason = ans.reason or pb.LoginReasonCode.Name(ans.reason_code)
        log.warning("volumetrica: login refused: %s", self.login_reason)
        self.ws.reconnect(f"login refused: {self.login_reason}")
        return True

    def _refuse(self, why: str) -> None:
        """This server cannot be read safely: stop sending, end the session, do not retry it."""
        self.refusal = why
        self.ready.clear()
        log.error("volumetrica: %s", why)
        self._fail_pending(why)
        self.ws.reconnect(why)  # the next attempt's _url raises AuthFailed: the socket stops

    def _history_part(self, part: pb.AccountHistoricalSessionRespMsg) -> None:
        """The history answer may come in parts (IsPartial): the request resolves with them all."""
        rid = part.request_id
        if ("history", rid) not in self._pending:
            return
        whole = self._history.setdefault(rid, pb.AccountHistoricalSessionRespMsg(request_id=rid))
        whole.orders.extend(part.orders)
        if not part.is_partial:
            self._resolve("history", rid, self._history.pop(rid))

    def _resolve(self, kind: str, rid: int, value: Any) -> None:
        fut = self._pending.pop((kind, rid), None)
        if fut is not None and not fut.done():
            fut.set_result(value)

    # -- requests ---------------------------------------------------------------------------------
    async def wait_ready(self, timeout_s: float | None = None) -> None:
        try:
            await asyncio.wait_for(self.ready.wait(), timeout_s or self.request_timeout_s)
        except TimeoutError as exc:
            raise BrokerError("not_connected", "not logged in to Volumetrica (reconnecting)") from exc

    async def send(self, frame: bytes) -> None:
        """Send a frame built in the v5.1 model, as the server's dialect expects it."""
        if self.refusal is not None:
            raise BrokerError("not_connected", self.refusal)
        spoken = self.dialect
        if spoken is None:
            raise BrokerError("not_connected", "not logged in to Volumetrica (reconnecting)")
        try:
            frame = dialect.encode_client(frame, spoken)
        except dialect.Unencodable as exc:
            raise BrokerError("invalid", f"cannot send this to a protocol {spoken} server: {exc}") from exc
        try:
            await self.ws.send(frame)
        except NotConnected as exc:
            raise BrokerError("not_connected", f"Volumetrica connection lost ({exc})") from exc
        self.last_send_ns = time.perf_counter_ns()

    def next_id(self) -> int:
        return next(self._ids)

    async def request(self, kind: str, build: Callable[[int], bytes], timeout_s: float | None = None) -> Any:
        """Send a request carrying a RequestId and wait for the answer with the same id."""
        await self.wait_ready()
        rid = self.next_id()
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[(kind, rid)] = fut
        try:
            await self.send(build(rid))
            return await asyncio.wait_for(fut, timeout_s or self.request_timeout_s)
        except TimeoutError as exc:
            raise BrokerError("not_connected", f"Volumetrica did not answer the {kind} request") from exc
        except ConnectionError as exc:
            why = self.refusal or f"Volumetrica connection lost during the {kind} request"
            raise BrokerError("not_connected", why) from exc
        finally:
            self._pending.pop((kind, rid), None)
            self._history.pop(rid, None)
            if not fut.done():
                fut.cancel()
