"""Tradovate's entities → Sidedesk's normalised events (brokers.md §1.4, §1.6, §1.7); no I/O but
the host log of raw order statuses.

An order is spread over three entities: `order` (identity, status), `orderVersion` (quantity,
type, prices; a modify adds a version) and `executionReport` (filled quantity, average price).
`Store` keeps the latest of each and emits an `OrderEvent` only when the assembled order changed
(repeated status updates are dropped). Tradovate's own statuses are finer than the neutral ones
(PendingNew, Working, PendingCancel... are all NEW), so every change of the raw status is written to
the host log here, where it is known (`sidedesk.brokers.tradovate.protocol.state`, INFO). Fills are emitted
once per fill id. Positions carry open P&L by the official formula
`(last - netPrice) × valuePerPoint × netPos`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sidedesk.brokers.tradovate.protocol.frames import PropsChange, QuoteUpdate, decimal, iso_ms
from sidedesk.brokers.tradovate.protocol.messages import TV_TYPES
from sidedesk.core.orders import client_id_kind
from sidedesk.domain import (
    AccountSnapshot,
    BalanceEvent,
    BrokerEvent,
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

log = logging.getLogger(__name__)
ZERO = Decimal(0)
CURRENCY = "USD"
# order versions and fills held until their order entity says whose they are (the login's other
# accounts' never do): at most this many orders, and changes per order
MAX_HELD_ORDERS = 1000
MAX_HELD_PER_ORDER = 64

_STATUS = {
    "PendingNew": OrderStatus.NEW,
    "Working": OrderStatus.NEW,
    "Suspended": OrderStatus.NEW,  # a bracket leg waiting for its entry
    "PendingReplace": OrderStatus.NEW,
    "PendingCancel": OrderStatus.NEW,
    "Filled": OrderStatus.FILLED,
    "Canceled": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
    "Expired": OrderStatus.EXPIRED,
}
_OPEN_RAW = frozenset({"PendingNew", "Working", "Suspended", "PendingReplace", "PendingCancel"})
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK, "Day": TimeInForce.DAY}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class ProductInfo:
    name: str
    tick_size: Decimal
    value_per_point: Decimal


def product_info(entity: dict[str, Any]) -> ProductInfo | None:
    name = entity.get("name")
    tick = decimal(entity.get("tickSize"))
    vpp = decimal(entity.get("valuePerPoint"))
    if not isinstance(name, str) or tick is None or tick <= 0 or vpp is None or vpp <= 0:
        return None
    return ProductInfo(name, tick, vpp)


def rules_for(symbol: str, p: ProductInfo) -> InstrumentRules:
    """Whole contracts, prices on the product's tick; `contract_multiplier` = valuePerPoint."""
    decimals = max(0, -int(p.tick_size.normalize().as_tuple().exponent))
    return InstrumentRules(
        symbol=symbol,
        base_asset=p.name,
        quote_asset=CURRENCY,
        tick_size=p.tick_size,
        step_size=Decimal(1),
        min_qty=Decimal(1),
        max_qty=Decimal(5000),
        market_step_size=Decimal(1),
        market_min_qty=Decimal(1),
        market_max_qty=Decimal(5000),
        min_notional=ZERO,
        price_precision=decimals,
        quantity_precision=0,
        contract_multiplier=p.value_per_point,
    )


@dataclass
class _OrderParts:
    order: dict[str, Any] | None = None
    version: dict[str, Any] | None = None
    report: dict[str, Any] | None = None  # the latest one
    reject: str | None = None


@dataclass
class Store:
    """One Tradovate account's entities. `account_id` names the account in normalised events."""

    account_id: str
    tv_account: int = 0
    contracts: dict[int, str] = field(default_factory=dict)  # contract id -> name
    products: dict[str, ProductInfo] = field(default_factory=dict)  # root -> product
    orders: dict[int, _OrderParts] = field(default_factory=dict)
    client_ids: dict[int, str] = field(default_factory=dict)  # order id -> our client id
    # liquidatePosition requests in flight: contract id -> (the intent's client id, the highest
    # order id known when it left). The command carries no client id: the next market order on
    # the contract that is not ours is its closing order, and takes the intent's id
    liquidating: dict[int, tuple[str, int]] = field(default_factory=dict)
    positions: dict[int, dict[str, Any]] = field(default_factory=dict)  # contract id -> entity
    cash: dict[str, Any] | None = None
    last: dict[int, Decimal] = field(default_factory=dict)  # contract id -> last trade price
    quotes: dict[int, QuoteUpdate] = field(default_factory=dict)
    _emitted: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    _emitted_ms: dict[int, int] = field(default_factory=dict)
    _fills: set[int] = field(default_factory=set)
    # order versions and fills whose order entity has not come yet: order id -> changes
    _held: dict[int, list[PropsChange]] = field(default_factory=dict)
    raw: dict[int, str] = field(default_factory=dict)  # order id -> the last raw status logged

    # -- lookups ---------------------------------------------------------------------------------
    def symbol(self, contract_id: Any) -> str | None:
        return self.contracts.get(contract_id) if isinstance(contract_id, int) else None

    def contract_id(self, symbol: str) -> int | None:
        return next((cid for cid, name in self.contracts.items() if name == symbol), None)

    def product_of(self, symbol: str) -> ProductInfo | None:
        # the official example derives the product as name[:-2] (root + month code + year digit)
        return self.products.get(symbol[:-2])

    def value_per_point(self, contract_id: int) -> Decimal | None:
        name = self.contracts.get(contract_id)
        p = self.product_of(name) if name else None
        return p.value_per_point if p else None

    def mine(self, entity: dict[str, Any]) -> bool:
        """An entity of the account traded. Until the sync names that account (tv_account 0),
        none that names an account is: the login's other accounts must never leak in (a props
        push before the sync's answer, a refresh on a login that lacks the named account); the
        sync itself carries the current state."""
        aid = entity.get("accountId")
        return aid is None or (self.tv_account != 0 and aid == self.tv_account)

    # -- input -----------------------------------------------------------------------------------
    def apply(self, change: PropsChange, *, emit: bool = True) -> list[BrokerEvent]:
        """Store one change; the normalised events it causes (none with `emit=False`)."""
        e, t = change.entity, change.entity_type
        if t == "contract":
            if isinstance(e.get("id"), int) and isinstance(e.get("name"), str):
                self.contracts[e["id"]] = e["name"]
            return []
        if t == "product":
            p = product_info(e)
            if p is not None:
                self.products[p.name] = p
            return []
        if not self.mine(e):
            if t == "order" and (other := _int(e.get("id"))) is not None:
                self._held.pop(other, None)  # another account's order: what waited for it goes
            return []
        oid = (
            _int(e.get("orderId")) if t in ("orderVersion", "executionReport", "fill") else _int(e.get("id"))
        )
        if t in ("orderVersion", "fill") and oid is not None and not self._owns(oid):
            # neither names its account: it waits for its order (which does), so a fill of the
            # login's other account is never taken for this one's (the sync is per user)
            self._hold(oid, change)
            return []
        if t == "order" and oid is not None:
            parts = self.orders.setdefault(oid, _OrderParts())
            if parts.order is None or iso_ms(e.get("timestamp")) >= iso_ms(parts.order.get("timestamp")):
                parts.order = e
            waiting = self._held.pop(oid, [])
            if not emit:
                for held in waiting:
                    self.apply(held, emit=False)
                return []
            self._track_raw(oid)
            out = self._order_events(oid)
            for held in waiting:
                out += self.apply(held)
            return out
        if t == "orderVersion" and oid is not None:
            parts = self.orders.setdefault(oid, _OrderParts())
            if parts.version is None or (_int(e.get("id")) or 0) >= (_int(parts.version.get("id")) or 0):
                parts.version = e
                text = e.get("text")
                claimed = self._liquidation_of(oid, e)
                if claimed is not None:
                    self.client_ids[oid] = claimed
                elif isinstance(text, str) and text and oid not in self.client_ids:
                    self.client_ids[oid] = text
            return self._order_events(oid) if emit else []
        if t == "executionReport" and oid is not None:
            parts = self.orders.setdefault(oid, _OrderParts())
            if parts.report is None or (_int(e.get("id")) or 0) >= (_int(parts.report.get("id")) or 0):
                parts.report = e
            if e.get("execType") == "Rejected" or e.get("ordStatus") == "Rejected":
                parts.reject = str(e.get("text") or e.get("rejectReason") or "Rejected")
            if not emit:
                return []
            self._track_raw(oid)
            return self._order_events(oid)
        if t == "fill" and oid is not None:
            return self._fill(oid, e, change.event_type)
        if t == "position":
            cid = _int(e.get("contractId"))
            if cid is None:
                return []
            if change.event_type == "Deleted":
                e = {**e, "netPos": 0}
            self.positions[cid] = e
            ev = self.position_event(cid)
            return [ev] if ev is not None else []
        if t == "cashBalance":
            self.cash = e
            bal = self.balance_event()
            return [bal] if bal is not None else []
        return []

    def _owns(self, oid: int) -> bool:
        parts = self.orders.get(oid)
        return parts is not None and parts.order is not None

    def _hold(self, oid: int, change: PropsChange) -> None:
        held = self._held.setdefault(oid, [])
        if len(held) < MAX_HELD_PER_ORDER:
            held.append(change)
        while len(self._held) > MAX_HELD_ORDERS:  # other accounts' orders never claim theirs
            del self._held[next(iter(self._held))]

    def _liquidation_of(self, oid: int, version: dict[str, Any]) -> str | None:
        """The client id of the liquidation this order is the close of, if it is one."""
        if not self.liquidating or version.get("orderType") != "Market":
            return None
        if client_id_kind(str(self.client_ids.get(oid) or version.get("text") or "")) is not None:
            return None  # one of our own orders
        order = self.orders[oid].order
        contract = _int(order.get("contractId")) if order is not None else None
        pending = self.liquidating.get(contract) if contract is not None else None
        if pending is None or oid <= pending[1]:
            return None
        del self.liquidating[contract]  # type: ignore[arg-type]
        return pending[0]

    def load(self, sync: dict[str, Any]) -> None:
        """A sync response (or the list endpoints' union) as the full state; nothing is emitted."""
        self.orders.clear()
        self.positions.clear()
        for array, etype in (
            ("contracts", "contract"),
            ("products", "product"),
            ("orders", "order"),
            ("orderVersions", "orderVersion"),
            ("executionReports", "executionReport"),
            ("positions", "position"),
            ("cashBalances", "cashBalance"),
        ):
            rows = sync.get(array)
            for row in rows if isinstance(rows, list) else []:
                if isinstance(row, dict) and "id" in row:
                    self.apply(PropsChange(etype, "Created", row), emit=False)
        fills = sync.get("fills")
        for row in fills if isinstance(fills, list) else []:
            if isinstance(row, dict) and isinstance(row.get("id"), int):
                self._fills.add(row["id"])
        for oid in sorted(self.orders):  # what changed while we were not listening
            self._track_raw(oid, from_sync=True)

    def on_quote(self, q: QuoteUpdate) -> QuoteEvent | None:
        symbol = self.contracts.get(q.contract_id)
        if symbol is None:
            return None
        prev = self.quotes.get(q.contract_id)
        merged = QuoteUpdate(
            q.contract_id,
            q.bid if q.bid is not None else (prev.bid if prev else None),
            q.ask if q.ask is not None else (prev.ask if prev else None),
            q.last if q.last is not None else (prev.last if prev else None),
            q.ts_ms or (prev.ts_ms if prev else 0),
        )
        self.quotes[q.contract_id] = merged
        if merged.last is not None:
            self.last[q.contract_id] = merged.last
        # Tradovate has no mark price; P&L uses the last trade (brokers.md §1.7)
        return QuoteEvent(symbol, merged.bid, merged.ask, merged.last, merged.last, merged.ts_ms)

    # -- raw statuses ----------------------------------------------------------------------------
    def raw_status(self, oid: int) -> str | None:
        """Tradovate's own status of the order (`ordStatus` of the order, or of a newer execution
        report), e.g. PendingNew, Working, PendingCancel, Filled; None before either is known."""
        parts = self.orders.get(oid)
        if parts is None:
            return None
        o, r = parts.order, parts.report
        text = o.get("ordStatus") if o is not None else None
        if r is not None and (o is None or iso_ms(r.get("timestamp")) > iso_ms(o.get("timestamp"))):
            text = r.get("ordStatus") or text
        return text if isinstance(text, str) and text else None

    def _track_raw(self, oid: int, *, from_sync: bool = False) -> None:
        """Log the order's raw status when it changed. An order first seen in a sync that is
        already over (filled, cancelled) is history, not a change: DEBUG only."""
        now = self.raw_status(oid)
        before = self.raw.get(oid)
        if now is None or now == before:
            return
        self.raw[oid] = now
        parts = self.orders[oid]
        o = parts.order or parts.report or {}
        symbol = self.symbol(o.get("contractId")) or "?"
        action = o.get("action") if isinstance(o.get("action"), str) else ""
        cid = self.client_ids.get(oid, "")
        where = " (found at sync)" if from_sync else ""
        level = logging.DEBUG if from_sync and before is None and now not in _OPEN_RAW else logging.INFO
        log.log(
            level,
            "Tradovate order %s %s %s%s: %s -> %s%s",
            oid,
            action,
            symbol,
            f" [{cid}]" if cid else "",
            before or "(new)",
            now,
            where,
        )

    # -- output ----------------------------------------------------------------------------------
    def order_event(self, oid: int) -> OrderEvent | None:
        parts = self.orders.get(oid)
        if parts is None or parts.order is None or parts.version is None:
            return None
        o, v, r = parts.order, parts.version, parts.report
        symbol = self.symbol(o.get("contractId"))
        otype = TV_TYPES.get(str(v.get("orderType")))
        qty = decimal(v.get("orderQty"))
        if symbol is None or otype is None or qty is None:
            return None
        status_text = str(o.get("ordStatus", "Unknown"))
        if r is not None and iso_ms(r.get("timestamp")) > iso_ms(o.get("timestamp")):
            status_text = str(r.get("ordStatus", status_text))
        filled = decimal(r.get("cumQty")) if r is not None else None
        filled = filled or ZERO
        status = _STATUS.get(status_text)
        if status is None:
            if status_text == "Completed":
                status = OrderStatus.FILLED if filled >= qty else OrderStatus.CANCELED
            else:
                return None  # Unknown: wait for a real status
        if status is OrderStatus.NEW and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        avg = decimal(r.get("avgPx")) if r is not None else None
        ts = max(iso_ms(o.get("timestamp")), iso_ms(r.get("timestamp")) if r is not None else 0)
        return OrderEvent(
            account_id=self.account_id,
            symbol=symbol,
            order_id=str(oid),
            client_id=self.client_ids.get(oid, ""),
            side=Side.BUY if o.get("action") == "Buy" else Side.SELL,
            type=otype,
            status=status,
            quantity=qty,
            filled=filled,
            price=decimal(v.get("price")) if otype in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
            stop_price=decimal(v.get("stopPrice")),
            avg_price=avg,
            time_in_force=_TIF.get(str(v.get("timeInForce"))),
            reject_reason=parts.reject if status is OrderStatus.REJECTED else None,
            is_conditional=otype.is_conditional,  # stops and trailing stops, as on every broker
            update_time_ms=ts,
            event_time_ms=ts,
        )

    def _order_events(self, oid: int) -> list[BrokerEvent]:
        ev = self.order_event(oid)
        if ev is None:
            return []
        key = (ev.status, ev.filled, ev.quantity, ev.price, ev.stop_price, ev.avg_price, ev.client_id)
        if self._emitted.get(oid) == key:
            return []  # a repeated status update: nothing new for the core
        self._emitted[oid] = key
        # a new version without a new status time still has to rank above the previous event
        t = max(ev.update_time_ms, self._emitted_ms.get(oid, -1) + 1)
        self._emitted_ms[oid] = t
        if t != ev.update_time_ms:
            ev = OrderEvent(**{**_fields(ev), "update_time_ms": t, "event_time_ms": t})
        return [ev]

    def _fill(self, oid: int, e: dict[str, Any], event_type: str) -> list[BrokerEvent]:
        fid = _int(e.get("id"))
        if fid is None or fid in self._fills or event_type == "Deleted":
            return []
        symbol = self.symbol(e.get("contractId"))
        qty, price = decimal(e.get("qty")), decimal(e.get("price"))
        if symbol is None or qty is None or price is None:
            return []
        self._fills.add(fid)
        return [
            FillEvent(
                account_id=self.account_id,
                symbol=symbol,
                order_id=str(oid),
                client_id=self.client_ids.get(oid, ""),
                trade_id=str(fid),
                side=Side.BUY if e.get("action") == "Buy" else Side.SELL,
                quantity=qty,
                price=price,
                fee=ZERO,  # commissions are not in the fill entity
                fee_asset=CURRENCY,
                ts_ms=iso_ms(e.get("timestamp")),
            )
        ]

    def position_event(self, cid: int) -> PositionEvent | None:
        e = self.positions.get(cid)
        symbol = self.symbol(cid)
        if e is None or symbol is None:
            return None
        net = decimal(e.get("netPos")) or ZERO
        entry = decimal(e.get("netPrice")) or decimal(e.get("prevPrice")) or ZERO
        last = self.last.get(cid)
        vpp = self.value_per_point(cid)
        upnl = None
        if last is not None and vpp is not None and net != 0:
            upnl = (last - entry) * vpp * net
        return PositionEvent(
            self.account_id,
            symbol,
            PositionSide.BOTH,
            net,
            entry if net != 0 else ZERO,
            unrealized_pnl=upnl,
            mark_price=last,
            ts_ms=iso_ms(e.get("timestamp")),
        )

    def balance_event(self) -> BalanceEvent | None:
        e = self.cash
        if e is None:
            return None
        amount = decimal(e.get("amount"))
        if amount is None:
            return None
        return BalanceEvent(
            self.account_id, CURRENCY, amount, reason="cashBalance", ts_ms=iso_ms(e.get("timestamp"))
        )

    def realized_pnl(self) -> Decimal | None:
        """Today's realized P&L (`realizedPnL`; one SDK spells it `realizedPnl`: both accepted)."""
        if self.cash is None:
            return None
        return decimal(self.cash.get("realizedPnL", self.cash.get("realizedPnl")))

    def open_pnl(self) -> Decimal:
        total = ZERO
        for cid in self.positions:
            ev = self.position_event(cid)
            if ev is not None and ev.unrealized_pnl is not None:
                total += ev.unrealized_pnl
        return total

    def open_orders(self) -> tuple[OrderEvent, ...]:
        out = []
        for oid in sorted(self.orders):
            ev = self.order_event(oid)
            if ev is not None and ev.status.is_open:
                out.append(ev)
        return tuple(out)

    def find_client_id(self, client_id: str) -> OrderEvent | None:
        for oid in sorted(self.orders, reverse=True):
            if self.client_ids.get(oid) == client_id:
                return self.order_event(oid)
        return None

    def snapshot(self, ts_ms: int) -> AccountSnapshot:
        positions = [self.position_event(cid) for cid in sorted(self.positions)]
        bal = self.balance_event()
        return AccountSnapshot(
            self.account_id,
            (bal,) if bal is not None else (),
            tuple(p for p in positions if p is not None and p.quantity != 0),
            self.open_orders(),
            ts_ms=ts_ms,
        )

    def replay(self) -> Iterable[BrokerEvent]:
        """The current state as events (after a sync), deduplicated against what was emitted."""
        for oid in sorted(self.orders):
            yield from self._order_events(oid)
        for cid in sorted(self.positions):
            ev = self.position_event(cid)
            if ev is not None:
                yield ev
        bal = self.balance_event()
        if bal is not None:
            yield bal


def _fields(ev: OrderEvent) -> dict[str, Any]:
    return {name: getattr(ev, name) for name in OrderEvent.__dataclass_fields__}
