"""ASL survives a host restart mid-trade, through the real host against the simulator.

A long BTCUSDT position reaches level 2; the price falls back under level 2's trigger (the level
is then known only from the stop's client id). The host stops (cleanly, then with SIGKILL); a new
host on the same home unlocks the vault, reconnects the account by itself and rebuilds each
position from the exchange's open algo orders: the same single stop, the same level, nothing
placed twice; and it carries on tightening from there.
"""

from __future__ import annotations

import signal
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.integration.asl.harness import (
    PASSWORD,
    Desk,
    SimThread,
    algo_rows,
    eventually,
    is_confirmed,
    only_algo,
    open_position,
    pct_from,
    start_desk,
)

SYMBOL = "BTCUSDT"
QUIET_S = 1.6  # more than three watchdog periods


def restarted(home: Path) -> Desk:
    """A new host on `home`: unlocking the vault re-activates the account used last."""
    desk = Desk(home)
    try:
        desk.call("vault.unlock", {"password": PASSWORD})
        desk.subscribe()
    except BaseException:
        desk.stop()
        raise
    return desk


def rebuilt_row(desk: Desk) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        positions = desk.call("asl.get")["positions"]
        return next((p for p in positions.values() if p["symbol"] == SYMBOL), None)

    return eventually(probe, 15, "the ASL state rebuilt after the restart", every=0.05)


def assert_rebuilt_in_place(desk: Desk, sim: SimThread, stop: dict[str, Any], level: int) -> None:
    rows = len(sim.order_log(symbol=SYMBOL))
    row = rebuilt_row(desk)
    assert (row["level"], row["stop_client_id"]) == (level, stop["clientAlgoId"])
    assert row["stop_kind"] == "trailing"
    assert Decimal(row["callback_pct"]) == Decimal(stop["callbackRate"])
    assert Decimal(row["quantity"]) == Decimal("0.010")
    time.sleep(QUIET_S)  # the watchdog ran several times meanwhile
    assert [a["clientAlgoId"] for a in sim.algos(SYMBOL)] == [stop["clientAlgoId"]]
    assert sim.order_log(symbol=SYMBOL)[rows:] == []  # nothing placed, nothing cancelled
    assert [e["transition"] for e in desk.asl_for(SYMBOL) if e["transition"] in ("place", "cancel")] == []


def test_restart_mid_trade_rebuilds_the_state_without_duplicates(sim: SimThread, tmp_path: Path) -> None:
    home = tmp_path / "home"
    first, _ = start_desk(sim, home)
    try:
        hard = open_position(first, SYMBOL, "BUY", "0.010")
        entry = Decimal(hard["entry_price"])
        previous = hard["stop_client_id"]
        for level, move in ((1, "1.2"), (2, "2.2")):
            n = len(first.asl_for(SYMBOL))
            sim.price(SYMBOL, pct_from(entry, move, SYMBOL))
            first.wait_asl(SYMBOL, is_confirmed(str(level)), 5, f"level {level}", since=n)
            previous = only_algo(sim, SYMBOL, not_id=previous)["clientAlgoId"]
        back = pct_from(entry, "1.5", SYMBOL)  # under level 2's trigger, above its 1.5 % trailing stop
        sim.price(SYMBOL, back)
        first.wait_mark_at(SYMBOL, back)
    finally:
        first.stop()  # a clean shutdown: stdin closes as when Chrome goes away
    assert first.proc.returncode == 0
    level2 = only_algo(sim, SYMBOL)  # the stop stays on the exchange while no host runs
    assert level2["clientAlgoId"] == previous and Decimal(level2["callbackRate"]) == Decimal("1.5")

    second = restarted(home)
    try:
        assert_rebuilt_in_place(second, sim, level2, 2)
        # it resumes: level 3 is placed by the new host, which then cancels the old host's stop
        rows = len(sim.order_log(symbol=SYMBOL))
        n = len(second.asl_for(SYMBOL))
        second.wait_mark(SYMBOL)
        sim.price(SYMBOL, pct_from(entry, "4.5", SYMBOL))
        second.wait_asl(SYMBOL, is_confirmed("3"), 5, "level 3 after the restart", since=n)
        level3 = only_algo(sim, SYMBOL, not_id=level2["clientAlgoId"])
        assert Decimal(level3["callbackRate"]) == 1 and Decimal(level3["quantity"]) == Decimal("0.010")
        assert algo_rows(sim, SYMBOL, rows) == [
            (level3["clientAlgoId"], "TRAILING_STOP_MARKET", "SELL", "NEW"),
            (level2["clientAlgoId"], "TRAILING_STOP_MARKET", "SELL", "CANCELED"),
        ]
        second.proc.send_signal(signal.SIGKILL)  # a crash: no shutdown hook runs
        second.proc.wait(10)
    finally:
        second.stop()

    third = restarted(home)
    try:
        assert_rebuilt_in_place(third, sim, level3, 3)
    finally:
        third.stop()
