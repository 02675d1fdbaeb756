"""Tolerant field readers shared by the reply and event parsers.

Binance sends numbers as strings formatted to the symbol's precision ("0.00", "" for unset), ids as
JSON integers. Readers raise `MalformedMessage` on a missing or unreadable required field; the
parsers' entry points turn that into a `ParseError` value (or a BrokerError for replies), so no
exception escapes to the connection loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sidedesk.domain import OrderStatus, OrderType, PositionSide, Side, TimeInForce, WorkingType


class MalformedMessage(ValueError):
    """A frame or a field did not have the shape the protocol promises."""


@dataclass(frozen=True, slots=True)
class ParseError:
    """A frame we could not read; logged and dropped by the shell."""

    reason: str
    raw: str = ""  # truncated for logs; frames carry no secrets (keys are never echoed back)


def obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{what} is not an object")
    return value


def req(m: Mapping[str, Any], key: str) -> Any:
    if key not in m or m[key] is None:
        raise MalformedMessage(f"missing field {key!r}")
    return m[key]


def dec(m: Mapping[str, Any], key: str) -> Decimal:
    value = req(m, key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedMessage(f"field {key!r} is not a number")
    try:
        out = Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedMessage(f"field {key!r} is not a number") from exc
    if not out.is_finite():
        raise MalformedMessage(f"field {key!r} is not finite")
    return out


def opt_dec(m: Mapping[str, Any], key: str, *, zero_is_none: bool = True) -> Decimal | None:
    """Optional decimal; "" / null / absent → None, and "0" → None when zero means "unset"."""
    value = m.get(key)
    if value is None or value == "":
        return None
    out = dec(m, key)
    return None if zero_is_none and out == 0 else out


def integer(m: Mapping[str, Any], key: str) -> int:
    value = req(m, key)
    if isinstance(value, bool):
        raise MalformedMessage(f"field {key!r} is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise MalformedMessage(f"field {key!r} is not an integer") from exc


def opt_int(m: Mapping[str, Any], key: str, default: int = 0) -> int:
    return default if m.get(key) is None else integer(m, key)


def text(m: Mapping[str, Any], key: str) -> str:
    value = req(m, key)
    if not isinstance(value, str | int):
        raise MalformedMessage(f"field {key!r} is not text")
    return str(value)


def flag(m: Mapping[str, Any], key: str) -> bool:
    value = m.get(key, False)
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def side(value: Any) -> Side:
    try:
        return Side(value)
    except ValueError as exc:
        raise MalformedMessage(f"unknown side {value!r}") from exc


def position_side(value: Any) -> PositionSide:
    if value is None or value == "":
        return PositionSide.BOTH
    try:
        return PositionSide(value)
    except ValueError as exc:
        raise MalformedMessage(f"unknown position side {value!r}") from exc


# Binance order types → neutral ones. STOP/TAKE_PROFIT are Binance's stop-limit and take-profit-limit;
# LIQUIDATION orders execute at market.
_ORDER_TYPES: dict[str, OrderType] = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "TAKE_PROFIT_MARKET": OrderType.TAKE_PROFIT_MARKET,
    "STOP": OrderType.STOP_LIMIT,
    "TAKE_PROFIT": OrderType.TAKE_PROFIT_LIMIT,
    "TRAILING_STOP_MARKET": OrderType.TRAILING_STOP_MARKET,
    "LIQUIDATION": OrderType.MARKET,
}


def order_type(value: Any) -> OrderType:
    try:
        return _ORDER_TYPES[value]
    except (KeyError, TypeError) as exc:
        raise MalformedMessage(f"unknown order type {value!r}") from exc


_STATUSES: dict[str, OrderStatus] = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,  # self-trade prevention
}


def order_status(value: Any) -> OrderStatus:
    try:
        return _STATUSES[value]
    except (KeyError, TypeError) as exc:
        raise MalformedMessage(f"unknown order status {value!r}") from exc


# Algo statuses (binance.md §4.6). TRIGGERING is still waiting for the matching engine, so it counts
# as open; TRIGGERED/FINISHED mean the conditional order became a regular order (tracked on its own).
_ALGO_STATUSES: dict[str, OrderStatus] = {
    "NEW": OrderStatus.NEW,
    "TRIGGERING": OrderStatus.NEW,
    "TRIGGERED": OrderStatus.TRIGGERED,
    "FINISHED": OrderStatus.TRIGGERED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
}


def algo_status(value: Any) -> OrderStatus:
    try:
        return _ALGO_STATUSES[value]
    except (KeyError, TypeError) as exc:
        raise MalformedMessage(f"unknown algo status {value!r}") from exc


def time_in_force(value: Any) -> TimeInForce | None:
    if value in ("GTC", "IOC", "FOK", "GTX"):
        return TimeInForce(value)
    return None  # GTD, GTE_GTC, RPI: no neutral equivalent


def working_type(value: Any) -> WorkingType | None:
    return WorkingType(value) if value in ("MARK_PRICE", "CONTRACT_PRICE") else None
