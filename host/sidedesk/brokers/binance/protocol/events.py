"""User-data and market stream events → the normalised events of base.py (binance.md §4, §5). Pure.

`parse_stream_frame` takes one text frame (raw or combined `{"stream","data"}` form) and returns a
tuple of events, or a `ParseError`; it never raises. Unknown event types give an empty tuple.
Protocol-level events with no neutral equivalent (`listenKeyExpired`) have their own small types.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sidedesk.brokers.binance.protocol import fields as f
from sidedesk.brokers.binance.protocol.fields import MalformedMessage, ParseError
from sidedesk.domain import (
    BalanceEvent,
    BrokerEvent,
    FillEvent,
    OrderEvent,
    PositionEvent,
    QuoteEvent,
)
from sidedesk.net import jsonfast

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ListenKeyExpired:
    listen_key: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class LeverageChanged:
    symbol: str
    leverage: int
    ts_ms: int


StreamEvent = BrokerEvent | ListenKeyExpired | LeverageChanged


def parse_stream_frame(text: str | bytes, account_id: str = "") -> tuple[StreamEvent, ...] | ParseError:
    # market data (the tick path) takes the fast parser; account events the exact one
    market = (
        ("markPriceUpdate" in text or "bookTicker" in text)
        if isinstance(text, str)
        else (b"markPriceUpdate" in text or b"bookTicker" in text)
    )
    try:
        data = jsonfast.loads_market(text) if market else jsonfast.loads(text)
    except (ValueError, UnicodeDecodeError):
        return ParseError("not JSON", _clip(text))
    if isinstance(data, dict) and "stream" in data and "data" in data:
        data = data["data"]  # combined-stream wrapping
    if isinstance(data, dict) and "result" in data and "id" in data:
        return ()  # reply to SUBSCRIBE / LIST_SUBSCRIPTIONS
    try:
        if isinstance(data, list):  # !markPrice@arr
            return tuple(ev for item in data for ev in _one(f.obj(item, "array item"), account_id))
        return _one(f.obj(data, "frame"), account_id)
    except MalformedMessage as exc:
        return ParseError(str(exc), _clip(text))
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        # a shape the readers did not anticipate: still a value, never an exception in the loop
        return ParseError(f"unexpected shape: {type(exc).__name__}", _clip(text))


def _one(m: Mapping[str, Any], account_id: str) -> tuple[StreamEvent, ...]:
    kind = m.get("e")
    if kind == "ORDER_TRADE_UPDATE":
        return order_trade_update(m, account_id)
    if kind == "TRADE_LITE":
        return (trade_lite(m, account_id),)
    if kind == "ACCOUNT_UPDATE":
        return account_update(m, account_id)
    if kind == "ALGO_UPDATE":
        return (algo_update(m, account_id),)
    if kind == "listenKeyExpired":
        return (ListenKeyExpired(str(m.get("listenKey", "")), f.opt_int(m, "E")),)
    if kind == "ACCOUNT_CONFIG_UPDATE":
        ac = m.get("ac")
        if isinstance(ac, Mapping) and "s" in ac and "l" in ac:
            return (LeverageChanged(f.text(ac, "s"), f.integer(ac, "l"), f.opt_int(m, "E")),)
        return ()
    if kind == "markPriceUpdate":
        return (QuoteEvent(f.text(m, "s"), mark=f.dec(m, "p"), ts_ms=f.opt_int(m, "E")),)
    if kind == "bookTicker" or (kind is None and {"b", "a", "s", "u"} <= m.keys()):
        return (
            QuoteEvent(
                f.text(m, "s"),
                bid=f.dec(m, "b"),
                ask=f.dec(m, "a"),
                ts_ms=f.opt_int(m, "E") or f.opt_int(m, "T"),
            ),
        )
    return ()


def order_trade_update(m: Mapping[str, Any], account_id: str) -> tuple[BrokerEvent, ...]:
    o = f.obj(f.req(m, "o"), "o")
    otype = f.order_type(o.get("o"))
    order = OrderEvent(
        account_id=account_id,
        symbol=f.text(o, "s"),
        order_id=f.text(o, "i"),
        client_id=str(o.get("c", "")),
        side=f.side(o.get("S")),
        type=otype,
        status=f.order_status(o.get("X")),
        quantity=f.dec(o, "q"),
        filled=f.dec(o, "z"),
        price=f.opt_dec(o, "p"),
        stop_price=f.opt_dec(o, "sp"),
        avg_price=f.opt_dec(o, "ap"),
        reduce_only=f.flag(o, "R"),
        close_position=f.flag(o, "cp"),
        position_side=f.position_side(o.get("ps")),
        time_in_force=f.time_in_force(o.get("f")),
        callback_rate_pct=f.opt_dec(o, "cr"),
        activation_price=f.opt_dec(o, "AP"),
        working_type=f.working_type(o.get("wt")),
        reject_reason=_expiry_reason(o.get("er")),
        update_time_ms=f.opt_int(o, "T") or f.opt_int(m, "T"),
        event_time_ms=f.opt_int(m, "E"),
    )
    if o.get("x") != "TRADE":
        return (order,)
    fill = FillEvent(
        account_id=account_id,
        symbol=order.symbol,
        order_id=order.order_id,
        client_id=order.client_id,
        trade_id=f.text(o, "t"),
        side=order.side,
        quantity=f.dec(o, "l"),
        price=f.dec(o, "L"),
        fee=f.opt_dec(o, "n", zero_is_none=False) or _ZERO,
        fee_asset=str(o.get("N", "")),
        position_side=order.position_side,
        realized_pnl=f.opt_dec(o, "rp", zero_is_none=False),
        is_maker=f.flag(o, "m"),
        ts_ms=order.update_time_ms,
    )
    return (fill, order)  # the fill first: position updates before the order shows FILLED


_EXPIRY_REASONS = {
    "1": "self-trade prevention",
    "2": "IOC not fully filled",
    "3": "IOC not fully filled (self-trade prevention)",
    "4": "knocked out by a reduce-only order, or would open a reversed position",
    "5": "account liquidated",
    "6": "close-position condition no longer holds",
    "7": "symbol delisted",
    "8": "expired after the stop triggered",
    "9": "market order not fully filled; remainder cancelled",
}


def _expiry_reason(er: Any) -> str | None:
    return _EXPIRY_REASONS.get(str(er)) if er not in (None, "", "0", 0) else None


def trade_lite(m: Mapping[str, Any], account_id: str) -> FillEvent:
    """The low-latency fill (no fee, no position side); dedupe with ORDER_TRADE_UPDATE on (i, t)."""
    return FillEvent(
        account_id=account_id,
        symbol=f.text(m, "s"),
        order_id=f.text(m, "i"),
        client_id=str(m.get("c", "")),
        trade_id=f.text(m, "t"),
        side=f.side(m.get("S")),
        quantity=f.dec(m, "l"),
        price=f.dec(m, "L"),
        fee=_ZERO,
        fee_asset="",
        is_maker=f.flag(m, "m"),
        ts_ms=f.opt_int(m, "T") or f.opt_int(m, "E"),
    )


def account_update(m: Mapping[str, Any], account_id: str) -> tuple[BrokerEvent, ...]:
    a = f.obj(f.req(m, "a"), "a")
    ts = f.opt_int(m, "T") or f.opt_int(m, "E")
    reason = str(a.get("m", ""))
    out: list[BrokerEvent] = []
    for b in a.get("B") or ():
        b = f.obj(b, "balance")
        out.append(
            BalanceEvent(account_id, f.text(b, "a"), f.dec(b, "wb"), available=None, reason=reason, ts_ms=ts)
        )
    for p in a.get("P") or ():
        p = f.obj(p, "position")
        out.append(
            PositionEvent(
                account_id,
                f.text(p, "s"),
                f.position_side(p.get("ps")),
                f.dec(p, "pa"),
                f.dec(p, "ep"),
                unrealized_pnl=f.opt_dec(p, "up", zero_is_none=False),
                break_even_price=f.opt_dec(p, "bep"),
                margin=f.opt_dec(p, "iw"),
                ts_ms=ts,
            )
        )
    return tuple(out)


def algo_update(m: Mapping[str, Any], account_id: str) -> OrderEvent:
    o = f.obj(f.req(m, "o"), "o")
    status = f.algo_status(o.get("X"))
    return OrderEvent(
        account_id=account_id,
        symbol=f.text(o, "s"),
        order_id=f.text(o, "aid"),
        client_id=str(o.get("caid", "")),
        side=f.side(o.get("S")),
        type=f.order_type(o.get("o")),
        status=status,
        quantity=f.opt_dec(o, "q") or _ZERO,
        filled=f.opt_dec(o, "aq", zero_is_none=False) or _ZERO,
        price=f.opt_dec(o, "p"),
        stop_price=f.opt_dec(o, "tp"),
        avg_price=f.opt_dec(o, "ap"),
        reduce_only=f.flag(o, "R"),
        close_position=f.flag(o, "cp"),
        position_side=f.position_side(o.get("ps")),
        time_in_force=f.time_in_force(o.get("f")),
        is_conditional=True,
        working_type=f.working_type(o.get("wt")),
        triggered_order_id=str(o["ai"]) if o.get("ai") not in (None, "", 0, "0") else None,
        reject_reason=str(o.get("rm") or "") or None,
        update_time_ms=f.opt_int(o, "tt") or f.opt_int(m, "T"),
        event_time_ms=f.opt_int(m, "E"),
    )


class FillDeduper:
    """Drops the second report of one fill (TRADE_LITE and ORDER_TRADE_UPDATE both carry it;
    reconnects can replay). Bounded memory: the oldest keys are forgotten first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()

    def first_time(self, fill: FillEvent) -> bool:
        key = (fill.symbol, fill.order_id, fill.trade_id)
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True


def _clip(text: str | bytes, n: int = 300) -> str:
    s = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return s[:n]
