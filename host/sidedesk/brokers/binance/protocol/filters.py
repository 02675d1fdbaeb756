"""exchangeInfo → `InstrumentRules` (binance.md §7.1, §7.2). Pure and tolerant per symbol.

A symbol whose filters cannot be read is skipped (and named in `skipped`) rather than failing the
whole load: one odd new contract must not stop trading on the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sidedesk.brokers.binance.protocol import fields as f
from sidedesk.brokers.binance.protocol.fields import MalformedMessage
from sidedesk.brokers.binance.protocol.ratelimit import RateLimitInfo, parse_rate_limits
from sidedesk.domain import InstrumentRules


@dataclass(frozen=True, slots=True)
class ExchangeInfo:
    rules: dict[str, InstrumentRules]
    rate_limits: tuple[RateLimitInfo, ...]
    skipped: tuple[str, ...] = ()  # "SYMBOL: reason"


def parse_exchange_info(data: Any) -> ExchangeInfo:
    if not isinstance(data, Mapping) or not isinstance(data.get("symbols"), list):
        raise MalformedMessage("exchangeInfo has no symbols list")
    rules: dict[str, InstrumentRules] = {}
    skipped: list[str] = []
    for item in data["symbols"]:
        name = str(item.get("symbol", "?")) if isinstance(item, Mapping) else "?"
        try:
            r = symbol_rules(f.obj(item, "symbol"))
        except MalformedMessage as exc:
            skipped.append(f"{name}: {exc}")
            continue
        rules[r.symbol] = r
    return ExchangeInfo(rules, parse_rate_limits(data.get("rateLimits")), tuple(skipped))


def symbol_rules(s: Mapping[str, Any]) -> InstrumentRules:
    filters: dict[str, Mapping[str, Any]] = {}
    for flt in s.get("filters") or ():
        if isinstance(flt, Mapping) and isinstance(flt.get("filterType"), str):
            filters[flt["filterType"]] = flt
    price = filters.get("PRICE_FILTER")
    lot = filters.get("LOT_SIZE")
    if price is None or lot is None:
        raise MalformedMessage("PRICE_FILTER or LOT_SIZE missing")
    market = filters.get("MARKET_LOT_SIZE", lot)
    notional = filters.get("MIN_NOTIONAL")
    pct = filters.get("PERCENT_PRICE")
    max_orders = filters.get("MAX_NUM_ORDERS")
    max_algo = filters.get("MAX_NUM_ALGO_ORDERS")
    tick, step = f.dec(price, "tickSize"), f.dec(lot, "stepSize")
    if tick < 0 or step <= 0:
        raise MalformedMessage("tick size or step size not positive")
    return InstrumentRules(
        symbol=f.text(s, "symbol"),
        base_asset=str(s.get("baseAsset", "")),
        quote_asset=str(s.get("quoteAsset", "")),
        tick_size=tick,
        step_size=step,
        min_qty=f.dec(lot, "minQty"),
        max_qty=f.dec(lot, "maxQty"),
        market_step_size=f.dec(market, "stepSize"),
        market_min_qty=f.dec(market, "minQty"),
        market_max_qty=f.dec(market, "maxQty"),
        min_notional=f.dec(notional, "notional") if notional else Decimal(0),
        price_precision=f.opt_int(s, "pricePrecision", _places(tick)),
        quantity_precision=f.opt_int(s, "quantityPrecision", _places(step)),
        min_price=f.dec(price, "minPrice"),
        max_price=f.dec(price, "maxPrice"),
        percent_up=f.dec(pct, "multiplierUp") if pct else None,
        percent_down=f.dec(pct, "multiplierDown") if pct else None,
        max_num_orders=f.integer(max_orders, "limit") if max_orders else None,
        max_num_algo_orders=f.integer(max_algo, "limit") if max_algo else None,
        trading=s.get("status") == "TRADING",
    )


def _places(d: Decimal) -> int:
    exp = d.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0
