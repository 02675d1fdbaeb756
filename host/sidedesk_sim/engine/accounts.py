"""Accounts, positions and cross-margin arithmetic (pure functions over plain state)."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .enums import PositionSide, Side
from .model import AlgoOrder, Fill, Order

ZERO = Decimal(0)


@dataclass
class Position:
    """One position. `amount` is signed; in hedge mode LONG ≥ 0 and SHORT ≤ 0."""

    symbol: str
    position_side: PositionSide
    amount: Decimal = ZERO
    entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO  # accumulated, before fees (never reset)
    open_fees: Decimal = ZERO  # commission paid for the currently open amount (break-even price)
    update_ms: int = 0

    @property
    def break_even_price(self) -> Decimal:
        """Entry price moved by the fees already paid for the open amount."""
        if self.amount == ZERO:
            return ZERO
        per_unit = self.open_fees / abs(self.amount)
        return self.entry_price + per_unit if self.amount > ZERO else self.entry_price - per_unit

    def unrealized(self, mark: Decimal, multiplier: Decimal) -> Decimal:
        return self.amount * (mark - self.entry_price) * multiplier

    def apply_fill(
        self, side: Side, qty: Decimal, price: Decimal, multiplier: Decimal, fee: Decimal
    ) -> Decimal:
        """Apply one fill; returns the realized P&L (before fee). Flips through zero in one-way."""
        signed = qty * side.sign
        realized = ZERO
        if self.amount == ZERO or (self.amount > ZERO) == (signed > ZERO):
            total = abs(self.amount) + qty
            self.entry_price = (abs(self.amount) * self.entry_price + qty * price) / total
            self.amount += signed
            self.open_fees += fee
            return realized
        closing = min(qty, abs(self.amount))
        direction = Decimal(1) if self.amount > ZERO else Decimal(-1)
        realized = (price - self.entry_price) * closing * direction * multiplier
        before = abs(self.amount)
        self.amount -= closing * direction
        opening = qty - closing
        fee_closing = fee * closing / qty
        if self.amount == ZERO:
            self.entry_price = ZERO
            self.open_fees = ZERO
        else:
            self.open_fees = self.open_fees * abs(self.amount) / before
        if opening > ZERO:
            self.amount = opening * side.sign
            self.entry_price = price
            self.open_fees = fee - fee_closing
        self.realized_pnl += realized
        return realized


@dataclass
class Account:
    """Mutable state of one account, owned by the engine."""

    account_id: str
    balances: dict[str, Decimal]
    created_ms: int
    hedge_mode: bool = False
    leverage: dict[str, int] = field(default_factory=dict)
    positions: dict[tuple[str, PositionSide], Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)  # open regular orders
    algos: dict[int, AlgoOrder] = field(default_factory=dict)  # algo orders not final yet
    closed_orders: OrderedDict[int, Order] = field(default_factory=OrderedDict)
    closed_algos: OrderedDict[int, AlgoOrder] = field(default_factory=OrderedDict)
    trades: deque[Fill] = field(default_factory=lambda: deque(maxlen=10_000))
    update_ms: int = 0

    def position(self, symbol: str, side: PositionSide) -> Position:
        key = (symbol, side)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(symbol, side)
        return pos

    def position_sides(self) -> tuple[PositionSide, ...]:
        return (PositionSide.LONG, PositionSide.SHORT) if self.hedge_mode else (PositionSide.BOTH,)

    def open_orders_for(self, symbol: str) -> list[Order]:
        return [o for o in self.orders.values() if o.symbol == symbol]

    def open_algos_for(self, symbol: str | None = None) -> list[AlgoOrder]:
        return [a for a in self.algos.values() if a.is_open and (symbol is None or a.symbol == symbol)]


def is_closing(hedge_mode: bool, side: Side, position_side: PositionSide, reduce_only: bool) -> bool:
    """Does this order only reduce a position? (one-way reduce-only, or hedge SELL+LONG / BUY+SHORT)"""
    if hedge_mode:
        return (side, position_side) in ((Side.SELL, PositionSide.LONG), (Side.BUY, PositionSide.SHORT))
    return reduce_only


def reducible_qty(position_amount: Decimal, side: Side) -> Decimal:
    """How much an order of `side` can reduce a position of signed `position_amount`."""
    if side is Side.SELL and position_amount > ZERO:
        return position_amount
    if side is Side.BUY and position_amount < ZERO:
        return -position_amount
    return ZERO


@dataclass(frozen=True)
class WorkingOrder:
    """An order as the margin calculation sees it (open orders plus a hypothetical new one)."""

    side: Side
    position_side: PositionSide
    price: Decimal
    qty: Decimal
    closing: bool


def open_order_margin(
    orders: Iterable[WorkingOrder],
    positions: dict[PositionSide, Decimal],
    hedge_mode: bool,
    mark: Decimal,
    multiplier: Decimal,
    leverage: int,
) -> Decimal:
    """Initial margin reserved by open orders of one symbol.

    One-way: the larger of the bid and ask notionals, each after netting the opposite position
    (a BUY against a short needs no margin up to the short's size). Hedge: opening orders only
    (BUY+LONG, SELL+SHORT); closing orders reserve nothing. Reduce-only orders reserve nothing.
    """
    bid = ask = ZERO
    for o in orders:
        if o.closing:
            continue
        notional = o.price * o.qty * multiplier
        if o.side is Side.BUY:
            bid += notional
        else:
            ask += notional
    if not hedge_mode:
        amount = positions.get(PositionSide.BOTH, ZERO)
        if amount < ZERO:
            bid = max(ZERO, bid - (-amount) * mark * multiplier)
        elif amount > ZERO:
            ask = max(ZERO, ask - amount * mark * multiplier)
        return max(bid, ask) / Decimal(leverage)
    return (bid + ask) / Decimal(leverage)


def position_margin(amount: Decimal, mark: Decimal, multiplier: Decimal, leverage: int) -> Decimal:
    return abs(amount) * mark * multiplier / Decimal(leverage)


def maint_margin(amount: Decimal, mark: Decimal, multiplier: Decimal, rate: Decimal) -> Decimal:
    return abs(amount) * mark * multiplier * rate
