"""The Binance simulator on its own event loop in a background thread, for tests that drive the
real host process synchronously (frames over pipes).

`control()` talks to the simulator's `/_sim/` control plane over HTTP like any outside tool.
`on_loop()` runs a function on the simulator's loop and returns its result: used only to read the
simulator's own ground truth (positions, balances) and for the two changes its control plane does
not offer (revoking an API key, changing the maximum connection age of a running simulator).
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from decimal import Decimal
from typing import Any, TypeVar

from sidedesk_sim.binance import BinanceSim
from sidedesk_sim.binance.sim import SimConfig

T = TypeVar("T")


class ControlError(AssertionError):
    pass


class SimThread:
    def __init__(self, seed: int = 1, config: SimConfig | None = None, *, calm: bool = True) -> None:
        self.seed = seed
        self.config = config or SimConfig()
        self.calm = calm
        self.loop = asyncio.new_event_loop()
        self.sim: BinanceSim | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"binance-sim-{seed}", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with BinanceSim(seed=self.seed, config=self.config) as sim:
            if self.calm:  # prices move only where a test puts them: fills are deterministic
                for sym in sim.engine.instruments:
                    sim.engine.set_volatility(sym, Decimal(0))
            self.sim = sim
            self._ready.set()
            await self._stop.wait()

    def start(self) -> SimThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the Binance simulator did not start within 30 s")
        if self._error is not None:
            raise RuntimeError(f"the Binance simulator failed to start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._stop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    def __enter__(self) -> SimThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- access ------------------------------------------------------------------------------------
    @property
    def s(self) -> BinanceSim:
        assert self.sim is not None, "simulator not started"
        return self.sim

    @property
    def rest_url(self) -> str:
        return self.s.rest_url

    def on_loop(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run `fn` on the simulator's loop (its state is only ever touched from there)."""
        fut: Future[T] = Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control-plane call; a 4xx/5xx raises with the simulator's message."""
        url = self.s.control_url + path
        data = None
        if method == "GET" and body:
            url += "?" + "&".join(f"{k}={v}" for k, v in body.items())
        elif body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ControlError(
                f"{method} {path} -> {exc.code}: {exc.read().decode(errors='replace')}"
            ) from None

    # -- control-plane shortcuts -----------------------------------------------------------------
    def new_account(self, name: str, **body: Any) -> dict[str, str]:
        ident: dict[str, str] = self.control(
            "POST", "/accounts", {"account": name, "key_type": "hmac", **body}
        )
        return ident

    def fault(self, kind: str, target: str = "*", **kw: int) -> Any:
        return self.control("POST", "/faults", {"kind": kind, "target": target, **kw})

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults")

    def order_log(self, account: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.control("GET", "/order-log", {"account": account})
        return out

    def open_orders(self, account: str) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = self.control("GET", "/orders", {"account": account})
        return out

    def disconnect(self, target: str) -> int:
        return int(self.control("POST", "/disconnect", {"target": target})["dropped"])

    def price(self, symbol: str, price: str) -> Any:
        return self.control("POST", "/price", {"symbol": symbol, "price": price})

    def skew(self, ms: int) -> Any:
        return self.control("POST", "/clock", {"skew_ms": ms})

    # -- in-process (what the control plane lacks) -------------------------------------------------
    def revoke_key(self, api_key: str) -> None:
        """Delete an API key, as a user does on the exchange's website: every request signed with it
        is refused with -2015 from now on. (The control plane has no route for this.)"""
        self.on_loop(lambda: self.s.identities.pop(api_key))

    def set_max_connection_age(self, seconds: float) -> None:
        def apply() -> None:
            self.s.config.max_connection_age_s = seconds

        self.on_loop(apply)

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
