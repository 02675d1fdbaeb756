"""ASL keeps a position protected when things go wrong or change, through the real host:

- a stop cancelled behind the host's back is replaced at once (SOLUSDT);
- a replacement the exchange refuses leaves the old stop working, is retried and lands (BNBUSDT);
- the stop quantity follows the position: scaling in, partial close (XRPUSDT);
- "move stop to breakeven" tightens to the entry price, and only when it tightens (DOGEUSDT).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.asl.harness import (
    Desk,
    HostError,
    SimThread,
    algo_rows,
    eventually,
    is_confirmed,
    only_algo,
    open_position,
    pct_from,
    to_tick,
)

BOUND_S = 3.0  # generous: the design target is one watchdog period (500 ms) plus a round trip


# This module injects "the next request gets HTTP 429": the periodic read of the exchange's stops
# (a background request) could take that fault instead of the stop placement under test, so it is
# off here; the watchdog's event-driven path is what these tests exercise.
HOST_CONFIG = {"asl_reconcile_s": 0}


def replaced_after_cancel(sim: SimThread, symbol: str, victim: str) -> tuple[dict[str, Any], float]:
    """Cancel `victim` via the control plane; return the first stop that shows up on the exchange
    in its place and the delay (s) from the cancel to its appearance (polled, bounded)."""
    t0 = time.monotonic()
    sim.cancel_algo(victim)

    def probe() -> dict[str, Any] | None:
        return next((a for a in sim.algos(symbol) if a["clientAlgoId"] != victim), None)

    first = eventually(probe, BOUND_S, f"a stop replacing {victim}", every=0.005)
    return first, time.monotonic() - t0


def test_stop_cancelled_behind_the_back_is_replaced(desk: Desk, sim: SimThread) -> None:
    symbol, qty = "SOLUSDT", Decimal(10)
    hard = open_position(desk, symbol, "BUY", "10")
    entry = Decimal(hard["entry_price"])
    victim = hard["stop_client_id"]
    log0 = len(sim.order_log(symbol=symbol))
    n0 = len(desk.asl_for(symbol))

    # 1. the host hears of the cancel (ALGO_UPDATE): it puts the hard stop back at once
    new, delay_hard = replaced_after_cancel(sim, symbol, victim)
    assert new["clientAlgoId"].startswith(("sda-SOLUSDT-L0-", "sda-SOLUSDT-LS-"))  # its level or safety
    assert (new["orderType"], new["side"], new["reduceOnly"]) == ("STOP_MARKET", "SELL", True)
    assert Decimal(new["quantity"]) == qty
    assert only_algo(sim, symbol) == new
    assert algo_rows(sim, symbol, log0) == [
        (victim, "STOP_MARKET", "SELL", "CANCELED"),
        (new["clientAlgoId"], "STOP_MARKET", "SELL", "NEW"),
    ]
    vanished = desk.wait_asl(symbol, lambda e: e["transition"] == "vanished", 2, "vanished", since=n0)
    assert victim in vanished["detail"]
    desk.wait_asl(symbol, lambda e: e["transition"] == "confirmed", 2, "replacement confirmed", since=n0)
    assert desk.logs_matching(f"{victim} was cancelled outside Sidedesk")

    # 2. the cancel happens while the host's user-data stream is down (its event is lost): the
    # watchdog, over the state resynced after the reconnect, finds no working stop
    victim = new["clientAlgoId"]
    assert sim.control("POST", "/disconnect", {"target": "private"})["dropped"] == 1
    lost, delay_lost = replaced_after_cancel(sim, symbol, victim)
    assert lost["clientAlgoId"].startswith(("sda-SOLUSDT-L0-", "sda-SOLUSDT-LS-"))
    assert lost["orderType"] == "STOP_MARKET" and Decimal(lost["quantity"]) == qty
    if lost["clientAlgoId"].startswith("sda-SOLUSDT-LS-"):  # the safety stop, 10 % below the entry
        assert Decimal(lost["triggerPrice"]) == to_tick(entry * Decimal("0.9"), symbol, "ROUND_FLOOR")

    def hard_back() -> dict[str, Any] | None:
        algos = sim.algos(symbol)
        if len(algos) == 1 and algos[0]["clientAlgoId"].startswith("sda-SOLUSDT-L0-"):
            return algos[0]
        return None

    final = eventually(hard_back, 5, "the hard stop back as the only stop")
    assert final["clientAlgoId"] != victim
    assert Decimal(final["quantity"]) == qty

    # 3. at level 1 the replacement is again a 2 % trailing stop, for the whole position
    n1 = len(desk.asl_for(symbol))
    sim.price(symbol, pct_from(entry, "1.2", symbol))
    level1 = desk.wait_asl(symbol, is_confirmed("1"), 5, "level 1 confirmed", since=n1)
    only_algo(sim, symbol, not_id=final["clientAlgoId"])
    new1, delay_l1 = replaced_after_cancel(sim, symbol, level1["stop_client_id"])
    assert new1["clientAlgoId"].startswith(("sda-SOLUSDT-L1-", "sda-SOLUSDT-LS-"))
    assert Decimal(new1["quantity"]) == qty
    if new1["clientAlgoId"].startswith("sda-SOLUSDT-L1-"):
        assert new1["orderType"] == "TRAILING_STOP_MARKET" and Decimal(new1["callbackRate"]) == 2
    print(
        "\nfirst stop on the exchange after a cancel behind the back:"
        f" hard {delay_hard * 1000:.0f} ms ({new['clientAlgoId']}),"
        f" with the user stream down {delay_lost * 1000:.0f} ms ({lost['clientAlgoId']}),"
        f" level 1 {delay_l1 * 1000:.0f} ms ({new1['clientAlgoId']})"
    )


def test_failed_replacement_keeps_the_old_stop_and_retries(desk: Desk, sim: SimThread) -> None:
    symbol, qty = "BNBUSDT", Decimal(1)
    hard = open_position(desk, symbol, "BUY", "1.00")
    entry, old = Decimal(hard["entry_price"]), hard["stop_client_id"]
    log0 = len(sim.order_log(symbol=symbol))
    n0 = len(desk.asl_for(symbol))
    try:
        # the next request (the level-1 stop) is answered 429 with a retry-after of 1 s
        sim.control("POST", "/rate-limits", {"ban_ms": 1000, "force": [429]})
        sim.price(symbol, pct_from(entry, "1.2", symbol))
        rejected = desk.wait_asl(symbol, lambda e: e["transition"] == "rejected", 5, "rejected", since=n0)
        refused = rejected["detail"].split(":")[0]
        assert refused.startswith("sda-BNBUSDT-L1-")
        assert "too many requests" in rejected["detail"]  # the injected 429, not something else
        still = only_algo(sim, symbol)
        assert still["clientAlgoId"] == old and still["algoStatus"] == "NEW"  # the old stop stays
        assert rejected["stop_client_id"] == old  # and the panel says it still protects
        msg = eventually(lambda: desk.logs_matching(f"stop {refused} rejected"), 2, "a log of the rejection")
        assert "the previous stop stays; retry 1 in" in msg[0]

        level1 = desk.wait_asl(symbol, is_confirmed("1"), 10, "level 1 placed after the retry", since=n0)
        placed = only_algo(sim, symbol, not_id=old)
    finally:
        sim.control("POST", "/rate-limits", {"ban_ms": 120_000})
    assert placed["clientAlgoId"] == level1["stop_client_id"] != refused
    assert placed["orderType"] == "TRAILING_STOP_MARKET" and Decimal(placed["quantity"]) == qty
    events = desk.asl_for(symbol)[n0:]
    assert [e["transition"] for e in events].count("retry") >= 1
    # the refused request never reached the book; the old stop was cancelled only after the new one
    assert algo_rows(sim, symbol, log0) == [
        (placed["clientAlgoId"], "TRAILING_STOP_MARKET", "SELL", "NEW"),
        (old, "STOP_MARKET", "SELL", "CANCELED"),
    ]
    assert f"stop {refused} rejected" in desk.log_text()

    # the connection drops as the level-2 stop is sent (it never reaches the exchange): the outcome
    # is unknown, so the old stop stays until the confirm timeout withdraws the attempt and retries
    log1 = len(sim.order_log(symbol=symbol))
    n1 = len(desk.asl_for(symbol))
    sim.control("POST", "/faults", {"kind": "drop_at_method", "target": "algoOrder.place"})
    sim.price(symbol, pct_from(entry, "2.2", symbol))
    lost = desk.wait_asl(symbol, lambda e: e["transition"] == "place", 5, "level 2 sent", since=n1)
    assert only_algo(sim, symbol)["clientAlgoId"] == placed["clientAlgoId"]
    desk.wait_asl(symbol, lambda e: e["transition"] == "timeout", 8, "confirm timeout", since=n1)
    assert only_algo(sim, symbol)["clientAlgoId"] == placed["clientAlgoId"]  # still protected
    assert desk.logs_matching("not confirmed in 5000 ms; retry 1 in")
    level2 = desk.wait_asl(symbol, is_confirmed("2"), 5, "level 2 placed after the retry", since=n1)
    assert level2["stop_client_id"] not in lost["detail"]
    final = only_algo(sim, symbol, not_id=placed["clientAlgoId"])
    assert final["clientAlgoId"] == level2["stop_client_id"] and Decimal(final["callbackRate"]) == Decimal(
        "1.5"
    )
    assert algo_rows(sim, symbol, log1) == [
        (final["clientAlgoId"], "TRAILING_STOP_MARKET", "SELL", "NEW"),
        (placed["clientAlgoId"], "TRAILING_STOP_MARKET", "SELL", "CANCELED"),
    ]


def confirmed_for(quantity: int) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["transition"] == "confirmed" and Decimal(e["quantity"]) == quantity


def test_stop_quantity_follows_the_position(desk: Desk, sim: SimThread) -> None:
    symbol = "XRPUSDT"
    first = open_position(desk, symbol, "BUY", "100")
    log0 = len(sim.order_log(symbol=symbol))
    assert Decimal(only_algo(sim, symbol)["quantity"]) == 100

    # scaling in: the stop grows with the position (new one first, then the old one goes)
    n0 = len(desk.asl_for(symbol))
    desk.call(
        "order.place", {"ticket": {"symbol": symbol, "side": "BUY", "type": "MARKET", "quantity": "100"}}
    )
    grown = desk.wait_asl(symbol, confirmed_for(200), 5, "a stop for 200", since=n0)
    stop = only_algo(sim, symbol, not_id=first["stop_client_id"])
    assert Decimal(stop["quantity"]) == 200 and stop["clientAlgoId"] == grown["stop_client_id"]

    # a partial close: half the position, half the stop
    n1 = len(desk.asl_for(symbol))
    reply = desk.call("position.close", {"symbol": symbol, "fraction": "0.5"})
    assert Decimal(reply["quantity"]) == 100
    desk.wait_asl(symbol, confirmed_for(100), 5, "a stop for 100", since=n1)
    half = only_algo(sim, symbol, not_id=stop["clientAlgoId"])
    assert Decimal(half["quantity"]) == 100 and half["reduceOnly"] is True
    assert algo_rows(sim, symbol, log0) == [
        (stop["clientAlgoId"], "STOP_MARKET", "SELL", "NEW"),
        (first["stop_client_id"], "STOP_MARKET", "SELL", "CANCELED"),
        (half["clientAlgoId"], "STOP_MARKET", "SELL", "NEW"),
        (stop["clientAlgoId"], "STOP_MARKET", "SELL", "CANCELED"),
    ]


def test_breakeven_moves_the_stop_to_entry_only_when_it_tightens(desk: Desk, sim: SimThread) -> None:
    symbol = "DOGEUSDT"
    with pytest.raises(HostError) as none:
        desk.call("position.breakeven", {"symbol": symbol})
    assert none.value.code == "invalid" and "no open DOGEUSDT" in none.value.message

    hard = open_position(desk, symbol, "BUY", "1000")
    entry, old = Decimal(hard["entry_price"]), hard["stop_client_id"]
    log0 = len(sim.order_log(symbol=symbol))
    # the mark is not above the entry yet (we bought at the ask): refused, nothing sent
    desk.call("position.breakeven", {"symbol": symbol})
    eventually(
        lambda: desk.logs_matching("DOGEUSDT: breakeven refused: the price is not beyond"), 2, "refusal"
    )

    n0 = len(desk.asl_for(symbol))
    up = pct_from(entry, "0.8", symbol)  # in profit, below level 1
    sim.price(symbol, up)
    desk.wait_mark_at(symbol, up)
    desk.call("position.breakeven", {"symbol": symbol})
    moved = desk.wait_asl(symbol, is_confirmed("E"), 5, "breakeven stop confirmed", since=n0)
    stop = only_algo(sim, symbol, not_id=old)
    assert stop["clientAlgoId"] == moved["stop_client_id"]
    assert (stop["orderType"], stop["side"], stop["reduceOnly"]) == ("STOP_MARKET", "SELL", True)
    assert Decimal(stop["triggerPrice"]) == to_tick(entry, symbol, "ROUND_CEILING")
    assert Decimal(stop["quantity"]) == 1000
    assert [e["transition"] for e in desk.asl_for(symbol)[n0:]][:1] == ["breakeven"]
    assert algo_rows(sim, symbol, log0) == [
        (stop["clientAlgoId"], "STOP_MARKET", "SELL", "NEW"),
        (old, "STOP_MARKET", "SELL", "CANCELED"),
    ]

    # again: the stop already sits at breakeven, so nothing moves
    rows = len(sim.order_log(symbol=symbol))
    desk.call("position.breakeven", {"symbol": symbol})
    eventually(
        lambda: desk.logs_matching("breakeven refused: the stop is already at or beyond"), 2, "refusal"
    )
    time.sleep(0.6)  # more than one watchdog period: still nothing new on the exchange
    assert len(sim.order_log(symbol=symbol)) == rows
