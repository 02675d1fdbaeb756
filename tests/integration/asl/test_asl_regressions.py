"""Regressions found while writing the ASL suite (each failed before its fix)."""

from __future__ import annotations

import time

from tests.integration.asl.harness import Desk, SimThread, eventually, open_position


def test_profile_change_keeps_asl_off_for_a_position(desk: Desk, sim: SimThread) -> None:
    """`asl.set` restarts the engine; a position the trader switched off must stay off."""
    symbol = "DOGEUSDT"
    hard = open_position(desk, symbol, "BUY", "1000")
    desk.call("asl.toggle", {"symbol": symbol, "enabled": False})
    sim.cancel_algo(hard["stop_client_id"])
    time.sleep(1.0)
    assert sim.algos(symbol) == []  # off: nothing replaces it
    desk.call("asl.set", {"profile": {"hard_stop_pct": "3"}})
    try:
        deadline = time.monotonic() + 1.6
        while time.monotonic() < deadline:
            assert sim.algos(symbol) == [], "a stop was placed for a position with ASL switched off"
            time.sleep(0.05)
        row = next(p for p in desk.call("asl.get")["positions"].values() if p["symbol"] == symbol)
        assert row["enabled"] is False
    finally:
        desk.call("asl.set", {"profile": {}})


def test_stop_cancelled_while_the_user_stream_lags_is_replaced(desk: Desk, sim: SimThread) -> None:
    """The exchange cancels the stop and its ALGO_UPDATE reaches the host 6 s late: the watchdog,
    reconciling against the exchange's open orders, must put a stop back well before that."""
    symbol = "SOLUSDT"
    hard = open_position(desk, symbol, "BUY", "10")
    victim = hard["stop_client_id"]
    sim.control("POST", "/faults", {"kind": "delay", "target": "user_events", "ms": 6000})
    try:
        sim.cancel_algo(victim)
        eventually(
            lambda: [a for a in sim.algos(symbol) if a["clientAlgoId"] != victim],
            4.0,
            "a stop back on the exchange while the cancel's event is late",
            every=0.01,
        )
    finally:
        sim.control("DELETE", "/faults")
