"""Defects of the old middle of the host, each measured before the rebuild around explicit state
(account links and order intents as pure machines, services wired by one root):

- an account whose first connect after an unlock failed (a rate-limit ban) was never retried;
- a cancel-all's reply was never applied, so with the user stream held up the books (and the
  ASL watchdog reading them) kept a stop that no longer existed;
- an order's intent was committed to the journal only after its frame had left.
"""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sidedesk.app.links import AccountLink
from sidedesk.domain import OrderAck, OrderRequest
from sidedesk.main import compose
from sidedesk.runtime import Host
from sidedesk.store import ahead
from sidedesk.store.config import HostConfig
from sidedesk.store.paths import Paths
from tests.integration.trading.conftest import (
    OPEN_RISK,
    PASSWORD,
    SMALL_KDF,
    Desk,
    Sim,
    eventually,
    start_desk,
    write_config,
)
from tests.support import services
from tests.support.transport import NullTransport
from tests.support.wait import WAIT_S

STREAM_LATE_S = 4 * WAIT_S  # the held-up user stream: never what a wait below sees


def live_broker(desk: Desk) -> dict[str, Any] | None:
    brokers = (desk.latest("status") or {}).get("brokers") or []
    return next((b for b in brokers if b["state"] == "live"), None)


def test_an_unlock_whose_first_connect_is_banned_retries_until_live(sim: Sim, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = start_desk(home, sim)
    first.stop()  # the host exits; the trader's account is remembered in the settings
    services.stop_home(home)  # (the service too: the next host starts with the vault locked)
    desk = Desk(home)
    try:
        desk.subscribe("status", "log")
        # the next request Binance sees is answered 418 with a 2 s ban
        sim.control("POST", "/rate-limits", {"force": [418], "ban_ms": 2000})
        desk.call("vault.unlock", {"password": PASSWORD})
        broker = desk.until(lambda: live_broker(desk), 20, "the account live again after the ban")
        assert broker["active"] is True
        assert any("could not connect" in str((p.payload or {}).get("message")) for p in desk.pushes("log"))
    finally:
        desk.stop()
        sim.control("POST", "/rate-limits", {"clear": True, "ban_ms": 120_000})


def test_cancel_all_is_applied_at_once_and_asl_replaces_the_stop_with_the_stream_held_up(
    sim: Sim, tmp_path: Path
) -> None:
    # ASL on, its exchange-side reconcile off: protection rests on the books alone
    desk = start_desk(tmp_path / "home", sim, asl_enabled=True, asl_reconcile_s=0, risk=OPEN_RISK)
    try:
        desk.place(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
        stop = eventually(lambda: sim.open_orders()["algoOrders"] or None, what="the ASL hard stop")
        first_ids = {o["algoId"] for o in stop}
        eventually(lambda: desk.open_orders("BTCUSDT") or None, what="the stop in the books")
        # from now on the user stream is far later than any wait below (WAIT_S): only replies can
        # keep the books current, however slow the machine
        late_ms = int(STREAM_LATE_S * 1000)
        sim.control(
            "POST", "/faults", {"kind": "delay", "target": "user_events", "ms": late_ms, "count": 1000}
        )
        desk.call("orders.cancel_all", {})
        # the cancelled stop leaves the books (the watchdog's new one may already be there)
        gone = {str(i) for i in first_ids}
        eventually(
            lambda: not any(o["order_id"] in gone for o in desk.open_orders("BTCUSDT")),
            what="the books without the cancelled stop",
        )
        again = eventually(
            lambda: [o for o in sim.open_orders()["algoOrders"] if o["algoId"] not in first_ids] or None,
            what="a new stop placed by the watchdog",
        )
        assert again[0]["side"] == "SELL"
    finally:
        sim.control("DELETE", "/faults")
        desk.stop()


async def test_the_intent_is_on_disk_before_its_frame_leaves(sim: Sim, tmp_path: Path) -> None:
    write_config(tmp_path, sim.url)
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")
    config = HostConfig.model_validate(
        {"vault_kdf": SMALL_KDF, "simulators": {"binance": sim.url}, "risk": OPEN_RISK, "asl_enabled": False}
    )
    host = Host(NullTransport(), paths, config, compose=compose)
    svc = host.services
    await svc.vault.create(PASSWORD)
    key = sim.key()
    entry = {"broker": "binance", "name": "sim", "environment": "simulator", "auth": "hmac",
             "api_key": key["apiKey"], "secret": key["secret"]}  # fmt: skip
    account_id = (await svc.vault.put(entry)).id
    link: AccountLink = await svc.links.activate(account_id)
    seen: list[int] = []
    real_place = link.broker.place

    async def place_when_journaled(order: OrderRequest) -> OrderAck:
        # the moment the frame would leave: what a host killed now would find at its next start,
        # in SQLite or in the journal's write-ahead file (folded into SQLite at start)
        db = sqlite3.connect(paths.journal_file)
        try:
            rows = db.execute(
                "SELECT COUNT(*) FROM journal WHERE kind = 'intent' AND client_id = ?", (order.client_id,)
            ).fetchone()
        finally:
            db.close()
        left = ahead.read(ahead.path_for(paths.journal_file))
        seen.append(rows[0] + sum(r.kind == "intent" and r.client_id == order.client_id for r in left))
        return await real_place(order)

    link.broker.place = place_when_journaled  # type: ignore[method-assign]
    for _ in range(3):
        await asyncio.sleep(0.05)
        await svc.entry.place_ticket(_ticket("BTCUSDT", Decimal("0.01")), "panel", confirmed=True)
    assert seen == [1, 1, 1]
    await host.shutdown()


def _ticket(symbol: str, quantity: Decimal) -> Any:
    from sidedesk.core.orders import Ticket
    from sidedesk.domain import OrderType, Side

    return Ticket(symbol=symbol, side=Side.BUY, type=OrderType.MARKET, quantity=quantity)


@pytest.fixture(autouse=True)
def _no_ban_left(sim: Sim) -> None:
    sim.control("POST", "/rate-limits", {"clear": True, "ban_ms": 120_000})
