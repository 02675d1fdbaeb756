"""After any reconnect the host's orders, positions and balances equal the exchange's within one
resync, and each correction is explained on the `log` topic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk_sim.engine import PositionSide
from tests.integration.resilience.conftest import MakeLive


@pytest.mark.parametrize("route", ["*", "ws-api", "private"])
def test_changes_made_while_disconnected_are_taken_from_the_exchange(live: MakeLive, route: str) -> None:
    lv = live()
    lv.desk.market("BUY", "0.005")
    resting = lv.desk.limit("BUY", "0.002", "59000")
    lv.wait_in_sync()
    st = lv.st
    sim = st.s

    def behind_its_back() -> None:
        # one step on the simulator's loop: the connections drop, and before the host can be back,
        # the position changes and the resting order is cancelled (as from the exchange's website)
        for conn in [*sim.connections, *sim.streams]:
            if route == "*" or conn.kind == route:
                conn.abort()
        now = sim.now_ms()
        moved = sim.engine.set_position(
            lv.account, "BTCUSDT", Decimal("0.011"), Decimal(60000), now, PositionSide.BOTH
        )
        sim.publish(list(moved.events))
        out = sim.engine.cancel_order(lv.account, "BTCUSDT", order_id=int(resting["order_id"]), now_ms=now)
        sim.publish(list(out.events))

    st.on_loop(behind_its_back)
    lv.wait_in_sync()
    rows = lv.desk.topics("positions")["positions"]["positions"]
    assert [r["quantity"] for r in rows] == ["0.011"]
    if route != "ws-api":  # the account stream dropped: its events were lost, the resync corrected them
        assert any("corrected from 0.005 to 0.011" in e["message"] for e in lv.desk.logs), lv.desk.logs
