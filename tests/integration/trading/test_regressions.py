"""Regressions found while writing the trading suite (each failed before its fix)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.integration.trading.conftest import Desk, Sim, eventually, start_desk

D = Decimal


@pytest.fixture(scope="module")
def desk(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    d = start_desk(tmp_path_factory.mktemp("home"), sim, asl_enabled=True)
    try:
        yield d
        d.assert_no_secret(sim.key()["secret"])
    finally:
        d.stop()


def at_price(sim: Sim, desk: Desk, symbol: str, price: str) -> None:
    sim.price(symbol, price)
    desk.wait_mark(symbol, price)


def test_margin_and_available_equal_the_exchange_after_a_fill(sim: Sim, desk: Desk) -> None:
    """Leverage was never known for positions opened after connecting, so margin, available and
    ROE were blank or wrong until a reconnect."""
    at_price(sim, desk, "BTCUSDT", "60000")
    desk.call("asl.set", {"enabled": False})
    try:
        desk.place(symbol="BTCUSDT", side="BUY", quantity="0.05")
        eventually(lambda: desk.pump(0.02) or desk.position("BTCUSDT"), 3, "position")
        ex = sim.rest("/fapi/v3/account")
        row = sim.positions("BTCUSDT")[0]

        def equal() -> bool:
            desk.pump(0.05)
            usdt = desk.latest("account")["accounts"][0]
            pos = desk.position("BTCUSDT") or {}
            return (
                pos.get("margin") is not None
                and D(pos["margin"]) == D(row["initialMargin"])
                and pos.get("roe_pct") is not None
                and D(usdt["margin_used"]) == D(ex["totalInitialMargin"])
                and D(usdt["available"]) == D(ex["availableBalance"])
            )

        eventually(equal, 3, f"margin {row['initialMargin']} and available {ex['availableBalance']}")
    finally:
        desk.call("flatten")
        desk.call("asl.set", {"enabled": True})


def test_flatten_leaves_no_order_on_the_exchange_when_it_replies(sim: Sim, desk: Desk) -> None:
    """With ASL on, flatten used to reply while ASL had already re-placed stops it had cancelled."""
    at_price(sim, desk, "BTCUSDT", "60000")
    at_price(sim, desk, "XRPUSDT", "0.6")
    desk.place(symbol="BTCUSDT", side="BUY", quantity="0.01")  # ASL puts a hard stop under it
    sim.control("POST", "/positions", {"account": "main", "symbol": "XRPUSDT", "amount": "500"})
    eventually(lambda: len(sim.open_orders()["algoOrders"]) >= 2, 5, "ASL stops on both positions")
    out = desk.call("flatten")
    assert out["errors"] == [] and out["closed"] == 2
    assert sim.positions() == []
    assert sim.open_orders() == {"orders": [], "algoOrders": []}


def test_command_with_an_incomplete_ticket_is_invalid(desk: Desk) -> None:
    err = desk.error("command", {"name": "buy", "ticket": {"symbol": "ETHUSDT"}})
    assert err.code == "invalid", (err.code, err.message)


def test_watching_an_unknown_symbol_is_an_error(desk: Desk) -> None:
    err = desk.error("market.watch", {"symbols": ["NOPEUSDT"]})
    assert err.code == "invalid" and "NOPEUSDT" in err.message


def test_status_rows_carry_user_stream_age(desk: Desk) -> None:
    (broker,) = desk.subscribe("status")["status"]["brokers"]
    assert "user_stream_age_s" in broker
