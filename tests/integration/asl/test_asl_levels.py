"""ASL through the real host against the simulator: a position climbs through every level.

For a long (BTCUSDT) and a mirrored short (ETHUSDT): the hard stop goes in on the entry fill, then
each level places its trailing stop, waits for the exchange to confirm it and only then cancels the
previous one. The exchange's own order log is the witness; the `asl` topic tells the same story.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.asl.harness import (
    Desk,
    SimThread,
    algo_rows,
    is_confirmed,
    only_algo,
    open_position,
    pct_from,
    shape,
    to_tick,
)
from tests.support.wait import WAIT_S

CASES = [
    # symbol, entry side, quantity, the price moves (percent from entry) that reach levels 1, 2, 3
    pytest.param("BTCUSDT", "BUY", "0.010", ("1.2", "2.2", "4.5"), id="long"),
    pytest.param("ETHUSDT", "SELL", "0.200", ("-1.2", "-2.2", "-4.5"), id="short"),
]
CALLBACKS = (Decimal(2), Decimal("1.5"), Decimal(1))


@pytest.mark.parametrize(("symbol", "side", "quantity", "moves"), CASES)
def test_every_level_places_new_then_cancels_old(
    desk: Desk, sim: SimThread, symbol: str, side: str, quantity: str, moves: tuple[str, str, str]
) -> None:
    long = side == "BUY"
    stop_side = "SELL" if long else "BUY"
    qty = Decimal(quantity)
    log0 = len(sim.order_log(symbol=symbol))
    ev0 = len(desk.asl_for(symbol))

    hard = open_position(desk, symbol, side, quantity)
    entry = Decimal(hard["entry_price"])
    assert Decimal(hard["quantity"]) == qty
    assert hard["direction"] == ("long" if long else "short")
    # 2 % adverse from the entry fill, rounded away from the market to the tick
    adverse, rounding = (Decimal("0.98"), "ROUND_FLOOR") if long else (Decimal("1.02"), "ROUND_CEILING")
    want = to_tick(entry * adverse, symbol, rounding)
    assert Decimal(hard["stop_price"]) == want
    stop = only_algo(sim, symbol)
    assert shape(stop) == ("STOP_MARKET", stop_side, True, False)
    assert Decimal(stop["quantity"]) == qty
    assert Decimal(stop["triggerPrice"]) == want
    assert stop["workingType"] == "MARK_PRICE"
    ids = [stop["clientAlgoId"]]

    for level, (move, callback) in enumerate(zip(moves, CALLBACKS, strict=True), start=1):
        n = len(desk.asl_for(symbol))
        sim.price(symbol, pct_from(entry, move, symbol))
        desk.wait_asl(symbol, is_confirmed(str(level)), 5, f"level {level} confirmed", since=n)
        stop = only_algo(sim, symbol, not_id=ids[-1])  # the previous stop is gone
        assert shape(stop) == ("TRAILING_STOP_MARKET", stop_side, True, False)
        assert Decimal(stop["callbackRate"]) == callback
        assert Decimal(stop["quantity"]) == qty
        assert stop["clientAlgoId"].startswith(f"sda-{symbol}-{'L' if long else 'S'}{level}-")
        ids.append(stop["clientAlgoId"])

    # the exchange's order log: the entry fill, then per level the new stop NEW before the old CANCELED
    entry_rows = [
        (r["side"], r["type"], r["status"])
        for r in sim.order_log(symbol=symbol)[log0:]
        if r["kind"] == "order"
    ]
    assert entry_rows == [(side, "MARKET", "NEW"), (side, "MARKET", "FILLED")]
    trailing = "TRAILING_STOP_MARKET"
    assert algo_rows(sim, symbol, log0) == [
        (ids[0], "STOP_MARKET", stop_side, "NEW"),
        (ids[1], trailing, stop_side, "NEW"),
        (ids[0], "STOP_MARKET", stop_side, "CANCELED"),
        (ids[2], trailing, stop_side, "NEW"),
        (ids[1], trailing, stop_side, "CANCELED"),
        (ids[3], trailing, stop_side, "NEW"),
        (ids[2], trailing, stop_side, "CANCELED"),
    ]

    # the asl topic: every transition, in order, with the replace latency on each confirmation (the
    # last one, level 2's stop cancelled, may still be on its way when level 3 is confirmed)
    desk.wait_asl(
        symbol,
        lambda e: e["transition"] == "canceled" and e["detail"] == ids[2],
        WAIT_S,
        "the last cancel",
        ev0,
    )
    events = desk.asl_for(symbol)[ev0:]
    got = [
        (
            e["transition"],
            e["level"],
            e["detail"] if e["transition"] in ("confirmed", "cancel", "canceled") else "",
        )
        for e in events
    ]
    expected: list[tuple[str, int, str]] = [("opened", 0, ""), ("place", 0, ""), ("confirmed", 0, ids[0])]
    for level in (1, 2, 3):
        expected += [
            ("level", level, ""),
            ("place", level, ""),
            ("confirmed", level, ids[level]),
            ("cancel", level, ids[level - 1]),
            ("canceled", level, ids[level - 1]),
        ]
    assert got == expected
    for e in events:
        assert Decimal(e["quantity"]) == qty and e["enabled"] is True
        if e["transition"] == "place":
            assert ids[e["level"]] in e["detail"]
    confirmed = [e for e in events if e["transition"] == "confirmed"]
    latencies = [e["latency_ms"] for e in confirmed]
    # place -> confirmed; a stop unconfirmed after the 5 s confirm timeout would have been withdrawn
    assert all(isinstance(ms, int) and 0 <= ms < 5000 for ms in latencies), latencies
    assert all(e["latency_ms"] is None for e in events if e["transition"] != "confirmed")
    assert [e["stop_kind"] for e in confirmed] == ["stop", "trailing", "trailing", "trailing"]
    assert [e["callback_pct"] and Decimal(e["callback_pct"]) for e in confirmed] == [None, *CALLBACKS]
    print(f"\n{symbol} {side}: replace latency_ms per confirmation (hard, L1, L2, L3) = {latencies}")

    # the panel's view agrees: level 3, trailing 1 %, the last stop
    state = desk.call("asl.get")
    row = next(p for p in state["positions"].values() if p["symbol"] == symbol)
    assert (row["level"], row["stop_client_id"], row["stop_kind"]) == (3, ids[3], "trailing")
