"""Helpers for the Binance adapter integration tests: the simulator's control plane over HTTP, a
connected `BinanceBroker` with its event log, and a bounded polling wait (no fixed sleeps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp

from sidedesk.brokers.binance.adapter import BinanceBroker
from sidedesk.brokers.binance.config import BinanceConfig, endpoints_for
from sidedesk.domain import BrokerEvent, OrderEvent
from sidedesk_sim.binance import BinanceSim
from tests.support.eventlog import EventLog
from tests.support.wait import WAIT_S, eventually_async

T = TypeVar("T")
E = TypeVar("E")
D = Decimal


# The one bounded poll (tests/support/wait.py), under the name these tests know it by.
wait_for = eventually_async


class ControlError(AssertionError):
    pass


class Control:
    """The simulator's `/_sim/...` control plane, called over HTTP like any outside tool would."""

    def __init__(self, sim: BinanceSim, http: aiohttp.ClientSession) -> None:
        self.sim, self.http = sim, http

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.http.request(method, self.sim.control_url + path, json=body) as r:
            data = await r.json()
            if r.status != 200:
                raise ControlError(f"{method} {path} -> {r.status}: {data}")
            return data

    async def price(self, symbol: str, price: str, mark: str | None = None) -> Any:
        body: dict[str, Any] = {"symbol": symbol, "price": price}
        if mark is not None:
            body["mark"] = mark
        return await self.call("POST", "/price", body)

    async def fault(self, kind: str, target: str = "*", **kw: int) -> Any:
        return await self.call("POST", "/faults", {"kind": kind, "target": target, **kw})

    async def order_log(self, account: str = "main") -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = await self.call("GET", f"/order-log?account={account}")
        return log

    async def open_orders(self, account: str = "main") -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = await self.call("GET", f"/orders?account={account}")
        return out

    async def disconnect(self, target: str) -> int:
        return int((await self.call("POST", "/disconnect", {"target": target}))["dropped"])

    async def skew(self, ms: int) -> Any:
        return await self.call("POST", "/clock", {"skew_ms": ms})

    async def rate_limits(self, **body: Any) -> Any:
        return await self.call("POST", "/rate-limits", body)

    async def expire_listen_key(self, account: str = "main") -> str:
        return str((await self.call("POST", "/listen-keys/expire", {"account": account}))["expired"])

    async def account(self, account: str, key_type: str = "hmac", **body: Any) -> dict[str, str]:
        ident: dict[str, str] = await self.call(
            "POST", "/accounts", {"account": account, "key_type": key_type, **body}
        )
        return ident

    async def position(self, account: str, symbol: str, amount: str, **body: Any) -> Any:
        return await self.call(
            "POST", "/positions", {"account": account, "symbol": symbol, "amount": amount, **body}
        )

    async def place_as_other(self, account: str, params: dict[str, Any]) -> Any:
        return await self.call("POST", "/orders", {"account": account, "params": params})


def config_for(sim: BinanceSim, ident: dict[str, str]) -> BinanceConfig:
    """An account config for one simulator identity (as `sim.info()["keys"]` lists them)."""
    urls = {"rest": sim.rest_url, "ws_api": sim.ws_api_url, "stream": sim.stream_url}
    secret = ident.get("privateKey") or ident["secret"]
    return BinanceConfig("simulator", endpoints_for("simulator", urls), ident["apiKey"], secret)


def builtin_key(sim: BinanceSim, kind: str, account: str = "main") -> dict[str, str]:
    return next(k for k in sim.info()["keys"] if k["type"] == kind and k["account"] == account)


@dataclass
class Session:
    """A connected broker, its event log and the simulator account it trades."""

    broker: BinanceBroker
    log: EventLog
    account: str = "main"
    marks: list[int] = field(default_factory=list)

    def mark(self) -> int:
        """Remember where the log is now; `since()` then returns only newer events."""
        return len(self.log.events)

    def since(self, mark: int) -> list[BrokerEvent]:
        return self.log.events[mark:]

    def of(self, mark: int, kind: type[E]) -> list[E]:
        """Events of one type emitted after `mark`."""
        return [e for e in self.log.events[mark:] if isinstance(e, kind)]

    def order_events(self, mark: int, order_id: str) -> list[OrderEvent]:
        return [e for e in self.of(mark, OrderEvent) if e.order_id == order_id]

    async def wait_order(self, mark: int, order_id: str, status: str, timeout: float = WAIT_S) -> OrderEvent:
        def probe() -> OrderEvent | None:
            return next((e for e in self.order_events(mark, order_id) if e.status.value == status), None)

        return await wait_for(probe, timeout, f"order {order_id} {status}")

    async def mark_price(self, symbol: str) -> Decimal:
        await self.broker.subscribe_quotes([symbol])
        return await wait_for(lambda: self.broker.mark_price(symbol), what=f"{symbol} mark price")
