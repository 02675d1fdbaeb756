"""Pre-flight validation and rounding from `InstrumentRules`, and our client order ids. Pure.

Everything the exchange would reject for a filter (binance.md §7.2) is caught here first, with a
message that names the rule and the corrected value, so the trader fixes the ticket in one go.

Rounding direction for limit prices: a BUY rounds DOWN and a SELL rounds UP to the tick. Either way
the rounded order is never worse for the trader than the price typed: a buy never pays more, a sell
never receives less (it may fill a little less readily, which is the safe side). Quantities from a
notional are floored to the step so the order never spends more than the trader asked.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from sidedesk.domain import (
    InstrumentRules,
    OrderRequest,
    OrderType,
    PositionEvent,
    PositionSide,
    Side,
    TimeInForce,
)

CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
CLIENT_ID_PREFIX = "sd"
ClientKind = Literal["m", "h", "a"]  # manual (panel), hotkey, ASL


class PreflightError(ValueError):
    """The ticket breaks an exchange rule. `corrected` is the nearest value that would pass."""

    def __init__(self, field: str, message: str, corrected: Decimal | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.corrected = corrected

    def details(self) -> dict[str, str]:
        out = {"field": self.field}
        if self.corrected is not None:
            out["corrected"] = fmt(self.corrected)
        return out


def fmt(d: Decimal) -> str:
    return format(d, "f")


def _on_grid(value: Decimal, origin: Decimal, step: Decimal, rounding: str) -> Decimal:
    """Snap `value` to origin + k*step (Binance's grids start at minPrice / minQty)."""
    if step <= 0:
        return value
    k = ((value - origin) / step).to_integral_value(rounding=rounding)
    return (origin + k * step).quantize(step)


def round_price(price: Decimal, side: Side, rules: InstrumentRules) -> Decimal:
    """To the tick: BUY down, SELL up (see the module docstring for why)."""
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return _on_grid(price, rules.min_price, rules.tick_size, rounding)


def floor_quantity(qty: Decimal, rules: InstrumentRules, *, market: bool) -> Decimal:
    step, origin = (
        (rules.market_step_size, rules.market_min_qty) if market else (rules.step_size, rules.min_qty)
    )
    if qty < origin:
        return _on_grid(qty, Decimal(0), step, ROUND_FLOOR)
    return _on_grid(qty, origin, step, ROUND_FLOOR)


def _ceil_quantity(qty: Decimal, rules: InstrumentRules, *, market: bool) -> Decimal:
    step, origin = (
        (rules.market_step_size, rules.market_min_qty) if market else (rules.step_size, rules.min_qty)
    )
    return max(origin, _on_grid(qty, origin, step, ROUND_CEILING))


def quantity_for_notional(
    notional: Decimal, price: Decimal, rules: InstrumentRules, *, market: bool, reduce_only: bool = False
) -> Decimal:
    """How much `notional` (quote currency, e.g. USDT) buys at `price`, floored to the step, then
    checked against the quantity and notional filters."""
    if not notional.is_finite() or notional <= 0:
        raise PreflightError("notional", "the order size must be a positive amount")
    if not price.is_finite() or price <= 0:
        raise PreflightError("price", "no usable price to convert the size into a quantity")
    unit = price * rules.contract_multiplier
    qty = floor_quantity(notional / unit, rules, market=market)
    min_qty = rules.market_min_qty if market else rules.min_qty
    least = _least_quantity(unit, rules, market=market, reduce_only=reduce_only)
    if qty < least or qty <= 0:
        # The ticket is in quote currency, so the fix is too: the smallest size whose floored quantity
        # passes both the minimum quantity and MIN_NOTIONAL (a smaller "fix" would be refused again).
        need = (least * unit).quantize(Decimal("0.01"), rounding=ROUND_CEILING)
        rule = (
            f"buys less than the minimum quantity {fmt(min_qty)} {rules.symbol}"
            if qty < min_qty
            else f"is below the minimum order value {fmt(rules.min_notional)} {rules.quote_asset}"
        )
        raise PreflightError(
            "notional",
            f"{fmt(notional)} {rules.quote_asset} {rule} at {fmt(price)}; "
            f"use at least {fmt(need)} {rules.quote_asset}",
            need,
        )
    check_quantity(qty, rules, market=market)
    check_min_notional(qty, price, rules, reduce_only=reduce_only, market=market)
    return qty


def _least_quantity(unit: Decimal, rules: InstrumentRules, *, market: bool, reduce_only: bool) -> Decimal:
    """The smallest quantity on the step grid that passes the minimum quantity and MIN_NOTIONAL."""
    least = rules.market_min_qty if market else rules.min_qty
    if not reduce_only and rules.min_notional > 0:
        least = max(least, _ceil_quantity(rules.min_notional / unit, rules, market=market))
    return least


def check_quantity(qty: Decimal, rules: InstrumentRules, *, market: bool) -> None:
    lo, hi, step = (
        (rules.market_min_qty, rules.market_max_qty, rules.market_step_size)
        if market
        else (rules.min_qty, rules.max_qty, rules.step_size)
    )
    kind = "market" if market else "limit"
    if not qty.is_finite() or qty <= 0:
        raise PreflightError("quantity", "the quantity must be a positive number")
    if qty < lo:
        raise PreflightError("quantity", f"quantity {fmt(qty)} is below the {kind} minimum {fmt(lo)}", lo)
    if hi > 0 and qty > hi:
        top = floor_quantity(hi, rules, market=market)
        raise PreflightError(
            "quantity", f"quantity {fmt(qty)} is above the {kind} maximum {fmt(hi)}; split the order", top
        )
    snapped = floor_quantity(qty, rules, market=market)
    if snapped != qty:
        raise PreflightError(
            "quantity",
            f"quantity {fmt(qty)} is not a multiple of the step {fmt(step)}; use {fmt(snapped)}",
            snapped,
        )


def check_price(price: Decimal, side: Side, rules: InstrumentRules) -> None:
    if not price.is_finite() or price <= 0:
        raise PreflightError("price", "the price must be a positive number")
    if rules.min_price > 0 and price < rules.min_price:
        raise PreflightError(
            "price", f"price {fmt(price)} is below the minimum {fmt(rules.min_price)}", rules.min_price
        )
    if rules.max_price > 0 and price > rules.max_price:
        raise PreflightError(
            "price", f"price {fmt(price)} is above the maximum {fmt(rules.max_price)}", rules.max_price
        )
    rounded = round_price(price, side, rules)
    if rounded != price:
        raise PreflightError(
            "price",
            f"price {fmt(price)} is not on the tick {fmt(rules.tick_size)}; use {fmt(rounded)}",
            rounded,
        )


def check_min_notional(
    qty: Decimal, price: Decimal, rules: InstrumentRules, *, reduce_only: bool, market: bool = False
) -> None:
    """price × qty ≥ MIN_NOTIONAL (mark price for MARKET orders); reduce-only orders are exempt."""
    if reduce_only or rules.min_notional <= 0:
        return
    value = qty * price * rules.contract_multiplier
    if value < rules.min_notional:
        need = _ceil_quantity(rules.min_notional / (price * rules.contract_multiplier), rules, market=market)
        raise PreflightError(
            "quantity",
            f"order value {fmt(value.quantize(Decimal('0.01'), rounding=ROUND_FLOOR))} {rules.quote_asset} "
            f"is below the minimum {fmt(rules.min_notional)}; use at least {fmt(need)} {rules.symbol}",
            need,
        )


def check_percent_price(price: Decimal, side: Side, mark: Decimal | None, rules: InstrumentRules) -> None:
    """BUY ≤ mark × multiplierUp, SELL ≥ mark × multiplierDown (PERCENT_PRICE)."""
    if mark is None or mark <= 0:
        return
    if side is Side.BUY and rules.percent_up is not None:
        cap = mark * rules.percent_up
        if price > cap:
            best = _on_grid(cap, rules.min_price, rules.tick_size, ROUND_FLOOR)
            raise PreflightError(
                "price",
                f"buy price {fmt(price)} is more than {fmt((rules.percent_up - 1) * 100)} % above the mark "
                f"price {fmt(mark)}; the highest allowed is {fmt(best)}",
                best,
            )
    if side is Side.SELL and rules.percent_down is not None:
        floor = mark * rules.percent_down
        if price < floor:
            best = _on_grid(floor, rules.min_price, rules.tick_size, ROUND_CEILING)
            raise PreflightError(
                "price",
                f"sell price {fmt(price)} is more than {fmt((1 - rules.percent_down) * 100)} % below "
                f"the mark price {fmt(mark)}; the lowest allowed is {fmt(best)}",
                best,
            )


# -- tickets → orders -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the panel or a hotkey asks for. Give `notional` (quote currency) or `quantity`."""

    symbol: str
    side: Side
    type: Literal["MARKET", "LIMIT"]
    notional: Decimal | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None  # LIMIT: the typed price (rounded to the tick here)
    post_only: bool = False
    ioc: bool = False
    reduce_only: bool = False


def position_side_for(side: Side, *, hedge_mode: bool, reduce_only: bool) -> PositionSide:
    """Hedge mode: opening BUY → LONG, opening SELL → SHORT; a reducing BUY closes the SHORT side."""
    if not hedge_mode:
        return PositionSide.BOTH
    if reduce_only:
        return PositionSide.SHORT if side is Side.BUY else PositionSide.LONG
    return PositionSide.LONG if side is Side.BUY else PositionSide.SHORT


def prepare(
    ticket: Ticket,
    rules: InstrumentRules,
    *,
    client_id: str,
    mark_price: Decimal | None,
    hedge_mode: bool,
) -> OrderRequest:
    """Validate and round a ticket into an OrderRequest, or raise PreflightError."""
    if not rules.trading:
        raise PreflightError("symbol", f"{rules.symbol} is not trading right now")
    if ticket.symbol != rules.symbol:
        raise PreflightError("symbol", f"rules are for {rules.symbol}, not {ticket.symbol}")
    if not CLIENT_ID_RE.match(client_id):
        raise PreflightError("client_id", "client id must be 1-36 characters of A-Z a-z 0-9 . : / _ -")
    market = ticket.type == "MARKET"
    if ticket.post_only and (market or ticket.ioc):
        raise PreflightError("post_only", "post-only applies to resting limit orders only")
    price: Decimal | None = None
    if not market:
        if ticket.price is None:
            raise PreflightError("price", "a limit order needs a price")
        if not ticket.price.is_finite() or ticket.price <= 0:
            raise PreflightError("price", "the price must be a positive number")
        price = round_price(ticket.price, ticket.side, rules)
        check_price(price, ticket.side, rules)
        check_percent_price(price, ticket.side, mark_price, rules)
    elif ticket.price is not None:
        raise PreflightError("price", "a market order takes no price")
    ref = price if price is not None else mark_price
    if ticket.quantity is not None and ticket.notional is not None:
        raise PreflightError("quantity", "give either a size in quote currency or a quantity, not both")
    if ticket.quantity is not None:
        qty = ticket.quantity
        check_quantity(qty, rules, market=market)
        if ref is not None:
            check_min_notional(qty, ref, rules, reduce_only=ticket.reduce_only, market=market)
    elif ticket.notional is not None:
        if ref is None:
            raise PreflightError("price", "no mark price yet to size a market order; wait for a quote")
        qty = quantity_for_notional(
            ticket.notional, ref, rules, market=market, reduce_only=ticket.reduce_only
        )
    else:
        raise PreflightError("notional", "give a size in quote currency or a quantity")
    tif = (
        None
        if market
        else (TimeInForce.GTX if ticket.post_only else TimeInForce.IOC if ticket.ioc else TimeInForce.GTC)
    )
    return OrderRequest(
        symbol=rules.symbol,
        side=ticket.side,
        type=OrderType.MARKET if market else OrderType.LIMIT,
        quantity=qty,
        client_id=client_id,
        price=price,
        time_in_force=tif,
        reduce_only=ticket.reduce_only,
        position_side=position_side_for(ticket.side, hedge_mode=hedge_mode, reduce_only=ticket.reduce_only),
    )


def close_order(
    position: PositionEvent, fraction: Decimal, rules: InstrumentRules, *, client_id: str
) -> OrderRequest:
    """A reduce-only MARKET order closing `fraction` (0 < f ≤ 1) of a position, floored to the market
    step (the full close uses the exact size, so nothing is left over)."""
    if not 0 < fraction <= 1:
        raise PreflightError("fraction", "close a fraction between 0 and 100 % of the position")
    size = abs(position.quantity)
    if size == 0:
        raise PreflightError("quantity", f"there is no {rules.symbol} position to close")
    qty = size if fraction == 1 else floor_quantity(size * fraction, rules, market=True)
    if qty <= 0 or qty < rules.market_min_qty:
        raise PreflightError(
            "fraction",
            f"{fmt(fraction * 100)} % of {fmt(size)} is below the minimum quantity "
            f"{fmt(rules.market_min_qty)}; close a larger part",
            rules.market_min_qty,
        )
    if position.position_side is PositionSide.BOTH:
        side = Side.SELL if position.quantity > 0 else Side.BUY
    else:
        side = Side.SELL if position.position_side is PositionSide.LONG else Side.BUY
    return OrderRequest(
        symbol=rules.symbol,
        side=side,
        type=OrderType.MARKET,
        quantity=qty,
        client_id=client_id,
        reduce_only=True,
        position_side=position.position_side,
        closes_position=qty == size,
    )


# -- client ids -------------------------------------------------------------------------------------

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
# a per-process random start, then +1 per id: unique within a process (1.6 M ids before the 4-char
# field wraps, and the clock has moved on long before), and unlikely to collide across restarts.
_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))


def _base36(n: int, width: int) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
    return out


def make_client_id(
    kind: ClientKind, *, tag: str = "", now_ms: int | None = None, nonce: int | None = None
) -> str:
    """`sd` + kind letter + 8 base-36 chars of ms time + 4 of a counter (+ optional tag).

    Unique per process (the counter) and across restarts (the clock and the random start), at most
    36 characters, and always matching Binance's `^[\\.A-Z\\:/a-z0-9_-]{1,36}$`. The ASL engine
    passes a `tag` (e.g. position and level) so it can rebuild its state from the open orders.
    """
    if kind not in ("m", "h", "a"):
        raise ValueError(f"unknown client id kind {kind!r}")
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    n = next(_counter) if nonce is None else nonce
    cid = f"{CLIENT_ID_PREFIX}{kind}{_base36(ms, 8)}{_base36(n, 4)}{tag}"
    if not CLIENT_ID_RE.match(cid):
        raise ValueError("tag makes the client id invalid (max 21 chars of A-Z a-z 0-9 . : / _ -)")
    return cid


def client_id_kind(cid: str) -> ClientKind | None:
    """Which part of Sidedesk placed this order (None: not ours)."""
    if len(cid) >= 15 and cid.startswith(CLIENT_ID_PREFIX) and cid[2] in "mha":
        return cid[2]  # type: ignore[return-value]
    return None
