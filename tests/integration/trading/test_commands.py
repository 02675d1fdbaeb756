"""Hotkey commands and flatten through the real host, with the Advanced Stop Loss switched on,
checked on the simulator's side (its open orders, algo orders and positions).

One simulator and one host for the module; the tests run in file order and each leaves the
account flat except the last two, which build the state that `flatten` must clear.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

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


def command(desk: Desk, name: str, **payload: Any) -> dict[str, Any]:
    return desk.call("command", {"name": name, **payload})


def sim_qty(sim: Sim, symbol: str) -> Decimal:
    rows = sim.positions(symbol)
    return D(rows[0]["positionAmt"]) if rows else D(0)


def stops(sim: Sim, symbol: str) -> list[dict[str, Any]]:
    return [a for a in sim.open_orders()["algoOrders"] if a["symbol"] == symbol]


def test_buy_and_sell_commands_trade_the_ticket_from_the_payload(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "ETHUSDT", "3000")
    ticket = {"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET", "notional": "300", "asl": False}
    buy = command(desk, "buy", ticket=ticket)  # the command, not the ticket, decides the side
    assert buy["name"] == "buy" and buy["result"]["status"] == "placed"
    assert buy["result"]["client_id"].startswith("sdh")  # placed by a hotkey
    assert "BUY" in buy["summary"] and "ETHUSDT" in buy["summary"]
    eventually(lambda: sim_qty(sim, "ETHUSDT") == D("0.1"), 3, "bought 0.1 ETH")
    sell = command(desk, "sell", ticket=ticket)
    assert sell["result"]["status"] == "placed" and "SELL" in sell["summary"]
    eventually(lambda: sim_qty(sim, "ETHUSDT") == 0, 3, "sold back")
    assert stops(sim, "ETHUSDT") == []  # asl: false on the ticket

    desk.set_risk(confirm_above_notional="100")
    try:
        # #21: above the threshold the hotkey asks (the extension confirms and sends it again)
        ask = command(desk, "buy", ticket=ticket)
        assert ask["result"]["status"] == "confirm" and ask["result"]["order_id"] is None
        assert "confirm" in ask["summary"]
    finally:
        desk.reset_risk()
    assert sim_qty(sim, "ETHUSDT") == 0

    err = desk.error("command", {"name": "buy"})
    assert err.code == "invalid" and "ticket" in err.message
    assert desk.error("command", {"name": "moon"}).code == "invalid"


def test_cancel_all_command_cancels_every_order_on_every_symbol(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "ETHUSDT", "3000")
    at_price(sim, desk, "XRPUSDT", "0.6")
    desk.place(symbol="ETHUSDT", side="BUY", type="LIMIT", quantity="0.05", price="2900")
    desk.place(symbol="XRPUSDT", side="SELL", type="LIMIT", quantity="100", price="0.7")
    assert len(sim.open_orders()["orders"]) == 2
    out = command(desk, "cancel_all")
    assert out["result"] == {"cancelled": 2} and out["summary"] == "2 orders cancelled"
    assert sim.open_orders() == {"orders": [], "algoOrders": []}


def test_close_half_and_breakeven_commands_with_asl(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "SOLUSDT", "150")
    buy = command(desk, "buy", ticket={"symbol": "SOLUSDT", "type": "MARKET", "quantity": "20"})
    assert buy["result"]["status"] == "placed"
    entry = D(eventually(lambda: sim.positions("SOLUSDT"), 3, "SOL long")[0]["entryPrice"])
    # ASL's hard stop: stop-market 2 % below the entry, on the exchange
    hard = eventually(lambda: stops(sim, "SOLUSDT"), 5, "the ASL hard stop")
    assert len(hard) == 1 and hard[0]["orderType"] == "STOP_MARKET" and hard[0]["side"] == "SELL"
    assert abs(D(hard[0]["triggerPrice"]) - entry * D("0.98")) <= D("0.01")

    position = {"symbol": "SOLUSDT", "position_side": "BOTH"}
    half = command(desk, "close_half", position=position)
    assert half["result"]["status"] == "placed" and half["summary"]
    eventually(lambda: sim_qty(sim, "SOLUSDT") == D(10), 3, "half closed")

    at_price(sim, desk, "SOLUSDT", "150.75")  # +0.5 %: below level 1, the hard stop still rules
    out = command(desk, "breakeven", position=position)
    assert out["name"] == "breakeven" and "breakeven" in out["summary"]

    def at_entry() -> list[dict[str, Any]] | None:
        live = stops(sim, "SOLUSDT")
        return live if len(live) == 1 and D(live[0]["triggerPrice"]) >= entry - D("0.01") else None

    (stop,) = eventually(at_entry, 5, "the stop moved to the entry price")
    assert D(stop["triggerPrice"]) < D("150.75")
    assert D(stop["quantity"]) in (D(10), D(0))  # covers the remaining position (or closePosition)

    def shown() -> dict[str, Any] | None:
        desk.pump(0.02)
        pos = desk.position("SOLUSDT")
        return pos if pos and pos["stop_price"] and D(pos["stop_price"]) == D(stop["triggerPrice"]) else None

    eventually(shown, 3, "the positions topic shows the new stop")

    err = desk.error("command", {"name": "close_half"})
    assert err.code == "invalid" and "position" in err.message
    err = desk.error("command", {"name": "breakeven", "position": {"symbol": "BNBUSDT"}})
    assert err.code == "invalid" and "BNBUSDT" in err.message


def test_flatten_cancels_orders_and_algo_orders_and_closes_every_position(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BTCUSDT", "60000")
    at_price(sim, desk, "ETHUSDT", "3000")
    at_price(sim, desk, "XRPUSDT", "0.6")
    desk.place(symbol="BTCUSDT", side="BUY", quantity="0.01")  # with an ASL stop
    short = {"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.3"}
    sim.control("POST", "/orders", {"account": "main", "params": short})  # opened elsewhere
    sim.control("POST", "/positions", {"account": "main", "symbol": "XRPUSDT", "amount": "500"})
    desk.place(symbol="ETHUSDT", side="BUY", type="LIMIT", quantity="0.05", price="2800")
    sim.control("POST", "/orders", {"account": "main", "params": {
        "algoType": "CONDITIONAL", "symbol": "XRPUSDT", "side": "SELL", "type": "TAKE_PROFIT_MARKET",
        "triggerPrice": "0.7", "quantity": "500", "reduceOnly": "true"}})  # fmt: skip
    eventually(lambda: stops(sim, "BTCUSDT"), 5, "the BTC hard stop")
    held = {r["symbol"] for r in sim.positions()}
    assert held == {"BTCUSDT", "ETHUSDT", "XRPUSDT"}  # the account was flat before (conftest)
    book = sim.open_orders()
    assert book["orders"] and len(book["algoOrders"]) >= 3

    out = desk.call("flatten")
    assert out["errors"] == []
    assert out["closed"] == len(held)
    assert out["cancelled"] >= len(book["orders"]) + len(book["algoOrders"])

    # on the exchange, at once: every position closed, every order that was open is gone
    assert sim.positions() == []
    now = sim.open_orders()
    before = {o["orderId"] for o in book["orders"]} | {a["algoId"] for a in book["algoOrders"]}
    assert not before & ({o["orderId"] for o in now["orders"]} | {a["algoId"] for a in now["algoOrders"]})
    # ASL stops placed while the closes were in flight are removed once the account is flat
    # (see the report: they should not outlive the flatten reply)
    eventually(lambda: sim.open_orders() == {"orders": [], "algoOrders": []}, 10, "no order left")
    desk.until(lambda: desk.latest("positions")["positions"] == [], 3, "positions empty")
    desk.until(lambda: desk.latest("orders")["orders"] == [], 3, "orders empty")


def test_flatten_command_from_a_hotkey(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BNBUSDT", "600")
    desk.place(symbol="BNBUSDT", side="SELL", quantity="0.5", asl=False)
    desk.place(symbol="BNBUSDT", side="SELL", type="LIMIT", quantity="0.1", price="620", asl=False)
    eventually(lambda: sim_qty(sim, "BNBUSDT") == D("-0.5"), 3, "BNB short")
    out = command(desk, "flatten")
    assert out["result"] == {"cancelled": 1, "closed": 1, "errors": []}
    assert out["summary"] == "flattened: 1 orders cancelled, 1 positions closed"
    assert sim.positions() == []
    assert sim.open_orders() == {"orders": [], "algoOrders": []}
    closes = [e for e in sim.order_log() if e["symbol"] == "BNBUSDT" and e["status"] == "FILLED"]
    assert closes[-1]["clientOrderId"].startswith("sdh") and closes[-1]["side"] == "BUY"
