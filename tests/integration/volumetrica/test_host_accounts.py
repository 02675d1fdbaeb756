"""Through the real host process: a Volumetrica login with an evaluation account (123456) and a
funded one (123457). The entry saved without an account trades the first one enabled for trading,
as before, and remembers it; the funded account connects beside it (its own session, the login's
other sessions kept); after a switch, an order lands on the funded account in the simulator's own
state; a position opened elsewhere on the evaluation account, now not active, gets its ASL stop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
from sidedesk.domain import OrderRequest, OrderType, Side
from sidedesk_sim.volumetrica import (
    BUILTIN_LOGIN,
    BUILTIN_PASSWORD,
    BUILTIN_PLATFORM_KEY,
    SimConfig,
    VolumetricaSim,
)
from tests.integration.volumetrica.conftest import calm, config_for
from tests.integration.volumetrica.test_host import ES, PASSWORD, Host, SimThread
from tests.support.eventlog import EventLog

EVAL, FUNDED = 123456, 123457


class TwoAccounts(SimThread):
    async def _start(self) -> VolumetricaSim:
        sim = await VolumetricaSim(seed=5, config=SimConfig(accounts=2)).start()
        calm(sim)
        return sim


@pytest.fixture
def st() -> Iterator[SimThread]:
    s = TwoAccounts()
    yield s
    s.stop()


def _stops(st: SimThread, acc: int) -> list[Any]:
    return list(
        st.call(
            lambda: [
                o for o in st.sim.exchange.orders.values() if o.open and o.order_type == 2 and o.acc == acc
            ]
        )
    )


def _other_platform_buys(st: SimThread, acc: int) -> None:
    async def go() -> None:
        other = VolumetricaBroker("other", config_for(st.sim), EventLog(), account_number=acc)
        try:
            await other.connect()
            await other.place(OrderRequest(ES, Side.BUY, OrderType.MARKET, D(1), "sdmother0001"))
        finally:
            await asyncio.wait_for(other.close(), 5)

    asyncio.run_coroutine_threadsafe(go(), st.loop).result(15)


def test_pick_switch_trade_and_protect_every_account_of_the_login(st: SimThread, tmp_path: Path) -> None:
    st.price(ES, "6000")
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    config = {
        "vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1},
        "watchlist": [ES],
        "risk": {"max_orders_per_minute": 10_000, "confirm_above_notional": None},
        "asl_enabled": True,
        "simulators": {"volumetrica": st.sim.base_url},
    }
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    host = Host(home)
    try:
        host.call("vault.create", {"password": PASSWORD})
        entry = {
            "broker": "volumetrica",
            "name": "prop login",
            "environment": "simulator",
            "platform_key": BUILTIN_PLATFORM_KEY,
            "login": BUILTIN_LOGIN,
            "password": BUILTIN_PASSWORD,
        }
        entry_id = host.call("vault.put", {"entry": entry})["entry"]["id"]
        row = host.call("accounts.activate", {"account_id": entry_id}, timeout=30)
        evaluation, funded = f"{entry_id}:{EVAL}", f"{entry_id}:{FUNDED}"
        assert row["id"] == evaluation and row["account_name"] == "Evaluation — SIM-EVAL-1"
        assert host.call("vault.entries")["entries"][0]["account"] == str(EVAL)
        host.call("subscribe", {"topics": ["status", "positions"]})

        def state_of(account_id: str) -> str | None:
            brokers = (host.latest.get("status") or {}).get("brokers", [])
            return next((b["state"] for b in brokers if b["account_id"] == account_id), None)

        host.until(lambda: state_of(funded) == "live", what="the funded account live beside", timeout=20)

        row = host.call("accounts.activate", {"account_id": funded}, timeout=30)
        assert row["active"] and row["account_name"] == "Funded — SIM-FUNDED-2"
        assert host.call("vault.entries")["entries"][0]["account"] == str(FUNDED)
        placed = host.call(
            "order.place",
            {"ticket": {"symbol": ES, "side": "BUY", "type": "MARKET", "quantity": "2"}, "source": "panel"},
        )
        assert placed["status"] == "placed"
        host.until(
            lambda: st.call(lambda: st.sim.state()["positions_by_account"])[str(FUNDED)].get(ES) == "2",
            what="the order filled on the funded account",
        )
        assert st.call(lambda: st.sim.state()["positions_by_account"])[str(EVAL)] == {}
        host.until(lambda: _stops(st, FUNDED), what="the ASL stop on the funded account", timeout=15)

        _other_platform_buys(st, EVAL)
        stops = host.until(
            lambda: _stops(st, EVAL), what="the ASL stop on the evaluation account", timeout=15
        )
        assert stops[0].source == "Automatic" and abs(stops[0].quantity) == 1
    except BaseException:
        print(host.log_text()[-4000:])
        raise
    finally:
        host.stop()
