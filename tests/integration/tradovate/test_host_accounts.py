"""Through the real host process: a Tradovate login with two accounts (DEMO700001, DEMO700002).

- An entry saved without an account (as every entry before accounts could be picked) trades the
  login's lowest id, as before, and the entry remembers it.
- The login's other account connects beside it; switching to it (the Trade tab's switcher sends
  `accounts.activate ENTRY:ACCOUNT`) makes it the active one and the entry remembers the switch.
- An order placed after the switch lands on the switched-to account in the simulator's own state.
- A position opened on the other, non-active account (another platform) gets its ASL stop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sidedesk.brokers.tradovate.adapter import TradovateBroker
from sidedesk.domain import AccountSnapshot, OrderRequest, OrderType, PositionEvent, PositionSide, Side
from sidedesk.store.journal import Journal
from sidedesk_sim.tradovate import SimConfig, TradovateSim
from tests.integration.tradovate.conftest import config_for
from tests.integration.tradovate.test_host import MES, PASSWORD, SimThread, TvDesk, start_tv_desk
from tests.support.eventlog import EventLog
from tests.support.wait import eventually

FIRST, SECOND = "700001", "700002"


def two_account_login() -> Iterator[SimThread]:
    """The simulator with a login of two accounts (DEMO700001, DEMO700002), on its own thread."""
    s = SimThread()
    s.sim = TradovateSim(seed=5, config=SimConfig(builtin_accounts=2))
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def sim() -> Iterator[SimThread]:
    yield from two_account_login()


def _orders(sim: SimThread, account: str) -> list[dict[str, Any]]:
    return [o for o in sim.orders() if o["account"] == account]


def _working_stop(sim: SimThread, account: str) -> dict[str, Any] | None:
    return next(
        (o for o in _orders(sim, account) if o["orderType"] == "Stop" and o["status"] == "Working"), None
    )


def _brokers(desk: TvDesk) -> dict[str, dict[str, Any]]:
    snap = desk.call("subscribe", {"topics": ["status"]})["snapshots"]["status"]["payload"]
    return {b["account_id"]: b for b in snap["brokers"]}


def _entry(desk: TvDesk) -> dict[str, Any]:
    entries = desk.call("vault.entries", {})["entries"]
    return next(e for e in entries if e["broker"] == "tradovate")


def _other_platform_buys(sim: SimThread, account_name: str) -> None:
    """Another platform (a second API session of the same login) buys 1 MES on `account_name`."""

    async def go() -> None:
        other = TradovateBroker("other", config_for(sim.sim), EventLog(), account_spec=account_name)
        try:
            await other.connect()
            await other.place(OrderRequest(MES, Side.BUY, OrderType.MARKET, Decimal(1), "other-platform-1"))
        finally:
            await asyncio.wait_for(other.close(), 5)

    sim.run(go())


def test_pick_switch_trade_and_protect_every_account_of_the_login(sim: SimThread, tmp_path: Path) -> None:
    config = {"watchlist": [MES], "risk": {"confirm_above_notional": None, "max_orders_per_minute": 10_000}}
    desk = start_tv_desk(tmp_path, sim, config, TvDesk)
    try:
        entry = _entry(desk)
        first, second = f"{entry['id']}:{FIRST}", f"{entry['id']}:{SECOND}"
        # no account in the entry: the login's lowest id, as before, now remembered
        assert entry["account"] == FIRST
        listed = desk.call("accounts.list", {})
        assert listed["active_id"] == first
        # the login's other account connects beside the active one
        brokers = eventually(
            lambda: (b := _brokers(desk)) and b.get(second, {}).get("state") == "live" and b, 20, "both live"
        )
        assert brokers[first]["active"] and not brokers[second]["active"]
        assert brokers[second]["account_name"] == "DEMO700002"
        rows = {r["id"]: r for r in desk.call("accounts.list", {})["accounts"]}
        assert {first, second} <= set(rows) and rows[first]["remembered"] and not rows[second]["remembered"]

        # the switcher: the second account is active and remembered
        row = desk.call("accounts.activate", {"account_id": second}, timeout=30)
        assert row["id"] == second and row["active"] and row["remembered"]
        assert _entry(desk)["account"] == SECOND
        desk.subscribe()
        desk.wait_mark(MES)
        placed = desk.call(
            "order.place", {"ticket": {"symbol": MES, "side": "BUY", "type": "MARKET", "quantity": "1"}}
        )
        assert placed
        # the simulator's own state: the order is the second account's, the first has none
        eventually(
            lambda: [o for o in _orders(sim, "DEMO700002") if o["orderType"] == "Market"], 10, "the order"
        )
        assert _orders(sim, "DEMO700001") == []
        eventually(lambda: _working_stop(sim, "DEMO700002"), 10, "the ASL stop on the active account")
        # the panel's positions are the active account's
        pos = eventually(lambda: desk.position(MES), 10, "the position in the positions topic")
        assert pos["account_id"] == second

        # a position opened elsewhere on the non-active account: protected too
        _other_platform_buys(sim, "DEMO700001")
        stop = eventually(lambda: _working_stop(sim, "DEMO700001"), 15, "the ASL stop on the other account")
        assert stop["qty"] == 1 and stop["action"] == "Sell" and str(stop["text"]).startswith("sda-")
        # ...and visible: the status topic (the switcher) says how much each account holds
        held = eventually(
            lambda: (b := _brokers(desk)) and b[first]["open_positions"] == 1 and b, 10, "the count"
        )
        assert held[second]["open_positions"] == 1 and held[second]["active"]
    finally:
        desk.stop()


@pytest.mark.parametrize("named", [SECOND, "DEMO700002"])
def test_a_remembered_account_is_the_one_activated(sim: SimThread, tmp_path: Path, named: str) -> None:
    """The choice made in Setup (the entry's `account`: Tradovate's id, or its name as typed in
    the vault form) is what activating the entry connects; the login's other account connects
    beside it once, never the chosen one a second time."""
    config = {"watchlist": [MES], "risk": {"confirm_above_notional": None}}
    desk = start_tv_desk(tmp_path, sim, config, TvDesk)
    try:
        entry = _entry(desk)
        desk.call("vault.put", {"entry": {"id": entry["id"], "account": named}})
        desk.call("accounts.deactivate", {})
        row = desk.call("accounts.activate", {"account_id": entry["id"]}, timeout=30)
        assert row["id"] == f"{entry['id']}:{named}" and row["active"]
        assert row["account_name"] == "DEMO700002"
        first = f"{entry['id']}:{FIRST}"
        eventually(lambda: _brokers(desk).get(first, {}).get("state") == "live" or None, 20, "the other one")
        assert sorted(_brokers(desk)) == sorted([first, row["id"]])
    finally:
        desk.stop()


def test_an_entry_upgraded_to_its_accounts_keeps_its_journal_in_flight_and_last_known(
    sim: SimThread, tmp_path: Path
) -> None:
    """A build before accounts could be picked journaled under the entry's id alone (`ENTRY`); this
    one trades `ENTRY:ACCOUNT`. After the upgrade: an order in flight at the crash, journaled under
    `ENTRY`, is looked up once the remembered account is live (it had been skipped: never looked
    up); and the last known position restored under `ENTRY` goes when that account's snapshot
    lands (it had stayed: a phantom Unprotected row beside the live account)."""
    # in-process (no service left running): the restart below starts with the vault locked
    desk = start_tv_desk(tmp_path, sim, {"watchlist": [MES], "service": {"enabled": False}}, TvDesk)
    try:
        entry_id = _entry(desk)["id"]
    finally:
        desk.stop()
    # what the old build left: the trader's account by the entry's id, a snapshot holding 3 MES
    # (the simulator holds none), and an intent with no outcome
    config = tmp_path / "config" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "active_account": entry_id}))
    journal = Journal(tmp_path / "data" / "journal.sqlite3")
    pos = PositionEvent(entry_id, MES, PositionSide.BOTH, Decimal(3), Decimal("5000.25"))
    journal.append(
        "correction",
        {"reason": "connected", "snapshot": AccountSnapshot(entry_id, (), (pos,), ())},
        account=entry_id,
    )
    request = OrderRequest(MES, Side.BUY, OrderType.MARKET, Decimal(1), "sda-inflight-1")
    journal.append(
        "intent", {"source": "ticket", "request": request}, account=entry_id, client_id="sda-inflight-1"
    )
    journal.close()

    back = TvDesk(tmp_path)
    try:
        assert back.call("hello", {"client": "test"})["vault"] == "locked"
        first = f"{entry_id}:{FIRST}"

        def unprotected() -> list[tuple[str, str]]:
            snap = back.call("subscribe", {"topics": ["status"]})["snapshots"]["status"]["payload"]
            return [(u["account_id"], u["reason"]) for u in snap["unprotected"]]

        # the old build's last known position (the services are built just after `hello`)
        eventually(lambda: unprotected() == [(entry_id, "locked")], 20, "the last known position")
        back.call("vault.unlock", {"password": PASSWORD})
        eventually(lambda: _brokers(back).get(first, {}).get("state") == "live", 30, "the account live")
        eventually(lambda: unprotected() == [], 20, "the old last known position gone")

        def looked_up() -> bool:
            j = Journal(tmp_path / "data" / "journal.sqlite3")
            try:
                return bool(j.records(kind="outcome", client_id="sda-inflight-1"))
            finally:
                j.close()

        eventually(looked_up, 30, "the in-flight order looked up on the remembered account")
    finally:
        back.stop()
