"""Alpaca's JSON shapes (brokers.md §3.2-§3.4) built from the simulator's state. Pure.

Numbers are strings as Alpaca sends them; times are RFC 3339 with microseconds and `Z`.
Market-data messages carry `t` as integer nanoseconds here; the stream server turns it into an
RFC 3339 string (JSON) or a msgpack Timestamp (alpaca-py), see `streams.py`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sidedesk_sim.alpaca.book import AOrder, TradeUpdate
from sidedesk_sim.alpaca.instruments import Stock
from sidedesk_sim.alpaca.session import ClockView
from sidedesk_sim.engine import AggTrade, BookTickerUpdate, PositionView

ZERO = Decimal(0)


def ts(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def num(d: Decimal | None) -> str | None:
    if d is None:
        return None
    n = d.normalize()
    return f"{n:f}" if n != 0 else "0"


def money(d: Decimal) -> str:
    return f"{d.quantize(Decimal('0.01')):f}"


def order(o: AOrder) -> dict[str, Any]:
    avg = o.avg_price
    return {
        "id": o.id,
        "client_order_id": o.client_order_id,
        "created_at": ts(o.created_ms),
        "updated_at": ts(o.updated_ms),
        "submitted_at": ts(o.submitted_ms),
        "filled_at": ts(o.filled_ms),
        "expired_at": ts(o.expired_ms),
        "canceled_at": ts(o.canceled_ms),
        "failed_at": ts(o.failed_ms),
        "replaced_at": ts(o.replaced_ms),
        "replaced_by": o.replaced_by,
        "replaces": o.replaces,
        "asset_id": o.asset_id,
        "symbol": o.symbol,
        "asset_class": "us_equity",
        "notional": num(o.notional),
        "qty": num(o.qty),
        "filled_qty": num(o.filled_qty),
        "filled_avg_price": None if avg is None else num(avg.quantize(Decimal("0.0001"))),
        "order_class": "simple",
        "order_type": o.type,
        "type": o.type,
        "side": o.side,
        "position_intent": o.position_intent,
        "time_in_force": o.time_in_force,
        "limit_price": num(o.limit_price),
        "stop_price": num(o.stop_price),
        "status": o.status,
        "extended_hours": o.extended_hours,
        "legs": None,
        "trail_percent": num(o.trail_percent),
        "trail_price": num(o.trail_price),
        "hwm": num(o.hwm),
        "subtag": None,
        "source": None,
        "expires_at": None,
    }


def trade_update(u: TradeUpdate) -> dict[str, Any]:
    data: dict[str, Any] = {"event": u.event, "timestamp": ts(u.ts_ms), "order": order(u.order)}
    if u.execution_id is not None:
        data["execution_id"] = u.execution_id
    if u.price is not None:
        data["price"] = num(u.price)
    if u.qty is not None:
        data["qty"] = num(u.qty)
    if u.position_qty is not None:
        data["position_qty"] = num(u.position_qty)
    return {"stream": "trade_updates", "data": data}


def position(p: PositionView, stock: Stock, last: Decimal, lastday: Decimal, held: Decimal) -> dict[str, Any]:
    qty = p.amount
    cost = qty * p.entry_price
    value = qty * last
    upl = value - cost
    intraday = qty * (last - lastday)
    return {
        "asset_id": stock.asset_id,
        "symbol": p.symbol,
        "exchange": stock.exchange,
        "asset_class": "us_equity",
        "asset_marginable": True,
        "avg_entry_price": num(p.entry_price),
        "qty": num(qty),
        "side": "long" if qty > 0 else "short",
        "market_value": money(value),
        "cost_basis": money(cost),
        "unrealized_pl": money(upl),
        "unrealized_plpc": num((upl / abs(cost)).quantize(Decimal("0.0000001"))) if cost else "0",
        "unrealized_intraday_pl": money(intraday),
        "unrealized_intraday_plpc": num((intraday / abs(qty * lastday)).quantize(Decimal("0.0000001"))),
        "current_price": num(last),
        "lastday_price": num(lastday),
        "change_today": num(((last - lastday) / lastday).quantize(Decimal("0.0000001"))),
        "qty_available": num(max(ZERO, abs(qty) - held) * (1 if qty > 0 else -1)),
    }


def account_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sidedesk-alpaca-sim-account:{name}"))


def account(
    name: str,
    *,
    cash: Decimal,
    long_value: Decimal,
    short_value: Decimal,
    equity: Decimal,
    last_equity: Decimal,
    buying_power: Decimal,
    initial_margin: Decimal,
    created_ms: int,
) -> dict[str, Any]:
    digits = str(uuid.UUID(account_id(name)).int)[:9]
    return {
        "id": account_id(name),
        "account_number": f"PA{digits}",
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "currency": "USD",
        "cash": money(cash),
        "portfolio_value": money(equity),
        "equity": money(equity),
        "last_equity": money(last_equity),
        "long_market_value": money(long_value),
        "short_market_value": money(short_value),
        "buying_power": money(buying_power),
        "regt_buying_power": money(buying_power),
        "daytrading_buying_power": "0",
        "non_marginable_buying_power": money(max(ZERO, cash)),
        "initial_margin": money(initial_margin),
        "maintenance_margin": money(initial_margin / 2),
        "sma": "0",
        "multiplier": "2",
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": True,
        "daytrade_count": 0,
        "created_at": ts(created_ms),
        "accrued_fees": "0",
        "pending_transfer_in": "0",
    }


def clock(v: ClockView) -> dict[str, Any]:
    return {
        "timestamp": ts(v.now_ms),
        "is_open": v.is_open,
        "next_open": ts(v.next_open_ms),
        "next_close": ts(v.next_close_ms),
    }


def asset(stock: Stock) -> dict[str, Any]:
    return {
        "id": stock.asset_id,
        "class": "us_equity",
        "exchange": stock.exchange,
        "symbol": stock.symbol,
        "name": stock.name,
        "status": "active",
        "tradable": True,
        "marginable": True,
        "maintenance_margin_requirement": 30,
        "shortable": stock.shortable,
        "easy_to_borrow": stock.easy_to_borrow,
        "fractionable": stock.fractionable,
        "attributes": ["fractional_eh_enabled"] if stock.fractionable else [],
    }


# -- market data (brokers.md §3.3; `t` in nanoseconds, converted by the stream server) ----------


def quote(ev: BookTickerUpdate) -> dict[str, Any]:
    return {"T": "q", "S": ev.symbol, "bx": "V", "bp": float(ev.bid), "bs": float(ev.bid_qty),
            "ax": "V", "ap": float(ev.ask), "as": float(ev.ask_qty), "c": ["R"], "z": "C",
            "t": ev.time_ms * 1_000_000}  # fmt: skip


def trade(ev: AggTrade) -> dict[str, Any]:
    return {"T": "t", "S": ev.symbol, "i": ev.agg_id, "x": "V", "p": float(ev.price), "s": float(ev.qty),
            "c": ["@"], "z": "C", "t": ev.time_ms * 1_000_000}  # fmt: skip
