"""Where a native trailing stop is now: its trigger level from the working price's extreme.

Pure. Binance's rule for `TRAILING_STOP_MARKET` (USDⓈ-M New Algo Order docs, research/binance.md
§6.5): a SELL keeps the highest working price since it was placed, is armed once that extreme
reaches `activatePrice` (the latest price at placement when none is given), and triggers when
the price falls to extreme × (1 − callbackRate/100); a BUY mirrors it with the lowest price and
(1 + callbackRate/100). The working price is the mark for `workingType=MARK_PRICE` (what the ASL
uses), the last trade price otherwise.

Binance never reports where a trailing stop has moved to (ORDER_TRADE_UPDATE's `sp` is "to be
ignored" for trailing orders and ALGO_UPDATE is sent on status changes only), so the host keeps
the extreme itself from the prices it receives (`TrailingStops`) and shows the level as an
estimate ("≈"). It can lag the exchange's (a price the host never saw) but follows the same rule:
the level only ever tightens. The host follows it with the mark, the one price every venue
streams to it (Binance's adapter subscribes to no trade stream), so a `CONTRACT_PRICE` trailing
stop is followed with the mark as its nearest known price.

On the tick the level is rounded away from the market (SELL down, BUY up): the tick-grid price at
which the stop fires, never a figure tighter than the exchange's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sidedesk.domain import OrderEvent, OrderType, Side

_HUNDRED = Decimal(100)
_NO_TICK_QUANTUM = Decimal("1e-8")

TrailKey = tuple[str, str]  # (account id, client id; "#<order id>" for an order without one)


def advance(side: Side, extreme: Decimal | None, price: Decimal) -> Decimal:
    """The running extreme after `price`: the highest (SELL) or lowest (BUY) working price."""
    if extreme is None:
        return price
    if side is Side.SELL:
        return price if price > extreme else extreme
    return price if price < extreme else extreme


def armed(side: Side, extreme: Decimal | None, activation: Decimal | None) -> bool:
    """The extreme has reached the activation price (always, without one)."""
    if extreme is None:
        return False
    if activation is None:
        return True
    return extreme >= activation if side is Side.SELL else extreme <= activation


def trigger_level(side: Side, callback_pct: Decimal, extreme: Decimal) -> Decimal:
    """The exact price at which the stop fires now (the exchange's rule, no rounding)."""
    f = callback_pct / _HUNDRED
    return extreme * (1 - f) if side is Side.SELL else extreme * (1 + f)


def loose_on_tick(price: Decimal, tick: Decimal, side: Side) -> Decimal:
    """`price` on the tick, away from the market for a stop of `side` (SELL down, BUY up)."""
    mode = ROUND_FLOOR if side is Side.SELL else ROUND_CEILING
    if tick > 0:
        return (price / tick).to_integral_value(rounding=mode) * tick
    return price.quantize(_NO_TICK_QUANTUM, rounding=mode)


def trailing_stop(
    side: Side,
    callback_pct: Decimal,
    extreme: Decimal | None,
    tick: Decimal,
    activation: Decimal | None = None,
) -> Decimal | None:
    """The trigger level of a trailing stop on the tick; None before it is armed.

    `side` is the stop order's side (SELL closes a long), `extreme` the running extreme of the
    working price since placement (the price at placement included), `activation` the order's
    activation price (None: armed from placement).
    """
    if extreme is None or not armed(side, extreme, activation):
        return None
    return loose_on_tick(trigger_level(side, callback_pct, extreme), tick, side)


def at_or_beyond_breakeven(long: bool, entry: Decimal, stop: Decimal, tick: Decimal) -> bool:
    """The stop already locks in breakeven (the entry on the tick, rounded toward profit, as the
    ASL places it): a breakeven stop would not tighten it."""
    be = loose_on_tick(entry, tick, Side.BUY if long else Side.SELL)
    return stop >= be if long else stop <= be


@dataclass(slots=True)
class Trail:
    """One open trailing stop as the host follows it."""

    symbol: str
    side: Side
    callback_pct: Decimal | None  # None until an event or reply names it
    activation: Decimal | None  # the order's; None: armed at placement
    extreme: Decimal | None  # of the working price since the host first saw the order

    def level(self, tick: Decimal) -> Decimal | None:
        if self.callback_pct is None:
            return None
        return trailing_stop(self.side, self.callback_pct, self.extreme, tick, self.activation)


def trail_key(ev: OrderEvent) -> TrailKey:
    return (ev.account_id, ev.client_id or f"#{ev.order_id}")


def is_trailing(ev: OrderEvent) -> bool:
    return ev.type is OrderType.TRAILING_STOP_MARKET


class TrailingStops:
    """The running extreme of every open trailing stop, kept from order events and price ticks.

    An order is followed from the first event that shows it open, starting from the working
    price the host has then (the exchange starts from its latest price at placement); events
    that carry the callback or the activation price fill them in, whichever comes first (Binance's
    ALGO_UPDATE carries neither, the place reply's order does); a final status ends it.
    """

    def __init__(self) -> None:
        self._trails: dict[TrailKey, Trail] = {}
        self._by_symbol: dict[str, set[TrailKey]] = {}
        self._ticks: dict[str, Decimal] = {}

    def __len__(self) -> int:
        return len(self._trails)

    def set_ticks(self, ticks: Mapping[str, Decimal]) -> None:
        self._ticks.update(ticks)

    def observe(self, ev: OrderEvent, price: Decimal | None, *, final: bool = False) -> None:
        """An order event (stream, reply or snapshot); `price`: the symbol's working price now;
        `final`: the order is known to be finished whatever this event says."""
        if not is_trailing(ev):
            return
        key = trail_key(ev)
        if final or ev.status.is_final:
            self._drop(key)
            return
        t = self._trails.get(key)
        if t is None:
            if not ev.status.is_open:
                return  # an unknown outcome: followed once the exchange shows it working
            t = Trail(ev.symbol, ev.side, ev.callback_rate_pct, ev.activation_price, price)
            self._trails[key] = t
            self._by_symbol.setdefault(ev.symbol, set()).add(key)
            return
        if t.callback_pct is None and ev.callback_rate_pct is not None:
            t.callback_pct = ev.callback_rate_pct
        if t.activation is None and ev.activation_price is not None:
            t.activation = ev.activation_price
        if t.extreme is None and price is not None:
            t.extreme = price

    def on_price(self, symbol: str, price: Decimal) -> None:
        """A working price tick of `symbol` (hot path: one comparison per open trailing stop)."""
        keys = self._by_symbol.get(symbol)
        if not keys:
            return
        for key in keys:
            t = self._trails[key]
            t.extreme = advance(t.side, t.extreme, price)

    def sync(
        self, account_id: str, open_orders: Iterable[OrderEvent], price_of: Mapping[str, Decimal]
    ) -> None:
        """After a snapshot: the account's open orders are these (the others are gone)."""
        keep: set[TrailKey] = set()
        for o in open_orders:
            if is_trailing(o) and o.status.is_open:
                keep.add(trail_key(o))
                self.observe(o, price_of.get(o.symbol))
        for key in [k for k in self._trails if k[0] == account_id and k not in keep]:
            self._drop(key)

    def level(self, account_id: str, client_id: str) -> Decimal | None:
        """The current trigger level (on the tick) of a followed trailing stop, else None."""
        t = self._trails.get((account_id, client_id))
        return None if t is None else t.level(self._ticks.get(t.symbol, Decimal(0)))

    def level_of(self, ev: OrderEvent) -> Decimal | None:
        t = self._trails.get(trail_key(ev))
        return None if t is None else t.level(self._ticks.get(t.symbol, Decimal(0)))

    def trail(self, account_id: str, client_id: str) -> Trail | None:
        return self._trails.get((account_id, client_id))

    def _drop(self, key: TrailKey) -> None:
        t = self._trails.pop(key, None)
        if t is None:
            return
        keys = self._by_symbol.get(t.symbol)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_symbol[t.symbol]
