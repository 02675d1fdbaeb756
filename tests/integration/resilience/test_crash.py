"""The journal loses nothing the host acknowledged, even when the host is killed (`kill -9`), and
a restarted host rebuilds its books from the exchange."""

from __future__ import annotations

from decimal import Decimal

from sidedesk_sim.engine import PositionSide
from tests.integration.resilience.conftest import MakeLive
from tests.integration.resilience.test_lost_reply import journal
from tests.soak import invariants as inv


def test_every_acknowledged_order_is_in_the_journal_after_kill_9(live: MakeLive) -> None:
    lv = live()
    acked = [lv.desk.market("BUY" if i % 2 else "SELL", "0.002")["client_id"] for i in range(6)]
    acked.append(lv.desk.limit("BUY", "0.002", "59000")["client_id"])
    lv.desk.kill9()  # right after the last reply: no shutdown hook, no checkpoint
    records = journal(lv.home)
    assert inv.journal_gaps(acked, records) == []
    assert {r["client_id"] for r in records if r["kind"] == "intent"} >= set(acked)


def test_a_restarted_host_rebuilds_from_the_exchange(live: MakeLive) -> None:
    lv = live()
    lv.desk.market("BUY", "0.006")
    lv.desk.limit("BUY", "0.002", "59000")
    lv.wait_in_sync()
    lv.desk.kill9()
    sim = lv.st.s

    def while_it_was_down() -> None:
        now = sim.now_ms()
        sim.publish(list(sim.engine.set_position(lv.account, "ETHUSDT", Decimal("-0.3"), Decimal(3000), now,
                                                 PositionSide.BOTH).events))  # fmt: skip

    lv.st.on_loop(while_it_was_down)
    lv.restart()  # the vault unlock reconnects the account used last
    lv.wait_in_sync()
    rows = {
        r["symbol"]: Decimal(r["quantity"]) for r in lv.desk.topics("positions")["positions"]["positions"]
    }
    assert rows == {"BTCUSDT": Decimal("0.006"), "ETHUSDT": Decimal("-0.3")}
    assert len(lv.desk.topics("orders")["orders"]["orders"]) == 1
