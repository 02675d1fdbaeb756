"""Duplicate and out-of-order exchange events change nothing (dedup on order id + status + filled
quantity + update time, ordering by event time)."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.resilience.conftest import MakeLive


def test_duplicated_and_reordered_user_events_leave_the_books_equal_to_the_exchange(live: MakeLive) -> None:
    lv = live()
    st = lv.st
    st.fault("duplicate_user_events", "user_events", count=40)  # every event of the next trades twice
    lv.desk.market("BUY", "0.006")
    resting = lv.desk.limit("SELL", "0.002", "61000")
    lv.desk.market("SELL", "0.002")
    lv.wait_in_sync()
    st.clear_faults()
    st.fault("reorder_user_events", "user_events", count=40)  # consecutive events swapped pairwise
    lv.desk.call("order.cancel", {"symbol": "BTCUSDT", "order_id": resting["order_id"]})
    lv.desk.market("BUY", "0.05", "ETHUSDT")
    lv.desk.market("SELL", "0.003")
    lv.wait_in_sync()
    rows = {
        r["symbol"]: Decimal(r["quantity"]) for r in lv.desk.topics("positions")["positions"]["positions"]
    }
    assert rows == {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.05")}
    assert lv.desk.topics("orders")["orders"]["orders"] == []
