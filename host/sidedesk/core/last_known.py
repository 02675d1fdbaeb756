"""The last known state of an account, read back from the journal: pure.

A service that starts without the vault password (after a crash, at login) cannot reach the
exchange, yet the trader must see what it last knew: the positions and orders as of the account's
last snapshot (the journal's `correction` record) and every exchange event journaled after it.
Records are JSON written by store/journal.py's encoder (dataclasses as objects, Decimals as
strings, enums as values); `decode` turns them back into the domain's events, and anything that
does not read back is skipped, never guessed.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from sidedesk.domain import AccountSnapshot, BalanceEvent, FillEvent, OrderEvent, PositionEvent

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cancelled:
    """One order gone by a reply (journaled as an outcome, not as an exchange event)."""

    order_id: str
    client_id: str


@dataclass(frozen=True, slots=True)
class CancelledAll:
    """Every open order (of one symbol, or all) gone by a cancel-all's reply."""

    symbol: str | None


Replayed = OrderEvent | FillEvent | PositionEvent | BalanceEvent | Cancelled | CancelledAll
EVENT_KINDS: dict[str, type[OrderEvent | FillEvent | PositionEvent | BalanceEvent]] = {
    "OrderEvent": OrderEvent,
    "FillEvent": FillEvent,
    "PositionEvent": PositionEvent,
    "BalanceEvent": BalanceEvent,
}


class Unreadable(ValueError):
    pass


# the JSON types a primitive field may be read back from (bool is an int to Python: refused)
_PRIMITIVES: dict[type, tuple[type, ...]] = {str: (str,), int: (int,), bool: (bool,), float: (int, float)}


def _value(tp: Any, v: Any) -> Any:
    """`v` as a `tp`, checked: a wrong type is `Unreadable`, never passed on to fail later."""
    if v is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise Unreadable(f"cannot read a field of type {tp}")
        return _value(options[0], v)
    if origin is tuple:
        inner = get_args(tp)[0]
        if not isinstance(v, list):
            raise Unreadable(f"expected a list, got {type(v).__name__}")
        return tuple(_value(inner, item) for item in v)
    if tp is Decimal:
        if not isinstance(v, str | int) or isinstance(v, bool):
            raise Unreadable(f"expected a number as a string, got {type(v).__name__}")
        try:
            d = Decimal(v)
        except InvalidOperation:
            raise Unreadable(f"not a number: {str(v)[:20]!r}") from None
        if not d.is_finite():  # NaN, sNaN, Infinity: no quantity or price is one
            raise Unreadable(f"not a finite number: {str(v)[:20]!r}")
        return d
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(v)
        except ValueError:
            raise Unreadable(f"not a {tp.__name__}: {str(v)[:20]!r}") from None
    if isinstance(tp, type) and is_dataclass(tp):
        return decode(tp, v)
    allowed = _PRIMITIVES.get(tp)
    if allowed is None:
        raise Unreadable(f"cannot read a field of type {tp}")
    if not isinstance(v, allowed) or (tp is not bool and isinstance(v, bool)):
        raise Unreadable(f"expected {tp.__name__}, got {type(v).__name__}")
    return v


def decode(cls: type[T], data: Any) -> T:
    """A domain dataclass from its journaled JSON; `Unreadable` if it is not one."""
    if not isinstance(data, dict):
        raise Unreadable(f"{cls.__name__}: expected an object")
    hints = get_type_hints(cls)
    kwargs = {f.name: _value(hints[f.name], data[f.name]) for f in fields(cls) if f.name in data}  # type: ignore[arg-type]
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, ArithmeticError) as exc:  # a field missing, a check refusing
        raise Unreadable(f"{cls.__name__}: {exc}") from None


def snapshot_of(correction: dict[str, Any]) -> AccountSnapshot:
    """The snapshot a `correction` record holds."""
    return decode(AccountSnapshot, correction.get("snapshot"))


def event_of(record: dict[str, Any]) -> Replayed | None:
    """The exchange event an `event` record holds; None for kinds that are not replayed (notices)."""
    cls = EVENT_KINDS.get(str(record.get("kind")))
    return None if cls is None else decode(cls, record.get("event"))


def cancels(reply: Cancelled | CancelledAll, order: OrderEvent) -> bool:
    """Whether this cancel's reply took `order` away."""
    if isinstance(reply, CancelledAll):
        return reply.symbol is None or reply.symbol == order.symbol
    return bool(reply.order_id and order.order_id == reply.order_id) or bool(
        reply.client_id and order.client_id == reply.client_id
    )


def outcome_of(record: dict[str, Any]) -> Replayed | None:
    """What an `outcome` record changed in the open orders (a cancel's or a cancel-all's reply);
    None for the others (placed orders arrive as exchange events)."""
    ack = record.get("cancel")
    if isinstance(ack, dict):
        return Cancelled(str(ack.get("order_id") or ""), str(ack.get("client_id") or ""))
    if "cancel_all" in record:
        symbol = record["cancel_all"]
        return CancelledAll(None if symbol in (None, "*") else str(symbol))
    return None
