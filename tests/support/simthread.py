"""Simulators on their own event loop in a daemon thread, for tests that run synchronously (a
host process over pipes, a browser, a synchronous SDK) or need a loop of their own.

`LoopThread` is the loop and its thread. `SimThread` runs one simulator (any broker's) on it and
talks to the simulator's `/_sim` control plane over HTTP, as any outside tool would; `on_loop`
runs a function on the simulator's loop (its state is only ever touched from there) and is kept
for what no endpoint offers. `BinanceSimThread` adds the Binance shortcuts the host tests share.

Prices are calm by default (no random walk): they move where a test moves them, so fills and
P&L are exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar, cast

from sidedesk_sim.binance import BinanceSim
from sidedesk_sim.binance.sim import SimConfig

T = TypeVar("T")
START_S = 30.0  # starting or stopping a simulator (generous: the machine may be busy)
CALL_S = 20.0  # one control-plane call or one function on the loop


class Simulator(Protocol):
    async def start(self) -> Any: ...
    async def stop(self) -> None: ...


S = TypeVar("S", bound=Simulator)


class ControlError(AssertionError):
    """A control-plane call answered 4xx/5xx: `status` and the simulator's `body` (its text)."""

    def __init__(self, status: int, body: Any, what: str) -> None:
        super().__init__(f"{what} -> {status}: {body}")
        self.status = status
        self.body = body


def calm(sim: object) -> None:
    """No random walk: every instrument's price stays where it is until something moves it."""
    engine = cast(Any, sim).engine
    for symbol in list(engine.instruments):
        engine.set_volatility(symbol, Decimal(0))


def control_url(sim: object) -> str:
    """The simulator's `/_sim` control plane (Volumetrica names only its base URL)."""
    url = getattr(sim, "control_url", None)
    return str(url) if url else f"{cast(Any, sim).base_url}/_sim"


def http_control(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One control-plane request: a GET sends `body` as the query string, others as JSON."""
    url = base + path
    data = None
    if method == "GET":
        if body:
            url += "?" + urllib.parse.urlencode(body)
    elif body is not None:
        data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=CALL_S) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise ControlError(exc.code, exc.read().decode("utf-8", "replace"), f"{method} {path}") from None


class LoopThread:
    """An event loop running in a daemon thread until `close()`."""

    def __init__(self, name: str = "sim-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = CALL_S) -> T:
        """Run `coro` on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def on_loop(self, fn: Callable[[], T], timeout: float = CALL_S) -> T:
        """Run `fn` on the loop and return its result."""
        fut: Future[T] = Future()

        def go() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(go)
        return fut.result(timeout)

    def close(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(START_S)
        if not self._thread.is_alive() and not self.loop.is_closed():
            self.loop.close()


class SimThread(Generic[S]):
    """`with SimThread(lambda: AlpacaSim(seed=5)) as st:` one simulator on its own loop.

    The simulator is built on its loop (by `make`), started and, unless `calm=False`, calmed."""

    def __init__(self, make: Callable[[], S], *, calm: bool = True, name: str = "sim") -> None:
        self._make = make
        self.calm = calm
        self.name = name
        self._loop: LoopThread | None = None
        self._sim: S | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "simulator not started"
        return self._loop.loop

    def start(self) -> SimThread[S]:
        self._loop = LoopThread(self.name)
        try:
            self._sim = self._loop.run(self._start(), START_S)
        except BaseException:
            self._loop.close()
            raise
        return self

    async def _start(self) -> S:
        sim = self._make()
        await sim.start()
        if self.calm:
            calm(sim)
        return sim

    def stop(self) -> None:
        if self._loop is None:
            return
        try:
            if self._sim is not None:
                self._loop.run(self._sim.stop(), START_S)
        finally:
            self._loop.close()
            self._loop = None

    def __enter__(self) -> SimThread[S]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def sim(self) -> S:
        assert self._sim is not None, "simulator not started"
        return self._sim

    s = sim

    def run(self, coro: Coroutine[Any, Any, T] | Awaitable[T], timeout: float = CALL_S) -> T:
        """Run a coroutine on the simulator's loop."""
        assert self._loop is not None, "simulator not started"

        async def wrap() -> T:
            return await coro

        return self._loop.run(wrap(), timeout)

    def on_loop(self, fn: Callable[[], T], timeout: float = CALL_S) -> T:
        """Run `fn` on the simulator's loop (for what the control plane does not offer)."""
        assert self._loop is not None, "simulator not started"
        return self._loop.on_loop(fn, timeout)

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One `/_sim<path>` request; a 4xx/5xx raises `ControlError` with the simulator's text."""
        return http_control(control_url(self.s), method, path, body)


class BinanceSimThread(SimThread[BinanceSim]):
    """The Binance simulator on its own loop, with the shortcuts the host tests use."""

    def __init__(self, seed: int = 1, config: SimConfig | None = None, *, calm: bool = True) -> None:
        self.seed = seed
        self.config = config or SimConfig()
        super().__init__(
            lambda: BinanceSim(seed=seed, config=self.config), calm=calm, name=f"binance-sim-{seed}"
        )

    def start(self) -> BinanceSimThread:
        super().start()
        # what `reset` restores: the limits and the maximum connection age it started with
        self._limits = dataclasses.replace(self.s.limiter.config)
        self._max_age_s = self.s.config.max_connection_age_s
        return self

    def __enter__(self) -> BinanceSimThread:
        return self.start()

    @property
    def rest_url(self) -> str:
        return self.s.rest_url

    url = rest_url

    # -- keys and accounts ---------------------------------------------------------------------------
    def key(self, account: str = "main", key_type: str = "hmac") -> dict[str, str]:
        """A built-in key of `account` (`apiKey`, `secret` or `privateKey`, ...)."""
        keys: list[dict[str, str]] = self.s.info()["keys"]
        return next(k for k in keys if k["type"] == key_type and k.get("account", "main") == account)

    def new_account(self, name: str, **body: Any) -> dict[str, str]:
        ident: dict[str, str] = self.control(
            "POST", "/accounts", {"account": name, "key_type": "hmac", **body}
        )
        return ident

    def revoke_key(self, api_key: str) -> None:
        """Delete an API key, as a user does on the exchange's website: every request signed with it
        is refused with -2015 from now on. (The control plane has no route for this.)"""
        self.on_loop(lambda: self.s.identities.pop(api_key))

    # -- market ------------------------------------------------------------------------------------
    def price(self, symbol: str, price: Decimal | str, mark: Decimal | str | None = None) -> dict[str, Any]:
        body = {"symbol": symbol, "price": str(price)}
        if mark is not None:
            body["mark"] = str(mark)
        out: dict[str, Any] = self.control("POST", "/price", body)
        return out

    def market(self, symbol: str) -> dict[str, Any]:
        out: dict[str, Any] = self.control("GET", "/market", {"symbol": symbol})
        return out

    # -- orders --------------------------------------------------------------------------------------
    def order_log(self, account: str = "main", *, symbol: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.control("GET", "/order-log", {"account": account})
        return [r for r in rows if symbol is None or r["symbol"] == symbol]

    def open_orders(self, account: str = "main") -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = self.control("GET", "/orders", {"account": account})
        return out

    def algos(self, symbol: str, account: str = "main") -> list[dict[str, Any]]:
        """Open algo (conditional) orders of `symbol`, as Binance's REST shows them."""
        return [a for a in self.open_orders(account)["algoOrders"] if a["symbol"] == symbol]

    def cancel_algo(self, client_algo_id: str, account: str = "main") -> None:
        """Cancel an algo order as another client of the account would (the host did not ask)."""
        self.control("POST", "/cancel", {"account": account, "clientAlgoId": client_algo_id})

    def wipe(self, account: str = "main") -> bool:
        """Close every position and cancel every open order and algo order of `account` from the
        exchange's side (the host hears it on its streams); True when nothing was left to do."""
        rows = self.positions(account=account)
        for r in rows:
            self.control("POST", "/positions", {"account": account, "symbol": r["symbol"], "amount": "0",
                                                "position_side": r["positionSide"]})  # fmt: skip
        book = self.open_orders(account)
        for o in book["orders"]:
            with contextlib.suppress(ControlError):  # filled or cancelled meanwhile
                self.control(
                    "POST", "/cancel", {"account": account, "symbol": o["symbol"], "orderId": o["orderId"]}
                )
        for a in book["algoOrders"]:
            with contextlib.suppress(ControlError):
                self.control("POST", "/cancel", {"account": account, "algoId": a["algoId"]})
        return not rows and not book["orders"] and not book["algoOrders"]

    # -- faults --------------------------------------------------------------------------------------
    def fault(self, kind: str, target: str = "*", **kw: int) -> Any:
        return self.control("POST", "/faults", {"kind": kind, "target": target, **kw})

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults")

    def disconnect(self, target: str) -> int:
        return int(self.control("POST", "/disconnect", {"target": target})["dropped"])

    def skew(self, ms: int) -> Any:
        return self.control("POST", "/clock", {"skew_ms": ms})

    def reset(self) -> None:
        """Undo what a test may have armed on a simulator it shares with others: faults, clock skew,
        forced statuses and bans in force, rate-limit settings, the maximum connection age."""
        self.clear_faults()
        self.skew(0)
        self.control("POST", "/rate-limits", {"clear": True, **dataclasses.asdict(self._limits)})
        self.set_max_connection_age(self._max_age_s)

    def set_max_connection_age(self, seconds: float) -> None:
        def apply() -> None:
            self.s.config.max_connection_age_s = seconds

        self.on_loop(apply)

    # -- the exchange's own figures ---------------------------------------------------------------------
    def truth(self, account: str) -> dict[str, Any]:
        """The simulator's own view of one account: positions, open orders and algo orders, wallet."""

        def read() -> dict[str, Any]:
            eng = self.s.engine
            return {
                "positions": {
                    (p.symbol, p.position_side.value): (p.amount, p.entry_price)
                    for p in eng.positions(account)
                    if p.amount != 0
                },
                "orders": {str(o.order_id) for o in eng.open_orders(account)},
                "algos": {str(a.algo_id) for a in eng.open_algo_orders(account)},
                "wallet": {b.asset: b.wallet_balance for b in eng.balances(account) if b.wallet_balance},
            }

        return self.on_loop(read)

    def rest(self, path: str, params: dict[str, Any] | None = None, account: str = "main") -> Any:
        """A signed GET on the exchange's own REST API, as a second client of the same account."""
        key = self.key(account)
        query = urllib.parse.urlencode({**(params or {}), "timestamp": self.s.now_ms(), "recvWindow": 5000})
        sig = hmac.new(key["secret"].encode(), query.encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(
            f"{self.rest_url}{path}?{query}&signature={sig}", headers={"X-MBX-APIKEY": key["apiKey"]}
        )
        with urllib.request.urlopen(req, timeout=CALL_S) as resp:
            return json.loads(resp.read())

    def positions(self, symbol: str | None = None, account: str = "main") -> list[dict[str, Any]]:
        """Open positions as /fapi/v3/positionRisk reports them."""
        rows: list[dict[str, Any]] = self.rest("/fapi/v3/positionRisk", account=account)
        return [r for r in rows if Decimal(r["positionAmt"]) != 0 and symbol in (None, r["symbol"])]

    def leverage(self, symbol: str, account: str = "main") -> int:
        rows = self.rest("/fapi/v1/symbolConfig", {"symbol": symbol}, account=account)
        return int(rows[0]["leverage"])
