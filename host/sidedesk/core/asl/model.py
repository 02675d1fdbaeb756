"""Values in and out of the ASL engine.

Inputs other than these are the normalised broker events of `brokers/base.py`
(`PositionEvent`, `OrderEvent`) and plain `(symbol, mark, now_ms)` ticks.
Outputs are commands for the shell to carry out (`PlaceStop`, `CancelStop`, `ClosePosition`)
and values for the UI (`Notify`, `AslEvent` for the `asl` topic).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sidedesk.domain import OrderRequest, PositionSide


@dataclass(frozen=True, slots=True)
class PositionKey:
    """One position: per account, symbol and position side (BOTH in one-way mode)."""

    account_id: str
    symbol: str
    position_side: PositionSide = PositionSide.BOTH


# -- inputs that are not broker events ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceAcked:
    """The exchange's synchronous reply accepted a PlaceStop/ClosePosition (OrderAck)."""

    client_id: str
    order_id: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class PlaceRejected:
    """The exchange definitely refused a PlaceStop/ClosePosition (a BrokerError with a reply).

    `immediate_trigger`: the broker said the stop would trigger at once (Binance -2021/-4142).
    An unknown outcome (lost reply) is not a rejection: resolve it with `Broker.lookup` first
    and feed PlaceAcked or PlaceRejected; the confirm timeout covers the rest.
    """

    client_id: str
    reason: str
    ts_ms: int
    immediate_trigger: bool = False


@dataclass(frozen=True, slots=True)
class CancelDone:
    """The cancel succeeded, or the exchange no longer knows the order (Binance -2011)."""

    client_id: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class CancelFailed:
    """The cancel could not be carried out (network, rate limit); the engine re-sends it."""

    client_id: str
    reason: str
    ts_ms: int


# -- outputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceStop:
    """Place `request` (a reduce-only conditional order) with `Broker.place`."""

    key: PositionKey
    request: OrderRequest
    tag: str


@dataclass(frozen=True, slots=True)
class CancelStop:
    """`Broker.cancel(symbol, order_id=..., client_id=..., conditional=True)`."""

    key: PositionKey
    client_id: str
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClosePosition:
    """Place `request`: a reduce-only MARKET order for the whole position."""

    key: PositionKey
    request: OrderRequest
    reason: str


Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Notify:
    """A message for the panel (and the journal)."""

    key: PositionKey
    kind: str  # level | rejected | retry | safety | close | triggered | external | breakeven | refused
    message: str
    severity: Severity
    ts_ms: int


@dataclass(frozen=True, slots=True)
class AslEvent:
    """One transition of one position's ASL state, for the `asl` topic, the chart and the journal."""

    key: PositionKey
    ts_ms: int
    transition: str
    enabled: bool
    long: bool
    quantity: Decimal
    entry_price: Decimal
    level: int  # 0 = hard stop, 1..n = profit levels reached
    stop_client_id: str | None  # the working stop that protects the position now
    stop_tag: str | None
    stop_kind: Literal["stop", "trailing"] | None
    stop_price: Decimal | None  # trailing: where the stop trails now (the shell's figure, see stop_estimated)
    callback_pct: Decimal | None
    next_trigger: Decimal | None  # price at which the next level starts
    latency_ms: int | None = None  # confirm time - place time, on "confirmed"
    detail: str = ""
    # stop_price is a native trailing stop's current level computed from the working price's
    # extreme, which the venue does not report (shown "≈"); False for a stop's own price
    stop_estimated: bool = False

    def to_payload(self) -> dict[str, Any]:
        def s(d: Decimal | None) -> str | None:
            return None if d is None else str(d)

        return {
            "account_id": self.key.account_id,
            "symbol": self.key.symbol,
            "position_side": self.key.position_side.value,
            "ts_ms": self.ts_ms,
            "transition": self.transition,
            "enabled": self.enabled,
            "direction": "long" if self.long else "short",
            "quantity": str(self.quantity),
            "entry_price": str(self.entry_price),
            "level": self.level,
            "stop_client_id": self.stop_client_id,
            "stop_tag": self.stop_tag,
            "stop_kind": self.stop_kind,
            "stop_price": s(self.stop_price),
            "callback_pct": s(self.callback_pct),
            "next_trigger": s(self.next_trigger),
            "latency_ms": self.latency_ms,
            "detail": self.detail,
            "stop_estimated": self.stop_estimated,
        }


Command = PlaceStop | CancelStop | ClosePosition
Output = PlaceStop | CancelStop | ClosePosition | Notify | AslEvent
