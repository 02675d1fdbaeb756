"""The local stream server: a `websockets` asyncio server on 127.0.0.1, read-only.

The decisions live in pure modules (handshake checks, scopes, token bucket, coalescing, the
payload models); this is the shell that holds the connections.

Flow: the desk calls `notify(topic)` after every change it publishes. The core `Coalescer`
decides when the topic goes out: positions at most once per batch window (the leading update at
once, the rest of the window as one event carrying the latest state), quotes and account at most
10 times a second, the rest at once. A flush builds the topic's view once, restricts it once per
distinct account scope, serialises it once per scope, and puts it in each subscribed connection's
outbox. The outbox holds at most one message per topic (latest wins, as every payload is the full
table), so a slow reader costs bounded memory and simply receives fewer, fresher events; its
writer task numbers each event as it goes out, so `seq` never has a gap on a connection.

A client that stops reading is not waited for (issue #18): every frame must be taken by its
socket within `send_timeout_s`, and no more than `max_outbound_bytes` may wait for it besides the
frame being written (checked before each frame and every `WATCH_INTERVAL_S`); past either it is
closed with `CLOSE_SLOW_CONSUMER`. Heartbeat pings are sent from their own task, so a ping stuck
behind a full socket never holds up the silence check. Every close (a dropped client, a revoked
token, the server stopping) is bounded: the closing handshake gets `close_timeout_s`, or less if
the budget is exceeded meanwhile, then the connection is aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import weakref
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, ConnectionClosedError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from sidedesk.core.coalesce import Coalescer
from sidedesk.localstream import scope as scopes
from sidedesk.localstream.handshake import SUBPROTOCOL, Refusal, check, offered_protocols
from sidedesk.localstream.limits import (
    CLOSE_IDLE,
    CLOSE_POLICY,
    CLOSE_REVOKED,
    CLOSE_SERVER_STOPPED,
    CLOSE_SLOW_CONSUMER,
    MAX_STRIKES,
    WATCH_INTERVAL_S,
    WRITE_HIGH_WATER,
    SendLimits,
    TokenBucket,
    burst_for,
)
from sidedesk.localstream.models import (
    CLIENT_MESSAGE,
    LOCAL_TOPICS,
    ErrorMessage,
    Heartbeat,
    Hello,
    Ping,
    Pong,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    payload_json,
)
from sidedesk.localstream.stats import Stats
from sidedesk.localstream.tokens import TokenRecord, TokenSet
from sidedesk.store.config import LocalStreamSettings

log = logging.getLogger(__name__)

BIND = "127.0.0.1"  # never another interface: the stream is for programs on this computer
MAX_CLIENT_FRAME = 16 * 1024
HEARTBEAT_KEY = "heartbeat"  # one heartbeat waits in an outbox at most (the latest)


class Source(Protocol):
    """What the server reads: the desk's topic views (unfiltered) and a few settings."""

    host_version: str

    def view(self, topic: str) -> Any: ...

    def watchlist(self) -> list[str]: ...

    def status_interval_s(self) -> float: ...


@dataclass(slots=True)
class Outgoing:
    kind: Literal["snapshot", "event", "control"]
    topic: str | None
    body: str  # topic messages: the payload JSON; control messages: the whole frame
    created: float  # monotonic time the oldest update waiting in this slot was built
    ts_ms: int


@dataclass(eq=False)
class Conn:
    ws: ServerConnection
    record: TokenRecord
    last_heard: float
    subscribed: set[str] = field(default_factory=set)
    seq: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LOCAL_TOPICS, 0))
    last_body: dict[str, str] = field(default_factory=dict)
    outbox: dict[object, Outgoing] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    close_reason: str | None = None
    strikes: int = 0
    in_flight: int = 0  # size of the frame the writer is handing to the socket (0: none)
    pinger: asyncio.Task[None] | None = None
    closing: asyncio.Task[None] | None = None
    # a close decided while replies wait in the outbox (the rate limit): sent first, then closed
    close_after: tuple[int, str, str] | None = None

    @property
    def buffered(self) -> int:
        """Bytes written to the connection that its socket has not taken yet."""
        return self.ws.transport.get_write_buffer_size()

    @property
    def scope(self) -> frozenset[str] | None:
        return self.record.scope

    def put(self, key: object, out: Outgoing) -> None:
        self.outbox[key] = out
        self.wake.set()

    def offer(self, topic: str, body: str, created: float, ts_ms: int) -> None:
        """A fresh full payload for `topic`; dropped if this connection already has it."""
        if self.last_body.get(topic) == body:
            return
        self.last_body[topic] = body
        waiting = self.outbox.get(topic)
        if waiting is None:
            self.put(topic, Outgoing("event", topic, body, created, ts_ms))
        else:  # still unsent: replace its payload, keep its kind (a snapshot stays one) and age
            self.put(topic, Outgoing(waiting.kind, topic, body, waiting.created, ts_ms))

    def render(self, out: Outgoing) -> str:
        if out.kind == "control":
            return out.body
        assert out.topic is not None
        if out.kind == "event":
            self.seq[out.topic] += 1
        return (
            f'{{"v":1,"type":"{out.kind}","topic":"{out.topic}","seq":{self.seq[out.topic]},'
            f'"ts_ms":{out.ts_ms},"payload":{out.body}}}'
        )


def _intervals(settings: LocalStreamSettings) -> dict[str, float]:
    return {"positions": settings.batch_ms / 1000, "quotes": 0.1, "account": 0.1}


class LocalStreamServer:
    def __init__(
        self,
        source: Source,
        settings: LocalStreamSettings,
        tokens: Callable[[], TokenSet | None],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        close_timeout_s: float = 1.0,
    ) -> None:
        self.source = source
        self.settings = settings
        self.tokens = tokens
        self.clock = clock
        self.wall = wall
        self.close_timeout_s = close_timeout_s
        self.limits = SendLimits.of(settings)
        self.stats = Stats()
        self.coalescer = Coalescer(_intervals(settings))
        self.conns: set[Conn] = set()
        self._server: Server | None = None
        self._port: int | None = None
        self._accepted: weakref.WeakKeyDictionary[ServerConnection, TokenRecord] = weakref.WeakKeyDictionary()
        self._buckets: dict[str, TokenBucket] = {}
        self._keys = itertools.count()
        self._due: set[str] = set()
        self._due_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._status_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int | None:
        return self._port

    async def start(self) -> int:
        """Listen on 127.0.0.1:`settings.port` (0: any free port); returns the port. OSError if taken."""
        if self._server is not None:
            raise RuntimeError("the local stream is already running")
        self._server = await serve(
            self._handle,
            BIND,
            self.settings.port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            ping_interval=None,  # our own heartbeat (with statistics and a configurable timeout)
            max_size=MAX_CLIENT_FRAME,
            max_queue=16,
            compression=None,  # loopback: bandwidth is free, CPU and memory per connection are not
            close_timeout=self.close_timeout_s,
            write_limit=WRITE_HIGH_WATER,
            server_header="Sidedesk",
        )
        sock = next(iter(self._server.sockets))
        self._port = int(sock.getsockname()[1])
        self._status_task = asyncio.get_running_loop().create_task(self._status_loop())
        log.info("local stream listening on %s:%d", BIND, self._port)
        return self._port

    async def stop(self) -> None:
        """Close every connection and stop listening, in about `close_timeout_s` whatever the
        clients do: a client that does not complete the closing handshake in time (one that stopped
        reading cannot even receive the close frame) has its connection aborted."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._status_task is not None:
            self._status_task.cancel()
            self._status_task = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        server.close(close_connections=False)  # no new connections; ours are closed below
        for conn in list(self.conns):
            self._close(conn, CLOSE_SERVER_STOPPED, "server stopped", "server_stopped")
        closing = [c.closing for c in self.conns if c.closing is not None]
        if closing:  # each is bounded by close_timeout_s; the margin is for a busy loop
            await asyncio.wait(closing, timeout=self.close_timeout_s + 1)
        for conn in list(self.conns):  # a close that somehow outlived its own bound
            _abort(conn.ws)
        try:
            await asyncio.wait_for(server.wait_closed(), self.close_timeout_s + 1)
        except TimeoutError:
            log.warning("local stream: connections did not close in time")
            for ws in list(server.connections):
                _abort(ws)
        for task in list(self._tasks):
            task.cancel()
        self._port = None
        log.info("local stream stopped")

    def configure(self, settings: LocalStreamSettings) -> None:
        """New settings for the running server (a new port needs stop + start)."""
        self.settings = settings
        self.coalescer.min_interval = _intervals(settings)
        self.limits = SendLimits.of(settings)
        for bucket in self._buckets.values():
            bucket.rate, bucket.burst = settings.max_messages_per_s, burst_for(settings.max_messages_per_s)

    def connections_of(self, token_id: str) -> int:
        return sum(1 for c in self.conns if c.record.id == token_id)

    def drop_token(self, token_id: str) -> int:
        """Close the connections of a revoked or rotated token; returns how many."""
        n = 0
        for conn in list(self.conns):
            if conn.record.id == token_id:
                self._close(conn, CLOSE_REVOKED, "token revoked or rotated", "token_revoked")
                n += 1
        self._buckets.pop(token_id, None)
        return n

    # -- handshake ----------------------------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        h: Headers = request.headers
        result = check(
            origin=h.get("Origin"),
            authorization=h.get("Authorization"),
            protocols=offered_protocols(h.get_all("Sec-WebSocket-Protocol")),
            allowed_origins=self.settings.allowed_origins,
            tokens=self.tokens(),
            connections_of=self.connections_of,
            max_per_token=self.settings.max_connections_per_token,
        )
        if isinstance(result, Refusal):
            self.stats.refuse(result.reason)
            log.info("local stream: refused a connection (%s)", result.reason)
            return connection.respond(result.status, result.text)
        self.stats.accepted()
        self._accepted[connection] = result
        return None

    @staticmethod
    def _select_subprotocol(
        connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        return Subprotocol(SUBPROTOCOL) if SUBPROTOCOL in offered else None

    # -- one connection ----------------------------------------------------------------------------
    async def _handle(self, ws: ServerConnection) -> None:
        record = self._accepted.pop(ws, None)
        tokens = self.tokens()
        current = tokens.get(record.id) if (record is not None and tokens is not None) else None
        if record is None or current is None or current.digest != record.digest:
            self.stats.refuse("auth_invalid")  # revoked between the handshake and now
            await self._shut(ws, CLOSE_REVOKED, "token revoked")
            return
        if self.connections_of(record.id) >= self.settings.max_connections_per_token:
            self.stats.refuse("connection_limit")  # two handshakes raced past the first check
            await self._shut(ws, CLOSE_POLICY, "too many connections for this token")
            return
        conn = Conn(ws, current, self.clock())
        self.conns.add(conn)
        self.stats.opened()
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self._writer(conn))
        keeper = loop.create_task(self._keepalive(conn))
        self._tasks.update((writer, keeper))
        ended = "client_closed"
        try:
            s = self.settings
            self._control(
                conn,
                Hello(
                    host_version=self.source.host_version,
                    topics=list(LOCAL_TOPICS),
                    accounts=None if current.accounts is None else list(current.accounts),
                    batch_ms=s.batch_ms,
                    heartbeat_s=s.heartbeat_s,
                    idle_timeout_s=s.idle_timeout_s,
                ),
            )
            async for raw in ws:
                self._receive(conn, raw)
        except ConnectionClosedError:
            ended = "abnormal"
        finally:
            self.conns.discard(conn)
            for task in (writer, keeper, conn.pinger):
                if task is not None:
                    task.cancel()
                    self._tasks.discard(task)
            self.stats.closed(conn.close_reason or ended)

    def _receive(self, conn: Conn, raw: str | bytes) -> None:
        now = self.clock()
        conn.last_heard = now
        self.stats.messages_received += 1
        bucket = self._bucket(conn.record.id)
        if not bucket.take(now):
            self.stats.errors["rate_limited"] += 1
            conn.strikes += 1
            if conn.strikes == 1:  # told once per run of refusals, so refusals cannot amplify
                limit = self.settings.max_messages_per_s
                self._error(
                    conn, None, "rate_limited", f"over {limit:g} messages/s for this token; slow down"
                )
            if conn.strikes >= MAX_STRIKES and conn.close_after is None:
                # the answers to the frames it accepted and the error saying why go out first: the
                # reader can take a whole burst before the writer runs once
                conn.close_after = (CLOSE_POLICY, "message rate limit exceeded", "rate_limited")
                conn.wake.set()
            return
        if conn.close_after is not None:
            return  # closing: nothing more is answered
        conn.strikes = 0
        if isinstance(raw, bytes):
            self.stats.errors["bad_request"] += 1
            self._error(conn, None, "bad_request", "send JSON text frames")
            return
        try:
            msg = CLIENT_MESSAGE.validate_json(raw)
        except ValidationError as exc:
            self.stats.errors["bad_request"] += 1
            self._error(conn, _message_id(raw), "bad_request", _describe(exc))
            return
        if isinstance(msg, Subscribe):
            self._subscribe(conn, list(dict.fromkeys(msg.topics)))
            self._control(conn, Subscribed(id=msg.id, topics=sorted(conn.subscribed)))
        elif isinstance(msg, Unsubscribe):
            for topic in msg.topics:
                conn.subscribed.discard(topic)
                conn.outbox.pop(topic, None)
                conn.last_body.pop(topic, None)
            self._control(conn, Unsubscribed(id=msg.id, topics=sorted(conn.subscribed)))
        elif isinstance(msg, Ping):
            self._control(conn, Pong(id=msg.id, ts_ms=int(self.wall() * 1000)))

    def _subscribe(self, conn: Conn, topics: list[str]) -> None:
        now, ts = self.clock(), int(self.wall() * 1000)
        for topic in topics:
            body = self._build(topic, conn.scope, {})
            if body is None:
                self._error(conn, None, "bad_request", f"the {topic} topic is not available right now")
                continue
            conn.subscribed.add(topic)
            conn.last_body[topic] = body
            conn.put(topic, Outgoing("snapshot", topic, body, now, ts))

    def _bucket(self, token_id: str) -> TokenBucket:
        bucket = self._buckets.get(token_id)
        if bucket is None:
            rate = self.settings.max_messages_per_s
            bucket = self._buckets[token_id] = TokenBucket(rate, burst_for(rate))
        return bucket

    def _control(self, conn: Conn, msg: BaseModel, key: object = None) -> None:
        """Queue a control message; one with a `key` replaces an unsent one with the same key."""
        body = msg.model_dump_json()
        key = ("c", next(self._keys)) if key is None else key
        conn.put(key, Outgoing("control", None, body, self.clock(), 0))

    def _error(self, conn: Conn, msg_id: str | int | None, code: str, message: str) -> None:
        self._control(conn, ErrorMessage(id=msg_id, code=code, message=message))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _close(self, conn: Conn, code: int, reason: str, stat: str) -> None:
        """Start closing `conn` (once: later calls change nothing); bounded, see `_shut`."""
        conn.close_reason = conn.close_reason or stat
        if conn.closing is None:
            conn.closing = self._spawn(self._shut(conn.ws, code, reason, conn))

    def _slow(self, conn: Conn, why: str) -> None:
        if conn.closing is not None:
            return
        log.info("local stream: closing a connection of token %s: %s", conn.record.id, why)
        self._close(conn, CLOSE_SLOW_CONSUMER, why, "slow_consumer")

    async def _shut(self, ws: ServerConnection, code: int, reason: str, conn: Conn | None = None) -> None:
        """The closing handshake, for at most `close_timeout_s`, and aborted at once if more than
        the outbound budget piles up meanwhile (a client that stopped reading cannot even receive
        the close frame, and the library keeps answering its pings); then the transport is
        aborted, so the connection is gone whatever the client does."""
        loop = asyncio.get_running_loop()
        handshake = loop.create_task(ws.close(code, reason))
        deadline = loop.time() + self.close_timeout_s
        try:
            while not handshake.done():
                left = deadline - loop.time()
                buffered = ws.transport.get_write_buffer_size()
                if left <= 0 or self.limits.behind(buffered, conn.in_flight if conn is not None else 0):
                    _abort(ws)  # connection_lost follows: the handshake task ends at once
                    break
                await asyncio.wait((handshake,), timeout=min(left, WATCH_INTERVAL_S))
            await handshake
        except ConnectionClosed:
            pass
        finally:
            if not handshake.done():  # we were cancelled: do not leave the connection open
                _abort(ws)
                handshake.cancel()

    def _behind(self, conn: Conn) -> bool:
        if not self.limits.behind(conn.buffered, conn.in_flight):
            return False
        self._slow(conn, f"over {self.limits.max_outbound_bytes} bytes waiting for the client")
        return True

    async def _writer(self, conn: Conn) -> None:
        """Sends the outbox in order; each frame must be taken within `send_timeout_s`."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await conn.wake.wait()
                conn.wake.clear()
                while conn.outbox and conn.closing is None:
                    if self._behind(conn):
                        return
                    key = next(iter(conn.outbox))
                    out = conn.outbox.pop(key)
                    frame = conn.render(out)
                    conn.in_flight = len(frame)
                    try:
                        async with asyncio.timeout(self.limits.send_timeout_s):
                            await conn.ws.send(frame)
                    except TimeoutError:
                        limit = self.limits.send_timeout_s
                        self._slow(conn, f"a frame was not taken within {limit:g} s")
                        return
                    finally:
                        conn.in_flight = 0
                    self.stats.delivered(self.clock() - out.created)
                if conn.close_after is not None and conn.closing is None:
                    self._close(conn, *conn.close_after)
                    return

    async def _keepalive(self, conn: Conn) -> None:
        """The connection's watchdog: a heartbeat (and a protocol ping, whose pong counts as
        hearing from the client) every `heartbeat_s`; the connection is closed after
        `idle_timeout_s` without a frame, or when more than the outbound budget waits for the
        client. It only ever sleeps: pings go out from their own task, as one can wait in the
        socket's flow control for as long as `send_timeout_s`."""
        next_beat = self.clock() + self.settings.heartbeat_s
        while True:
            now = self.clock()
            wake = min(next_beat, conn.last_heard + self.settings.idle_timeout_s, now + WATCH_INTERVAL_S)
            await asyncio.sleep(max(0.0, wake - now))
            if conn.closing is not None:
                return
            now = self.clock()
            if self._behind(conn):
                return
            if now - conn.last_heard >= self.settings.idle_timeout_s:
                idle = self.settings.idle_timeout_s
                self._close(conn, CLOSE_IDLE, f"nothing heard for {idle:g} s", "idle_timeout")
                return
            if now >= next_beat:
                next_beat = now + self.settings.heartbeat_s
                self._control(conn, Heartbeat(ts_ms=int(self.wall() * 1000)), HEARTBEAT_KEY)
                if conn.pinger is None or conn.pinger.done():  # one ping waits for its write at most
                    conn.pinger = self._spawn(self._ping(conn))

    async def _ping(self, conn: Conn) -> None:
        try:
            async with asyncio.timeout(self.limits.send_timeout_s):
                pong = await conn.ws.ping()
        except ConnectionClosed:
            return
        except TimeoutError:
            self._slow(conn, f"a ping was not taken within {self.limits.send_timeout_s:g} s")
            return
        if isinstance(pong, asyncio.Future):
            pong.add_done_callback(partial(self._heard, conn))

    def _heard(self, conn: Conn, fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled() and fut.exception() is None:
            conn.last_heard = self.clock()

    # -- fan-out ------------------------------------------------------------------------------------
    def notify(self, topic: str) -> None:
        """The desk changed `topic` (called synchronously from the desk's publish)."""
        if self._server is None or topic not in LOCAL_TOPICS:
            return
        if not any(topic in c.subscribed for c in self.conns):
            return
        if self.coalescer.offer(topic, None, self.clock()):
            self._due.add(topic)
            if not self._due_scheduled:
                self._due_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush_due)
        else:
            self._arm_timer()

    def _flush_due(self) -> None:
        self._due_scheduled = False
        due, self._due = self._due, set()
        for topic in sorted(due):
            self._fan_out(topic)

    def _arm_timer(self) -> None:
        deadline = self.coalescer.next_deadline()
        if deadline is None:
            return
        if self._timer is not None:
            if self._timer_at <= deadline:
                return
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = asyncio.get_running_loop().call_later(max(0.0, deadline - self.clock()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        for topic, _ in self.coalescer.due(self.clock()):
            self._fan_out(topic)
        self._arm_timer()

    def _fan_out(self, topic: str) -> None:
        conns = [c for c in self.conns if topic in c.subscribed]
        if not conns:
            return
        now, ts = self.clock(), int(self.wall() * 1000)
        cache: dict[object, Any] = {}
        bodies: dict[frozenset[str] | None, str | None] = {}
        for conn in conns:
            if conn.scope not in bodies:
                bodies[conn.scope] = self._build(topic, conn.scope, cache)
            body = bodies[conn.scope]
            if body is not None:
                conn.offer(topic, body, now, ts)

    def _view(self, topic: str, cache: dict[object, Any]) -> Any:
        if topic not in cache:
            cache[topic] = self.source.view(topic)
        return cache[topic]

    def _build(self, topic: str, scope: frozenset[str] | None, cache: dict[object, Any]) -> str | None:
        """The payload JSON of `topic` for connections limited to `scope` (None if it failed)."""
        try:
            full = self._view(topic, cache)
            symbols: set[str] | None = None
            if topic == "quotes" and scope is not None:
                symbols = set(self.source.watchlist()) | scopes.symbols_of(
                    self._view("positions", cache), self._view("orders", cache), scope
                )
            return payload_json(topic, scopes.restrict(topic, full, scope, symbols))
        except Exception:  # a view that cannot be built is logged; the stream goes on
            self.stats.errors["payload"] += 1
            log.exception("local stream: building the %s payload failed", topic)
            return None

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.source.status_interval_s())
            self.notify("status")


def _abort(ws: ServerConnection) -> None:
    ws.transport.abort()  # idempotent; connection_lost follows on the next loop iteration


def _message_id(raw: str) -> str | int | None:
    """The `id` of a message that failed validation, if it is a usable one (to echo it)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    mid = data.get("id") if isinstance(data, dict) else None
    if isinstance(mid, bool):
        return None
    if isinstance(mid, int) and abs(mid) <= 2**53:
        return mid
    return mid if isinstance(mid, str) and len(mid) <= 64 else None


def _describe(exc: ValidationError) -> str:
    """Where and what, without quoting the input."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "(message)"
        msg = err["msg"]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):  # pydantic quotes the tag here
            loc, msg = "type", "must be subscribe, unsubscribe or ping"
        parts.append(f"{loc}: {msg}")
    return "invalid message: " + "; ".join(parts) + " (expected subscribe, unsubscribe or ping)"
