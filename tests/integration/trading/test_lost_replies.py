"""A lost reply, resolved once for every broker by order entry (issue #19).

Each broker's simulator runs in this test's loop and the host is built in-process by the
composition root (`Host(..., compose=compose)`), so the real services, the real adapter and the
real journal take part; the simulator answers over loopback as the exchange would. Each simulator
executes an order and then loses its reply. What must follow, for every broker alike:

- the order call raises `unknown_outcome` (the adapter never re-sends it, nor resolves it itself);
- the journal records "unknown — reconciling", then what the exchange says (or NOT_FOUND when it
  never got the order), found by client id through the order intent machine (`core/intent.py`);
- the books hold the order under the key the exchange's kind gives it (a stop: conditional).

Regressions (each failed on the per-adapter copies this replaced): every broker resolved a lost
reply inside `place` and answered "placed", so the trader never saw "unknown — reconciling";
Tradovate's copy dropped `conditional` and its stops came back as regular orders, so the books
kept them apart from the conditional order ASL cancels by; Volumetrica's lookup answered "not
found" whenever it could not ask (not logged in), and the intent was closed as NOT_FOUND for an
order working at the exchange. And the ASL path: a protective stop whose reply is lost is
resolved the same way, never placed twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sidedesk.api.context import Services
from sidedesk.app.links import AccountLink
from sidedesk.core.orders import Ticket
from sidedesk.domain import BrokerError, OrderRequest, OrderType, Side
from sidedesk.main import compose
from sidedesk.runtime import Host
from sidedesk.store.config import HostConfig
from sidedesk.store.paths import Paths
from sidedesk_sim.alpaca import BUILTIN_KEY_ID, BUILTIN_SECRET, AlpacaSim
from sidedesk_sim.alpaca import control as alpaca_control
from sidedesk_sim.binance import BinanceSim
from sidedesk_sim.binance import control as binance_control
from sidedesk_sim.tradovate import BUILTIN_USER, SimConfig, TradovateSim
from sidedesk_sim.tradovate.instruments import front_name
from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim
from sidedesk_sim.volumetrica.instruments import front_symbol
from tests.integration.trading.conftest import OPEN_RISK, PASSWORD, SMALL_KDF
from tests.support.transport import NullTransport

T = TypeVar("T")
D = Decimal
UNKNOWN = "unknown — reconciling"
MES = front_name("MES")
ES = front_symbol("ES")


async def until(probe: Callable[[], T | None], what: str, timeout: float = 10.0) -> T:
    """Poll `probe` every 20 ms until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        await asyncio.sleep(0.02)


@dataclass
class Desk:
    host: Host
    svc: Services
    link: AccountLink

    @property
    def account_id(self) -> str:
        return self.link.account_id

    def outcomes(self, client_id: str) -> list[dict[str, Any]]:
        return [r.data for r in self.svc.recorder.journal.records(kind="outcome", client_id=client_id)]

    def statuses(self, client_id: str) -> list[str]:
        return [str(o.get("status")) for o in self.outcomes(client_id)]

    def last_intent(self, source: str = "panel") -> str:
        intents = [
            r for r in self.svc.recorder.journal.records(kind="intent") if r.data.get("source") == source
        ]
        assert intents, f"no {source} intent in the journal"
        cid = intents[-1].client_id
        assert cid is not None
        return cid

    async def resolved(self, client_id: str, timeout: float = 10.0) -> list[str]:
        """The journal's outcomes once the intent has its answer after "unknown — reconciling"."""

        def answered() -> list[str] | None:
            statuses = self.statuses(client_id)
            return statuses if statuses and statuses[-1] != UNKNOWN else None

        return await until(answered, f"the outcome of {client_id} after {UNKNOWN!r}", timeout)

    def booked(self, order_id: str, *, conditional: bool) -> bool:
        return self.svc.books.orders.get(self.account_id, order_id, conditional=conditional) is not None

    async def place_ticket(self, **ticket: Any) -> BrokerError:
        """A panel ticket whose reply is lost: the call must raise unknown_outcome."""
        with pytest.raises(BrokerError) as err:
            await self.svc.entry.place_ticket(Ticket(**ticket), "panel", confirmed=True)
        assert err.value.code == "unknown_outcome", err.value.message
        return err.value

    async def place(self, request: OrderRequest) -> BrokerError:
        """An order through order entry as protection places its stops; must raise unknown_outcome."""
        with pytest.raises(BrokerError) as err:
            await self.svc.entry.place(self.link, request, "asl")
        assert err.value.code == "unknown_outcome", err.value.message
        return err.value

    async def close(self) -> None:
        await self.host.shutdown()


@pytest.fixture
async def desk_for(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """`await desk_for(broker, sim_url, entry, asl=False)`: a host with that account live."""
    made: list[Desk] = []

    async def factory(broker: str, sim_url: str, entry: dict[str, Any], *, asl: bool = False) -> Desk:
        home = tmp_path / f"home{len(made)}"
        paths = Paths(home / "config", home / "data", home / "logs")
        config = HostConfig.model_validate(
            {"vault_kdf": SMALL_KDF, "simulators": {broker: sim_url}, "risk": OPEN_RISK, "asl_enabled": asl}
        )
        host = Host(NullTransport(), paths, config, compose=compose)
        svc = host.services
        await svc.vault.create(PASSWORD)
        account_id = (
            await svc.vault.put({"broker": broker, "name": "sim", "environment": "simulator", **entry})
        ).id
        link = await svc.links.activate(account_id)
        await until(lambda: link.tradable, "the account live")
        desk = Desk(host, svc, link)
        made.append(desk)
        return desk

    yield factory
    for d in made:
        await d.close()


# -- the simulators, in this test's loop ---------------------------------------------------------------


@pytest.fixture
async def binance() -> AsyncIterator[BinanceSim]:
    async with BinanceSim(seed=11) as s:
        for symbol in s.engine.instruments:
            s.engine.set_volatility(symbol, D(0))
        binance_control.set_price(s, {"symbol": "BTCUSDT", "price": "60000"})
        yield s


@pytest.fixture
async def tradovate() -> AsyncIterator[TradovateSim]:
    async with TradovateSim(seed=11, config=SimConfig(heartbeat_s=0.5)) as s:
        for c in s.contracts:
            s.engine.set_volatility(c.name, D(0))
        s.set_price(MES, D("6000.00"))
        yield s


@pytest.fixture
async def alpaca() -> AsyncIterator[AlpacaSim]:
    async with AlpacaSim(seed=11) as s:
        for symbol in s.engine.instruments:
            s.engine.set_volatility(symbol, D(0))
        alpaca_control.set_price(s, {"symbol": "AAPL", "price": "200"})
        yield s


@pytest.fixture
async def volumetrica() -> AsyncIterator[VolumetricaSim]:
    async with VolumetricaSim(seed=11) as s:
        for symbol in s.engine.instruments:
            s.engine.set_volatility(symbol, D(0))
        await s.control("price", {"symbol": ES, "price": "6000"})
        yield s


def binance_entry(sim: BinanceSim) -> dict[str, Any]:
    key = next(k for k in sim.info()["keys"] if k["type"] == "hmac" and k.get("account", "main") == "main")
    return {"auth": "hmac", "api_key": key["apiKey"], "secret": key["secret"]}


TRADOVATE_ENTRY = {
    "username": BUILTIN_USER["name"],
    "password": BUILTIN_USER["password"],
    "cid": int(BUILTIN_USER["cid"]),
    "sec": BUILTIN_USER["sec"],
    "app_id": "Sidedesk",
}
ALPACA_ENTRY = {"key_id": BUILTIN_KEY_ID, "secret_key": BUILTIN_SECRET}
VOLUMETRICA_ENTRY = {
    "platform_key": BUILTIN_PLATFORM_KEY,
    "login": BUILTIN_LOGIN,
    "password": BUILTIN_PASSWORD,
}


# -- one lost reply per broker --------------------------------------------------------------------------


async def test_binance_lost_reply(binance: BinanceSim, desk_for: Callable[..., Any]) -> None:
    desk: Desk = await desk_for("binance", binance.rest_url, binance_entry(binance))
    binance.faults.arm({"kind": "lose_reply", "target": "order.place"})  # executes, answers 503
    await desk.place_ticket(symbol="BTCUSDT", side=Side.BUY, type="LIMIT", quantity=D("0.01"), price=D(59400))
    cid = desk.last_intent()
    assert await desk.resolved(cid) == [UNKNOWN, "NEW"]
    orders = binance_control.open_orders(binance, {"account": "main"})["orders"]
    assert [o["clientOrderId"] for o in orders] == [cid]  # looked up, never re-sent
    assert desk.booked(str(orders[0]["orderId"]), conditional=False)


async def test_binance_order_the_exchange_never_got_is_not_found(
    binance: BinanceSim, desk_for: Callable[..., Any]
) -> None:
    desk: Desk = await desk_for("binance", binance.rest_url, binance_entry(binance))
    binance.faults.arm({"kind": "drop_at_method", "target": "order.place"})  # dies as it arrives
    await desk.place_ticket(symbol="BTCUSDT", side=Side.BUY, type="LIMIT", quantity=D("0.01"), price=D(59400))
    cid = desk.last_intent()
    assert await desk.resolved(cid) == [UNKNOWN, "NOT_FOUND"]
    assert binance_control.order_log(binance, {"account": "main"}) == []  # and nothing was re-sent
    assert not desk.svc.books.orders.open_orders(desk.account_id)


async def test_tradovate_lost_reply(tradovate: TradovateSim, desk_for: Callable[..., Any]) -> None:
    desk: Desk = await desk_for("tradovate", tradovate.base_url, TRADOVATE_ENTRY)
    tradovate.faults.arm({"kind": "lose_reply", "target": "order/placeorder"})  # executes, drops the socket
    await desk.place_ticket(symbol=MES, side=Side.BUY, type="LIMIT", quantity=D(1), price=D("5990.00"))
    cid = desk.last_intent()
    assert await desk.resolved(cid) == [UNKNOWN, "NEW"]
    placed = [o for o in tradovate.book.orders.values() if o.leg.cl_ord_id == cid]
    assert len(placed) == 1 and len(tradovate.book.orders) == 1  # never re-sent
    assert desk.booked(str(placed[0].id), conditional=False)


async def test_tradovate_lost_reply_of_a_stop_is_a_conditional_order(
    tradovate: TradovateSim, desk_for: Callable[..., Any]
) -> None:
    # was: Tradovate's copy dropped `conditional`; the stop came back as a regular order and the
    # books held it apart from the conditional order that protection cancels by
    desk: Desk = await desk_for("tradovate", tradovate.base_url, TRADOVATE_ENTRY)
    tradovate.faults.arm({"kind": "lose_reply", "target": "order/placeorder"})
    stop = OrderRequest(
        MES, Side.SELL, OrderType.STOP_MARKET, D(1), f"sda-{MES}-L0-7", stop_price=D("5980.00")
    )
    await desk.place(stop)
    assert await desk.resolved(stop.client_id) == [UNKNOWN, "NEW"]
    placed = [o for o in tradovate.book.orders.values() if o.leg.cl_ord_id == stop.client_id]
    assert len(placed) == 1 and len(tradovate.book.orders) == 1
    oid = str(placed[0].id)
    await until(lambda: desk.booked(oid, conditional=True), "the stop in the books as a conditional order")
    assert not desk.booked(oid, conditional=False)  # one order, one key: not also a regular one


async def test_alpaca_lost_reply(alpaca: AlpacaSim, desk_for: Callable[..., Any]) -> None:
    desk: Desk = await desk_for("alpaca", alpaca.base_url, ALPACA_ENTRY)
    alpaca.faults.arm({"kind": "lose_reply", "target": "POST /v2/orders", "status": 504})
    await desk.place_ticket(symbol="AAPL", side=Side.BUY, type="LIMIT", quantity=D(1), price=D(199))
    cid = desk.last_intent()
    assert await desk.resolved(cid) == [UNKNOWN, "NEW"]
    placed = [o for o in alpaca.book.orders.values() if o.client_order_id == cid]
    assert len(placed) == 1 and len(alpaca.book.orders) == 1  # never re-sent
    assert desk.booked(placed[0].id, conditional=False)


async def test_volumetrica_lost_reply(volumetrica: VolumetricaSim, desk_for: Callable[..., Any]) -> None:
    desk: Desk = await desk_for("volumetrica", volumetrica.base_url, VOLUMETRICA_ENTRY)
    desk.link.broker.request_timeout_s = 0.5  # type: ignore[attr-defined]  # how long an answer may take
    await volumetrica.control("fault", {"kind": "lose_order_replies", "count": 1})  # executes, says nothing
    await desk.place_ticket(symbol=ES, side=Side.BUY, type="LIMIT", quantity=D(1), price=D(5990))
    cid = desk.last_intent()
    assert await desk.resolved(cid) == [UNKNOWN, "NEW"]
    working = [o for o in volumetrica.exchange.orders.values() if o.open]
    assert len(working) == 1 and len(volumetrica.exchange.orders) == 1  # never re-sent
    # the sim told the adapter nothing about it: only the lookup put it in the books
    assert desk.booked(str(working[0].org_server_id), conditional=False)


async def test_volumetrica_lost_reply_of_an_order_that_filled_is_found(
    volumetrica: VolumetricaSim, desk_for: Callable[..., Any]
) -> None:
    # was: the reply and the fill went unseen, the snapshot lists only working orders, so the
    # lookup said "not found" and the intent was closed as never placed with the position open;
    # the session's order history (AccountHistoricalSessionReq, v5.1) lists it filled
    desk: Desk = await desk_for("volumetrica", volumetrica.base_url, VOLUMETRICA_ENTRY)
    desk.link.broker.request_timeout_s = 0.5  # type: ignore[attr-defined]
    await volumetrica.control("fault", {"kind": "lose_order_replies", "count": 1})
    await desk.place_ticket(symbol=ES, side=Side.BUY, type="MARKET", quantity=D(1))
    cid = desk.last_intent()
    assert await desk.resolved(cid) == [UNKNOWN, "FILLED"]
    assert len(volumetrica.exchange.orders) == 1  # never re-sent


async def test_volumetrica_lookup_that_cannot_ask_is_retried_not_taken_for_not_found(
    volumetrica: VolumetricaSim, desk_for: Callable[..., Any]
) -> None:
    # was: logged out, the adapter's lookup said "not found" and the intent was closed as
    # NOT_FOUND (never placed) for an order working at the exchange
    desk: Desk = await desk_for("volumetrica", volumetrica.base_url, VOLUMETRICA_ENTRY)
    desk.link.broker.request_timeout_s = 0.5  # type: ignore[attr-defined]
    await volumetrica.control("fault", {"kind": "lose_order_replies", "count": 1})
    ticket = Ticket(symbol=ES, side=Side.BUY, type="LIMIT", quantity=D(1), price=D(5990))
    placing = asyncio.create_task(desk.svc.entry.place_ticket(ticket, "panel", confirmed=True))
    await until(lambda: volumetrica.exchange.orders, "the order at the exchange")
    await volumetrica.stop()  # the exchange is unreachable from now on, with the order working
    with pytest.raises(BrokerError) as err:
        await placing
    assert err.value.code == "unknown_outcome"
    cid = desk.last_intent()
    # the first lookups fail (not logged in): the intent stays unknown, they are tried again
    await asyncio.sleep(2.0)
    assert desk.statuses(cid) == [UNKNOWN]
    await volumetrica.start()  # back, on the same port, with the same book
    assert await desk.resolved(cid, timeout=20) == [UNKNOWN, "NEW"]
    working = [o for o in volumetrica.exchange.orders.values() if o.open]
    assert len(working) == 1 and len(volumetrica.exchange.orders) == 1
    assert desk.booked(str(working[0].org_server_id), conditional=False)


# -- the ASL path: protection places its stops through order entry ----------------------------------------


async def test_asl_stop_whose_reply_is_lost_is_resolved_the_same_way(
    binance: BinanceSim, desk_for: Callable[..., Any]
) -> None:
    desk: Desk = await desk_for("binance", binance.rest_url, binance_entry(binance), asl=True)
    binance.faults.arm({"kind": "lose_reply", "target": "algoOrder.place"})  # the hard stop's reply
    placed = await desk.svc.entry.place_ticket(
        Ticket(symbol="BTCUSDT", side=Side.BUY, type="MARKET", quantity=D("0.01")), "panel", confirmed=True
    )
    assert placed["status"] == "placed"
    await until(lambda: not binance.faults.active, "the hard stop to meet the fault")
    cid = desk.last_intent("asl")
    assert await desk.resolved(cid) == [UNKNOWN, "NEW"]
    algos = binance_control.open_orders(binance, {"account": "main"})["algoOrders"]
    assert [a["clientAlgoId"] for a in algos] == [cid]
    await until(lambda: desk.booked(str(algos[0]["algoId"]), conditional=True), "the stop in the books")
    # protection takes the found stop as its own: no second stop, no retry, for a while
    await asyncio.sleep(1.5)
    algos = binance_control.open_orders(binance, {"account": "main"})["algoOrders"]
    assert [a["clientAlgoId"] for a in algos] == [cid]
    intents = [r for r in desk.svc.recorder.journal.records(kind="intent") if r.data.get("source") == "asl"]
    assert [r.client_id for r in intents] == [cid]
