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
from dataclasses import fields, is_dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from sidedesk.domain import AccountSnapshot, BalanceEvent, FillEvent, OrderEvent, PositionEvent

T = TypeVar("T")
Replayed = OrderEvent | FillEvent | PositionEvent | BalanceEvent
EVENT_KINDS: dict[str, type[Replayed]] = {
    "OrderEvent": OrderEvent,
    "FillEvent": FillEvent,
    "PositionEvent": PositionEvent,
    "BalanceEvent": BalanceEvent,
}


class Unreadable(ValueError):
    pass


def _value(tp: Any, v: Any) -> Any:
    if v is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        return _value(options[0], v) if len(options) == 1 else v
    if origin is tuple:
        inner = get_args(tp)[0]
        if not isinstance(v, list):
            raise Unreadable(f"expected a list, got {type(v).__name__}")
        return tuple(_value(inner, item) for item in v)
    if tp is Decimal:
        try:
            return Decimal(str(v))
        except InvalidOperation:
            raise Unreadable(f"not a number: {str(v)[:20]!r}") from None
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(v)
        except ValueError:
            raise Unreadable(f"not a {tp.__name__}: {str(v)[:20]!r}") from None
    if isinstance(tp, type) and is_dataclass(tp):
        return decode(tp, v)
    return v


def decode(cls: type[T], data: Any) -> T:
    """A domain dataclass from its journaled JSON; `Unreadable` if it is not one."""
    if not isinstance(data, dict):
        raise Unreadable(f"{cls.__name__}: expected an object")
    hints = get_type_hints(cls)
    kwargs = {f.name: _value(hints[f.name], data[f.name]) for f in fields(cls) if f.name in data}  # type: ignore[arg-type]
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise Unreadable(f"{cls.__name__}: {exc}") from None


def snapshot_of(correction: dict[str, Any]) -> AccountSnapshot:
    """The snapshot a `correction` record holds."""
    return decode(AccountSnapshot, correction.get("snapshot"))


def event_of(record: dict[str, Any]) -> Replayed | None:
    """The exchange event an `event` record holds; None for kinds that are not replayed (notices)."""
    cls = EVENT_KINDS.get(str(record.get("kind")))
    return None if cls is None else decode(cls, record.get("event"))
