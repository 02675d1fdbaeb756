"""The live topics against the simulator's own figures: positions, orders and account equal what
the exchange reports (to the cent), another client's trades show up, P&L follows the price,
sequence numbers have no gaps, coalescing bounds the push rate, `status` follows the connection
and `stats` counts what happened.

One simulator and one host for the module (random walk frozen; prices set by the tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.trading.conftest import TOPICS, Desk, Sim, eventually, start_desk
from tests.support import services

D = Decimal
CENT = D("0.01")


@pytest.fixture(scope="module")
def desk(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    # no periodic status push: every `status` event comes from a connection change, so the
    # coalescer never holds back the "degraded" one behind a timer push
    d = start_desk(tmp_path_factory.mktemp("home"), sim, status_interval_s=3600)
    try:
        yield d
        d.assert_no_secret(sim.key()["secret"])
    finally:
        d.stop()


def at_price(sim: Sim, desk: Desk, symbol: str, price: str) -> None:
    sim.price(symbol, price)
    desk.wait_mark(symbol, price)


def as_other_client(sim: Sim, symbol: str, side: str, quantity: str) -> dict[str, Any]:
    """An order on the same account from another platform (the exchange's own UI, a bot)."""
    params = {"symbol": symbol, "side": side, "type": "MARKET", "quantity": quantity}
    out: dict[str, Any] = sim.control("POST", "/orders", {"account": "main", "params": params})
    return out


def cents(value: str | None) -> Decimal:
    assert value is not None
    return D(value).quantize(CENT)


def settled(desk: Desk, sim: Sim, symbols: list[str]) -> None:
    """Until the host's positions equal the exchange's for these symbols (quantity and mark)."""

    def probe() -> bool:
        desk.pump(0.02)
        for row in sim.positions():
            if row["symbol"] not in symbols:
                continue
            pos = desk.position(row["symbol"], row["positionSide"])
            if pos is None or D(pos["quantity"]) != D(row["positionAmt"]):
                return False
            if pos["mark"] is None or D(pos["mark"]) != D(row["markPrice"]):
                return False
        return True

    eventually(probe, 5, f"host positions equal the exchange's for {symbols}")


def test_positions_orders_and_account_equal_the_exchange_figures(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "BTCUSDT", "60000")
    at_price(sim, desk, "ETHUSDT", "3000")
    desk.place(symbol="BTCUSDT", side="BUY", quantity="0.05")
    desk.place(symbol="ETHUSDT", side="SELL", quantity="1.5")
    resting = desk.place(symbol="BTCUSDT", side="BUY", type="LIMIT", quantity="0.01", price="58000")
    at_price(sim, desk, "BTCUSDT", "60321.7")
    at_price(sim, desk, "ETHUSDT", "2987.45")
    settled(desk, sim, ["BTCUSDT", "ETHUSDT"])

    for row in sim.positions():
        if row["symbol"] not in ("BTCUSDT", "ETHUSDT"):
            continue
        pos = desk.position(row["symbol"], row["positionSide"])
        assert pos is not None
        assert D(pos["quantity"]) == D(row["positionAmt"])
        assert pos["side"] == ("LONG" if D(row["positionAmt"]) > 0 else "SHORT")
        assert D(pos["size"]) == abs(D(row["positionAmt"]))
        assert D(pos["entry"]) == D(row["entryPrice"])
        assert D(pos["break_even_price"]) == D(row["breakEvenPrice"])
        assert D(pos["mark"]) == D(row["markPrice"])
        assert cents(pos["unrealized_pnl"]) == cents(row["unRealizedProfit"])
        assert D(pos["unrealized_pnl"]) == (D(pos["mark"]) - D(pos["entry"])) * D(pos["quantity"])
        assert cents(pos["notional"]).copy_abs() == cents(row["notional"]).copy_abs()

    # the orders topic lists exactly the exchange's open orders
    book = sim.open_orders()
    listed = {o["order_id"]: o for o in desk.latest("orders")["orders"]}
    assert set(listed) == {str(o["orderId"]) for o in book["orders"]} | {
        str(a["algoId"]) for a in book["algoOrders"]
    }
    row = listed[resting["order_id"]]
    ex = next(o for o in book["orders"] if str(o["orderId"]) == resting["order_id"])
    assert (row["client_id"], row["side"], row["type"], row["status"]) == (
        ex["clientOrderId"], ex["side"], ex["type"], ex["status"]
    )  # fmt: skip
    assert (D(row["price"]), D(row["quantity"]), D(row["filled"])) == (
        D(ex["price"]), D(ex["origQty"]), D(ex["executedQty"])
    )  # fmt: skip
    assert row["time_in_force"] == ex["timeInForce"] and row["conditional"] is False

    # the account: wallet, unrealized P&L and equity to the cent
    acct = sim.rest("/fapi/v3/account")

    def account_equal() -> bool:
        desk.pump(0.05)
        usdt = next(a for a in desk.latest("account")["accounts"] if a["asset"] == "USDT")
        return (
            cents(usdt["wallet_balance"]) == cents(acct["totalWalletBalance"])
            and cents(usdt["unrealized_pnl"]) == cents(acct["totalUnrealizedProfit"])
            and cents(usdt["equity"]) == cents(acct["totalMarginBalance"])
        )

    eventually(account_equal, 3, f"account figures equal to {acct}")
    totals = {t["asset"]: t["unrealized_pnl"] for t in desk.latest("positions")["totals"]}
    assert cents(totals["USDT"]) == cents(acct["totalUnrealizedProfit"])
    desk.call("order.cancel", {"symbol": "BTCUSDT", "order_id": resting["order_id"]})


def test_position_opened_by_another_client_appears_within_a_second(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "XRPUSDT", "0.6")
    as_other_client(sim, "XRPUSDT", "BUY", "1000")

    def shown() -> dict[str, Any] | None:
        desk.pump(0.01)
        return desk.position("XRPUSDT")

    pos = eventually(shown, 1.0, "the other client's XRPUSDT position in the positions topic")
    assert D(pos["quantity"]) == D("1000")
    assert D(pos["entry"]) == D(sim.positions("XRPUSDT")[0]["entryPrice"])


def test_pnl_moves_with_the_simulator_price(sim: Sim, desk: Desk) -> None:
    at_price(sim, desk, "SOLUSDT", "150")
    as_other_client(sim, "SOLUSDT", "BUY", "40")
    desk.until(lambda: desk.position("SOLUSDT"), 3, "SOL position")
    entry = D(sim.positions("SOLUSDT")[0]["entryPrice"])
    seen = []
    for mark in ("151.5", "149.25", "153"):
        at_price(sim, desk, "SOLUSDT", mark)

        def moved(mark: str = mark) -> dict[str, Any] | None:
            desk.pump(0.02)
            pos = desk.position("SOLUSDT")
            return pos if pos is not None and D(pos["mark"]) == D(mark) else None

        pos = eventually(moved, 3, f"SOL position marked at {mark}")
        expected = (D(mark) - entry) * 40
        assert D(pos["unrealized_pnl"]) == expected
        assert cents(pos["unrealized_pnl"]) == cents(sim.positions("SOLUSDT")[0]["unRealizedProfit"])
        seen.append(D(pos["unrealized_pnl"]))
    assert seen[0] > 0 > seen[1] and seen[2] > seen[0]


def test_coalescing_keeps_each_topic_near_ten_pushes_a_second(sim: Sim, desk: Desk) -> None:
    before = desk.call("stats")
    for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"):
        sim.control("POST", "/path", {"symbol": symbol, "path": "+2% over 1.5s"})
    desk.pump(1.6)
    after = desk.call("stats")
    span = after["uptime_s"] - before["uptime_s"]  # the host's own clock
    for topic in ("quotes", "positions", "account"):
        pushed = after["pushes"][topic] - before["pushes"][topic]
        assert pushed <= 10 * span + 2, f"{topic}: {pushed} pushes in {span:.2f} s"
    assert after["pushes"]["quotes"] - before["pushes"]["quotes"] >= 5  # it did keep pushing
    # far more updates were offered than sent: latest wins
    assert after["coalesced"] - before["coalesced"] > after["pushes"]["quotes"] - before["pushes"]["quotes"]
    for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"):
        sim.control("POST", "/volatility", {"symbol": symbol, "volatility": "0"})


def test_status_flips_to_degraded_then_live_when_the_exchange_drops(sim: Sim, desk: Desk) -> None:
    status = desk.subscribe("status")["status"]
    # the process that serves the panel: the service (the default), or the host Chrome started
    assert status["vault"] == "unlocked" and status["pid"] == (
        services.serving_pid(desk.home) or desk.proc.pid
    )
    (broker,) = status["brokers"]
    assert (broker["broker"], broker["state"], broker["account_id"]) == (
        "binance",
        "live",
        desk.account_id,
    )
    mark = len(desk.pushes("status"))
    assert sim.control("POST", "/disconnect", {"target": "*"})["dropped"] >= 2

    def states() -> list[str]:
        desk.pump(0.02)
        return [
            p.payload["brokers"][0]["state"] for p in desk.pushes("status")[mark:] if p.payload["brokers"]
        ]

    def reconnected() -> list[str] | None:
        seen = states()
        return seen if seen and seen[-1] == "live" else None

    seen = eventually(reconnected, 10, "reconnected")
    assert "degraded" in seen
    assert seen.index("degraded") < len(seen) - 1
    # trading works again on the new connection
    at_price(sim, desk, "BNBUSDT", "600")
    r = desk.place(symbol="BNBUSDT", side="BUY", quantity="0.1")
    assert r["status"] == "placed"


def test_stats_count_frames_errors_and_pushes(desk: Desk) -> None:
    desk.pump()
    assert desk.error("order.preview", {"ticket": {"symbol": "BTCUSDT", "side": "BUY"}}).code == "invalid"
    stats = desk.call("stats")
    replies = [json.loads(b) for b in desk.raw]
    errors = [f for f in replies if f.get("type") != "event" and f.get("error") is not None]
    assert stats["errors"] == len(errors)
    assert stats["frames_in"] == desk._next_id  # every request sent so far
    assert stats["frames_out"] >= len(desk.raw) - 1  # the stats reply itself is counted after it is built
    assert stats["bad_frames"] == 0
    assert stats["handler_us"]["count"] > 0
    for topic in TOPICS:
        events = [p.seq for p in desk.pushes(topic) if not p.snapshot]
        assert stats["pushes"][topic] == (events[-1] if events else 0), topic


def test_every_topic_seq_increases_by_one_without_gaps(sim: Sim, desk: Desk) -> None:
    """Over everything this module's host pushed: events number 1, 2, 3… per topic, and a
    snapshot carries the seq of the last push before it."""
    # traffic of its own, whatever ran before: a position whose mark moves pushes the quotes,
    # positions and account topics at each step
    at_price(sim, desk, "BTCUSDT", "60000")
    desk.place(symbol="BTCUSDT", side="BUY", quantity="0.01")
    for step in range(1, 13):
        at_price(sim, desk, "BTCUSDT", f"{60000 + 10 * step}")
    desk.subscribe("positions", "orders", "account")  # snapshots amid the pushes
    desk.pump(0.2)
    checked = 0
    for topic, pushes in desk.history.items():
        last = None
        for p in pushes:
            if p.snapshot:
                assert last is None or p.seq == last, (topic, p.seq, last)
            else:
                assert p.seq == (last if last is not None else 0) + 1, (topic, p.seq, last)
                checked += 1
            last = p.seq
    assert checked > 40, checked
