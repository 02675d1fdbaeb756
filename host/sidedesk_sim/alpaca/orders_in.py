"""Parse and check `POST /v2/orders` and `PATCH /v2/orders/{id}` bodies (brokers.md §3.4). Pure.

Numbers may come as JSON strings or numbers (alpaca-py sends floats for qty and prices); they
become `Decimal` through `str()`, so 0.1 stays 0.1. Every problem is an `AlpacaError`: a body
that is not a JSON object, or a field of the wrong JSON type, is 400 / 40010000 ("request body
format is invalid"); a sub-penny price is 422 / 42210000; any other refused value is 422 /
40010001 (errors.py has the sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sidedesk_sim.alpaca.errors import invalid, malformed, unprocessable

SIDES = ("buy", "sell")
TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIFS = ("day", "gtc", "opg", "cls", "ioc", "fok")
INTENTS = ("buy_to_open", "buy_to_close", "sell_to_open", "sell_to_close")
MAX_CLIENT_ID = 128
QTY_DECIMALS = 9
SUB_PENNY = "sub-penny increment does not fulfill minimum pricing criteria"  # Alpaca's words


@dataclass(frozen=True, slots=True)
class OrderInput:
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    extended_hours: bool = False
    client_order_id: str | None = None
    position_intent: str | None = None

    @property
    def fractional(self) -> bool:
        return self.notional is not None or (
            self.qty is not None and self.qty != self.qty.to_integral_value()
        )


@dataclass(frozen=True, slots=True)
class ReplaceInput:
    qty: Decimal | None = None
    time_in_force: str | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail: Decimal | None = None
    client_order_id: str | None = None


def decimal_field(body: dict[str, Any], name: str) -> Decimal | None:
    v = body.get(name)
    if v is None or v == "":
        return None
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise malformed()  # a JSON type the decoder cannot read as a number
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise invalid(f"invalid {name}") from None
    if not d.is_finite():
        raise invalid(f"invalid {name}")
    if d <= 0:
        raise invalid(f"{name} must be > 0")
    return d


def _decimals(d: Decimal) -> int:
    exp = d.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def check_price(name: str, price: Decimal | None) -> None:
    """Sub-penny rule: prices of $1 or more take at most 2 decimals, below $1 at most 4."""
    if price is None:
        return
    allowed = 2 if price >= 1 else 4
    if _decimals(price) > allowed:
        raise unprocessable(f"invalid {name} {price.normalize():f}. {SUB_PENNY}")


def _choice(body: dict[str, Any], name: str, options: tuple[str, ...], default: str | None = None) -> str:
    v = body.get(name, default)
    if not isinstance(v, str) or v not in options:
        raise invalid(f"invalid {name}" if v is not None else f"{name} is required")
    return v


def _client_id(body: dict[str, Any]) -> str | None:
    cid = body.get("client_order_id")
    if cid is None or cid == "":
        return None
    if not isinstance(cid, str):
        raise malformed()
    if len(cid) > MAX_CLIENT_ID:
        raise invalid(f"client_order_id must be a string of at most {MAX_CLIENT_ID} characters")
    return cid


def parse_order(body: Any) -> OrderInput:
    if not isinstance(body, dict):
        raise malformed()
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise invalid("symbol is required")
    side = _choice(body, "side", SIDES)
    otype = _choice(body, "type", TYPES)
    tif = _choice(body, "time_in_force", TIFS)
    order_class = body.get("order_class") or "simple"
    if order_class != "simple":
        raise invalid(f"order_class {order_class} is not supported by the simulator (simple only)")
    qty = decimal_field(body, "qty")
    notional = decimal_field(body, "notional")
    if (qty is None) == (notional is None):
        raise invalid("qty or notional is required, not both")
    if qty is not None and _decimals(qty) > QTY_DECIMALS:
        raise invalid(f"qty must have at most {QTY_DECIMALS} decimal places")
    if notional is not None and _decimals(notional) > 2:
        raise invalid("notional must have at most 2 decimal places")
    limit_price = decimal_field(body, "limit_price")
    stop_price = decimal_field(body, "stop_price")
    trail_price = decimal_field(body, "trail_price")
    trail_percent = decimal_field(body, "trail_percent")
    ext = body.get("extended_hours", False)
    if not isinstance(ext, bool):
        raise malformed()
    intent = body.get("position_intent")
    if intent is not None and intent not in INTENTS:
        raise invalid("invalid position_intent")
    needs_limit = otype in ("limit", "stop_limit")
    needs_stop = otype in ("stop", "stop_limit")
    if needs_limit != (limit_price is not None):
        raise invalid("limit_price is required" if needs_limit else f"limit_price is not allowed for {otype}")
    if needs_stop != (stop_price is not None):
        raise invalid("stop_price is required" if needs_stop else f"stop_price is not allowed for {otype}")
    if otype == "trailing_stop":
        if (trail_price is None) == (trail_percent is None):
            raise invalid("trailing_stop needs exactly one of trail_price or trail_percent")
        if trail_percent is not None and trail_percent >= 100:
            raise invalid("trail_percent must be < 100")
        if tif not in ("day", "gtc"):
            raise invalid("trailing_stop orders take time_in_force day or gtc")
    elif trail_price is not None or trail_percent is not None:
        raise invalid(f"trail_price / trail_percent are not allowed for {otype}")
    check_price("limit_price", limit_price)
    check_price("stop_price", stop_price)
    check_price("trail_price", trail_price)
    if tif in ("opg", "cls"):
        raise invalid(f"time_in_force {tif} (auction orders) is not supported by the simulator")
    if tif in ("ioc", "fok") and otype not in ("market", "limit"):
        raise invalid(f"time_in_force {tif} is only for market and limit orders")
    if ext and not (otype == "limit" and tif == "day"):
        raise invalid("extended hours order must be DAY limit orders")
    return OrderInput(
        symbol=symbol,
        side=side,
        type=otype,
        time_in_force=tif,
        qty=qty,
        notional=notional,
        limit_price=limit_price,
        stop_price=stop_price,
        trail_price=trail_price,
        trail_percent=trail_percent,
        extended_hours=ext,
        client_order_id=_client_id(body),
        position_intent=intent,
    )


def parse_replace(body: Any) -> ReplaceInput:
    if not isinstance(body, dict):
        raise malformed()
    qty = decimal_field(body, "qty")
    if qty is not None and _decimals(qty) > QTY_DECIMALS:
        raise invalid(f"qty must have at most {QTY_DECIMALS} decimal places")
    tif = body.get("time_in_force")
    if tif is not None and tif not in ("day", "gtc", "ioc", "fok"):
        raise invalid("invalid time_in_force")
    out = ReplaceInput(
        qty=qty,
        time_in_force=tif,
        limit_price=decimal_field(body, "limit_price"),
        stop_price=decimal_field(body, "stop_price"),
        trail=decimal_field(body, "trail"),
        client_order_id=_client_id(body),
    )
    check_price("limit_price", out.limit_price)
    check_price("stop_price", out.stop_price)
    if all(v is None for v in (out.qty, out.time_in_force, out.limit_price, out.stop_price, out.trail)):
        raise invalid("nothing to replace: give qty, time_in_force, limit_price, stop_price or trail")
    return out
