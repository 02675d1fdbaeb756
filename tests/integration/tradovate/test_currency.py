"""A risk refusal for a CME future speaks dollars and contracts, not USDT: the quote currency of
the instrument reaches the risk check (measured before the rebuild: "order value … USDT")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidedesk_sim.tradovate import BUILTIN_USER
from tests.integration.asl.harness import PASSWORD, SMALL_KDF, Desk
from tests.integration.tradovate.test_host import MES, SimThread


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread().start()
    try:
        yield s
    finally:
        s.stop()


def test_a_cap_refusal_for_mes_is_in_usd(sim: SimThread, tmp_path: Path) -> None:
    config = {
        "vault_kdf": SMALL_KDF,
        "simulators": {"tradovate": sim.sim.base_url},
        "watchlist": [MES],
        "asl_enabled": False,
        "risk": {
            "max_order_notional": "1000",
            "confirm_above_notional": None,
            "max_orders_per_minute": 10_000,
        },
    }
    (tmp_path / "config").mkdir(parents=True)
    (tmp_path / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    desk = Desk(tmp_path)
    try:
        desk.call("vault.create", {"password": PASSWORD})
        entry = {
            "broker": "tradovate",
            "name": "tv sim",
            "environment": "simulator",
            "username": BUILTIN_USER["name"],
            "password": BUILTIN_USER["password"],
            "cid": int(BUILTIN_USER["cid"]),
            "sec": BUILTIN_USER["sec"],
            "app_id": "Sidedesk",
        }
        account_id = str(desk.call("vault.put", {"entry": entry})["entry"]["id"])
        desk.call("accounts.activate", {"account_id": account_id}, timeout=30)
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
