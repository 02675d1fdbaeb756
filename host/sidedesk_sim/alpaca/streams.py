"""The two WebSocket servers: the trading stream (`/stream`) and the market-data stream (`/v2/{feed}`).

Trading stream (brokers.md §3.2): auth in the current `{"action":"auth","key","secret"}` and the
legacy `{"action":"authenticate","data":{"key_id","secret_key"}}` form (alpaca-py sends the
latter); `listen` sets the full list of streams; `trade_updates` frames are *binary frames holding
UTF-8 JSON*, as on paper trading (`SimConfig.trading_binary`). With the handshake header
`Content-Type: application/msgpack` every frame is MessagePack instead.

Market data (§3.3): `[{"T":"success","msg":"connected"}]` on connect, auth by message or by the
REST headers on the handshake, `subscribe`/`unsubscribe` answered with the full subscription,
quotes (`q`) and trades (`t`) in arrays. MessagePack (binary frames, `t` as a Timestamp
extension) when the handshake says `Content-Type: application/msgpack`, as alpaca-py does;
JSON text (`t` as RFC 3339 with nanoseconds) otherwise. Errors use the documented codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgpack
from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from sidedesk_sim.alpaca.sim import AlpacaSim

log = logging.getLogger("sidedesk_sim.alpaca")

DATA_CHANNELS = ("trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses", "lulds")
MSGPACK = "application/msgpack"


def rfc3339_ns(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


class StreamConn:
    """One server-side connection with an ordered writer and frame-count faults."""

    def __init__(self, sim: AlpacaSim, ws: web.WebSocketResponse, request: web.Request, kind: str) -> None:
        self.sim = sim
        self.ws = ws
        self.request = request
        self.kind = kind  # "trading" | "data"
        self.msgpack = request.headers.get("Content-Type", "").split(";")[0].strip() == MSGPACK
        self.account: str | None = None
        self.key_id: str | None = None
        self.listening: set[str] = set()
        self.subs: dict[str, set[str]] = {c: set() for c in DATA_CHANNELS}
        self.sent = 0
        self.closed = asyncio.Event()
        self._queue: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._fault_frames: dict[int, int] = {}
        self._writer_task = asyncio.create_task(self._writer(), name=f"alpaca-sim-{kind}-writer")

    # -- encoding -----------------------------------------------------------------------------
    def send_obj(self, obj: Any, *, binary_json: bool = False) -> None:
        if self.closed.is_set():
            return
        if self.msgpack:
            self._queue.put_nowait(msgpack.packb(_for_msgpack(obj), use_bin_type=True))
            return
        text = json.dumps(_for_json(obj), separators=(",", ":"))
        self._queue.put_nowait(text.encode("utf-8") if binary_json else text)

    async def _writer(self) -> None:
        try:
            while True:
                frame = await self._queue.get()
                if frame is None or self.ws.closed:
                    return
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
                self.sent += 1
                if self._drop_due():
                    log.warning("fault: dropping %s connection after %d frames", self.kind, self.sent)
                    self.abort()
                    return
        except (ConnectionResetError, RuntimeError):
            self.abort()

    def _drop_due(self) -> bool:
        faults = self.sim.faults
        for f in list(faults.active):
            if f.kind != "drop_after_frames" or f.target not in ("*", self.kind):
                continue
            n = self._fault_frames.get(f.id, 0) + 1
            self._fault_frames[f.id] = n
            if n >= f.frames:
                faults.take("drop_after_frames", self.kind)
                return True
        return False

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (what a network failure looks like)."""
        self.closed.set()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await self.ws.close()

    async def finish(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._writer_task), 1.0)
        self.closed.set()
        self._writer_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer_task

    # -- decoding -----------------------------------------------------------------------------
    def decode(self, msg: Any) -> Any:
        """A client frame as a Python value; raises ValueError when it is not one."""
        if msg.type is WSMsgType.BINARY:
            if self.msgpack:
                try:
                    return msgpack.unpackb(msg.data)
                except Exception as exc:
                    raise ValueError("invalid msgpack") from exc
            return json.loads(msg.data)
        if msg.type is WSMsgType.TEXT:
            return json.loads(msg.data)
        raise ValueError("unsupported frame")


def _for_json(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_for_json(x) for x in obj]
    if isinstance(obj, dict):
        return {
            k: (rfc3339_ns(v) if k == "t" and isinstance(v, int) else _for_json(v)) for k, v in obj.items()
        }
    return obj


def _for_msgpack(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_for_msgpack(x) for x in obj]
    if isinstance(obj, dict):
        return {
            k: (msgpack.Timestamp.from_unix_nano(v) if k == "t" and isinstance(v, int) else _for_msgpack(v))
            for k, v in obj.items()
        }
    return obj


async def _serve(sim: AlpacaSim, request: web.Request, kind: str) -> tuple[web.WebSocketResponse, StreamConn]:
    ws = web.WebSocketResponse(autoping=True, max_msg_size=4 * 1024 * 1024)
    await ws.prepare(request)
    conn = StreamConn(sim, ws, request, kind)
    sim.streams.add(conn)
    return ws, conn


# -- trading stream ----------------------------------------------------------------------------


def _authorization(status: str, action: str = "authenticate") -> dict[str, Any]:
    return {"stream": "authorization", "data": {"action": action, "status": status}}


async def handle_trading(sim: AlpacaSim, request: web.Request) -> web.StreamResponse:
    ws, conn = await _serve(sim, request, "trading")
    binary = sim.config.trading_binary
    try:
        async for msg in ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            try:
                data = conn.decode(msg)
            except ValueError:
                conn.send_obj(
                    {"stream": "error", "data": {"error_message": "invalid syntax"}}, binary_json=binary
                )
                continue
            if not isinstance(data, dict):
                conn.send_obj(
                    {"stream": "error", "data": {"error_message": "invalid syntax"}}, binary_json=binary
                )
                continue
            action = data.get("action")
            if action in ("auth", "authenticate"):
                if action == "auth":
                    key, secret = data.get("key"), data.get("secret")
                else:
                    raw = data.get("data")
                    inner: dict[str, Any] = raw if isinstance(raw, dict) else {}
                    key, secret = inner.get("key_id"), inner.get("secret_key")
                account = sim.authenticate(key, secret)
                if account is None:
                    reply = _authorization("unauthorized")
                    reply["data"]["message"] = "access key verification failed"
                    conn.send_obj(reply, binary_json=binary)
                    await conn.finish()
                    await ws.close(code=1008, message=b"unauthorized")
                    break
                conn.account, conn.key_id = account, str(key)
                conn.send_obj(_authorization("authorized"), binary_json=binary)
            elif action == "listen":
                if conn.account is None:
                    conn.send_obj(_authorization("unauthorized", "listen"), binary_json=binary)
                    continue
                raw = data.get("data")
                inner = raw if isinstance(raw, dict) else {}
                streams = inner.get("streams", [])
                if not isinstance(streams, list):
                    streams = []
                conn.listening = {s for s in streams if s == "trade_updates"}
                conn.send_obj(
                    {"stream": "listening", "data": {"streams": sorted(conn.listening)}}, binary_json=binary
                )
            else:
                conn.send_obj(
                    {"stream": "error", "data": {"error_message": f"unknown action {action!r}"}},
                    binary_json=binary,
                )
    finally:
        sim.streams.discard(conn)
        await conn.finish()
    return ws


# -- market data -------------------------------------------------------------------------------


def _error(code: int, msg: str) -> list[dict[str, Any]]:
    return [{"T": "error", "code": code, "msg": msg}]


def subscription(conn: StreamConn) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"T": "subscription"}
    for c in DATA_CHANNELS:
        body[c] = sorted(conn.subs[c])
    body["corrections"] = sorted(conn.subs["trades"])
    body["cancelErrors"] = sorted(conn.subs["trades"])
    return [body]


async def handle_data(sim: AlpacaSim, request: web.Request) -> web.StreamResponse:
    feed = request.match_info.get("feed", "iex")
    ws, conn = await _serve(sim, request, "data")
    try:
        conn.send_obj([{"T": "success", "msg": "connected"}])
        if feed not in ("iex", "sip", "test", "delayed_sip"):
            conn.send_obj(_error(400, "invalid syntax"))
            return ws
        key = request.headers.get("APCA-API-KEY-ID")
        if key is not None and not _data_login(sim, conn, key, request.headers.get("APCA-API-SECRET-KEY")):
            return ws
        async for msg in ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            try:
                data = conn.decode(msg)
            except ValueError:
                conn.send_obj(_error(400, "invalid syntax"))
                continue
            if not isinstance(data, dict):
                conn.send_obj(_error(400, "invalid syntax"))
                continue
            action = data.get("action")
            if action == "auth":
                if conn.account is not None:
                    conn.send_obj(_error(403, "already authenticated"))
                    continue
                if not _data_login(sim, conn, data.get("key"), data.get("secret")):
                    break
            elif action in ("subscribe", "unsubscribe"):
                if conn.account is None:
                    conn.send_obj(_error(401, "not authenticated"))
                    continue
                for c in DATA_CHANNELS:
                    symbols = data.get(c)
                    if symbols is None:
                        continue
                    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                        conn.send_obj(_error(400, "invalid syntax"))
                        break
                    if action == "subscribe":
                        conn.subs[c].update(symbols)
                    else:
                        conn.subs[c].difference_update(symbols)
                else:
                    conn.send_obj(subscription(conn))
            else:
                conn.send_obj(_error(400, "invalid syntax"))
    finally:
        sim.streams.discard(conn)
        await conn.finish()
    return ws


def _data_login(sim: AlpacaSim, conn: StreamConn, key: Any, secret: Any) -> bool:
    account = sim.authenticate(key, secret)
    if account is None:
        conn.send_obj(_error(402, "auth failed"))
        return False
    others = [c for c in sim.streams if c is not conn and c.kind == "data" and c.key_id == key]
    if len(others) >= sim.config.data_connections_per_key:
        conn.send_obj(_error(406, "connection limit exceeded"))
        return False
    conn.account, conn.key_id = account, str(key)
    conn.send_obj([{"T": "success", "msg": "authenticated"}])
    return True
