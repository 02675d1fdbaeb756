"""Issue #21, the true stop: the real host against the Binance simulator, ASL at a trailing level,
the price run up in steps. The positions table (and the `asl` view, and the chart, which draws the
row's stop) shows the trailing stop where it trails now, within one tick of the simulator's own
trigger level, marked as an estimate; it never loosens on a pullback; "Stop → BE" is refused
while the trailing stop is already beyond the entry.

The witness is the simulator's algo order itself (its engine's `trailing_stop_price`, read on its
loop): Binance reports no such figure, which is why the host computes it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest

from tests.integration.trading.conftest import Desk, Sim, eventually, start_desk

D = Decimal
TICKS = {"BTCUSDT": D("0.10"), "ETHUSDT": D("0.01")}


@pytest.fixture(scope="module")
def asl_desk(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    d = start_desk(tmp_path_factory.mktemp("home"), sim, asl_enabled=True)
    try:
        yield d
        d.assert_no_secret(sim.key()["secret"])
    finally:
        d.stop()


def on_tick(price: Decimal, symbol: str) -> Decimal:
    tick = TICKS[symbol]
    return (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick


def move(sim: Sim, desk: Desk, symbol: str, price: Decimal) -> None:
    sim.price(symbol, f"{price:f}")
    desk.wait_mark(symbol, f"{price:f}")


def exchange_trailing(sim: Sim, symbol: str) -> tuple[Decimal, Decimal | None, str]:
    """(callback, current trigger level, client id) of the account's one open trailing algo order,
    from the simulator's engine."""

    def read() -> tuple[Decimal, Decimal | None, str]:
        algos = [
            a for a in sim.s.engine.open_algo_orders("main", symbol) if a.type.value == "TRAILING_STOP_MARKET"
        ]
        assert len(algos) == 1, [(a.client_id, a.type.value) for a in algos]
        a = algos[0]
        assert a.callback_rate is not None
        return a.callback_rate, a.trailing_stop_price, a.client_id

    return sim.on_loop(read)


def row_of(desk: Desk, symbol: str) -> dict[str, Any]:
    row = desk.position(symbol)
    assert row is not None, f"no {symbol} row"
    return row


@pytest.mark.parametrize(
    ("symbol", "side", "quantity", "start"),
    [
        pytest.param("BTCUSDT", "BUY", "0.010", D("60000"), id="long"),
        pytest.param("ETHUSDT", "SELL", "0.200", D("3000"), id="short"),
    ],
)
def test_the_panel_shows_the_trailing_stop_where_it_trails(
    sim: Sim, asl_desk: Desk, symbol: str, side: str, quantity: str, start: Decimal
) -> None:
    desk = asl_desk
    long = side == "BUY"
    sign = 1 if long else -1
    tick = TICKS[symbol]
    move(sim, desk, symbol, start)
    desk.place(symbol=symbol, side=side, quantity=quantity)
    desk.until(lambda: (desk.position(symbol) or {}).get("asl_level") == "hard", 5, f"{symbol}: hard stop")
    entry = D(row_of(desk, symbol)["entry"])

    # up through the levels to level 3 (profit >= 4 %: trailing 1 %)
    for pct in ("1.2", "2.2", "4.5"):
        move(sim, desk, symbol, on_tick(entry * (1 + sign * D(pct) / 100), symbol))
    desk.until(lambda: row_of(desk, symbol).get("asl_level") == "3", 8, f"{symbol}: level 3")
    eventually(lambda: exchange_trailing(sim, symbol)[0] == D(1), 5, f"{symbol}: the 1 % trailing stop")
    placed = D(row_of(desk, symbol)["stop_price"])  # where the level-3 stop was placed

    def agrees() -> dict[str, Any] | None:
        _, exact, _ = exchange_trailing(sim, symbol)
        desk.pump(0.02)
        row = row_of(desk, symbol)
        if exact is None or row.get("stop_price") is None:
            return None
        shown = D(row["stop_price"])
        # within one tick, and never tighter than the exchange's own level
        ok = abs(shown - exact) < tick and (shown <= exact if long else shown >= exact)
        return row if ok and row.get("stop_estimated") is True else None

    price = D(row_of(desk, symbol)["mark"])
    shown: list[Decimal] = []
    for _ in range(3):  # the price runs on, 0.4 % a step
        price = on_tick(price * (1 + sign * D("0.004")), symbol)
        move(sim, desk, symbol, price)
        row = eventually(agrees, 5, f"{symbol}: the shown stop within one tick of the exchange's at {price}")
        shown.append(D(row["stop_price"]))
    assert all((b > a) if long else (b < a) for a, b in itertools.pairwise(shown)), shown
    assert (shown[-1] > placed) if long else (shown[-1] < placed)  # not where it was placed
    _, exact, cid = exchange_trailing(sim, symbol)
    assert exact is not None

    # a pullback that does not reach it: the stop stays where it is (it never loosens)
    move(sim, desk, symbol, on_tick(price * (1 - sign * D("0.005")), symbol))
    row = eventually(agrees, 5, f"{symbol}: the stop after a pullback")
    assert D(row["stop_price"]) == shown[-1]

    # the asl view (the chart's other source) carries the same figure, marked as an estimate
    view = desk.call("asl.get")["positions"][row["id"]]
    assert (view["stop_price"], view["stop_estimated"]) == (row["stop_price"], True)
    assert view["stop_client_id"] == cid

    # "Stop → BE" compares the current level: the stop is far beyond the entry, so it is refused
    # and the trailing stop stays on the exchange
    n = len(desk.pushes("log"))
    desk.call("position.breakeven", {"symbol": symbol, "position_side": "BOTH"})
    refusal = desk.until(
        lambda: next(
            (p.payload for p in desk.pushes("log")[n:] if "breakeven refused" in str(p.payload)), None
        ),
        5,
        f"{symbol}: the breakeven refusal",
    )
    assert "trailing stop (≈" in str(refusal), refusal
    desk.pump(0.5)
    assert exchange_trailing(sim, symbol)[2] == cid
    desk.call("flatten")
    eventually(lambda: sim.positions(symbol) == [], 5, f"{symbol}: flat")
