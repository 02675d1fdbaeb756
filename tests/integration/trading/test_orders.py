"""Tickets, orders and positions through the real host against the simulator.

One simulator and one host for the module; each test trades its own symbol (BTCUSDT previews,
ETHUSDT regular orders, SOLUSDT partial closes, BNBUSDT risk and leverage, XRPUSDT cancels,
DOGEUSDT watch), so the tests do not see each other's orders or positions. Prices are frozen
(no random walk) and set per test: fills, rounding and figures are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import partial

import pytest

from tests.integration.trading.conftest import Desk, Sim, eventually, start_desk

D = Decimal
WATCHLIST = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]


@pytest.fixture(scope="module")
def desk(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    d = start_desk(tmp_path_factory.mktemp("home"), sim, watchlist=WATCHLIST)
    try:
        yield d
        d.assert_no_secret(sim.key()["secret"])
    finally:
        d.stop()


def at_price(sim: Sim, desk: Desk, symbol: str, price: str) -> None:
    """Put the simulator's last and mark price at `price` and wait until the host sizes with it."""
    sim.price(symbol, price)
    desk.wait_mark(symbol, price)


def sim_position(sim: Sim, symbol: str) -> Decimal:
    rows = sim.positions(symbol)
    return D(rows[0]["positionAmt"]) if rows else D(0)


def sim_is_at(sim: Sim, symbol: str, qty: Decimal) -> bool:
    return sim_position(sim, symbol) == qty


def sim_open(sim: Sim, symbol: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    book = sim.open_orders()
    return (
        [o for o in book["orders"] if o["symbol"] == symbol],
        [a for a in book["algoOrders"] if a["symbol"] == symbol],
    )


def host_position(desk: Desk, symbol: str, qty: str) -> dict[str, object]:
    """Wait until the positions topic shows `symbol` at this signed quantity (0: no row)."""

    def probe() -> dict[str, object] | None:
        desk.pump(0.02)
        pos = desk.position(symbol)
        if D(qty) == 0:
            return {"flat": True} if pos is None else None
        return pos if pos is not None and D(str(pos["quantity"])) == D(qty) else None

    return eventually(probe, 5, f"{symbol} at {qty} in the positions topic")


# -- market ------------------------------------------------------------------------------------------


def test_market_symbols_carry_the_exchange_rules(desk: Desk) -> None:
    rows = {r["symbol"]: r for r in desk.call("market.symbols")["symbols"]}
    assert set(rows) >= {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"}
    btc = rows["BTCUSDT"]
    assert (btc["base"], btc["quote"]) == ("BTC", "USDT")
    assert D(btc["tick_size"]) == D("0.1")
    assert D(btc["step_size"]) == D("0.001")
    assert D(btc["min_qty"]) == D("0.001")
    assert D(btc["max_qty"]) == D("1000")
    assert D(btc["min_notional"]) == D("100")
    assert (btc["price_precision"], btc["quantity_precision"]) == (2, 3)
    assert btc["quantity_unit"]
    assert D(rows["SOLUSDT"]["step_size"]) == D("1")


def test_market_watch_starts_quotes_for_a_new_symbol(sim: Sim, desk: Desk) -> None:
    assert "DOGEUSDT" not in (desk.latest("quotes") or {}).get("quotes", {})
    watched = desk.call("market.watch", {"symbols": ["dogeusdt"]})["symbols"]
    assert "DOGEUSDT" in watched and set(WATCHLIST) <= set(watched)
    sim.price("DOGEUSDT", "0.151230")
    desk.wait_mark("DOGEUSDT", "0.15123")
    assert desk.error("market.watch", {"symbols": []}).code == "invalid"


# -- preview: rounding and filters -------------------------------------------------------------------


def test_preview_floors_notional_to_the_step_and_rounds_limit_prices_safely(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BTCUSDT", "60000")
    pv = desk.call("order.preview", {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "notional": "1000"}})
    # 1000 / 60000 = 0.01666… → floored to the 0.001 step, never more than asked
    assert (pv["symbol"], pv["side"], pv["type"], D(pv["quantity"])) == (
        "BTCUSDT",
        "BUY",
        "MARKET",
        D("0.016"),
    )
    assert D(pv["notional"]) == D("960")
    assert pv["needs_confirmation"] is False and pv["refused"] is False

    def limit(side: str, price: str) -> Decimal:
        t = {"symbol": "BTCUSDT", "side": side, "type": "LIMIT", "quantity": "0.01", "price": price}
        return D(desk.call("order.preview", {"ticket": t})["price"])

    assert limit("BUY", "59990.37") == D("59990.3")  # a buy never pays more than typed
    assert limit("SELL", "60010.31") == D("60010.4")  # a sell never receives less
    assert limit("BUY", "59990.3") == D("59990.3")  # on the tick: unchanged


def test_preview_below_min_notional_is_invalid_with_the_corrected_size(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BTCUSDT", "60000")
    err = desk.error("order.preview", {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "notional": "50"}})
    assert err.code == "invalid"
    assert err.details["field"] == "notional"
    # the smallest size whose floored quantity (0.002) passes MIN_NOTIONAL 100 at 60000
    assert D(err.details["corrected"]) == D("120")
    assert "120" in err.message and "USDT" in err.message
    # the corrected size is accepted as is
    pv = desk.call("order.preview", {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "notional": "120"}})
    assert D(pv["quantity"]) == D("0.002")
    # a quantity ticket below min notional names the corrected quantity
    err = desk.error("order.preview", {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001"}})
    assert (err.code, err.details["field"], D(err.details["corrected"])) == (
        "invalid",
        "quantity",
        D("0.002"),
    )


def test_preview_percent_price_names_the_furthest_allowed_price(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BTCUSDT", "60000")
    t = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "70000"}
    err = desk.error("order.preview", {"ticket": t})
    assert (err.code, err.details["field"]) == ("invalid", "price")
    assert D(err.details["corrected"]) == D("63000")  # mark × 1.05
    t = {**t, "side": "SELL", "price": "50000"}
    err = desk.error("order.preview", {"ticket": t})
    assert D(err.details["corrected"]) == D("57000")  # mark × 0.95


def test_bad_tickets_are_refused_with_a_clear_error(desk: Desk) -> None:
    both = {"symbol": "BTCUSDT", "side": "BUY", "notional": "100", "quantity": "0.01"}
    assert desk.error("order.preview", {"ticket": both}).code == "invalid"
    err = desk.error("order.preview", {"ticket": {"symbol": "NOPEUSDT", "side": "BUY", "notional": "100"}})
    assert err.code == "invalid" and "NOPEUSDT" in err.message
    no_price = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01"}
    err = desk.error("order.place", {"ticket": no_price})
    assert (err.code, err.details["field"]) == ("invalid", "price")
    post_market = {"symbol": "BTCUSDT", "side": "BUY", "notional": "200", "post_only": True}
    assert desk.error("order.place", {"ticket": post_market}).details["field"] == "post_only"


# -- placing ----------------------------------------------------------------------------------------------


def test_market_order_fills_and_the_position_matches_the_exchange(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "ETHUSDT", "3000")
    r = desk.place(symbol="ETHUSDT", side="BUY", notional="600")
    assert r["status"] == "placed" and r["client_id"].startswith("sdm") and r["order_id"]
    assert D(r["quantity"]) == D("0.2") and r["message"].startswith("BUY 0.2")
    assert "ETHUSDT market" in r["message"]
    assert r["roundtrip_ms"] is not None
    pos = host_position(desk, "ETHUSDT", "0.2")
    ex = sim.positions("ETHUSDT")[0]
    assert D(ex["positionAmt"]) == D("0.2")
    assert D(str(pos["entry"])) == D(ex["entryPrice"])
    fills = [
        e for e in sim.order_log() if e.get("clientOrderId") == r["client_id"] and e["status"] == "FILLED"
    ]
    assert fills and D(fills[-1]["executedQty"]) == D("0.2")


def test_limit_gtc_rests_then_modify_and_cancel_by_id_and_client_id(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "ETHUSDT", "3000")
    r = desk.place(symbol="ETHUSDT", side="BUY", type="LIMIT", quantity="0.05", price="2900.007")
    assert (r["order_status"], D(r["price"])) == ("NEW", D("2900"))
    oid = r["order_id"]
    regular, _ = sim_open(sim, "ETHUSDT")
    assert [(str(o["orderId"]), D(str(o["price"])), o["timeInForce"]) for o in regular] == [
        (oid, D("2900"), "GTC")
    ]
    desk.until(lambda: any(o["order_id"] == oid for o in desk.open_orders("ETHUSDT")))

    m = desk.call(
        "order.modify",
        {"symbol": "ETHUSDT", "order_id": oid, "side": "BUY", "price": "2950.019", "quantity": "0.07"},
    )
    assert m["order_id"] == oid and m["status"] == "NEW"
    regular, _ = sim_open(sim, "ETHUSDT")
    assert (D(str(regular[0]["price"])), D(str(regular[0]["origQty"]))) == (D("2950.01"), D("0.07"))

    c = desk.call("order.cancel", {"symbol": "ETHUSDT", "order_id": oid})
    assert (c["order_id"], c["status"]) == (oid, "CANCELED")
    assert sim_open(sim, "ETHUSDT")[0] == []

    r2 = desk.place(symbol="ETHUSDT", side="SELL", type="LIMIT", quantity="0.05", price="3100")
    c2 = desk.call("order.cancel", {"symbol": "ETHUSDT", "client_id": r2["client_id"]})
    assert (c2["order_id"], c2["client_id"], c2["status"]) == (r2["order_id"], r2["client_id"], "CANCELED")
    assert sim_open(sim, "ETHUSDT")[0] == []
    desk.until(lambda: desk.open_orders("ETHUSDT") == [], 3, "orders topic emptied")


def test_limit_ioc_that_cannot_fill_expires(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "ETHUSDT", "3000")
    r = desk.place(symbol="ETHUSDT", side="BUY", type="LIMIT", quantity="0.05", price="2900", ioc=True)
    assert r["status"] == "placed"  # the exchange took it (its ACK says NEW), then expired it unfilled

    def expired() -> bool:
        states = [e["status"] for e in sim.order_log() if e.get("clientOrderId") == r["client_id"]]
        return states[-1:] == ["EXPIRED"]

    eventually(expired, 3, "the IOC order expired on the exchange")
    assert sim_open(sim, "ETHUSDT")[0] == []
    assert all(o["order_id"] != r["order_id"] for o in desk.open_orders("ETHUSDT"))


def test_post_only_that_would_cross_shows_the_exchange_rejection(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "ETHUSDT", "3000")
    t = {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.05", "price": "3010",
         "post_only": True}  # fmt: skip
    err = desk.error("order.place", {"ticket": t})
    assert err.code == "rejected"
    assert err.details["broker_code"] == -5022
    assert "post-only" in err.message and "move the price" in err.message
    assert sim_open(sim, "ETHUSDT")[0] == []
    # the same post-only below the bid rests as GTX
    r = desk.place(**{**t, "price": "2990"})
    regular, _ = sim_open(sim, "ETHUSDT")
    assert [(str(o["orderId"]), o["timeInForce"]) for o in regular] == [(r["order_id"], "GTX")]
    desk.call("order.cancel", {"symbol": "ETHUSDT", "order_id": r["order_id"]})


def test_insufficient_margin_is_rejected_with_binance_code(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "ETHUSDT", "3000")
    before = sim_position(sim, "ETHUSDT")
    err = desk.error("order.place", {"ticket": {"symbol": "ETHUSDT", "side": "BUY", "quantity": "1900"}})
    assert err.code == "rejected"
    assert err.details["broker_code"] == -2019
    assert "margin" in err.message
    assert sim_position(sim, "ETHUSDT") == before


def test_leverage_on_the_ticket_changes_the_exchange_leverage(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BNBUSDT", "600")
    assert sim.leverage("BNBUSDT") != 7
    r = desk.place(symbol="BNBUSDT", side="BUY", notional="60", leverage=7)
    assert r["status"] == "placed"
    assert sim.leverage("BNBUSDT") == 7
    desk.call("position.close", {"symbol": "BNBUSDT", "fraction": "1"})
    eventually(lambda: sim_position(sim, "BNBUSDT") == 0, 3, "BNB closed")


def test_confirmation_threshold_asks_the_panel_and_a_hotkey(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BNBUSDT", "600")
    desk.set_risk(confirm_above_notional="100")
    try:
        pv = desk.call("order.preview", {"ticket": {"symbol": "BNBUSDT", "side": "BUY", "notional": "300"}})
        assert pv["needs_confirmation"] is True and "confirm" in pv["reason"]
        ticket = {"symbol": "BNBUSDT", "side": "BUY", "notional": "300"}
        ask = desk.call("order.place", {"ticket": ticket})
        assert ask["status"] == "confirm" and "100.00" in ask["reason"] and ask["order_id"] is None
        assert sim_position(sim, "BNBUSDT") == 0  # nothing was sent
        # #21: a hotkey above the threshold asks too (the extension confirms it), never refused
        hot = desk.call("order.place", {"ticket": ticket, "source": "hotkey"})
        assert hot["status"] == "confirm" and hot["currency"] == "USDT" and hot["order_id"] is None
        assert sim_position(sim, "BNBUSDT") == 0
        ok = desk.call("order.place", {"ticket": ticket, "confirmed": True})
        assert ok["status"] == "placed"
        assert sim_position(sim, "BNBUSDT") == D("0.5")
    finally:
        desk.reset_risk()
    desk.call("position.close", {"symbol": "BNBUSDT", "fraction": "1"})
    eventually(lambda: sim_position(sim, "BNBUSDT") == 0, 3, "BNB closed")


def test_risk_limits_refuse_with_the_limit_named_and_reducing_orders_pass(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BNBUSDT", "600")
    desk.place(symbol="BNBUSDT", side="BUY", quantity="0.5")  # 300 USDT long
    host_position(desk, "BNBUSDT", "0.5")
    try:
        limits = desk.set_risk(max_order_notional="200")
        assert D(limits["max_order_notional"]) == D("200")
        assert D(desk.call("risk.get")["limits"]["max_order_notional"]) == D("200")
        err = desk.error("order.place", {"ticket": {"symbol": "BNBUSDT", "side": "BUY", "notional": "250"}})
        assert (err.code, err.details["limit"]) == ("rejected", "order_notional")
        assert "200.00" in err.message

        desk.set_risk(max_position_notional="400")
        err = desk.error("order.place", {"ticket": {"symbol": "BNBUSDT", "side": "BUY", "notional": "150"}})
        assert (err.code, err.details["limit"]) == ("rejected", "position")
        assert "400.00" in err.message

        desk.set_risk(max_orders_per_minute=1)  # at least the opening order is within the minute
        err = desk.error("order.place", {"ticket": {"symbol": "BNBUSDT", "side": "BUY", "notional": "10"}})
        assert (err.code, err.details["limit"]) == ("rejected", "rate")
        assert sim_position(sim, "BNBUSDT") == D("0.5")  # nothing refused reached the exchange

        # every limit at once, and still a trader can get out
        desk.set_risk(max_order_notional="1", max_position_notional="1", max_orders_per_minute=1)
        r = desk.place(symbol="BNBUSDT", side="SELL", quantity="0.2", reduce_only=True)
        assert r["status"] == "placed"
        eventually(lambda: sim_position(sim, "BNBUSDT") == D("0.3"), 3, "reduced to 0.3")
        r = desk.call("position.close", {"symbol": "BNBUSDT", "fraction": "1"})
        assert r["status"] == "placed"
        eventually(lambda: sim_position(sim, "BNBUSDT") == 0, 3, "closed")
    finally:
        desk.reset_risk()
    assert desk.call("risk.get")["limits"]["max_order_notional"] is None
    assert desk.error("risk.set", {"limits": {"max_order_notional": "-5"}}).code == "invalid"


# -- cancels -------------------------------------------------------------------------------------------------


def test_cancel_conditional_by_id_and_unknown_orders_fail_clearly(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "XRPUSDT", "0.6")
    sim.control("POST", "/positions", {"account": "main", "symbol": "XRPUSDT", "amount": "100"})
    algo = sim.control("POST", "/orders", {"account": "main", "params": {
        "algoType": "CONDITIONAL", "symbol": "XRPUSDT", "side": "SELL", "type": "STOP_MARKET",
        "triggerPrice": "0.55", "quantity": "100", "reduceOnly": "true"}})  # fmt: skip
    algo_id = str(algo["algoId"])

    def shown() -> bool:
        desk.pump(0.02)
        return any(o["order_id"] == algo_id and o["conditional"] for o in desk.open_orders("XRPUSDT"))

    eventually(shown, 3, "the stop in the orders topic")
    row = next(o for o in desk.open_orders("XRPUSDT") if o["order_id"] == algo_id)
    assert (row["type"], D(row["stop_price"]), row["side"]) == ("STOP_MARKET", D("0.55"), "SELL")

    c = desk.call("order.cancel", {"symbol": "XRPUSDT", "order_id": algo_id, "conditional": True})
    assert c["order_id"] == algo_id and c["status"] == "CANCELED"
    assert sim_open(sim, "XRPUSDT")[1] == []

    sim.control("POST", "/orders", {"account": "main", "params": {
        "algoType": "CONDITIONAL", "symbol": "XRPUSDT", "side": "SELL", "type": "STOP_MARKET",
        "triggerPrice": "0.54", "quantity": "100", "reduceOnly": "true",
        "clientAlgoId": "other-stop-1"}})  # fmt: skip
    c = desk.call("order.cancel", {"symbol": "XRPUSDT", "client_id": "other-stop-1", "conditional": True})
    assert (c["client_id"], c["status"]) == ("other-stop-1", "CANCELED")
    assert sim_open(sim, "XRPUSDT")[1] == []

    err = desk.error("order.cancel", {"symbol": "XRPUSDT", "order_id": "123456789"})
    assert (err.code, err.details["broker_code"]) == ("rejected", -2011)
    assert "unknown or already closed" in err.message
    err = desk.error("order.cancel", {"symbol": "XRPUSDT", "client_id": "sdmnothere", "conditional": True})
    assert (err.code, err.details["broker_code"]) == ("rejected", -2011)
    assert desk.error("order.cancel", {"symbol": "XRPUSDT"}).code == "invalid"
    sim.control("POST", "/positions", {"account": "main", "symbol": "XRPUSDT", "amount": "0"})


def test_cancel_all_for_one_symbol_cancels_regular_and_algo_orders(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "XRPUSDT", "0.6")
    at_price(sim, desk, "ETHUSDT", "3000")
    sim.control("POST", "/positions", {"account": "main", "symbol": "XRPUSDT", "amount": "200"})
    desk.place(symbol="XRPUSDT", side="BUY", type="LIMIT", quantity="100", price="0.5")
    desk.place(symbol="XRPUSDT", side="SELL", type="LIMIT", quantity="100", price="0.7")
    sim.control("POST", "/orders", {"account": "main", "params": {
        "algoType": "CONDITIONAL", "symbol": "XRPUSDT", "side": "SELL", "type": "STOP_MARKET",
        "triggerPrice": "0.5", "quantity": "200", "reduceOnly": "true"}})  # fmt: skip
    other = desk.place(symbol="ETHUSDT", side="BUY", type="LIMIT", quantity="0.05", price="2800")
    regular, algos = sim_open(sim, "XRPUSDT")
    assert (len(regular), len(algos)) == (2, 1)

    assert desk.call("orders.cancel_all", {"symbol": "xrpusdt"})["cancelled"] == 3
    assert sim_open(sim, "XRPUSDT") == ([], [])
    assert [str(o["orderId"]) for o in sim_open(sim, "ETHUSDT")[0]] == [other["order_id"]]
    desk.until(lambda: desk.open_orders("XRPUSDT") == [], 3, "XRP orders gone")
    desk.call("order.cancel", {"symbol": "ETHUSDT", "order_id": other["order_id"]})
    sim.control("POST", "/positions", {"account": "main", "symbol": "XRPUSDT", "amount": "0"})


# -- closing ------------------------------------------------------------------------------------------


def test_position_close_quarter_half_and_all(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "SOLUSDT", "150")
    desk.place(symbol="SOLUSDT", side="BUY", quantity="100")
    host_position(desk, "SOLUSDT", "100")
    for fraction, left in (("0.25", "75"), ("0.5", "38"), ("1", "0")):  # 37.5 floors to the 1-SOL step
        r = desk.call("position.close", {"symbol": "SOLUSDT", "position_side": "BOTH", "fraction": fraction})
        assert r["status"] == "placed" and r["order_id"]
        eventually(partial(sim_is_at, sim, "SOLUSDT", D(left)), 3, f"SOL at {left}")
        host_position(desk, "SOLUSDT", left)
    closes = [e for e in sim.order_log() if e["symbol"] == "SOLUSDT" and e["status"] == "FILLED"]
    assert [(e["side"], D(e["executedQty"])) for e in closes] == [
        ("BUY", D(100)), ("SELL", D(25)), ("SELL", D(37)), ("SELL", D(38))
    ]  # fmt: skip
    err = desk.error("position.close", {"symbol": "SOLUSDT", "fraction": "1"})
    assert err.code == "invalid" and "no open SOLUSDT" in err.message
    assert desk.error("position.close", {"symbol": "SOLUSDT", "fraction": "0.3"}).code == "invalid"
