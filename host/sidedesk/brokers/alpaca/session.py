"""The I/O shell: Alpaca REST (aiohttp) and the two sockets (`net/ws.py`'s ResilientWebSocket).

- REST: key id and secret in headers on every request. A mutating request whose answer is lost
  (timeout, dropped connection, 5xx) raises `unknown_outcome`, never retried here: the adapter
  resolves it by client order id.
- Trading stream: auth (current form) and `listen` to trade_updates go out back to back on each
  (re)connection; frames are JSON in binary (paper) or text frames, both accepted. A refused auth
  stops the retries (`AuthFailed`) instead of looping.
- Market data: JSON (no msgpack header), auth + subscribe on each (re)connection.
Alpaca has no application heartbeat: RFC 6455 pings only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from sidedesk.brokers.alpaca.config import Endpoints
from sidedesk.brokers.alpaca.protocol import messages as msg
from sidedesk.brokers.alpaca.protocol.parse import Malformed, error_message
from sidedesk.domain import BrokerError
from sidedesk.net.ws import AuthFailed, ResilientWebSocket, WsStatus

log = logging.getLogger(__name__)

MUTATING = ("POST", "PATCH", "DELETE")


def broker_error(status: int, body: Any, method: str) -> BrokerError:
    code, message = error_message(body)
    text = message or f"HTTP {status}"
    if status == 401 or code == 40110000:
        return BrokerError("auth", f"Alpaca refused the API key ({text}); check the key id and secret", code)
    if status == 429:
        return BrokerError("rate_limited", f"Alpaca rate limit: {text}", code, retry_after_s=3.0)
    if status >= 500:
        kind = "unknown_outcome" if method in MUTATING else "not_connected"
        return BrokerError(kind, f"Alpaca answered {status} ({text})", code)  # type: ignore[arg-type]
    if status == 403:
        return BrokerError("rejected", f"Alpaca refused the order: {text}", code)
    if status == 404:
        return BrokerError("rejected", f"Alpaca: {text}", code or 40410000)
    return BrokerError("invalid", f"Alpaca refused the request: {text}", code)


class AlpacaSession:
    def __init__(
        self,
        endpoints: Endpoints,
        key_id: str,
        secret: str,
        *,
        on_trade: Callable[[str | bytes], None],
        on_data: Callable[[str | bytes], None],
        on_status: Callable[[WsStatus], None],
        request_timeout_s: float = 10.0,
    ) -> None:
        self.endpoints = endpoints
        self._key_id = key_id
        self._secret = secret
        self._on_trade = on_trade
        self._on_data = on_data
        self.request_timeout_s = request_timeout_s
        self._http: aiohttp.ClientSession | None = None
        self.data_symbols: set[str] = set()
        self.auth_refused: str | None = None
        self.listening = asyncio.Event()
        self.trading = ResilientWebSocket(
            "alpaca-trading",
            self._trading_url,
            self._trading_message,
            on_open=self._on_trading_open,
            on_close=lambda _reason: self.listening.clear(),
            on_status=on_status,
            ping_interval_s=10.0,
            ping_timeout_s=30.0,
        )
        self.data = ResilientWebSocket(
            "alpaca-data",
            self._data_url,
            self._data_message,
            on_open=self._on_data_open,
            ping_interval_s=10.0,
            ping_timeout_s=30.0,
        )

    # -- REST -------------------------------------------------------------------------------------
    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                headers=msg.headers(self._key_id, self._secret),
                timeout=aiohttp.ClientTimeout(total=self.request_timeout_s),
            )
        return self._http

    async def rest(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        url = f"{self.endpoints.rest}/v2{path}"
        try:
            async with self._session().request(
                method, url, params=params, json=body, allow_redirects=False
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            kind = "unknown_outcome" if method in MUTATING else "not_connected"
            raise BrokerError(kind, f"no answer from Alpaca ({type(exc).__name__})") from exc  # type: ignore[arg-type]
        data: Any = None
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
        if status >= 300:
            raise broker_error(status, data, method)
        if raw and data is None:
            raise BrokerError("internal", f"Alpaca's answer to {method} {path} was not JSON")
        return data

    # -- trading stream ---------------------------------------------------------------------------
    async def _trading_url(self) -> str:
        if self.auth_refused is not None:
            raise AuthFailed(self.auth_refused)
        return self.endpoints.stream

    async def _on_trading_open(self, ws: ResilientWebSocket) -> None:
        # replies are read after this hook returns; `_trading_message` handles them
        self.listening.clear()
        await ws.send(msg.trading_auth(self._key_id, self._secret))
        await ws.send(msg.trading_listen(["trade_updates"]))

    def _trading_message(self, frame: str | bytes) -> None:
        try:
            obj = json.loads(frame)
        except (ValueError, UnicodeDecodeError):
            log.warning("alpaca trading stream: dropped a frame that is not JSON")
            return
        if not isinstance(obj, dict):
            return
        stream = obj.get("stream")
        raw = obj.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if stream == "authorization":
            if data.get("status") != "authorized":
                self.auth_refused = f"trading stream: {data.get('message') or 'unauthorized'}"
                self.trading.reconnect("unauthorized")
            return
        if stream == "listening":
            if "trade_updates" in (data.get("streams") or []):
                self.listening.set()
            return
        self._on_trade(frame)

    # -- market data ------------------------------------------------------------------------------
    async def _data_url(self) -> str:
        return self.endpoints.data

    async def _on_data_open(self, ws: ResilientWebSocket) -> None:
        await ws.send(msg.data_auth(self._key_id, self._secret))
        if self.data_symbols:
            await ws.send(msg.data_subscribe(sorted(self.data_symbols)))

    def _data_message(self, frame: str | bytes) -> None:
        self._on_data(frame)

    async def subscribe(self, symbols: list[str]) -> None:
        new = [s for s in symbols if s not in self.data_symbols]
        self.data_symbols.update(new)
        if new and self.data.connected:
            await self.data.send(msg.data_subscribe(new))

    # -- lifecycle --------------------------------------------------------------------------------
    async def start_streams(self, wait_s: float = 10.0) -> None:
        self.trading.start()
        self.data.start()
        try:
            await asyncio.wait_for(self.listening.wait(), wait_s)
        except TimeoutError:
            if self.auth_refused is not None:
                raise BrokerError("auth", f"Alpaca refused the key on the {self.auth_refused}") from None
            raise BrokerError("not_connected", "the Alpaca trading stream did not start listening") from None

    async def close(self) -> None:
        await self.trading.stop()
        await self.data.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None


__all__ = ["AlpacaSession", "Malformed", "broker_error"]
