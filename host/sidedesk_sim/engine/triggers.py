"""Trigger conditions of conditional orders (dossier §6.4, §6.5). Pure functions."""

from __future__ import annotations

from decimal import Decimal

from .enums import OrderType, Side
from .model import AlgoOrder

HUNDRED = Decimal(100)
# Binance raised the maximum from 10 to 20 on 2026-10-23 (derivatives change log,
# https://developers.binance.com/docs/derivatives/change-log).
MIN_CALLBACK_RATE = Decimal("0.1")
MAX_CALLBACK_RATE = Decimal(20)


def stop_condition_met(order_type: OrderType, side: Side, trigger: Decimal, price: Decimal) -> bool:
    """STOP/STOP_MARKET: BUY when price ≥ trigger, SELL when price ≤ trigger.
    TAKE_PROFIT/TAKE_PROFIT_MARKET: BUY when price ≤ trigger, SELL when price ≥ trigger."""
    if order_type in (OrderType.STOP, OrderType.STOP_MARKET):
        return price >= trigger if side is Side.BUY else price <= trigger
    if order_type in (OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_MARKET):
        return price <= trigger if side is Side.BUY else price >= trigger
    raise ValueError(f"{order_type.value} has no stop condition")


def activation_would_trigger(side: Side, activation: Decimal, price: Decimal) -> bool:
    """Trailing placement check: a SELL needs activation > latest price, a BUY activation < latest."""
    return activation <= price if side is Side.SELL else activation >= price


def callback_rate_valid(rate: Decimal) -> bool:
    return MIN_CALLBACK_RATE <= rate <= MAX_CALLBACK_RATE


def trailing_update(algo: AlgoOrder, price: Decimal) -> bool:
    """Track a trailing stop at working price `price`; returns True when it triggers.

    SELL: extreme = highest price since placement; activated once extreme ≥ activation; triggers
    when price ≤ extreme × (1 − rate/100). BUY mirrors it with the lowest price and (1 + rate/100).
    Mutates `algo.extreme` and `algo.activated`.
    """
    assert algo.callback_rate is not None
    rate = algo.callback_rate / HUNDRED
    if algo.side is Side.SELL:
        algo.extreme = price if algo.extreme is None else max(algo.extreme, price)
        if not algo.activated and (algo.activation_price is None or algo.extreme >= algo.activation_price):
            algo.activated = True
        return algo.activated and price <= algo.extreme * (Decimal(1) - rate)
    algo.extreme = price if algo.extreme is None else min(algo.extreme, price)
    if not algo.activated and (algo.activation_price is None or algo.extreme <= algo.activation_price):
        algo.activated = True
    return algo.activated and price >= algo.extreme * (Decimal(1) + rate)
