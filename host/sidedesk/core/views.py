"""JSON payloads of the `positions`, `account` and `orders` topics.

Pure. Every figure is a string so the panel shows exactly what the host computed (JSON numbers
would pass through binary floats). Inputs from the exchange (quantities, marks, liquidation
prices) go out as they came; figures the host derives (average entry, P&L, margin) are rounded
half-even to `MONEY_PLACES` here, at the edge, and trailing zeros are dropped. ROE is a percent
with two decimals. Each payload is the full table, so a coalesced push (latest wins) loses
nothing and a panel can render it without history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sidedesk.core.account import AccountState, Portfolio
from sidedesk.core.orders_book import OrdersBook, StopCoverage
from sidedesk.core.positions import Position, PositionBook, PositionKey
from sidedesk.domain import OrderEvent, OrderType

MONEY_PLACES = 8
PCT_PLACES = 2


def dec(value: Decimal | None, places: int | None = None) -> str | None:
    """A Decimal as a plain string (never exponent notation); rounded when `places` is given."""
    if value is None:
        return None
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN).normalize()
    text = format(value, "f")
    return "0" if text.lstrip("-").strip("0.") == "" else text


@dataclass(frozen=True, slots=True)
class AslInfo:
    """What the ASL engine shows per position (None where the position has no ASL state)."""

    level: str | None = None  # "hard", "1", "2", "3", "safety"
    stop_price: Decimal | None = None  # where the stop is now (a trailing stop: where it trails)
    next_threshold: Decimal | None = None
    # the stop is a native trailing stop whose level the host computes: the venue does not report
    # it (the panel shows "≈"); False for fixed stops and stops Sidedesk moves itself
    stop_estimated: bool = False


# The current trigger level of a trailing stop order (core/trailing.py), or None when unknown.
TrailingLevel = Callable[[OrderEvent], Decimal | None]


def working_stop(cov: StopCoverage, trailing: TrailingLevel | None = None) -> tuple[Decimal | None, bool]:
    """The tightest stop among a position's working stops and whether it is an estimate.

    A trailing stop counts at its current level (`trailing`); without that function, at the
    price its order reports. A trailing stop whose level is not known yet is left out rather
    than shown where it was placed.
    """
    long = cov.position_qty > 0
    best: Decimal | None = None
    estimated = False
    for o in cov.orders:
        is_trailing = o.type is OrderType.TRAILING_STOP_MARKET
        price = trailing(o) if is_trailing and trailing is not None else o.stop_price
        if price is None or price <= 0:
            continue
        if best is None or (price > best if long else price < best):
            best, estimated = price, is_trailing
    return best, estimated


def position_id(key: PositionKey) -> str:
    account_id, symbol, side = key
    return f"{account_id}|{symbol}|{side.value}"


def position_row(
    p: Position, asl: AslInfo | None = None, stop_price: Decimal | None = None, stop_estimated: bool = False
) -> dict[str, Any]:
    upnl = p.unrealized_pnl
    if asl is not None and asl.stop_price is not None:
        stop_price, stop_estimated = asl.stop_price, asl.stop_estimated
    return {
        "id": position_id(p.key),
        "account_id": p.account_id,
        "symbol": p.symbol,
        "position_side": p.position_side.value,
        "side": p.direction,
        "size": dec(abs(p.quantity)),
        "quantity": dec(p.quantity),
        "entry": dec(p.entry_price, MONEY_PLACES),
        "mark": dec(p.mark_price),
        "unrealized_pnl": dec(upnl, MONEY_PLACES),
        "roe_pct": dec(p.roe_pct, PCT_PLACES),
        "liquidation_price": dec(p.liquidation_price),
        "break_even_price": dec(p.break_even_price),
        "leverage": p.leverage,
        "margin": dec(p.margin, MONEY_PLACES),
        "notional": dec(p.notional, MONEY_PLACES),
        "realized_pnl": dec(p.realized_pnl, MONEY_PLACES),
        "settle_asset": p.settle_asset,
        "in_sync": p.in_sync,
        "updated_ms": p.updated_ms,
        "asl_level": asl.level if asl is not None else None,
        "stop_price": dec(stop_price),
        "stop_estimated": stop_estimated if stop_price is not None else False,
        "asl_next_threshold": dec(asl.next_threshold) if asl is not None else None,
    }


def positions_payload(
    book: PositionBook,
    *,
    asl: Mapping[PositionKey, AslInfo] | None = None,
    orders: OrdersBook | None = None,
    account_id: str | None = None,
    trailing: TrailingLevel | None = None,
) -> dict[str, Any]:
    """Open positions plus total unrealized P&L per settlement asset (the action bar's figure).

    `stop_price` is the ASL engine's stop when it has one, else the tightest working stop
    found in `orders` (a trailing stop at its current level, from `trailing`); `stop_estimated`
    says it is a trailing stop's level computed by the host, which the venue does not report.
    """
    rows = []
    totals: dict[str, Decimal] = {}
    for p in book.positions(account_id):
        stop: Decimal | None = None
        estimated = False
        if orders is not None:
            cov = orders.stop_coverage(p.account_id, p.symbol, p.position_side, p.quantity)
            stop, estimated = working_stop(cov, trailing)
        rows.append(position_row(p, asl.get(p.key) if asl is not None else None, stop, estimated))
        upnl = p.unrealized_pnl
        if upnl is not None:
            totals[p.settle_asset] = totals.get(p.settle_asset, Decimal(0)) + upnl
    return {
        "positions": rows,
        "totals": [
            {"asset": asset, "unrealized_pnl": dec(total, MONEY_PLACES)}
            for asset, total in sorted(totals.items())
        ],
    }


def account_row(st: AccountState) -> dict[str, Any]:
    return {
        "account_id": st.account_id,
        "asset": st.asset,
        "wallet_balance": dec(st.wallet_balance, MONEY_PLACES),
        "unrealized_pnl": dec(st.unrealized_pnl, MONEY_PLACES),
        "equity": dec(st.equity, MONEY_PLACES),
        "margin_used": dec(st.margin_used, MONEY_PLACES),
        "available": dec(st.available, MONEY_PLACES),
        "realized_today": dec(st.realized_today, MONEY_PLACES),
        "updated_ms": st.updated_ms,
    }


def account_payload(portfolio: Portfolio, now_ms: int, account_id: str | None = None) -> dict[str, Any]:
    """Every (account, asset) balance, or one account's; `now_ms` (wall clock) fixes which UTC day
    is today."""
    states = portfolio.account_states(now_ms)
    return {
        "accounts": [account_row(st) for st in states if account_id is None or st.account_id == account_id]
    }


def orders_payload(book: OrdersBook, account_id: str | None = None) -> dict[str, Any]:
    rows = []
    for o in book.open_orders(account_id):
        rows.append(
            {
                "id": f"{o.account_id}|{'algo' if o.is_conditional else 'order'}|{o.order_id}",
                "account_id": o.account_id,
                "symbol": o.symbol,
                "order_id": o.order_id,
                "client_id": o.client_id,
                "conditional": o.is_conditional,
                "side": o.side.value,
                "type": o.type.value,
                "status": o.status.value,
                "quantity": dec(o.quantity),
                "filled": dec(o.filled),
                "remaining": dec(max(Decimal(0), o.quantity - o.filled)),
                "price": dec(o.price),
                "stop_price": dec(o.stop_price),
                "avg_price": dec(o.avg_price),
                "callback_rate_pct": dec(o.callback_rate_pct),
                "activation_price": dec(o.activation_price),
                "working_type": o.working_type.value if o.working_type is not None else None,
                "time_in_force": o.time_in_force.value if o.time_in_force is not None else None,
                "reduce_only": o.reduce_only,
                "close_position": o.close_position,
                "position_side": o.position_side.value,
                "updated_ms": o.update_time_ms,
            }
        )
    return {"orders": rows}
