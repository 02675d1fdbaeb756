"""The books: positions, balances, open orders and quotes, kept exact by broker events, replies
and snapshots, and the topics' payloads built from them.

Every broker event of every account comes through `on_event`: the pure books in core/ decide
what changed, this shell journals the event (in the loop's burst transaction), publishes the
topics that changed and tells the listeners (protection) about orders, positions and marks.
Replies (a cancel's ack, a cancel-all) come through `apply_order` so local state never waits
for a user stream that may be down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sidedesk.app.notices import Notices, Publish, now_ms
from sidedesk.app.recorder import Recorder
from sidedesk.core.account import Portfolio
from sidedesk.core.last_known import Cancelled, CancelledAll, Replayed, cancels
from sidedesk.core.link_ids import split_link_id
from sidedesk.core.orders_book import OrdersBook
from sidedesk.core.positions import Position
from sidedesk.core.staleness import Staleness
from sidedesk.core.trailing import TrailingStops
from sidedesk.core.views import MONEY_PLACES, AslInfo, dec, orders_payload, positions_payload
from sidedesk.core.views import account_payload as account_view
from sidedesk.domain import (
    AccountSnapshot,
    BalanceEvent,
    BrokerEvent,
    ConnectionEvent,
    FillEvent,
    InstrumentRules,
    NoticeEvent,
    OrderEvent,
    OrderStatus,
    PositionEvent,
    PositionSide,
    QuoteEvent,
)

log = logging.getLogger(__name__)
ZERO = Decimal(0)

AslInfoFn = Callable[[], dict[tuple[str, str, PositionSide], AslInfo]]


def order_change(ev: OrderEvent, before: OrderEvent | None, ts_ms: int | None = None) -> dict[str, Any]:
    """A `log` topic entry for an order's new status or fill, with the order as data: the panel
    words it for the trader (fills, refusals) and shows the latest status the exchange reported."""
    old = before.status.value if before is not None else None
    return {
        "level": "info",
        "message": f"order {ev.order_id} {ev.side.value} {dec(ev.quantity)} {ev.symbol} "
        f"{ev.type.value.lower()}: {(old or '-').lower()} -> {ev.status.value.lower()}",
        "ts_ms": now_ms() if ts_ms is None else ts_ms,
        "order": {
            "account_id": ev.account_id,
            "order_id": ev.order_id,
            "client_id": ev.client_id,
            "symbol": ev.symbol,
            "side": ev.side.value,
            "type": ev.type.value,
            "status": ev.status.value,
            "previous_status": old,
            "quantity": dec(ev.quantity),
            "filled": dec(ev.filled),
            "price": dec(ev.price),
            "stop_price": dec(ev.stop_price),
            "avg_price": dec(ev.avg_price),
            "reduce_only": ev.reduce_only,
            "conditional": ev.is_conditional,
            "reject_reason": ev.reject_reason,
        },
    }


def _sum_totals(totals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unrealized P&L totals per asset, summed (live and last known rows together)."""
    by_asset: dict[str, Decimal] = {}
    for t in totals:
        if t.get("unrealized_pnl") is not None:
            by_asset[t["asset"]] = by_asset.get(t["asset"], ZERO) + Decimal(t["unrealized_pnl"])
    return [{"asset": a, "unrealized_pnl": dec(v, MONEY_PLACES)} for a, v in sorted(by_asset.items())]


class Books:
    def __init__(self, publish: Publish, recorder: Recorder, notices: Notices) -> None:
        self._publish = publish
        self._recorder = recorder
        self._notices = notices
        self.portfolio = Portfolio()
        self.orders = OrdersBook()
        self.staleness = Staleness()
        self.quotes: dict[str, QuoteEvent] = {}
        # where each open native trailing stop is now (venues do not report it), from the marks
        self.trails = TrailingStops()
        self.active_id: str | None = None  # the account the panel's topics show
        self.asl_info: AslInfoFn = dict
        # told of every change (protection reacts; the link service hears connection events)
        self.order_listeners: list[Callable[[str, OrderEvent], None]] = []
        self.position_listeners: list[Callable[[str, PositionEvent], None]] = []
        self.mark_listeners: list[Callable[[str, Decimal], None]] = []
        self.connection_listeners: list[Callable[[str, ConnectionEvent], None]] = []
        self.user_event_listeners: list[Callable[[str, float], None]] = []
        self.broker_of: Callable[[str], str | None] = lambda account_id: None
        # accounts shown from the journal (a service that has not reached the exchange yet):
        # account -> ms of the last record read back; dropped at the account's first snapshot
        self.last_known: dict[str, int] = {}
        self._last_known_books: dict[str, tuple[Portfolio, OrdersBook]] = {}

    # -- views (the topics' payloads) ---------------------------------------------------------
    # The panel's topics show the active account (every connected account when none is active);
    # the local stream asks for all of them (`every=True`) and scopes each token itself.
    def positions_view(self, every: bool = False) -> dict[str, Any]:
        scope = None if every else self.active_id
        out = positions_payload(
            self.portfolio.positions,
            asl=self.asl_info(),
            orders=self.orders,
            account_id=scope,
            trailing=self.trails.level_of,
        )
        for account_id, (portfolio, orders) in self._known(scope):
            known = positions_payload(portfolio.positions, orders=orders, account_id=account_id)
            out["positions"].extend(self._marked(known["positions"], account_id))
            out["totals"] = _sum_totals(out["totals"] + known["totals"])
        return out

    def orders_view(self, every: bool = False) -> dict[str, Any]:
        scope = None if every else self.active_id
        out = orders_payload(self.orders, scope)
        for account_id, (_, orders) in self._known(scope):
            out["orders"].extend(self._marked(orders_payload(orders, account_id)["orders"], account_id))
        return out

    # Accounts read back from the journal live in books of their own, never mixed with the live
    # ones (their order ranks and fill memory would outlive the exchange's snapshot otherwise).
    def _known(self, scope: str | None) -> list[tuple[str, tuple[Portfolio, OrdersBook]]]:
        return [(a, books) for a, books in self._last_known_books.items() if scope is None or scope == a]

    def _marked(self, rows: list[dict[str, Any]], account_id: str) -> list[dict[str, Any]]:
        """Rows read back from the journal carry `last_known_ms`: the panel marks them as such."""
        for row in rows:
            row["last_known_ms"] = self.last_known[account_id]
        return rows

    def known_positions(self, account_id: str) -> list[Position]:
        """The open positions the books show for `account_id`: live, else last known."""
        known = self._last_known_books.get(account_id)
        book = known[0] if known is not None else self.portfolio
        return list(book.positions.positions(account_id))

    def account_view(self, every: bool = False) -> dict[str, Any]:
        scope = None if every else self.active_id
        out = account_view(self.portfolio, now_ms(), scope)
        for account_id, (portfolio, _) in self._known(scope):
            rows = account_view(portfolio, now_ms(), account_id)["accounts"]
            out["accounts"].extend(self._marked(rows, account_id))
        return out

    def quotes_view(self) -> dict[str, Any]:
        return {
            "quotes": {
                s: {
                    "bid": dec(q.bid),
                    "ask": dec(q.ask),
                    "mark": dec(q.mark),
                    "last": dec(q.last),
                    "ts_ms": q.ts_ms,
                }
                for s, q in sorted(self.quotes.items())
            }
        }

    def publish_tables(self) -> None:
        """The active account changed, or a snapshot replaced the books: every table anew."""
        self._publish("positions", self.positions_view)
        self._publish("orders", self.orders_view)
        self._publish("account", self.account_view)

    # -- queries --------------------------------------------------------------------------------
    def mark(self, symbol: str) -> Decimal | None:
        """The price orders are sized and checked against: mark, else last, else the mid."""
        q = self.quotes.get(symbol)
        if q is None:
            return None
        if q.mark:
            return q.mark
        if q.last:
            return q.last
        if q.bid and q.ask:
            return (q.bid + q.ask) / 2
        return None

    def marks(self) -> dict[str, Decimal]:
        return {s: m for s in self.quotes if (m := self.mark(s)) is not None}

    def position_qty(self, account_id: str, symbol: str) -> Decimal:
        return sum(
            (p.quantity for p in self.portfolio.positions.positions(account_id) if p.symbol == symbol), ZERO
        )

    def position_symbols(self, account_id: str) -> list[str]:
        return sorted({p.symbol for p in self.portfolio.positions.positions(account_id)})

    def live_positions(self, account_id: str) -> list[PositionEvent]:
        return [
            PositionEvent(
                p.account_id,
                p.symbol,
                p.position_side,
                p.quantity,
                p.entry_price,
                mark_price=p.mark_price,
                leverage=p.leverage,
            )
            for p in self.portfolio.positions.positions(account_id)
        ]

    def open_orders(self, account_id: str) -> list[OrderEvent]:
        return list(self.orders.open_orders(account_id))

    def set_rules(self, rules: dict[str, InstrumentRules]) -> None:
        self.portfolio.positions.set_rules(rules)
        self.trails.set_ticks({s: r.tick_size for s, r in rules.items()})

    # -- events from brokers --------------------------------------------------------------------
    def sink_for(self, account_id: str) -> Callable[[BrokerEvent], None]:
        def sink(ev: BrokerEvent) -> None:
            try:
                self.on_event(account_id, ev)
            except Exception:  # a bad event is logged and dropped; the stream goes on
                log.exception("could not apply %s from %s", type(ev).__name__, account_id)

        return sink

    def on_event(self, account_id: str, ev: BrokerEvent) -> None:
        mono = time.monotonic()
        if isinstance(ev, QuoteEvent):
            self._on_quote(account_id, ev, mono)
            return
        if isinstance(ev, ConnectionEvent):
            for on_connection in self.connection_listeners:
                on_connection(account_id, ev)
            return
        if isinstance(ev, NoticeEvent):
            self._recorder.soon("event", {"kind": "NoticeEvent", "event": ev}, account_id, None)
            self._notices.tell(ev.level, ev.message)
            return
        event_ms = getattr(ev, "event_time_ms", 0) or getattr(ev, "ts_ms", 0) or 0
        self.staleness.on_event(f"user:{account_id}", mono, event_ms=event_ms, wall_ms=time.time() * 1000)
        for on_user_event in self.user_event_listeners:
            on_user_event(account_id, mono)
        # exchange events of one burst go to the journal in one transaction, after the loop has
        # handled the burst (an ack waiting behind them is not delayed by a commit per event)
        self._recorder.soon(
            "event", {"kind": type(ev).__name__, "event": ev}, account_id, getattr(ev, "client_id", None)
        )
        if isinstance(ev, OrderEvent):
            self.apply_order(account_id, ev)
            return
        if isinstance(ev, FillEvent | PositionEvent | BalanceEvent):
            changes = self.portfolio.apply(ev)
            if changes.positions:
                self._publish("positions", self.positions_view)
            if changes.account:
                self._publish("account", self.account_view)
            if isinstance(ev, PositionEvent) and changes.positions:
                for on_position in self.position_listeners:
                    on_position(account_id, ev)

    def _on_quote(self, account_id: str, ev: QuoteEvent, mono: float) -> None:
        prev = self.quotes.get(ev.symbol)
        self.quotes[ev.symbol] = (
            ev
            if prev is None
            else QuoteEvent(
                ev.symbol,
                ev.bid if ev.bid is not None else prev.bid,
                ev.ask if ev.ask is not None else prev.ask,
                ev.mark if ev.mark is not None else prev.mark,
                ev.last if ev.last is not None else prev.last,
                ev.ts_ms or prev.ts_ms,
            )
        )
        broker = self.broker_of(account_id)
        if broker is not None:
            self.staleness.on_price(f"market:{broker}", mono)
        if ev.mark is not None:
            self.trails.on_price(ev.symbol, ev.mark)
            for on_mark in self.mark_listeners:
                on_mark(ev.symbol, ev.mark)
        if self.portfolio.apply(ev).positions:
            self._publish("positions", self.positions_view)
            self._publish("account", self.account_view)
        self._publish("quotes", self.quotes_view)

    def apply_order(self, account_id: str, ev: OrderEvent) -> bool:
        """An order's new state, from a stream event or a reply: books, log, topics, listeners."""
        before = self.orders.get(account_id, ev.order_id, conditional=ev.is_conditional)
        applied = self.orders.apply(ev)
        # even an event the books skip (a reply after the stream's event) may name a trailing
        # stop's callback, which Binance's ALGO_UPDATE does not carry
        final = self.orders.is_known_final(account_id, ev.order_id, conditional=ev.is_conditional)
        self.trails.observe(ev, self.mark(ev.symbol), final=final)
        if not applied:
            return False
        if before is None or before.status is not ev.status:
            # what support reads first: order id, old -> new status, exchange time
            log.info(
                "order %s (%s %s %s): %s -> %s at %d",
                ev.order_id,
                ev.client_id,
                ev.symbol,
                ev.type.value,
                before.status.value if before is not None else "-",
                ev.status.value,
                ev.update_time_ms,
            )
        if before is None or before.status is not ev.status or before.filled != ev.filled:
            # the panel's fills and statuses, built only if a panel is subscribed (the events are
            # frozen values, so the entry built later is the one built now)
            ts = now_ms()
            self._notices.entry(lambda: order_change(ev, before, ts))
        self._publish("orders", self.orders_view)
        self._publish("positions", self.positions_view)  # stop prices shown per position
        for on_order in self.order_listeners:
            on_order(account_id, ev)
        return True

    def restore(self, account_id: str, snap: AccountSnapshot, events: Iterable[Replayed], at_ms: int) -> None:
        """The account's last known state, read back from the journal (core/last_known.py): its
        last snapshot and the events after it, in books of their own. Not journaled again; shown
        as last known until the account's first snapshot from the exchange replaces it."""
        portfolio, orders = Portfolio(), OrdersBook()
        portfolio.apply(snap)
        orders.apply_snapshot(snap)
        for ev in events:
            if isinstance(ev, OrderEvent):
                orders.apply(ev)
            elif isinstance(ev, Cancelled | CancelledAll):
                for o in orders.open_orders(account_id):  # a final status outranks an open one
                    if cancels(ev, o):
                        orders.apply(replace(o, status=OrderStatus.CANCELED))
            else:
                portfolio.apply(ev)
        self._last_known_books[account_id] = (portfolio, orders)
        self.last_known[account_id] = at_ms

    def drop_last_known(self, account_id: str) -> bool:
        """Stop showing `account_id`'s last known state (its own snapshot came, or its account
        is gone from the vault); whether there was one."""
        self._last_known_books.pop(account_id, None)
        return self.last_known.pop(account_id, None) is not None

    def holds_last_known(self, account_id: str) -> bool:
        """Whether `account_id`'s last known state has an open position or an open order."""
        known = self._last_known_books.get(account_id)
        if known is None:
            return False
        portfolio, orders = known
        return any(p.quantity for p in portfolio.positions.positions(account_id)) or bool(
            orders.open_orders(account_id)
        )

    def apply_snapshot(self, account_id: str, snap: AccountSnapshot, reason: str) -> None:
        """Replace local state by the exchange's (the exchange is the source of truth)."""
        self.drop_last_known(account_id)
        entry_id, venue = split_link_id(account_id)
        if venue is not None:
            # the rows journaled under the entry's id alone (before its login's accounts could be
            # picked) were this login's: `ENTRY:ACCOUNT` replaces them
            self.drop_last_known(entry_id)
        before = {p.key: p.quantity for p in self.portfolio.positions.positions(account_id)}
        self.portfolio.apply(snap)
        self.orders.apply_snapshot(snap)
        self.trails.sync(account_id, self.orders.open_orders(account_id), self.marks())
        after = {p.key: p.quantity for p in self.portfolio.positions.positions(account_id)}
        for key in sorted(set(before) | set(after), key=str):
            if before.get(key, ZERO) != after.get(key, ZERO):
                self._notices.tell(
                    "info",
                    f"{key[1]} {key[2].value}: position corrected from {before.get(key, ZERO)} to "
                    f"{after.get(key, ZERO)} after {reason}",
                )
        self._recorder.now("correction", {"reason": reason, "snapshot": snap}, account_id, None)
        self.publish_tables()

    def forget_orders(self, orders: Iterable[OrderEvent]) -> None:
        """Orders a reply says are gone (cancel-all): closed locally now, not when a stream says."""
        for o in orders:  # a final status outranks the open one at the same update time
            self.apply_order(o.account_id, replace(o, status=OrderStatus.CANCELED))
