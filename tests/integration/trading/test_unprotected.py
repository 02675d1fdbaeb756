"""The status topic names every position without a working managed stop and the one action that
fixes it, computed by the host: the panel, the action bar and `sidedesk service status` show it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.trading.conftest import Desk, Sim, eventually, start_desk


def rows(desk: Desk) -> list[dict[str, Any]]:
    desk.pump(0.05)
    return list((desk.latest("status") or {}).get("unprotected") or [])


def test_a_position_without_asl_is_unprotected_until_asl_places_its_stop(sim: Sim, tmp_path: Path) -> None:
    desk = start_desk(tmp_path / "home", sim, status_interval_s=0.2)  # ASL off (the conftest default)
    try:
        desk.place(symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.1")
        row = eventually(
            lambda: next((r for r in rows(desk) if r["symbol"] == "ETHUSDT"), None), 5, "unprotected"
        )
        assert (row["reason"], row["fix"], row["quantity"]) == ("asl_off", "turn ASL on for it", "0.1")
        desk.call("asl.set", {"enabled": True})
        eventually(
            lambda: not [r for r in rows(desk) if r["symbol"] == "ETHUSDT"], 10, "protected by its stop"
        )
        desk.call("flatten", {})
    finally:
        desk.stop()
