"""Volumetrica messages -> Sidedesk's normalised events (pure: values in, values out).

- Orders are keyed by `OrgServerId` (stable for an order's life). Fills are not reported as such:
  a fill is the change of `FilledQty` (signed, cumulative) since the last update of that order,
  executed at `AvgPrice` (the price of the latest execution), as in the vendor's C# example.
- `OrderState` Submitted covers working, partially and fully filled orders: the quantities say
  which. Error ends an order (rejected); ErrorModify leaves it live with its old price.
- Snapshot (`InfoReq` mode 2) lines of SnapType HistPos are the portfolio (FilledQty = signed
  position, AvgPrice = its price); Historical lines are pending orders whose filled part is
  already inside the HistPos lines, so they never produce fills.
- The server computes P&L; a position's open P&L also implies the price it was valued at,
  which serves as the mark (the trading socket carries no market data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk.brokers.volumetrica.protocol.wire import to_price
from sidedesk.domain import (
    BalanceEvent,
    FillEvent,
    InstrumentRules,
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    Side,
)

ZERO = Decimal(0)
_FEED = re.compile(r"^/?([A-Za-z0-9]+)(?:[:.]([A-Za-z0-9]+))?$")

ORDER_TYPES = {
    pb.ORDER_MARKET: OrderType.MARKET,
    pb.ORDER_LIMIT: OrderType.LIMIT,
    pb.ORDER_STOP: OrderType.STOP_MARKET,
    pb.ORDER_STOP_LIMIT: OrderType.STOP_LIMIT,
}
WIRE_TYPES = {v: k for k, v in ORDER_TYPES.items()}


def desk_symbol(feed_symbol: str) -> str:
    """`/ESZ26:XCME` (or `/ESZ26.XCME`, or `ESZ26`) -> `ESZ26`; "" if it is not a feed symbol."""
    m = _FEED.match(feed_symbol.strip())
    return m.group(1).upper() if m else ""


def dec(value: float) -> Decimal:
    return Decimal(repr(value))


@dataclass(frozen=True, slots=True)
class Contract:
    contract_id: int
    feed_symbol: str
    symbol: str
    tick_size: Decimal
    tick_value: Decimal
    description: str = ""
    currency: str = "USD"

    @property
    def value_per_point(self) -> Decimal:
        return self.tick_value / self.tick_size


def contract_from(resp: pb.ContractRespMsg) -> Contract | None:
    """A `ContractMsg` answer as a Contract; None for "not found" (ContractId -1/0) or no tick data."""
    info = resp.contract_info
    cid = resp.contract_id or info.contract_id
    feed = info.feed_symbol or resp.feed_symbol
    if cid <= 0 or info.tick_size <= 0 or info.tick_value <= 0:
        return None
    symbol = desk_symbol(feed) or desk_symbol(info.symbol)
    if not symbol:
        return None
    return Contract(
        contract_id=cid,
        feed_symbol=feed,
        symbol=symbol,
        tick_size=dec(info.tick_size),
        tick_value=dec(info.tick_value),
        description=info.description,
        currency=info.quote_currency or "USD",
    )


def rules(c: Contract) -> InstrumentRules:
    decimals = max(0, -int(c.tick_size.normalize().as_tuple().exponent))
    return InstrumentRules(
        symbol=c.symbol,
        base_asset=c.symbol,
        quote_asset=c.currency,
        tick_size=c.tick_size,
        step_size=Decimal(1),
        min_qty=Decimal(1),
        max_qty=Decimal(10_000),
        market_step_size=Decimal(1),
        market_min_qty=Decimal(1),
        market_max_qty=Decimal(10_000),
        min_notional=ZERO,
        price_precision=decimals,
        quantity_precision=0,
        min_price=c.tick_size,
        contract_multiplier=c.value_per_point,
    )


def _status(state: int, pending: int, filled: int) -> OrderStatus:
    if state == pb.OrderInfoMsg.CANCELED:
        return OrderStatus.CANCELED
    if state == pb.OrderInfoMsg.ERROR:
        return OrderStatus.REJECTED
    if pending == 0 and filled != 0:
        return OrderStatus.FILLED
    if filled != 0:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus.NEW


@dataclass(slots=True)
class Tracked:
    """What the adapter remembers of one order (by OrgServerId)."""

    org_server_id: int
    contract_id: int
    symbol: str
    client_id: str
    side: Side
    type: OrderType
    quantity: Decimal
    filled_signed: int
    avg_price: Decimal | None
    status: OrderStatus
    price: Decimal | None
    stop_price: Decimal | None
    update_ms: int
    seq_server_id: int = 0

    @property
    def open(self) -> bool:
        return self.status.is_open


@dataclass
class OrderTracker:
    """Orders of one account by OrgServerId, with fill detection from FilledQty changes."""

    account_id: str
    orders: dict[int, Tracked] = field(default_factory=dict)

    def apply(
        self, info: pb.OrderInfoMsg, contract: Contract | None, client_id: str, now_ms: int
    ) -> tuple[OrderEvent | None, FillEvent | None]:
        """One OrderInfoMsg (not a HistPos line) -> its OrderEvent (None if nothing changed) and the
        fill it reports (RealTime updates only)."""
        oid = info.org_server_id
        prior = self.orders.get(oid)
        tick = contract.tick_size if contract is not None else None
        symbol = contract.symbol if contract is not None else (desk_symbol(info.feed_symbol) or "?")
        pending, filled = info.pending_qty, info.filled_qty
        signed = pending + filled
        side = (Side.BUY if signed > 0 else Side.SELL) if signed != 0 else prior.side if prior else Side.BUY
        qty = Decimal(abs(pending) + abs(filled))
        if prior is not None and qty < prior.quantity and info.order_state != pb.OrderInfoMsg.SUBMITTED:
            qty = prior.quantity  # a cancel or an error may report the open part as 0
        otype = ORDER_TYPES.get(info.order_type, OrderType.MARKET)
        if info.order_state in (pb.OrderInfoMsg.PENDING_MODIFY, pb.OrderInfoMsg.PENDING_CANCEL) and prior:
            status = prior.status
        else:
            status = _status(info.order_state, pending, filled)
        price = stop = None
        if otype is OrderType.LIMIT:
            price = to_price(info.order_price, tick)
        elif otype is OrderType.STOP_MARKET:
            stop = to_price(info.order_price, tick)
        elif otype is OrderType.STOP_LIMIT:
            stop, price = to_price(info.order_price, tick), to_price(info.order_limit_price, tick)
        seen = prior.filled_signed if prior is not None else 0
        historical = info.snap_type == pb.OrderInfoMsg.HISTORICAL
        delta = 0 if historical else filled - seen
        fill_price = to_price(info.avg_price, tick) if info.avg_price else None
        avg = prior.avg_price if prior is not None else None
        if historical and filled and fill_price is not None:
            avg = fill_price
        elif delta and fill_price is not None:
            done = abs(seen)
            avg = (
                fill_price
                if not done or avg is None
                else (avg * done + fill_price * abs(delta)) / abs(filled)
            )
        ts = info.message_timestamp or info.execution_utc or info.insert_utc or now_ms
        reason = info.reason or None
        changed = (
            prior is None
            or status is not prior.status
            or filled != prior.filled_signed
            or qty != prior.quantity
            or price != prior.price
            or stop != prior.stop_price
            or info.seq_server_id != prior.seq_server_id
            or (info.order_state == pb.OrderInfoMsg.ERROR_MODIFY)
        )
        if prior is not None and changed:
            ts = max(ts, prior.update_ms + 1)  # every change sorts after the one before it
        tracked = Tracked(
            oid,
            info.contract_id,
            symbol,
            client_id,
            side,
            otype,
            qty,
            filled,
            avg,
            status,
            price,
            stop,
            ts,
            info.seq_server_id,
        )
        self.orders[oid] = tracked
        if not changed:
            return None, None
        ev = OrderEvent(
            account_id=self.account_id,
            symbol=symbol,
            order_id=str(oid),
            client_id=client_id,
            side=side,
            type=otype,
            status=status,
            quantity=qty,
            filled=Decimal(abs(filled)),
            price=price,
            stop_price=stop,
            avg_price=avg,
            is_conditional=otype.is_conditional,
            reject_reason=reason if status is OrderStatus.REJECTED or reason else None,
            update_time_ms=ts,
            event_time_ms=ts,
        )
        fill = None
        if delta and fill_price is not None:
            fill = FillEvent(
                account_id=self.account_id,
                symbol=symbol,
                order_id=str(oid),
                client_id=client_id,
                trade_id=f"{oid}:{abs(filled)}",
                side=Side.BUY if delta > 0 else Side.SELL,
                quantity=Decimal(abs(delta)),
                price=fill_price,
                fee=ZERO,
                fee_asset=contract.currency if contract is not None else "USD",
                # the execution's time, or (v5 has none) the arrival: never `ts`, which may be
                # pushed a millisecond on to sort the order's changes, and a position update that
                # arrived with the fill (dated by its arrival) would then seem older than the
                # fill it already holds, and the fill would count twice
                ts_ms=info.execution_utc or now_ms,
            )
        return ev, fill

    def by_client_id(self, client_id: str) -> Tracked | None:
        return next((o for o in self.orders.values() if o.client_id == client_id), None)

    def open_orders(self, symbol: str | None = None) -> list[Tracked]:
        return [o for o in self.orders.values() if o.open and symbol in (None, o.symbol)]

    def forget_closed(self, keep: int = 2000) -> None:
        """Drop the oldest finished orders beyond `keep` (the map must not grow for ever)."""
        closed = sorted((o for o in self.orders.values() if not o.open), key=lambda o: o.update_ms)
        for o in closed[: max(0, len(closed) - keep)]:
            del self.orders[o.org_server_id]


def tracked_event(account_id: str, t: Tracked) -> OrderEvent:
    return OrderEvent(
        account_id,
        t.symbol,
        str(t.org_server_id),
        t.client_id,
        t.side,
        t.type,
        t.status,
        t.quantity,
        Decimal(abs(t.filled_signed)),
        t.price,
        t.stop_price,
        t.avg_price,
        is_conditional=t.type.is_conditional,
        update_time_ms=t.update_ms,
        event_time_ms=t.update_ms,
    )


def position_event(
    account_id: str, info: pb.PositionInfoMsg, contract: Contract, now_ms: int
) -> PositionEvent:
    qty = Decimal(info.open_quantity)
    mark = implied_mark(info, contract)
    return PositionEvent(
        account_id=account_id,
        symbol=contract.symbol,
        position_side=PositionSide.BOTH,
        quantity=qty,
        entry_price=dec(info.open_price) if qty else ZERO,
        unrealized_pnl=dec(info.open_pl) if info.has_open_pl and qty else (ZERO if not qty else None),
        mark_price=mark,
        margin=dec(info.margin_used) if info.margin_used else None,
        ts_ms=info.utc or now_ms,
    )


def hist_pos_event(account_id: str, line: pb.OrderInfoMsg, contract: Contract, now_ms: int) -> PositionEvent:
    """A snapshot HistPos line: FilledQty is the signed position, AvgPrice its price."""
    qty = Decimal(line.filled_qty)
    return PositionEvent(
        account_id,
        contract.symbol,
        PositionSide.BOTH,
        qty,
        dec(line.avg_price) if qty else ZERO,
        ts_ms=line.execution_utc or now_ms,
    )


def implied_mark(info: pb.PositionInfoMsg, contract: Contract) -> Decimal | None:
    """The price the server valued an open position at: entry + open P&L / (qty x value per point)."""
    if info.open_quantity == 0 or not info.has_open_pl:
        return None
    raw = dec(info.open_price) + dec(info.open_pl) / (Decimal(info.open_quantity) * contract.value_per_point)
    return to_price(float(raw), contract.tick_size)


def balance_event(account_id: str, bal: pb.BalanceMsg, currency: str, now_ms: int) -> BalanceEvent:
    return BalanceEvent(
        account_id=account_id,
        asset=currency or "USD",
        wallet_balance=dec(bal.balance),
        available=dec(bal.margin_available) if bal.margin_available else None,
        equity=dec(bal.equity) if bal.equity else None,
        margin_used=dec(bal.margin_used),
        reason=bal.description,
        ts_ms=now_ms,
    )
