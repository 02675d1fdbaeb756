"""Through the real host process: a Volumetrica simulator account in the vault, activated; an ES
contract ticket fills; the positions topic shows P&L at 50 dollars a point; ASL places its hard
stop as an exchange-side stop order (Source Automatic) and moves it up as the price rises."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from decimal import Decimal as D
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim
from sidedesk_sim.volumetrica.instruments import front_symbol
from tests.hostproc import TopicHost
from tests.integration.volumetrica.conftest import calm

T = TypeVar("T")
PASSWORD = "correct horse battery staple 9"
ES = front_symbol("ES")


class SimThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sim: VolumetricaSim = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> VolumetricaSim:
        sim = await VolumetricaSim(seed=5).start()
        calm(sim)
        return sim

    def call(self, fn: Callable[[], Any]) -> Any:
        fut: Future[Any] = Future()

        def go() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(go)
        return fut.result(10)

    def price(self, symbol: str, price: str) -> None:
        asyncio.run_coroutine_threadsafe(
            self.sim.control("price", {"symbol": symbol, "price": price}), self.loop
        ).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


Host = TopicHost


@pytest.fixture(scope="module")
def st() -> Iterator[SimThread]:
    s = SimThread()
    yield s
    s.stop()


def asl_stops(st: SimThread) -> list[tuple[str, float, str]]:
    def read() -> list[tuple[str, float, str]]:
        return [
            (str(o.org_client_id), o.price, o.source)
            for o in st.sim.exchange.orders.values()
            if o.open and o.order_type == 2
        ]

    out: list[tuple[str, float, str]] = st.call(read)
    return out


def test_trade_es_with_asl_through_the_host(st: SimThread, tmp_path: Path) -> None:
    st.price(ES, "6000")
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    config = {
        "vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1},
        "watchlist": [ES],
        "risk": {
            "max_order_notional": None,
            "max_position_notional": None,
            "max_orders_per_minute": 10_000,
            "confirm_above_notional": None,
        },
        "asl_enabled": True,
        "simulators": {"volumetrica": st.sim.base_url},
    }
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    host = Host(home)
    try:
        host.call("vault.create", {"password": PASSWORD})
        entry = {
            "broker": "volumetrica",
            "name": "eval (simulator)",
            "environment": "simulator",
            "platform_key": BUILTIN_PLATFORM_KEY,
            "login": BUILTIN_LOGIN,
            "password": BUILTIN_PASSWORD,
        }
        account_id = host.call("vault.put", {"entry": entry})["entry"]["id"]
        host.call("accounts.activate", {"account_id": account_id}, timeout=30)
        host.call("subscribe", {"topics": ["positions", "orders", "quotes", "account", "asl"]})

        placed = host.call(
            "order.place",
            {"ticket": {"symbol": ES, "side": "BUY", "type": "MARKET", "quantity": "1"}, "source": "panel"},
        )
        assert placed["status"] == "placed"
        pos = host.until(
            lambda: (p := host.position(ES)) and D(p["quantity"]) == 1 and p, what="the ES position"
        )
        entry_price = D(pos["entry"])
        sources = st.call(lambda: [o.source for o in st.sim.exchange.orders.values()])
        assert sources[0] == "Manual"

        hard = host.until(lambda: asl_stops(st), what="the ASL hard stop", timeout=15)
        assert len(hard) == 1 and hard[0][2] == "Automatic"
        assert abs(D(repr(hard[0][1])) - entry_price * D("0.98")) <= D("0.25")

        st.price(ES, "6125")  # about +2 %: the engine trails by moving a plain stop order
        moved = host.until(
            lambda: [s for s in asl_stops(st) if s[1] > hard[0][1]], what="the stop moved up", timeout=15
        )
        assert moved
        pnl = host.until(
            lambda: (p := host.position(ES)) and p.get("mark") and D(p["mark"]) == 6125 and p,
            what="P&L at 6125",
        )
        assert D(pnl["unrealized_pnl"]) == (D(6125) - entry_price) * 50
        assert not any(BUILTIN_PASSWORD in frame or BUILTIN_PLATFORM_KEY in frame for frame in host.raw)
    except BaseException:
        print("stops:", asl_stops(st))
        print("asl topic:", json.dumps(host.latest.get("asl"))[:2000])
        print(host.log_text()[-4000:])
        raise
    finally:
        host.stop()
    text = (home / "logs" / "host.log").read_text(encoding="utf-8")
    assert BUILTIN_PASSWORD not in text and BUILTIN_PLATFORM_KEY not in text
