"""Alpaca replies and stream messages → normalised events (brokers.md §3.2-§3.4). Pure and tolerant.

Unknown fields are ignored; a value that cannot be read raises `Malformed`, which the I/O shell
logs and drops (a frame) or turns into a BrokerError (a reply). Never a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sidedesk.domain import (
    BalanceEvent,
    FillEvent,
    InstrumentRules,
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    QuoteEvent,
    Side,
    TimeInForce,
)

ZERO = Decimal(0)
SHARE_STEP = Decimal("0.000000001")


class Malformed(ValueError):
    """A reply or frame that does not have the shape Alpaca documents."""


def dec(v: Any, name: str = "value") -> Decimal | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise Malformed(f"{name} is not a number")
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise Malformed(f"{name} is not a number") from None
    if not d.is_finite():
        raise Malformed(f"{name} is not finite")
    return d


def req_dec(v: Any, name: str) -> Decimal:
    d = dec(v, name)
    if d is None:
        raise Malformed(f"{name} is missing")
    return d


def ts_ms(v: Any) -> int:
    """RFC 3339 (any number of fractional digits, `Z` or an offset) → epoch ms; 0 when absent."""
    if not isinstance(v, str) or not v:
        return 0
    s = v.strip().replace("z", "Z")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    if "." in s:
        head, rest = s.split(".", 1)
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        s = head + "." + (rest[:i] + "000000")[:6] + rest[i:]
    try:
        return int(datetime.fromisoformat(s).timestamp() * 1000)
    except ValueError:
        raise Malformed(f"bad timestamp {v!r}") from None


def _str(d: dict[str, Any], name: str) -> str:
    v = d.get(name)
    if not isinstance(v, str) or not v:
        raise Malformed(f"{name} is missing")
    return v


def _obj(v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise Malformed(f"{what} is not an object")
    return v


_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP_MARKET,
    "stop_limit": OrderType.STOP_LIMIT,
    "trailing_stop": OrderType.TRAILING_STOP_MARKET,
}
_TIFS = {"day": TimeInForce.DAY, "gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}
_FINAL = {
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "replaced": OrderStatus.CANCELED,  # the replacement order carries on
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    "suspended": OrderStatus.REJECTED,
}


def status(raw: str, filled: Decimal) -> OrderStatus:
    """Alpaca's many open states (new, accepted, pending_*, held, ...) are all NEW/PARTIALLY_FILLED."""
    final = _FINAL.get(raw)
    if final is not None:
        return final
    return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW


def order(o: Any, account_id: str, event_ms: int = 0) -> OrderEvent:
    d = _obj(o, "order")
    raw_type = d.get("type") or d.get("order_type")
    otype = _TYPES.get(raw_type) if isinstance(raw_type, str) else None
    if otype is None:
        raise Malformed(f"unknown order type {raw_type!r}")
    side = d.get("side")
    if side not in ("buy", "sell"):
        raise Malformed(f"unknown side {side!r}")
    filled = dec(d.get("filled_qty"), "filled_qty") or ZERO
    st = status(_str(d, "status"), filled)
    qty = dec(d.get("qty"), "qty")
    if qty is None:  # a notional order: its size in shares is known once it filled
        qty = filled
    tif = d.get("time_in_force")
    return OrderEvent(
        account_id=account_id,
        symbol=_str(d, "symbol"),
        order_id=_str(d, "id"),
        client_id=str(d.get("client_order_id") or ""),
        side=Side.BUY if side == "buy" else Side.SELL,
        type=otype,
        status=st,
        quantity=qty,
        filled=filled,
        price=dec(d.get("limit_price"), "limit_price"),
        stop_price=dec(d.get("stop_price"), "stop_price"),
        avg_price=dec(d.get("filled_avg_price"), "filled_avg_price"),
        time_in_force=_TIFS.get(tif) if isinstance(tif, str) else None,
        is_conditional=otype.is_conditional,  # stable per order: the book keys on it
        callback_rate_pct=dec(d.get("trail_percent"), "trail_percent"),
        update_time_ms=ts_ms(d.get("updated_at")) or ts_ms(d.get("submitted_at")),
        event_time_ms=event_ms,
    )


def raw_status(o: Any) -> str:
    return str(_obj(o, "order").get("status", ""))


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    event: str
    order: OrderEvent
    raw_order_status: str
    fill: FillEvent | None = None
    position_qty: Decimal | None = None
    ts_ms: int = 0


def trade_update(data: Any, account_id: str) -> TradeUpdate:
    d = _obj(data, "trade update")
    event = _str(d, "event")
    t = ts_ms(d.get("timestamp"))
    raw = _obj(d.get("order"), "order")
    ev = order(raw, account_id, t)
    fill = None
    if event in ("fill", "partial_fill"):
        qty = req_dec(d.get("qty"), "qty")
        price = req_dec(d.get("price"), "price")
        exec_id = d.get("execution_id")
        fill = FillEvent(
            account_id=account_id,
            symbol=ev.symbol,
            order_id=ev.order_id,
            client_id=ev.client_id,
            trade_id=str(exec_id) if exec_id else f"{ev.order_id}:{ev.filled}",
            side=ev.side,
            quantity=qty,
            price=price,
            fee=ZERO,
            fee_asset="USD",
            ts_ms=t,
        )
    return TradeUpdate(
        event, ev, str(raw.get("status", "")), fill, dec(d.get("position_qty"), "position_qty"), t
    )


def trading_frame(frame: str | bytes) -> dict[str, Any]:
    """A trading-stream frame (text or binary JSON) → its object."""
    try:
        obj = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed("trading stream frame is not JSON") from exc
    return _obj(obj, "trading stream frame")


def position(p: Any, account_id: str) -> PositionEvent:
    d = _obj(p, "position")
    qty = req_dec(d.get("qty"), "qty")
    if d.get("side") == "short" and qty > 0:
        qty = -qty
    return PositionEvent(
        account_id=account_id,
        symbol=_str(d, "symbol"),
        position_side=PositionSide.BOTH,
        quantity=qty,
        entry_price=req_dec(d.get("avg_entry_price"), "avg_entry_price"),
        unrealized_pnl=dec(d.get("unrealized_pl"), "unrealized_pl"),
        mark_price=dec(d.get("current_price"), "current_price"),
        leverage=1,
    )


def balance(account: Any, positions: list[PositionEvent], account_id: str, ts: int = 0) -> BalanceEvent:
    """Equity = cash + market value; the host adds unrealized P&L to the wallet, so the wallet
    reported here is equity minus the positions' unrealized P&L (cash plus cost basis)."""
    d = _obj(account, "account")
    equity = req_dec(d.get("equity"), "equity")
    upl = sum((p.unrealized_pnl or ZERO for p in positions), ZERO)
    return BalanceEvent(
        account_id=account_id,
        asset=str(d.get("currency") or "USD"),
        wallet_balance=equity - upl,
        available=dec(d.get("buying_power"), "buying_power"),
        equity=equity,
        margin_used=dec(d.get("initial_margin"), "initial_margin"),
        reason="account",
        ts_ms=ts,
    )


@dataclass(frozen=True, slots=True)
class Clock:
    is_open: bool
    next_open_ms: int
    next_close_ms: int
    server_ms: int

    def open_at(self, now_ms: int) -> bool:
        """Whether the regular session is open at `now_ms` (server time), from this reading."""
        if self.is_open:
            return now_ms < self.next_close_ms
        return self.next_open_ms <= now_ms < self.next_close_ms

    def next_change_ms(self) -> int:
        return self.next_close_ms if self.is_open else self.next_open_ms


def clock(c: Any) -> Clock:
    d = _obj(c, "clock")
    is_open = d.get("is_open")
    if not isinstance(is_open, bool):
        raise Malformed("clock.is_open is missing")
    return Clock(is_open, ts_ms(d.get("next_open")), ts_ms(d.get("next_close")), ts_ms(d.get("timestamp")))


def asset_rules(a: Any) -> InstrumentRules | None:
    """A tradable US stock → its rules (None for anything else)."""
    d = _obj(a, "asset")
    cls = d.get("class") or d.get("asset_class")
    if cls != "us_equity" or d.get("status") != "active" or d.get("tradable") is not True:
        return None
    symbol = _str(d, "symbol")
    fractional = d.get("fractionable") is True
    step = SHARE_STEP if fractional else Decimal(1)
    return InstrumentRules(
        symbol=symbol,
        base_asset=symbol,
        quote_asset="USD",
        tick_size=Decimal("0.01"),
        step_size=step,
        min_qty=step,
        max_qty=Decimal(10_000_000),
        market_step_size=step,
        market_min_qty=step,
        market_max_qty=Decimal(10_000_000),
        min_notional=Decimal(1) if fractional else ZERO,
        price_precision=2,
        quantity_precision=9 if fractional else 0,
        min_price=Decimal("0.01"),
        contract_multiplier=Decimal(1),
        trading=True,
    )


def data_frame(frame: str | bytes) -> list[dict[str, Any]]:
    """A market-data frame (JSON text) → its messages."""
    try:
        obj = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed("data frame is not JSON") from exc
    if isinstance(obj, dict):
        obj = [obj]
    if not isinstance(obj, list):
        raise Malformed("data frame is not an array")
    return [m for m in obj if isinstance(m, dict)]


def quote(m: dict[str, Any]) -> QuoteEvent:
    """A quote marks at its mid; a trade (below) at its price: the mark is the latest of the two."""
    bid = dec(m.get("bp"), "bp")
    ask = dec(m.get("ap"), "ap")
    mid = (bid + ask) / 2 if bid and ask else None
    return QuoteEvent(_str(m, "S"), bid, ask, mark=mid, ts_ms=ts_ms(m.get("t")))


def trade(m: dict[str, Any]) -> QuoteEvent:
    price = req_dec(m.get("p"), "p")
    return QuoteEvent(_str(m, "S"), mark=price, last=price, ts_ms=ts_ms(m.get("t")))


def error_message(body: Any) -> tuple[int | None, str]:
    """Alpaca's `{"code": N, "message": "..."}` (or `{"message": ...}`) → (code, message)."""
    if isinstance(body, dict):
        code = body.get("code")
        msg = body.get("message")
        return (code if isinstance(code, int) else None), (str(msg) if msg else "")
    return None, ""
