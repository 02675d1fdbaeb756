"""Issue #21 on Alpaca (no reduce-only flag), through the real host process with ASL on.

Alpaca holds the shares of a working sell stop (a buy stop against a short alike), so the adapter
cancels our stop to let a closing order through; ASL saw its stop vanish and placed it again, a
millisecond after the close had filled, and Alpaca took that stop for a flat account as a
short-opening order. It stayed for the grace period (3.1 s measured), and the price move 1 s after
the close fired it: 10 shares short (test_close fails on the engine before the first fix). The
first fix cancelled that new stop on its reply (1-21 ms after the fill); now ASL holds off while
order entry's whole close is in flight (`PositionMachine.on_closing`), so no second stop is placed
at all (test_close fails without the hold-off: a second ASL stop in the venue's record). Flatten
and the flatten hotkey send the close and the stop's cancel together (the order between them is
Alpaca's: its REST requests may cross). A close from another program is refused by Alpaca while
our stop holds the shares (403 40310000): the position and its stop stay together.

No venue link is used on Alpaca (the README's broker table says why): the stop's cancel precedes
the closing fill, because Alpaca lets no closing order through while the stop holds the shares.
The order sequence is the simulator's own `trade_updates` record, observed where the book emits
each event (one list, in the order the book applied them), with the test's price moves in it.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sidedesk.app.books import Books
from sidedesk.app.notices import Notices
from sidedesk.app.protection import Protection
from sidedesk.app.recorder import Recorder
from sidedesk.brokers.alpaca.adapter import AlpacaBroker
from sidedesk.core.asl import AslProfile, Phase, PositionKey
from sidedesk.core.orders import make_client_id
from sidedesk.domain import BrokerEvent, OrderRequest, OrderType, PositionSide, Side
from sidedesk.store.journal import Journal
from sidedesk_sim.alpaca import BUILTIN_KEY_ID, BUILTIN_SECRET, AlpacaSim
from tests.hostproc import TopicHost
from tests.integration.alpaca.conftest import calm, config_for, until
from tests.integration.orphans import (
    Kind,
    SimLoop,
    Step,
    check_stops_follow_close,
    poll,
    report,
    start_host,
    wait_then_move,
)

ENTRY = {
    "broker": "alpaca",
    "name": "paper (simulator)",
    "environment": "simulator",
    "key_id": BUILTIN_KEY_ID,
    "secret_key": BUILTIN_SECRET,
}
ACCOUNT = "main"
_KINDS: dict[str, Kind] = {
    "new": "working",
    "fill": "filled",
    "canceled": "cancelled",
    "expired": "cancelled",
}


class Venue:
    """The Alpaca simulator, with its trade updates and the test's price moves kept in order."""

    def __init__(self) -> None:
        async def start() -> AlpacaSim:
            sim = await AlpacaSim(seed=5).start()
            calm(sim)
            return sim

        self.loop = SimLoop(start)
        self.sim: AlpacaSim = self.loop.sim
        self.log: list[Step] = []
        book = self.sim.book
        emit = book._emit

        def observed(event: str, o: Any, now: int, **extra: Any) -> None:
            if o.account == ACCOUNT:
                self.log.append(Step(_KINDS.get(event, "other"), o.client_order_id, now))
            emit(event, o, now, **extra)

        self.loop.call(lambda: setattr(book, "_emit", observed))

    def orders(self) -> list[Any]:
        return self.loop.call(
            lambda: [o.copy() for o in self.sim.book.orders.values() if o.account == ACCOUNT]
        )

    def stops(self) -> list[Any]:
        return [o for o in self.orders() if o.type == "stop" and o.client_order_id.startswith("sda-")]

    def net(self) -> Decimal:
        return self.loop.call(lambda: self.sim.book.position(ACCOUNT, "AAPL"))

    def price(self, price: Decimal, *, tick: bool = True) -> None:
        def go() -> None:
            if tick:
                self.log.append(Step("tick", "", self.sim.now_ms()))
            self.sim.book.absorb(self.sim.engine.set_price("AAPL", price, self.sim.now_ms()))
            self.sim.step()

        self.loop.call(go)

    def stop(self) -> None:
        self.loop.stop(self.sim.stop)


@pytest.fixture(scope="module")
def venue() -> Iterator[Venue]:
    v = Venue()
    yield v
    v.stop()


def open_position(venue: Venue, host: TopicHost, side: str) -> Any:
    """10 AAPL at 200 through the host; returns the ASL stop once it works on the venue."""
    venue.price(Decimal(200), tick=False)
    host.until(
        lambda: ((host.latest.get("quotes") or {}).get("quotes", {}).get("AAPL") or {}).get("mark"),
        what="an AAPL price",
    )
    ticket = {"symbol": "AAPL", "side": side, "type": "MARKET", "quantity": "10"}
    host.call("order.place", {"ticket": ticket, "source": "panel"})
    return poll(lambda: next((o for o in venue.stops() if o.is_open), None), 10, "the ASL stop working")


def close_and_check(venue: Venue, tmp_path: Path, how: str, side: str) -> None:
    host = start_host(tmp_path / how, {"alpaca": venue.sim.base_url}, ["AAPL"], ENTRY)
    try:
        stop = open_position(venue, host, side)
        closing = "sell" if side == "BUY" else "buy"
        assert stop.side == closing and stop.qty == 10
        before = {o.id for o in venue.orders()}
        since = len(venue.log)
        if how == "close":
            host.call("position.close", {"symbol": "AAPL"})
        elif how == "flatten":
            assert host.call("flatten", {})["closed"] == 1
        else:
            assert host.call("command", {"name": "flatten"})["result"]["closed"] == 1

        def close_order() -> Any:
            return next(
                (
                    o
                    for o in venue.orders()
                    if o.id not in before and o.type == "market" and o.side == closing
                ),
                None,
            )

        # the market moves through where the stop was, a second after the close
        through = stop.stop_price - 1 if closing == "sell" else stop.stop_price + 1
        wait_then_move(
            lambda: bool((c := close_order()) and c.status == "filled"), lambda: venue.price(through)
        )
        time.sleep(0.2)  # a stop the move fired has filled by now
        close = close_order()
        assert close is not None
        stops = {o.client_order_id for o in venue.stops() if o.created_ms >= stop.created_ms}
        assert stops == {stop.client_order_id}, f"ASL placed another stop during the close: {stops}"
        seq = venue.log[since:]
        verdict = check_stops_follow_close(seq, close.client_order_id, stops, close_first=False)
        assert venue.net() == 0, "a stop fired after the close and opened a position"
        assert not [o for o in venue.stops() if o.is_open], "an ASL stop is left on the venue"
        report("alpaca", f"{how} {side.lower()}", verdict, seq)
    finally:
        host.stop()


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_close_leaves_no_stop_to_fire(venue: Venue, tmp_path: Path, side: str) -> None:
    close_and_check(venue, tmp_path, "close", side)


def test_flatten_sends_the_close_and_the_stop_cancel_together(venue: Venue, tmp_path: Path) -> None:
    close_and_check(venue, tmp_path, "flatten", "BUY")


def test_flatten_hotkey_sends_the_close_and_the_stop_cancel_together(venue: Venue, tmp_path: Path) -> None:
    close_and_check(venue, tmp_path, "hotkey", "SELL")


def test_a_close_from_another_program_is_refused_while_our_stop_holds_the_shares(
    venue: Venue, tmp_path: Path
) -> None:
    """Another program with the same key sells the position at market: Alpaca refuses it (the
    stop holds the shares), so no fill can leave our stop behind; position and stop stay."""
    host = start_host(tmp_path / "outside", {"alpaca": venue.sim.base_url}, ["AAPL"], ENTRY)
    try:
        stop = open_position(venue, host, "BUY")
        body = {"symbol": "AAPL", "qty": "10", "side": "sell", "type": "market", "time_in_force": "day"}
        req = urllib.request.Request(
            venue.sim.base_url + "/v2/orders",
            data=json.dumps(body).encode(),
            headers={"APCA-API-KEY-ID": BUILTIN_KEY_ID, "APCA-API-SECRET-KEY": BUILTIN_SECRET,
                     "Content-Type": "application/json"},
        )  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        assert err.value.code == 403
        refusal = json.loads(err.value.read())
        assert refusal["code"] == 40310000 and "insufficient qty" in refusal["message"]
        assert venue.net() == 10
        assert [o.client_order_id for o in venue.stops() if o.is_open] == [stop.client_order_id]
        host.call("position.close", {"symbol": "AAPL"})  # leave the venue flat for the next test
        poll(lambda: venue.net() == 0 and not [o for o in venue.stops() if o.is_open], 10, "flat")
    finally:
        host.stop()


async def test_a_fill_that_closes_the_position_reaches_the_engine_without_the_watchdog(
    sim: AlpacaSim, tmp_path: Path
) -> None:
    """The adapter reports the closing fill before the position update, and the books move the
    position on the fill: the position update then changes nothing and tells nobody. Protection
    runs here with no timers (no watchdog), so only events can tell the engine: before the fix it
    stayed ACTIVE and its re-placed stop stayed on Alpaca; now the fill itself brings it flat and
    the stop is cancelled. Real adapter, real books, the simulator over loopback."""
    publish = lambda topic, payload: None  # noqa: E731
    notices = Notices(publish)
    books = Books(publish, Recorder(Journal(tmp_path / "journal.db"), notices), notices)

    def sink(ev: BrokerEvent) -> None:
        books.on_event("acc", ev)

    broker = AlpacaBroker("acc", config_for(sim), sink, request_timeout_s=3.0)
    await broker.connect()
    try:
        books.apply_snapshot("acc", await broker.snapshot(), "connect")
        prot = Protection(
            "acc",
            broker,
            AslProfile(),
            open_orders=lambda: books.open_orders("acc"),
            positions=lambda: books.live_positions("acc"),
            on_event=lambda ev: None,
            on_notify=lambda n: None,
            journal=lambda kind, data, cid: None,
            place=broker.place,
            cancel=lambda symbol, oid, cid: broker.cancel(
                symbol, order_id=oid, client_id=cid, conditional=True
            ),
        )
        books.order_listeners.append(lambda account, ev: prot.on_order(ev))
        books.position_listeners.append(lambda account, ev: prot.on_position(ev))
        # (what ProtectionService wires; absent before the fix, when only the watchdog followed)
        follow = getattr(prot, "on_user_event", lambda: None)
        books.user_event_listeners.append(lambda account, mono: follow())
        sim.book.absorb(sim.engine.set_price("AAPL", Decimal(200), sim.now_ms()))
        sim.step()

        def ours() -> list[Any]:
            return [o for o in sim.book.open_orders(ACCOUNT) if o.client_order_id.startswith("sda-")]

        await broker.place(OrderRequest("AAPL", Side.BUY, OrderType.MARKET, Decimal(10), make_client_id("m")))
        await until(ours, what="the ASL stop")
        close = OrderRequest(
            "AAPL", Side.SELL, OrderType.MARKET, Decimal(10), make_client_id("m"), reduce_only=True
        )
        await broker.place(close)  # the adapter cancels our stop to free the shares, then sells
        key = PositionKey("acc", "AAPL", PositionSide.BOTH)
        m = prot.engine.machine(key)
        assert m is not None
        await until(lambda: m.phase is Phase.FLAT, 3, "the engine to see the position flat")
        await until(lambda: not ours(), 3, "no ASL stop left on Alpaca")
        await asyncio.sleep(0.3)
        assert not ours() and sim.book.position(ACCOUNT, "AAPL") == 0
        await prot.stop()
    finally:
        await broker.close()
