"""No duplicate orders from retries: an order whose reply is lost is looked up by client id, never
sent twice (DESIGN.md, reliability invariants)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.integration.resilience.conftest import MakeLive
from tests.soak.hostdriver import HostError
from tests.support.wait import eventually


def journal(home: Path, client_id: str | None = None) -> list[dict[str, Any]]:
    path = home / "data" / "journal.sqlite3"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT kind, client_id, data FROM journal ORDER BY id").fetchall()

    out = [{"kind": k, "client_id": c, "data": json.loads(d)} for k, c, d in rows]
    return [r for r in out if client_id is None or r["client_id"] == client_id]


@pytest.mark.parametrize("method", ["order.place", "algoOrder.place"])
def test_a_lost_reply_is_resolved_by_lookup_and_the_order_exists_once(live: MakeLive, method: str) -> None:
    lv = live(asl=method == "algoOrder.place")  # with ASL on, the hard stop is an algoOrder.place
    lv.st.fault("lose_reply", method)  # executes, then answers 503 "unknown" instead of the reply
    if method == "order.place":
        # the trader hears the truth at once; order entry then looks the order up by client id
        with pytest.raises(HostError) as err:
            lv.desk.market("BUY", "0.004")
        assert err.value.code == "unknown_outcome"
        cid = [r for r in journal(lv.home) if r["kind"] == "intent"][-1]["client_id"]
        eventually(
            lambda: any(
                r["kind"] == "outcome" and r["data"].get("status") in ("NEW", "FILLED")
                for r in journal(lv.home, cid)
            ),
            what="the outcome the lookup found",
        )
    else:
        cid = lv.desk.market("BUY", "0.004")["client_id"]
    assert len(lv.orders_with(cid)) == 1
    if method == "algoOrder.place":
        eventually(lambda: not lv.st.control("GET", "/faults"), what="the stop placement to hit the fault")
        stops = eventually(lambda: lv.st.open_orders(lv.account)["algoOrders"], what="the hard stop")
        assert len(stops) == 1
        assert len(lv.orders_with(stops[0]["clientAlgoId"])) == 1
    lv.wait_in_sync()
    outcomes = [r for r in journal(lv.home, cid) if r["kind"] == "outcome"]
    assert outcomes and outcomes[-1]["data"]["status"] in ("NEW", "FILLED")  # what the lookup found


def test_a_connection_lost_before_execution_is_not_placed_and_not_resent(live: MakeLive) -> None:
    lv = live()
    lv.st.fault("drop_at_method", "order.place")  # the connection dies as the order arrives
    with pytest.raises(HostError) as err:
        lv.desk.market("BUY", "0.004")
    assert err.value.code == "unknown_outcome"
    intents = [r for r in journal(lv.home) if r["kind"] == "intent"]
    cid = intents[-1]["client_id"]
    # the reconcile loop settles it as NOT_FOUND by looking it up: nothing was ever re-sent
    eventually(
        lambda: any(r["data"].get("status") == "NOT_FOUND" for r in journal(lv.home, cid)), what="reconciled"
    )
    assert lv.orders_with(cid) == set()
    assert all(e.get("clientOrderId") != cid for e in lv.st.order_log(lv.account))
    lv.wait_in_sync()
