"""Shared helpers for engine tests."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sidedesk_sim.engine import (
    AlgoUpdate,
    Engine,
    EngineEvent,
    OrderSpec,
    OrderType,
    OrderUpdate,
    Outcome,
    Side,
    default_instruments,
)

SYMBOL = "TESTUSDT"
D = Decimal


def easy_instrument() -> Any:
    base = default_instruments()["BTCUSDT"]
    return replace(
        base,
        symbol=SYMBOL,
        base_asset="TEST",
        tick_size=D(1),
        min_price=D(1),
        max_price=D(1_000_000),
        step_size=D("0.001"),
        min_qty=D("0.001"),
        market_step_size=D("0.001"),
        market_min_qty=D("0.001"),
        min_notional=D(5),
        price_precision=0,
        initial_price=D(1000),
        volatility=D(0),
        book_qty=D(1),
        book_levels=5,
        spread_ticks=1,
        maker_fee=D("0.0002"),
        taker_fee=D("0.0005"),
    )


DEFAULT_BALANCE = D(10_000)


def make_engine(balance: Decimal = DEFAULT_BALANCE, hedge: bool = False, seed: int = 1) -> Engine:
    eng = Engine([easy_instrument()], seed=seed, start_ms=1_000)
    out = eng.create_account("a", {"USDT": balance}, hedge_mode=hedge)
    assert out.ok
    return eng


def place(
    eng: Engine, side: Side, otype: OrderType, qty: str | None = None, account: str = "a", **kw: Any
) -> Outcome:
    spec = OrderSpec(SYMBOL, side, otype, quantity=None if qty is None else D(qty), **kw)
    return eng.submit_order(account, spec, eng.now_ms + 1)


def move(eng: Engine, price: str | int, mark: str | int | None = None) -> list[EngineEvent]:
    return eng.set_price(SYMBOL, D(price), eng.now_ms + 1, mark=None if mark is None else D(mark))


def kinds(events: Any) -> list[str]:
    """Compact event sequence: 'NEW', 'TRADE', 'algo:TRIGGERED', 'account:ORDER', ..."""
    out = []
    for ev in events:
        if isinstance(ev, OrderUpdate):
            out.append(ev.exec_type.value)
        elif isinstance(ev, AlgoUpdate):
            out.append(f"algo:{ev.algo.status.value}")
        elif type(ev).__name__ == "AccountUpdate":
            out.append(f"account:{ev.reason.value}")
    return out
