"""Issue #21 on Volumetrica (no reduce-only flag), through the real host process with ASL on, on
a protocol v5 and a v5.1 server.

A close of the whole position from Sidedesk (the panel's close, the panel's flatten, the flatten
hotkey) goes out as `CancelFlatReq` FLAT_CANCEL for the account and contract, which cancels the
contract's working orders and closes the position in one request: the simulator's record shows
the ASL stop cancelled by that request (`canceled_by`), in the same venue step as the closing
fill, with no OrderRemove of ours for it and no second stop. A close from outside Sidedesk (the
trader's other platform) cannot be linked to our stop: the host's cancel at flat is the backstop,
and the record shows our OrderRemove right behind the fill, before the market moves. A partial
close stays a plain market order of ours, and the venue cancels nothing.

Measured on the engine before the first fix: the stop stayed for the grace period (3 s) after the
closing fill, and the price move 1 s after the close fired it and opened a short. Before the
FLAT_CANCEL route, a close sent the stop's cancel itself, a round trip after the fill (the
record shows OrderRemove; test_close fails on `canceled_by`).
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

    def __init__(self, protocol: str) -> None:
        async def start() -> VolumetricaSim:
            sim = await VolumetricaSim(seed=5, protocol=protocol).start()
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
        """ASL's stops: the tests place no other stop order (a v5 server has no Source to tell)."""
        return [o for o in self.orders() if o.order_type == pb.ORDER_STOP]

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


@pytest.fixture(scope="module", params=["5", "5.1"])
def venue(request: pytest.FixtureRequest) -> Iterator[Venue]:
    v = Venue(request.param)
    yield v
    v.stop()


def open_long(venue: Venue, host: TopicHost, qty: int = 1) -> Any:
    """BUY `qty` ES at 6000 through the host; returns the ASL stop once it works on the venue."""
    venue.price(Decimal(6000), tick=False)
    host.call(
        "order.place",
        {"ticket": {"symbol": ES, "side": "BUY", "type": "MARKET", "quantity": str(qty)}, "source": "panel"},
    )
    return poll(
        lambda: next((o for o in venue.stops() if o.open and o.quantity == -qty), None),
        15,
        "the ASL stop working",
    )


def other_platform_sell(venue: Venue, qty: int) -> None:
    """The trader's other platform (same login) sells at market: an order Sidedesk did not send."""

    async def go() -> None:
        sim = venue.sim
        c = sim.exchange.by_symbol[ES]
        ins = pb.OrderInsertMsg(
            contract_id=c.contract_id,
            seq_client_id=77,
            quantity=-qty,
            order_type=pb.ORDER_MARKET,
            acc_number=BUILTIN_ACCOUNT,
            source=pb.SOURCE_MANUAL,
        )
        await sim._dispatch(sim.exchange.insert(BUILTIN_ACCOUNT, ins, sim.now_ms()))

    venue.loop.run(go())


def close_and_check(venue: Venue, tmp_path: Path, how: str) -> None:
    host = start_host(tmp_path / how, {"volumetrica": venue.sim.base_url}, [ES], ENTRY)
    try:
        stop = open_long(venue, host)
        assert stop.quantity == -1
        before = {o.org_server_id for o in venue.orders()}
        since = venue.loop.call(venue.log_len)
        reply = None
        if how == "close":
            reply = host.call("position.close", {"symbol": ES})
        elif how == "flatten":
            assert host.call("flatten", {})["closed"] == 1
        elif how == "hotkey":
            assert host.call("command", {"name": "flatten"})["result"]["closed"] == 1
        else:
            other_platform_sell(venue, 1)

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
        ours = [o for o in venue.stops() if o.org_server_id >= stop.org_server_id]
        stops = {str(o.org_server_id) for o in ours}
        seq = venue.sequence(since)
        outside = how == "outside"
        verdict = check_stops_follow_close(seq, str(close.org_server_id), stops, close_first=outside)
        assert venue.net() == 0, "a stop fired after the close and opened a position"
        assert not [o for o in venue.stops() if o.open], "an ASL stop is left on the venue"
        causes = {o.org_server_id: o.canceled_by for o in ours}
        if outside:
            # no link to another platform's order: our OrderRemove, right behind the fill
            assert set(causes.values()) == {"OrderRemove"}, causes
        else:
            # the venue's own doing: the close's request cancelled the stop, in the fill's step
            assert set(causes.values()) == {"CancelFlatReq FLAT_CANCEL"}, causes
            assert stops == {str(stop.org_server_id)}, f"ASL placed another stop during the close: {causes}"
            assert close.org_client_id == -1  # the venue's closing order, not an insert of ours
            assert verdict.after_fill_ms <= 0 and verdict.fill_ms - min(verdict.cancels_ms.values()) == 0
            if reply is not None:  # the host claimed it for the intent: the reply names it
                assert reply["order_id"] == str(close.org_server_id), reply
                assert reply["client_id"] and not reply["client_id"].startswith("vol-"), reply
        report(f"volumetrica v{venue.sim.protocol}", how, verdict, seq)
    finally:
        host.stop()


def test_close_goes_out_as_flat_cancel_which_cancels_the_stop(venue: Venue, tmp_path: Path) -> None:
    close_and_check(venue, tmp_path, "close")


def test_flatten_flat_cancels_each_position_with_its_stops(venue: Venue, tmp_path: Path) -> None:
    close_and_check(venue, tmp_path, "flatten")


def test_flatten_hotkey_flat_cancels_the_position_with_its_stops(venue: Venue, tmp_path: Path) -> None:
    close_and_check(venue, tmp_path, "hotkey")


def test_a_close_from_another_platform_is_followed_by_our_cancel(venue: Venue, tmp_path: Path) -> None:
    close_and_check(venue, tmp_path, "outside")


def test_a_partial_close_stays_a_plain_order_of_ours(venue: Venue, tmp_path: Path) -> None:
    """Half of 2 ES: a market order with our client id; the venue cancels nothing (ASL resizes
    its stop), and nothing goes out as CancelFlatReq."""
    host = start_host(tmp_path / "partial", {"volumetrica": venue.sim.base_url}, [ES], ENTRY)
    try:
        stop = open_long(venue, host, qty=2)
        before = {o.org_server_id for o in venue.orders()}
        host.call("position.close", {"symbol": ES, "fraction": "0.5"})
        close = poll(
            lambda: next(
                (
                    o
                    for o in venue.orders()
                    if o.org_server_id not in before and o.order_type == pb.ORDER_MARKET and o.filled == -1
                ),
                None,
            ),
            10,
            "the partial close filled",
        )
        assert close.quantity == -1 and close.org_client_id not in (0, -1)  # an insert of ours
        assert venue.net() == 1
        mine = [o for o in venue.orders() if o.org_server_id >= stop.org_server_id]
        assert not [o for o in mine if (o.canceled_by or "").startswith("CancelFlatReq")]
        poll(
            lambda: next((o for o in venue.stops() if o.open and o.quantity == -1), None),
            15,
            "the stop resized",
        )
        assert stop.canceled_by in (None, "OrderRemove")  # ASL's own resize, if it replaced it
        host.call("position.close", {"symbol": ES})  # the rest: the venue is flat for the next test
        poll(lambda: venue.net() == 0 and not [o for o in venue.stops() if o.open], 10, "flat, no stop")
    finally:
        host.stop()
