"""Helpers for the Binance simulator tests: signing REST / WS API clients and bounded readers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import aiohttp

from sidedesk_sim.binance import BinanceSim, Identity
from sidedesk_sim.binance.auth import KAT1_API_KEY, KAT1_SECRET, sign


class FrozenClock:
    """An injectable clock for the sim (the engine only moves when a test says so)."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


class Rest:
    """Minimal signed REST client: HMAC over the query string as sent (KAT-1 identity by default)."""

    def __init__(self, sim: BinanceSim, session: aiohttp.ClientSession, key: str = KAT1_API_KEY,
                 secret: str = KAT1_SECRET) -> None:  # fmt: skip
        self.sim, self.s, self.key, self.secret = sim, session, key, secret

    async def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        signed: bool = True,
        key: bool = True,
    ) -> tuple[int, Any, dict[str, str]]:
        q = dict(params or {})
        if signed:
            q.setdefault("timestamp", self.sim.now_ms())
        query = urllib.parse.urlencode(q)
        if signed:
            query += (
                "&signature=" + hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
            )
        headers = {"X-MBX-APIKEY": self.key} if key else {}
        async with self.s.request(method, f"{self.sim.rest_url}{path}?{query}", headers=headers) as r:
            return r.status, await r.json(), dict(r.headers)


class WsApi:
    """WS API client that signs the sorted raw payload (HMAC/Ed25519 via `Identity`)."""

    def __init__(self, sim: BinanceSim, ws: aiohttp.ClientWebSocketResponse, ident: Identity) -> None:
        self.sim, self.ws, self.ident = sim, ws, ident
        self._id = 0

    def signed(self, params: dict[str, Any], ident: Identity | None = None) -> dict[str, Any]:
        ident = ident or self.ident
        p = {"apiKey": ident.api_key, "timestamp": self.sim.now_ms(), **params}
        payload = "&".join(f"{k}={_render(v)}" for k, v in sorted(p.items()))
        p["signature"] = sign(ident, payload.encode())
        return p

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._id += 1
        await self.ws.send_str(json.dumps({"id": self._id, "method": method, "params": params or {}}))
        reply: dict[str, Any] = await self.ws.receive_json(timeout=5)
        return reply

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.send(method, self.signed(params or {}))


def _render(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


async def control(
    http: aiohttp.ClientSession, sim: BinanceSim, method: str, path: str, body: Any = None
) -> Any:
    async with http.request(method, sim.control_url + path, json=body) as r:
        return r.status, await r.json()


async def recv_until(
    ws: aiohttp.ClientWebSocketResponse,
    pred: Callable[[Any], bool],
    *,
    limit: int = 200,
    timeout: float = 5.0,
) -> list[Any]:
    """Read frames until `pred(frame)`; returns every frame read (bounded by count and time)."""
    out: list[Any] = []
    async with asyncio.timeout(timeout):
        while len(out) < limit:
            frame = await ws.receive_json()
            out.append(frame)
            if pred(frame):
                return out
    raise AssertionError(f"condition not met in {len(out)} frames: {out[-3:]}")


async def no_frame(ws: aiohttp.ClientWebSocketResponse, seconds: float = 0.4) -> bool:
    """True if nothing arrives within `seconds` (used to prove a stream stays silent)."""
    try:
        await ws.receive(timeout=seconds)
    except TimeoutError:
        return True
    return False
