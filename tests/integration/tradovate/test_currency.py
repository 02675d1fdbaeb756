"""A risk refusal for a CME future speaks dollars and contracts, not USDT: the quote currency of
the instrument reaches the risk check (measured before the rebuild: "order value … USDT")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.asl.harness import Desk
from tests.integration.tradovate.test_host import MES, SimThread, start_tv_desk


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread().start()
    try:
        yield s
    finally:
        s.stop()


def test_a_cap_refusal_for_mes_is_in_usd(sim: SimThread, tmp_path: Path) -> None:
    config = {
        "watchlist": [MES],
        "asl_enabled": False,
        "risk": {
            "max_order_notional": "1000",
            "confirm_above_notional": None,
            "max_orders_per_minute": 10_000,
        },
    }
    desk = start_tv_desk(tmp_path, sim, config, Desk)
    try:
        desk.subscribe()
        desk.wait_mark(MES)
        out = desk.request(
            "order.place", {"ticket": {"symbol": MES, "side": "BUY", "type": "MARKET", "quantity": "1"}}
        )
        err = out["error"]
        assert err["code"] == "rejected" and err["details"]["limit"] == "order_notional"
        assert " USD" in err["message"] and "USDT" not in err["message"], err["message"]
    finally:
        desk.stop()
