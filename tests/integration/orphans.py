"""Shared by the three test_orphan_stops.py (issue #21): a simulator on its own loop, the real
host process with ASL on, and the check that a protective stop did not outlive its position.

The simulator's own record is the evidence: each test turns it into one sequence of `Step`s
(order states in the order the simulator applied them) with the test's price moves ("ticks")
inserted where they happened, then `check_stops_follow_close` asserts outcomes on that sequence,
not durations: the close filled; every ASL stop ended cancelled (none fired); the cancels sit
next to the closing fill, with only the close's and our stops' own steps between, and no price
tick between them. The simulators' clock (ms) gives the measured times the tests print.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from tests.hostproc import TopicHost

T = TypeVar("T")
PASSWORD = "correct horse battery staple 9"
# the market moves this long after the closing fill: far beyond a loopback round trip (a few ms),
# well inside the grace period the engine used to give every broker's flat stops (3 s)
MARKET_MOVES_AFTER_S = 1.0

Kind = Literal["working", "filled", "cancelled", "fired", "tick", "other"]


@dataclass(frozen=True)
class Step:
    kind: Kind
    order: str  # the simulator's order id ("" for a tick)
    ms: int  # the simulator's clock


class SimLoop:
    """A simulator started by `start()` on its own event loop in a daemon thread."""

    def __init__(self, start: Callable[[], Awaitable[Any]]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="orphans-sim", daemon=True)
        self.thread.start()
        self.sim: Any = self.run(start())

    def run(self, coro: Awaitable[T]) -> T:
        async def wrap() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(15)

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` on the simulator's loop (nothing else runs there meanwhile)."""
        fut: Future[T] = Future()

        def go() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(go)
        return fut.result(15)

    def stop(self, stop: Callable[[], Awaitable[Any]]) -> None:
        try:
            self.run(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(15)
            self.loop.close()


def start_host(
    home: Path, simulators: dict[str, str], watchlist: list[str], entry: dict[str, Any]
) -> TopicHost:
    """The host on `home` with ASL on and the simulator's account active and subscribed."""
    config = {
        "vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1},
        "watchlist": watchlist,
        "risk": {
            "max_order_notional": None,
            "max_position_notional": None,
            "max_orders_per_minute": 10_000,
            "confirm_above_notional": None,
        },
        "asl_enabled": True,
        "simulators": simulators,
    }
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    host = TopicHost(home)
    try:
        host.call("vault.create", {"password": PASSWORD})
        account_id = host.call("vault.put", {"entry": entry})["entry"]["id"]
        host.call("accounts.activate", {"account_id": account_id}, timeout=30)
        host.call("subscribe", {"topics": ["positions", "orders", "quotes", "account", "asl"]})
    except BaseException:
        host.stop()
        raise
    return host


def poll(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        time.sleep(0.01)


def wait_then_move(filled: Callable[[], bool], move: Callable[[], None]) -> None:
    """Once the simulator shows the closing fill, let `MARKET_MOVES_AFTER_S` pass, then move the
    price (through where the stop was)."""
    poll(filled, 10, "the closing fill on the simulator")
    time.sleep(MARKET_MOVES_AFTER_S)
    move()


def merge(orders: list[Step], ticks: list[tuple[int, Step]]) -> list[Step]:
    """`orders` with each tick inserted before the order step at its recorded index."""
    out: list[Step] = []
    pending = sorted(ticks, key=lambda t: t[0])
    for i, step in enumerate(orders):
        while pending and pending[0][0] <= i:
            out.append(pending.pop(0)[1])
        out.append(step)
    out.extend(t for _, t in pending)
    return out


@dataclass(frozen=True)
class Verdict:
    fill_ms: int
    cancels_ms: dict[str, int]  # stop -> when its cancel happened

    @property
    def after_fill_ms(self) -> int:
        """From the closing fill to the last stop cancel (negative: every cancel came first)."""
        return max(self.cancels_ms.values()) - self.fill_ms


def check_stops_follow_close(
    seq: list[Step], close: str, stops: Iterable[str], *, close_first: bool
) -> Verdict:
    """The outcome on the simulator's sequence (see the module docstring). `close_first`: the
    venue applies one socket's requests in order, so the close is applied before the cancels
    sent right behind it (Tradovate, Volumetrica); Alpaca's REST requests may cross."""
    stops = set(stops)
    text = "\n".join(f"  {s.ms} {s.kind:9} {s.order}" for s in seq)
    assert stops, f"no ASL stop in the sequence:\n{text}"
    fills = [i for i, s in enumerate(seq) if s.order == close and s.kind == "filled"]
    assert len(fills) == 1, f"the close {close} did not fill once:\n{text}"
    fill = fills[0]
    assert not [s for s in seq if s.order in stops and s.kind in ("fired", "filled")], (
        f"an ASL stop fired:\n{text}"
    )
    cancels: dict[str, int] = {}
    for stop in stops:
        ends = [i for i, s in enumerate(seq) if s.order == stop and s.kind == "cancelled"]
        assert len(ends) == 1, f"stop {stop} was not cancelled (once):\n{text}"
        cancels[stop] = ends[0]
    lo, hi = min(fill, *cancels.values()), max(fill, *cancels.values())
    between = [s for s in seq[lo : hi + 1] if s.order not in stops and s.order != close]
    assert not between, f"between the close and its stops' cancels: {between}\n{text}"
    if close_first:
        early = [stop for stop, i in cancels.items() if i < fill]
        assert not early, f"stops {early} were cancelled before the close filled (bare position):\n{text}"
    assert any(s.kind == "tick" for s in seq[hi:]), f"the price moved before the last cancel:\n{text}"
    return Verdict(seq[fill].ms, {stop: seq[i].ms for stop, i in cancels.items()})


def report(broker: str, what: str, v: Verdict, seq: list[Step] | None = None) -> None:
    """One line per measurement (run with -s to read them)."""
    print(
        f"\n[orphan-stops] {broker} {what}: last stop cancel {v.after_fill_ms:+d} ms from the closing "
        f"fill; cancels at {sorted(ms - v.fill_ms for ms in v.cancels_ms.values())} ms"
    )
    for s in seq or []:
        print(f"    {s.ms - v.fill_ms:+6d} ms {s.kind:9} {s.order}")
