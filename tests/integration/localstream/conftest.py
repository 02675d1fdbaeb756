"""An in-process host (real vault file, real desk and journal, real loopback server) and a
WebSocket client for the local-stream tests. Broker events are fed to the desk as its broker
adapters would (`Desk.on_event`); no exchange is involved, as the stream never talks to one.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from sidedesk.domain import BalanceEvent, PositionEvent, PositionSide, QuoteEvent
from sidedesk.localstream.models import SERVER_MESSAGE
from sidedesk.localstream.service import LocalStream
from sidedesk.main import compose
from sidedesk.native.transport import Counters
from sidedesk.runtime import Host
from sidedesk.store.config import HostConfig
from sidedesk.store.paths import Paths

PASSWORD = "correct horse battery staple 9"
ALL = ["positions", "orders", "account", "quotes", "status", "asl"]
WAIT = 5.0


class MemoryTransport:
    """The native port's writer, kept in memory (the panel is not part of these tests)."""

    def __init__(self) -> None:
        self.counters = Counters()

    def write_body(self, body: bytes) -> None:
        self.counters.frames_out += 1

    def start_reader(self, loop: asyncio.AbstractEventLoop, deliver: Any) -> None:
        return None


class HostError(AssertionError):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error['code']}: {error['message']}")
        self.code = error["code"]
        self.message = error["message"]
        self.details = error.get("details")


async def call(host: Host, type_: str, payload: dict[str, Any] | None = None) -> Any:
    reply = await host.dispatch({"v": 1, "id": 1, "type": type_, "payload": payload or {}})
    if "error" in reply:
        raise HostError(reply["error"])
    return reply["ok"]


def make_host(tmp_path: Path, **stream: Any) -> Host:
    config = HostConfig.model_validate(
        {
            "vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1},
            "watchlist": ["BTCUSDT"],
            "localstream": {"port": 0, **stream},
        }
    )
    return Host(
        MemoryTransport(), Paths(tmp_path / "c", tmp_path / "d", tmp_path / "l"), config, compose=compose
    )


class Env:
    """The host, its local stream and two broker accounts (vault entries, not connected)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.accounts: list[str] = []

    @property
    def svc(self) -> LocalStream:
        return self.host.services.localstream

    async def setup(self, **stream: Any) -> Env:
        await self.host.services.vault.create(PASSWORD)
        for name in ("alpha", "beta"):
            entry = {"broker": "binance", "name": name, "environment": "simulator", "auth": "hmac",
                     "api_key": name * 5, "secret": name[::-1] * 5}  # fmt: skip
            self.accounts.append((await self.host.services.vault.put(entry)).id)
        if stream:
            self.host.services.settings.update(
                localstream={**self.host.services.settings.config.localstream.model_dump(), **stream}
            )
        await call(self.host, "localstream.set", {"enabled": True})
        return self

    @property
    def url(self) -> str:
        assert self.svc.server is not None and self.svc.server.port is not None
        return f"ws://127.0.0.1:{self.svc.server.port}"

    async def token(self, name: str, accounts: list[str] | None = None) -> tuple[str, str]:
        """(token id, secret)"""
        payload: dict[str, Any] = {"name": name}
        if accounts is not None:
            payload["accounts"] = accounts
        out = await call(self.host, "localstream.create_token", payload)
        return out["token"]["id"], out["secret"]

    async def client(self, secret: str, **kw: Any) -> Client:
        ws = await connect(self.url, additional_headers={"Authorization": f"Bearer {secret}"}, **kw)
        c = Client(ws)
        hello = await c.next()
        assert hello["type"] == "hello"
        c.hello = hello
        return c

    # -- broker events, as the adapters deliver them --------------------------------------------------
    def position(self, account: str, symbol: str, qty: str, entry: str = "100", mark: str = "110") -> None:
        self.host.services.books.on_event(
            account,
            PositionEvent(
                account,
                symbol,
                PositionSide.BOTH,
                Decimal(qty),
                Decimal(entry),
                mark_price=Decimal(mark),
                ts_ms=int(time.time() * 1000),
            ),
        )

    def balance(self, account: str, wallet: str) -> None:
        self.host.services.books.on_event(
            account, BalanceEvent(account, "USDT", Decimal(wallet), ts_ms=int(time.time() * 1000))
        )

    def quote(self, symbol: str, mark: str) -> None:
        self.host.services.books.on_event(
            self.accounts[0], QuoteEvent(symbol, mark=Decimal(mark), ts_ms=int(time.time() * 1000))
        )


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.hello: dict[str, Any] = {}
        self.seen: list[dict[str, Any]] = []
        self._ping_id = 0

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(msg))

    async def next(self, timeout: float = WAIT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        msg: dict[str, Any] = json.loads(raw)
        SERVER_MESSAGE.validate_python(msg)  # every frame the server sends matches the schema's models
        self.seen.append(msg)
        return msg

    async def until(self, pred: Callable[[dict[str, Any]], bool], timeout: float = WAIT) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no matching message within {timeout} s; last: {self.seen[-3:]}")
            msg = await self.next(remaining)
            if pred(msg):
                return msg

    async def subscribe(self, *topics: str) -> dict[str, dict[str, Any]]:
        """Subscribe; returns the snapshots by topic (read up to the `subscribed` answer)."""
        await self.send({"type": "subscribe", "topics": list(topics), "id": "s"})
        snaps: dict[str, dict[str, Any]] = {}
        while True:
            msg = await self.next()
            if msg["type"] == "snapshot":
                snaps[msg["topic"]] = msg
            elif msg["type"] == "subscribed":
                return snaps

    async def barrier(self) -> list[dict[str, Any]]:
        """Ping and read up to the pong: every message the server queued before it, in order."""
        self._ping_id += 1
        pid = self._ping_id
        await self.send({"type": "ping", "id": pid})
        out = []
        while True:
            msg = await self.next()
            if msg["type"] == "pong" and msg["id"] == pid:
                return out
            out.append(msg)

    async def close(self) -> None:
        await self.ws.close()


def events(msgs: list[dict[str, Any]], topic: str) -> list[dict[str, Any]]:
    return [m for m in msgs if m["type"] == "event" and m["topic"] == topic]


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[Host]:
    h = make_host(tmp_path)
    try:
        yield h
    finally:
        await h.shutdown()


@pytest.fixture
async def env(host: Host) -> Env:
    return await Env(host).setup()
