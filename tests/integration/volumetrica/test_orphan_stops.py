"""Issue #21 on Volumetrica (no reduce-only flag), through the real host process with ASL on: after
a close, the ASL stop is cancelled right behind the closing fill, before the market moves through
where it was; flatten sends each close with its stops' cancels right behind it.

On the engine before the fix the stop stayed for the grace period (3 s) after the closing fill,
and the price move 1 s after the close fired it and opened a short (test_close fails); flatten
cancelled the stop first and closed after a snapshot (test_flatten fails: bare position).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk_sim.engine import AlgoStatus, AlgoUpdate, ExecType, OrderStatus
from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim
from sidedesk_sim.volumetrica.instruments import front_symbol
from sidedesk_sim.volumetrica.sim import BUILTIN_ACCOUNT
from tests.hostproc import TopicHost
from tests.integration.orphans import (
    SimLoop,
    Step,
    check_stops_follow_close,
    merge,
    poll,
    report,
    start_host,
    wait_then_move,
)
from tests.integration.volumetrica.conftest import calm

ES = front_symbol("ES")
ENTRY = {
    "broker": "volumetrica",
    "name": "eval (simulator)",
    "environment": "simulator",
    "platform_key": BUILTIN_PLATFORM_KEY,
    "login": BUILTIN_LOGIN,
    "password": BUILTIN_PASSWORD,
}
_ALGO = {AlgoStatus.NEW: "working", AlgoStatus.CANCELED: "cancelled", AlgoStatus.TRIGGERED: "fired"}


class Venue:
    """The Volumetrica simulator and what the tests read from it."""

    def __init__(self) -> None:
        async def start() -> VolumetricaSim:
            sim = await VolumetricaSim(seed=5).start()
            calm(sim)
            return sim

        self.loop = SimLoop(start)
        self.sim: VolumetricaSim = self.loop.sim
        self.account = str(BUILTIN_ACCOUNT)
        self.ticks: list[tuple[int, Step]] = []

    def log_len(self) -> int:
        return len(self.sim.engine.order_log(self.account))

    def orders(self) -> list[Any]:
        return self.loop.call(lambda: list(self.sim.exchange.orders.values()))

    def stops(self) -> list[Any]:
        """ASL's stops: the host sends them as Automatic stop orders."""
        return [o for o in self.orders() if o.order_type == pb.ORDER_STOP and o.source == "Automatic"]

    def net(self) -> int:
        return self.loop.call(lambda: int(sum(p.amount for p in self.sim.engine.positions(self.account))))

    def price(self, price: Decimal, *, tick: bool) -> None:
        async def go() -> None:
            if tick:  # recorded where it falls in the order sequence
                self.ticks.append((self.log_len(), Step("tick", "", self.sim.now_ms())))
            await self.sim.control("price", {"symbol": ES, "price": str(price)})

        self.loop.run(go())

    def sequence(self, since: int) -> list[Step]:
        def read() -> list[Step]:
            out: list[Step] = []
            for e in self.sim.engine.order_log(self.account)[since:]:
                if isinstance(e, AlgoUpdate):
                    cid, kind = e.algo.client_id, _ALGO.get(e.algo.status, "other")
                else:
                    cid = e.order.client_id
                    if e.exec_type is ExecType.TRADE:
                        kind = "filled" if e.order.status is OrderStatus.FILLED else "other"
                    elif e.exec_type in (ExecType.CANCELED, ExecType.EXPIRED):
                        kind = "cancelled"
                    elif e.exec_type is ExecType.NEW:
                        kind = "fired" if e.order.algo_id is not None else "working"
                    else:
                        kind = "other"
                out.append(Step(kind, cid.removeprefix("v"), e.time_ms))  # type: ignore[arg-type]
            return out

        rows = self.loop.call(read)
        return merge(rows, [(i - since, t) for i, t in self.ticks if i >= since])

    def stop(self) -> None:
        self.loop.stop(self.sim.stop)


@pytest.fixture(scope="module")
def venue() -> Iterator[Venue]:
    v = Venue()
    yield v
    v.stop()


def open_long(venue: Venue, host: TopicHost) -> Any:
    """BUY 1 ES at 6000 through the host; returns the ASL stop once it works on the venue."""
    venue.price(Decimal(6000), tick=False)
    host.call(
        "order.place",
        {"ticket": {"symbol": ES, "side": "BUY", "type": "MARKET", "quantity": "1"}, "source": "panel"},
    )
    return poll(lambda: next((o for o in venue.stops() if o.open), None), 15, "the ASL stop working")


def close_and_check(venue: Venue, tmp_path: Path, how: str) -> None:
    host = start_host(tmp_path / how, {"volumetrica": venue.sim.base_url}, [ES], ENTRY)
    try:
        stop = open_long(venue, host)
        assert stop.quantity == -1
        before = {o.org_server_id for o in venue.orders()}
        since = venue.loop.call(venue.log_len)
        if how == "close":
            host.call("position.close", {"symbol": ES})
        else:
            assert host.call("flatten", {})["closed"] == 1

        def close_order() -> Any:
            return next(
                (
                    o
                    for o in venue.orders()
                    if o.org_server_id not in before and o.order_type == pb.ORDER_MARKET and o.quantity < 0
                ),
                None,
            )

        # the market falls through where the stop was, a second after the close
        stop_price = Decimal(repr(stop.price))
        wait_then_move(
            lambda: bool((c := close_order()) and c.filled == c.quantity),
            lambda: venue.price(stop_price - 10, tick=True),
        )
        time.sleep(0.2)  # a stop the move fired has filled by now
        close = close_order()
        assert close is not None
        stops = {str(o.org_server_id) for o in venue.stops() if o.org_server_id >= stop.org_server_id}
        verdict = check_stops_follow_close(
            venue.sequence(since), str(close.org_server_id), stops, close_first=True
        )
        assert venue.net() == 0, "a stop fired after the close and opened a position"
        assert not [o for o in venue.stops() if o.open], "an ASL stop is left on the venue"
        report("volumetrica", how, verdict)
    finally:
        host.stop()


def test_close_cancels_the_stop_right_behind_the_fill(venue: Venue, tmp_path: Path) -> None:
    close_and_check(venue, tmp_path, "close")


def test_flatten_sends_the_close_and_the_stop_cancel_back_to_back(venue: Venue, tmp_path: Path) -> None:
    close_and_check(venue, tmp_path, "flatten")
