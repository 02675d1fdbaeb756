"""The journal after a crash: the host is killed with SIGKILL right after its last reply, then
`<home>/data/journal.sqlite3` is opened with sqlite3. Every intent has an outcome, nothing the host
acknowledged is missing, refusals are recorded with their reason, and the secret is not in it.
A new host then opens the same journal (not moved aside) and trades again."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.trading.conftest import PASSWORD, Desk, Sim, eventually, pid_alive, start_desk

D = Decimal


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def journal_rows(home: Path) -> list[dict[str, Any]]:
    path = home / "data" / "journal.sqlite3"
    assert path.exists()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT id, kind, client_id, data FROM journal ORDER BY id").fetchall()
    return [{"id": r[0], "kind": r[1], "client_id": r[2], "data": json.loads(r[3])} for r in rows]


def burst(desk: Desk, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send every ticket at once (as fast-clicking panels would), then collect the replies."""
    first = desk._next_id + 1
    for i, ticket in enumerate(tickets):
        desk.send({"v": 1, "id": first + i, "type": "order.place", "payload": {"ticket": ticket}})
    desk._next_id += len(tickets)
    return [desk.reply_to(first + i, 20) for i in range(len(tickets))]


def test_every_intent_has_an_outcome_and_nothing_acknowledged_is_lost_after_kill_9(
    sim: Sim, home: Path
) -> None:
    desk = start_desk(home, sim, watchlist=["BTCUSDT", "ETHUSDT"])
    try:
        sim.price("ETHUSDT", "3000")
        desk.wait_mark("ETHUSDT", "3000")
        tickets = [
            {"symbol": "ETHUSDT", "side": "BUY" if i % 2 == 0 else "SELL", "quantity": "0.05"}
            for i in range(8)
        ] + [
            {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.05", "price": str(2800 + i)}
            for i in range(6)
        ]
        replies = burst(desk, tickets)
        placed = [r["ok"] for r in replies if r.get("ok")]
        assert len(placed) == len(tickets), [r.get("error") for r in replies]
        # refused by the exchange (insufficient margin) and refused by a risk limit
        margin = desk.error(
            "order.place", {"ticket": {"symbol": "ETHUSDT", "side": "BUY", "quantity": "1900"}}
        )
        assert margin.details["broker_code"] == -2019
        desk.set_risk(max_order_notional="50")
        risk = desk.error("order.place", {"ticket": {"symbol": "ETHUSDT", "side": "BUY", "quantity": "0.05"}})
        assert risk.details["limit"] == "order_notional"
        cancelled = desk.call("order.cancel", {"symbol": "ETHUSDT", "order_id": placed[-1]["order_id"]})
        assert cancelled["status"] == "CANCELED"
        pid = desk.proc.pid
        desk.kill9()  # right after the last reply: no shutdown hook, no checkpoint
        assert not pid_alive(pid)
    finally:
        desk.stop()

    rows = journal_rows(home)
    intents = {r["client_id"]: r for r in rows if r["kind"] == "intent"}
    outcomes: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["kind"] == "outcome" and r["client_id"]:
            outcomes.setdefault(r["client_id"], []).append(r)

    # every intent has an outcome, written after it
    assert intents
    for cid, intent in intents.items():
        assert cid in outcomes, f"intent {cid} has no outcome"
        assert min(o["id"] for o in outcomes[cid]) > intent["id"]
    # every acknowledged order is there with the exchange's order id
    for ack in placed:
        cid = ack["client_id"]
        assert cid in intents, f"acknowledged {cid} missing from the journal"
        assert intents[cid]["data"]["source"] == "panel"
        assert intents[cid]["data"]["request"]["symbol"] == "ETHUSDT"
        acks = [o["data"]["ack"] for o in outcomes[cid] if "ack" in o["data"]]
        assert acks and str(acks[0]["order_id"]) == ack["order_id"]
    # the exchange's refusal and the risk refusal are recorded with their reasons
    refused = [o["data"] for os in outcomes.values() for o in os if o["data"].get("status") == "refused"]
    assert any(d["broker_code"] == -2019 for d in refused)
    assert any("refused" in o["data"] and "per-order cap" in o["data"]["refused"] for os in outcomes.values()
               for o in os)  # fmt: skip
    cancel = [o for o in outcomes[placed[-1]["client_id"]] if "cancel" in o["data"]]
    assert cancel and cancel[0]["data"]["cancel"]["status"] == "CANCELED"
    # the exchange saw exactly the acknowledged orders
    ours = {e.get("clientOrderId") for e in sim.order_log() if e["symbol"] == "ETHUSDT"}
    assert {a["client_id"] for a in placed} <= ours
    assert set(intents) - {a["client_id"] for a in placed} == {
        cid for cid, os in outcomes.items() if any(o["data"].get("broker_code") == -2019 for o in os)
    }
    raw = (home / "data" / "journal.sqlite3").read_bytes()
    assert sim.key()["secret"].encode() not in raw

    # a new host opens the same journal as is and reconnects the account after the unlock
    desk2 = Desk(home)
    try:
        desk2.call("vault.unlock", {"password": PASSWORD})
        desk2.subscribe("status")

        def connected() -> bool:
            desk2.pump(0.05)
            brokers = desk2.latest("status")["brokers"]
            # "active" only once the activation finished (resync, quotes), not at the first socket
            return bool(brokers) and brokers[0]["state"] == "live" and brokers[0]["active"]

        eventually(connected, 10, "the account reconnected after the restart")
        assert not list((home / "data").glob("*damaged*"))
        desk2.call("orders.cancel_all", {})
    finally:
        desk2.stop()
    assert len(journal_rows(home)) > len(rows)
    assert sim.open_orders()["orders"] == []


def test_journal_is_closed_cleanly_when_the_browser_closes_the_port(sim: Sim, home: Path) -> None:
    # the host in the browser's process (the service off): closing the port ends it
    desk = start_desk(home, sim, watchlist=["BTCUSDT"], service={"enabled": False})
    try:
        sim.price("BTCUSDT", "60000")
        desk.wait_mark("BTCUSDT", "60000")
        r = desk.place(symbol="BTCUSDT", side="BUY", quantity="0.002")
        desk.call("position.close", {"symbol": "BTCUSDT", "fraction": "1"})
        desk.close_stdin()
        assert desk.wait(5) == 0
    finally:
        desk.stop()
    assert not (home / "data" / "journal.sqlite3-wal").exists() or (
        (home / "data" / "journal.sqlite3-wal").stat().st_size == 0
    )  # checkpointed on the way out
    rows = journal_rows(home)
    intents = [x for x in rows if x["kind"] == "intent"]
    assert len(intents) == 2 and intents[0]["client_id"] == r["client_id"]
    assert all(
        any(o["kind"] == "outcome" and o["client_id"] == i["client_id"] for o in rows) for i in intents
    )
    assert any(x["kind"] == "event" and x["client_id"] == r["client_id"] for x in rows)
