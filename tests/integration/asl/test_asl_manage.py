"""ASL for positions the host did not open, per-position and per-ticket on/off, and the profile API,
through the real host against the simulator:

- a position opened on another platform gets its hard stop (BTCUSDT);
- a position that appears already beyond its hard stop gets the safety stop, and the hard stop
  once the price allows (ETHUSDT);
- a ticket sent with ASL off stays unprotected until ASL is switched on for it (XRPUSDT);
- ASL switched off for a position: a cancelled stop is not replaced (SOLUSDT);
- `asl.set` refuses an invalid profile field by field and applies a valid one (BNBUSDT), leaving
  the stops of other positions as they are (DOGEUSDT).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.asl.harness import (
    ACCOUNT,
    SYMBOLS,
    Desk,
    HostError,
    SimThread,
    is_confirmed,
    only_algo,
    open_position,
    to_tick,
)

BOUND_S = 3.0  # generous: the design target is one watchdog period (500 ms) plus a round trip
QUIET_S = 1.6  # more than three watchdog periods


def stays_unprotected(sim: SimThread, symbol: str, seconds: float) -> None:
    """No algo order shows up for `symbol` during `seconds` (polled)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert sim.algos(symbol) == [], f"{symbol}: a stop was placed while ASL is off"
        time.sleep(0.05)


def test_position_opened_on_another_platform_gets_protected(desk: Desk, sim: SimThread) -> None:
    symbol = "BTCUSDT"
    sim.price(symbol, "60000")
    desk.wait_mark_at(symbol, Decimal("60000.00000000"))
    n0 = len(desk.asl_for(symbol))
    t0 = time.monotonic()
    params = {
        "symbol": symbol,
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.020",
        "newClientOrderId": "web-1",
    }
    sim.control("POST", "/orders", {"account": ACCOUNT, "params": params})
    stop = only_algo(sim, symbol, timeout=BOUND_S)
    delay = time.monotonic() - t0
    assert stop["clientAlgoId"].startswith("sda-BTCUSDT-L0-")
    assert (stop["orderType"], stop["side"], stop["reduceOnly"]) == ("STOP_MARKET", "SELL", True)
    assert Decimal(stop["quantity"]) == Decimal("0.020")
    hard = desk.wait_asl(symbol, is_confirmed("0"), 2, "hard stop confirmed", since=n0)
    entry = Decimal(hard["entry_price"])
    assert Decimal(stop["triggerPrice"]) == to_tick(entry * Decimal("0.98"), symbol, "ROUND_FLOOR")
    print(f"\nprotected a position opened elsewhere in {delay * 1000:.0f} ms")


def test_position_beyond_its_hard_stop_gets_the_safety_stop(desk: Desk, sim: SimThread) -> None:
    symbol = "ETHUSDT"
    sim.price(symbol, "3000")
    desk.wait_mark_at(symbol, Decimal("3000.00000000"))
    n0 = len(desk.asl_for(symbol))
    t0 = time.monotonic()
    # bought at 3100 elsewhere: the 2 % hard stop (3038) is already above the price
    position = {"account": ACCOUNT, "symbol": symbol, "amount": "0.500", "entry_price": "3100"}
    sim.control("POST", "/positions", position)
    safety = only_algo(sim, symbol, timeout=BOUND_S)
    delay = time.monotonic() - t0
    assert safety["clientAlgoId"].startswith("sda-ETHUSDT-LS-")
    assert (safety["orderType"], safety["side"], safety["reduceOnly"]) == ("STOP_MARKET", "SELL", True)
    assert Decimal(safety["triggerPrice"]) == Decimal("2790.00")  # 10 % below the entry
    assert Decimal(safety["quantity"]) == Decimal("0.5")
    desk.wait_asl(symbol, is_confirmed("S"), 2, "safety stop confirmed", since=n0)
    assert desk.logs_matching("ETHUSDT: safety stop at 2790")
    print(f"\nsafety stop on the exchange {delay * 1000:.0f} ms after the position appeared")

    # once the price is back above the hard stop, the tighter hard stop replaces the safety stop
    n1 = len(desk.asl_for(symbol))
    sim.price(symbol, "3060")
    desk.wait_asl(symbol, is_confirmed("0"), 5, "hard stop confirmed", since=n1)
    hard = only_algo(sim, symbol, not_id=safety["clientAlgoId"])
    assert Decimal(hard["triggerPrice"]) == Decimal("3038.00") and Decimal(hard["quantity"]) == Decimal("0.5")


def test_ticket_with_asl_off_stays_unprotected_until_switched_on(desk: Desk, sim: SimThread) -> None:
    symbol = "XRPUSDT"
    n0 = len(desk.asl_for(symbol))
    ticket = {"symbol": symbol, "side": "SELL", "type": "MARKET", "quantity": "100", "asl": False}
    desk.call("order.place", {"ticket": ticket})
    opened = desk.wait_asl(symbol, lambda e: e["transition"] == "opened", 5, "opened", since=n0)
    assert opened["enabled"] is False and opened["direction"] == "short"
    stays_unprotected(sim, symbol, QUIET_S)

    desk.call("asl.toggle", {"symbol": symbol, "enabled": True})
    stop = only_algo(sim, symbol, timeout=BOUND_S)
    assert (stop["orderType"], stop["side"]) == ("STOP_MARKET", "BUY") and Decimal(stop["quantity"]) == 100
    assert stop["clientAlgoId"].startswith("sda-XRPUSDT-S0-")


def test_asl_off_for_a_position_leaves_a_cancelled_stop_unreplaced(desk: Desk, sim: SimThread) -> None:
    symbol = "SOLUSDT"
    hard = open_position(desk, symbol, "BUY", "10")
    n0 = len(desk.asl_for(symbol))
    desk.call("asl.toggle", {"symbol": symbol, "enabled": False})
    off = desk.wait_asl(symbol, lambda e: e["transition"] == "disabled", 2, "disabled", since=n0)
    assert off["enabled"] is False
    assert only_algo(sim, symbol)["clientAlgoId"] == hard["stop_client_id"]  # switching off cancels nothing

    rows = len(sim.order_log(symbol=symbol))
    sim.cancel_algo(hard["stop_client_id"])
    stays_unprotected(sim, symbol, QUIET_S)
    assert [r["status"] for r in sim.order_log(symbol=symbol)[rows:]] == ["CANCELED"]

    desk.call("asl.toggle", {"symbol": symbol, "enabled": True})
    stop = only_algo(sim, symbol, timeout=BOUND_S)
    assert stop["clientAlgoId"].startswith(("sda-SOLUSDT-L0-", "sda-SOLUSDT-LS-"))
    assert Decimal(stop["quantity"]) == 10


LEVELS_NOT_INCREASING = [{"profit_pct": "2", "callback_pct": "1"}, {"profit_pct": "1", "callback_pct": "0.5"}]
LEVELS_LOOSENING = [{"profit_pct": "1", "callback_pct": "1"}, {"profit_pct": "2", "callback_pct": "2"}]
INVALID = [
    # profile, the field named in the reply (None: a rule across fields), what the reply says
    ({"hard_stop_pct": "-1"}, "hard_stop_pct", "greater than 0"),
    ({"hard_stop": "2"}, "hard_stop", "Extra inputs are not permitted"),
    ({"levels": [{"profit_pct": "1"}]}, "levels.0.callback_pct", "Field required"),
    ({"levels": LEVELS_NOT_INCREASING}, None, "level 2: profit_pct must be greater than level 1's"),
    ({"levels": LEVELS_LOOSENING}, None, "level 2: callback_pct must not be looser than level 1's"),
    ({"hard_stop_pct": "12"}, None, "safety_stop_pct must be at least hard_stop_pct"),
    ({"levels": [{"profit_pct": "1", "callback_pct": "21"}]}, None, "above the broker maximum 20"),
]
INVALID_IDS = [
    "negative",
    "unknown-field",
    "missing-callback",
    "not-increasing",
    "loosening",
    "safety-inside",
    "broker-range",
]


@pytest.mark.parametrize(("profile", "field", "problem"), INVALID, ids=INVALID_IDS)
def test_asl_set_refuses_an_invalid_profile(
    desk: Desk, profile: dict[str, Any], field: str | None, problem: str
) -> None:
    before = desk.call("asl.get")["profile"]
    with pytest.raises(HostError) as exc:
        desk.call("asl.set", {"profile": profile})
    assert exc.value.code == "invalid"
    errors = (exc.value.details or {}).get("errors", [])
    said = " ".join([exc.value.message, *(f"{e['field']}: {e['problem']}" for e in errors)])
    assert problem in said
    if field is not None:
        assert field in [e["field"] for e in errors]
    assert desk.call("asl.get")["profile"] == before  # nothing changed


def test_asl_set_applies_a_valid_profile(desk: Desk, sim: SimThread) -> None:
    symbol = "BNBUSDT"
    # a protected position of its own (DOGEUSDT), and any the module's other tests left open: the
    # profile change must not touch their stops
    open_position(desk, "DOGEUSDT", "BUY", "1000")
    guarded = [s for s in SYMBOLS if s != symbol and sim.algos(s)]
    assert "DOGEUSDT" in guarded
    before = {s: only_algo(sim, s)["clientAlgoId"] for s in guarded}
    rows = {s: len(sim.order_log(symbol=s)) for s in guarded}
    profile = {
        "hard_stop_pct": "3",
        "levels": [{"profit_pct": "1.5", "callback_pct": "2.5"}, {"profit_pct": "3", "callback_pct": "1.2"}],
        "safety_stop_pct": "8",
    }
    try:
        state = desk.call("asl.set", {"profile": profile})
        assert Decimal(state["profile"]["hard_stop_pct"]) == 3
        assert [Decimal(lv["callback_pct"]) for lv in state["profile"]["levels"]] == [
            Decimal("2.5"),
            Decimal("1.2"),
        ]
        assert desk.call("asl.get")["profile"] == state["profile"]

        # the restarted engine rebuilt from the exchange: no stop of the other positions is touched
        time.sleep(QUIET_S)
        assert {s: only_algo(sim, s)["clientAlgoId"] for s in guarded} == before
        assert {s: len(sim.order_log(symbol=s)) for s in guarded} == rows

        hard = open_position(desk, symbol, "BUY", "1.00")
        entry = Decimal(hard["entry_price"])
        stop = only_algo(sim, symbol)
        assert Decimal(stop["triggerPrice"]) == to_tick(entry * Decimal("0.97"), symbol, "ROUND_FLOOR")
        n0 = len(desk.asl_for(symbol))
        sim.price(symbol, to_tick(entry * Decimal("1.016"), symbol, "ROUND_HALF_EVEN"))
        desk.wait_asl(symbol, is_confirmed("1"), 5, "level 1 of the new profile", since=n0)
        assert Decimal(only_algo(sim, symbol, not_id=stop["clientAlgoId"])["callbackRate"]) == Decimal("2.5")
    finally:
        restored = desk.call("asl.set", {"profile": {}})
    assert Decimal(restored["profile"]["hard_stop_pct"]) == 2
