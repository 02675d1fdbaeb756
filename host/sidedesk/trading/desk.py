"""The Desk: connects broker accounts, keeps the books current from their events, and turns
intents (panel clicks, hotkeys) into validated, risk-checked, journaled orders.

Everything that decides is pure and lives in `core/` (orders, risk, positions, orders book,
views); this module is the shell that feeds it events, calls the broker, writes the journal
and publishes topics. Every intent gets a definite outcome in the journal and in the reply:
placed, refused with a reason, or "unknown — reconciling".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from sidedesk.api.errors import ApiError
from sidedesk.core.account import Portfolio
from sidedesk.core.asl import AslEvent, AslProfile, Notify, PositionKey
from sidedesk.core.orders import ClientKind, PreflightError, Ticket, close_order, make_client_id, prepare
from sidedesk.core.orders_book import OrdersBook
from sidedesk.core.risk import OrderRate, RiskDecision, RiskLimits, evaluate
from sidedesk.core.staleness import RefreshPolicy, Staleness, min_refresh_interval
from sidedesk.core.views import account_payload as account_view
from sidedesk.core.views import dec, orders_payload, positions_payload
from sidedesk.domain import (
    AccountSnapshot,
    BalanceEvent,
    Broker,
    BrokerError,
    BrokerEvent,
    ConnectionEvent,
    ConnectionState,
    FillEvent,
    InstrumentRules,
    NoticeEvent,
    OrderAck,
    OrderEvent,
    OrderRequest,
    PositionEvent,
    PositionSide,
    QuoteEvent,
    Side,
)
from sidedesk.store.journal import Journal, JournalError
from sidedesk.trading.factory import build_broker
from sidedesk.trading.protection import Protection

if TYPE_CHECKING:
    from sidedesk.runtime import Host

log = logging.getLogger(__name__)

Source = Literal["panel", "hotkey", "asl"]
# A Binance snapshot (account, positions, open orders, open algo orders) costs about 90 weight of
# the 2 400 per minute; refreshes may use a tenth of that, so at most one per 22.5 s.
SNAPSHOT_WEIGHT = 90
WEIGHT_PER_MINUTE = 2400
REFRESH_CHECK_S = 5.0
ZERO = Decimal(0)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class AccountLink:
    """One vault account and, when active, its broker connection."""

    account_id: str
    broker: Broker
    state: ConnectionState = ConnectionState.DISCONNECTED
    attempt: int = 0
    detail: str = ""
    next_retry_s: float | None = None
    was_connected: bool = False
    resyncing: bool = False
    resync_again: str | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    ack: OrderAck
    request: OrderRequest
    host_us: float | None
    roundtrip_ms: float

    def reply(self) -> dict[str, Any]:
        return {
            "status": "placed",
            "client_id": self.ack.client_id,
            "order_id": self.ack.order_id,
            "order_status": self.ack.status.value,
            "filled": dec(self.ack.filled),
            "avg_price": dec(self.ack.avg_price),
            "quantity": dec(self.request.quantity),
            "price": dec(self.request.price),
            "host_us": None if self.host_us is None else round(self.host_us, 1),
            "roundtrip_ms": round(self.roundtrip_ms, 3),
            "message": f"{self.request.side.value} {dec(self.request.quantity)} {self.request.symbol} "
            f"{self.request.type.value.lower()}: {self.ack.status.value.lower()}",
        }


@dataclass(frozen=True, slots=True)
class Preview:
    link: AccountLink
    request: OrderRequest
    decision: RiskDecision
    notional: Decimal


def order_change(ev: OrderEvent, before: OrderEvent | None) -> dict[str, Any]:
    """A `log` topic entry for an order's new status or fill, with the order as data: the panel
    words it for the trader (fills, refusals) and shows the latest status the exchange reported."""
    old = before.status.value if before is not None else None
    return {
        "level": "info",
        "message": f"order {ev.order_id} {ev.side.value} {dec(ev.quantity)} {ev.symbol} "
        f"{ev.type.value.lower()}: {(old or '-').lower()} -> {ev.status.value.lower()}",
        "ts_ms": now_ms(),
        "order": {
            "account_id": ev.account_id,
            "symbol": ev.symbol,
            "order_id": ev.order_id,
            "client_id": ev.client_id,
            "side": ev.side.value,
            "type": ev.type.value,
            "status": ev.status.value,
            "previous_status": old,
            "quantity": dec(ev.quantity),
            "filled": dec(ev.filled),
            "avg_price": dec(ev.avg_price),
            "price": dec(ev.price),
            "stop_price": dec(ev.stop_price),
            "conditional": ev.is_conditional,
            "reduce_only": ev.reduce_only,
            "reject_reason": ev.reject_reason,
            "update_time_ms": ev.update_time_ms,
        },
    }


def api_error(exc: BrokerError) -> ApiError:
    details: dict[str, Any] = {}
    if exc.broker_code is not None:
        details["broker_code"] = exc.broker_code
    if exc.retry_after_s is not None:
        details["retry_after_s"] = round(exc.retry_after_s, 1)
    return ApiError(exc.code, exc.message, details or None)


class Desk:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.journal = Journal(host.paths.journal_file)
        self.portfolio = Portfolio()
        self.orders = OrdersBook()
        self.staleness = Staleness()
        self.quotes: dict[str, QuoteEvent] = {}
        self.links: dict[str, AccountLink] = {}
        self.active_id: str | None = None
        self.rate = OrderRate()
        self._watch: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._activating: asyncio.Lock = asyncio.Lock()
        self.protection: dict[str, Protection] = {}
        self.asl_overrides: dict[str, dict[PositionKey, bool]] = {}
        self.refresh: dict[str, RefreshPolicy] = {}
        self._flush_armed = False
        self._refresher: asyncio.Task[None] | None = None
        # told the topic of every change published (the local stream server listens here)
        self.topic_listeners: list[Callable[[str], None]] = []
        stream = host.stream
        stream.provide_snapshot("positions", self.positions_view)
        stream.provide_snapshot("orders", self.orders_view)
        stream.provide_snapshot("account", self.account_view)
        stream.provide_snapshot("quotes", self.quotes_view)
        stream.provide_snapshot("asl", self.asl_view)
        host.on_shutdown(self.close)

    def publish(self, topic: str, payload: Any) -> None:
        """Publish to the panel's stream, then tell every topic listener that `topic` changed."""
        self.host.stream.publish(topic, payload)
        for listener in self.topic_listeners:
            try:
                listener(topic)
            except Exception:  # a listener's failure never stops the panel's updates
                log.exception("topic listener failed on %s", topic)

    # -- views (the topics' payloads) -----------------------------------------------------------
    # The panel's topics show the active account (every connected account when none is active);
    # the local stream asks for all of them (`every=True`) and scopes each token itself.
    def positions_view(self, every: bool = False) -> dict[str, Any]:
        info = {k: v for p in self.protection.values() for k, v in p.info.items()}
        scope = None if every else self.active_id
        return positions_payload(self.portfolio.positions, asl=info, orders=self.orders, account_id=scope)

    def asl_view(self) -> dict[str, Any]:
        positions: dict[str, Any] = {}
        for p in self.protection.values():
            positions.update(p.latest)
        return {"enabled": self.host.config.asl_enabled, "positions": positions}

    def orders_view(self, every: bool = False) -> dict[str, Any]:
        return orders_payload(self.orders, None if every else self.active_id)

    def account_view(self, every: bool = False) -> dict[str, Any]:
        return account_view(self.portfolio, now_ms(), None if every else self.active_id)

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

    def brokers_status(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        out = []
        for link in self.links.values():
            event_age, _ = self.staleness.ages(f"user:{link.account_id}", now)
            _, price_age = self.staleness.ages(f"market:{link.broker.broker}", now)
            out.append(
                {
                    "account_id": link.account_id,
                    "broker": link.broker.broker,
                    "active": link.account_id == self.active_id,
                    "state": link.state.value,
                    "attempt": link.attempt,
                    "next_retry_s": link.next_retry_s,
                    "detail": link.detail,
                    "last_event_age_s": None if event_age is None else round(event_age, 1),
                    "user_stream_age_s": None if event_age is None else round(event_age, 1),
                    "last_price_age_s": None if price_age is None else round(price_age, 1),
                }
            )
        return out

    # -- events from brokers ----------------------------------------------------------------------
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
            link = self.links.get(account_id)
            if link is not None:
                self.staleness.on_price(f"market:{link.broker.broker}", mono)
            if ev.mark is not None:
                for guard in self.protection.values():
                    guard.on_mark(ev.symbol, ev.mark)
            if self.portfolio.apply(ev).positions:
                self.publish("positions", self.positions_view)
                self.publish("account", self.account_view)
            self.publish("quotes", self.quotes_view)
            return
        if isinstance(ev, ConnectionEvent):
            self._on_connection(account_id, ev)
            return
        if isinstance(ev, NoticeEvent):
            self._journal("event", {"kind": "NoticeEvent", "event": ev}, account_id, None)
            self.log(ev.level if ev.level in ("info", "warning", "error") else "info", ev.message)
            return
        event_ms = getattr(ev, "event_time_ms", 0) or getattr(ev, "ts_ms", 0) or 0
        self.staleness.on_event(f"user:{account_id}", mono, event_ms=event_ms, wall_ms=time.time() * 1000)
        policy = self.refresh.get(account_id)
        if policy is not None:
            policy.on_user_event(mono)
        # exchange events of one burst go to the journal in one transaction, after the loop has
        # handled the burst (an ack waiting behind them is not delayed by a commit per event)
        self.journal.append_soon(
            "event",
            {"kind": type(ev).__name__, "event": ev},
            account=account_id,
            client_id=getattr(ev, "client_id", None),
        )
        self._arm_flush()
        prot = self.protection.get(account_id)
        if isinstance(ev, OrderEvent):
            before = self.orders.get(account_id, ev.order_id, conditional=ev.is_conditional)
            if self.orders.apply(ev):
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
                    self.publish("log", order_change(ev, before))  # the panel's fills and statuses
                self.publish("orders", self.orders_view)
                self.publish("positions", self.positions_view)  # stop prices shown per position
                if prot is not None:
                    prot.on_order(ev)
            return
        if isinstance(ev, FillEvent | PositionEvent | BalanceEvent):
            changes = self.portfolio.apply(ev)
            if changes.positions:
                self.publish("positions", self.positions_view)
            if changes.account:
                self.publish("account", self.account_view)
            if prot is not None and isinstance(ev, PositionEvent) and changes.positions:
                prot.on_position(ev)

    def _on_connection(self, account_id: str, ev: ConnectionEvent) -> None:
        link = self.links.get(account_id)
        if link is None:
            return
        previous = link.state
        policy = self.refresh.get(account_id)
        if policy is not None:
            if ev.state is ConnectionState.CONNECTED:
                policy.on_connected(time.monotonic())
            else:
                policy.on_disconnected()
        link.state, link.attempt, link.detail, link.next_retry_s = (
            ev.state,
            ev.attempt,
            ev.detail,
            ev.next_retry_s,
        )
        if (
            ev.state is ConnectionState.CONNECTED
            and previous is ConnectionState.RECONNECTING
            and link.was_connected
        ):
            self._spawn(self.resync(account_id, reason="reconnected"))
        if ev.state is ConnectionState.AUTH_FAILED:
            self.log(
                "error", f"{account_id}: the broker refused the credentials ({ev.detail}); trading stopped"
            )
        self.publish("status", self.host.status)

    def log(self, level: str, message: str) -> None:
        log.log({"error": logging.ERROR, "warning": logging.WARNING}.get(level, logging.INFO), message)
        self.publish("log", {"level": level, "message": message, "ts_ms": now_ms()})

    def _arm_flush(self) -> None:
        if not self._flush_armed:
            self._flush_armed = True
            asyncio.get_running_loop().call_soon(self._flush_journal)

    def _flush_journal(self) -> None:
        self._flush_armed = False
        try:
            self.journal.flush()
        except JournalError as exc:
            self.log("error", str(exc))

    def _journal(self, kind: str, data: object, account: str | None, client_id: str | None) -> None:
        try:
            self.journal.append(kind, data, account=account, client_id=client_id)
        except JournalError as exc:
            self.log("error", str(exc))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- accounts -------------------------------------------------------------------------------
    def active(self) -> AccountLink:
        if self.active_id is None or self.active_id not in self.links:
            raise ApiError("not_connected", "no broker account is active: pick one in Setup")
        link = self.links[self.active_id]
        if link.state is ConnectionState.AUTH_FAILED:
            raise ApiError(
                "auth", f"the broker refused this account's credentials ({link.detail}); update them in Setup"
            )
        return link

    async def activate(self, account_id: str) -> AccountLink:
        async with self._activating:
            link = self.links.get(account_id)
            if link is None or link.state in (ConnectionState.DISCONNECTED, ConnectionState.AUTH_FAILED):
                if link is not None:
                    await self._close_link(link)
                entry = self.host.vault.get_entry(account_id)
                broker = build_broker(
                    entry,
                    self.sink_for(account_id),
                    self.host.config.simulators,
                    self.host.config.volumetrica_contracts,
                )
                link = AccountLink(account_id, broker)
                self.links[account_id] = link
                try:
                    await broker.connect()
                except BrokerError:
                    self.links.pop(account_id, None)
                    raise
                link.state = ConnectionState.CONNECTED
                link.was_connected = True
                policy = self.refresh[account_id] = RefreshPolicy(
                    min_refresh_interval(SNAPSHOT_WEIGHT, WEIGHT_PER_MINUTE)
                )
                policy.on_connected(time.monotonic())
                if self._refresher is None:
                    self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())
                await self.resync(account_id, reason="connected")
                self.portfolio.positions.set_rules(broker.instruments())
                await self.watch(
                    [*self.host.config.watchlist, *self._position_symbols(account_id)], link, quiet=True
                )
                self._start_protection(link)
                self._spawn(self.reconcile_open_intents(link))
            switched = self.active_id != account_id
            self.active_id = account_id
            if switched:  # the panel's tables now show another account
                for topic, view in (("positions", self.positions_view), ("orders", self.orders_view)):
                    self.publish(topic, view)
                self.publish("account", self.account_view)
            if self.host.config.active_account != account_id:
                self.host.update_config(active_account=account_id)
            self.publish("status", self.host.status)
            return link

    async def deactivate(self) -> None:
        if self.active_id is not None and self.active_id in self.links:
            await self._close_link(self.links.pop(self.active_id))
        self.active_id = None
        self.host.update_config(active_account=None)
        self.publish("status", self.host.status)

    async def _close_link(self, link: AccountLink) -> None:
        self.refresh.pop(link.account_id, None)
        prot = self.protection.pop(link.account_id, None)
        if prot is not None:
            await prot.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(link.broker.close(), 1.0)
        link.state = ConnectionState.DISCONNECTED

    async def _refresh_loop(self) -> None:
        """No polling: a snapshot only when a connected account's user stream has been silent for
        60 s, once per silence, spaced so it uses at most a tenth of the weight budget."""
        while True:
            await asyncio.sleep(REFRESH_CHECK_S)
            now = time.monotonic()
            for account_id, policy in list(self.refresh.items()):
                if account_id in self.links and policy.take(now):
                    self._spawn(self.resync(account_id, reason="a silent account stream (60 s)"))

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for task in list(self._tasks):
            task.cancel()
        for link in list(self.links.values()):
            await self._close_link(link)
        self.journal.close()

    # -- ASL ------------------------------------------------------------------------------------
    def asl_profile(self) -> AslProfile:
        raw = self.host.config.asl_profile
        return AslProfile() if raw is None else AslProfile.model_validate(raw)

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

    def _start_protection(self, link: AccountLink) -> None:
        if not self.host.config.asl_enabled or link.account_id in self.protection:
            return
        account_id = link.account_id
        prot = Protection(
            account_id,
            link.broker,
            self.asl_profile(),
            open_orders=lambda: self.orders.open_orders(account_id),
            positions=lambda: self.live_positions(account_id),
            on_event=self._asl_event,
            on_notify=self._asl_notify,
            journal=lambda kind, data, cid: self._journal(kind, data, account_id, cid),
            overrides=self.asl_overrides.setdefault(account_id, {}),
            reconcile_s=self.host.config.asl_reconcile_s,
        )
        self.protection[account_id] = prot
        marks = {s: m for s in self.quotes if (m := self.mark(s)) is not None}
        prot.start(marks)

    def _asl_event(self, ev: AslEvent) -> None:
        payload = ev.to_payload()
        payload["position_id"] = f"{ev.key.account_id}|{ev.key.symbol}|{ev.key.position_side.value}"
        self.publish("asl", payload)
        self.publish("positions", self.positions_view)

    def _asl_notify(self, n: Notify) -> None:
        self.log(n.severity, f"ASL {n.message}")

    async def set_asl(self, enabled: bool | None, profile: AslProfile | None) -> None:
        changes: dict[str, Any] = {}
        if enabled is not None:
            changes["asl_enabled"] = enabled
        if profile is not None:
            changes["asl_profile"] = profile.model_dump(mode="json")
        if changes:
            self.host.update_config(**changes)
        # a new profile or switch applies from now on: restart each account's engine, which
        # rebuilds from the exchange's open stops (levels already reached are kept by their ids)
        for account_id in list(self.protection):
            await self.protection.pop(account_id).stop()
        if self.host.config.asl_enabled:
            for link in self.links.values():
                if link.state is ConnectionState.CONNECTED:
                    self._start_protection(link)
        self.publish("asl", self.asl_view)

    def asl_toggle(self, symbol: str, position_side: PositionSide, enabled: bool) -> None:
        link = self.active()
        prot = self.protection.get(link.account_id)
        if prot is None:
            raise ApiError("invalid", "ASL is switched off in Setup")
        prot.set_enabled(PositionKey(link.account_id, symbol, position_side), enabled)

    def breakeven(self, symbol: str, position_side: PositionSide) -> None:
        link = self.active()
        prot = self.protection.get(link.account_id)
        if prot is None:
            raise ApiError("invalid", "move-to-breakeven needs ASL, which is switched off in Setup")
        pos = self.portfolio.positions.get(link.account_id, symbol, position_side)
        if pos is None or pos.quantity == 0:
            raise ApiError("invalid", f"no open {symbol} {position_side.value} position")
        prot.breakeven(PositionKey(link.account_id, symbol, position_side))

    def _position_symbols(self, account_id: str) -> list[str]:
        return sorted({p.symbol for p in self.portfolio.positions.positions(account_id)})

    async def watch(
        self, symbols: list[str], link: AccountLink | None = None, *, quiet: bool = False
    ) -> list[str]:
        link = link or self.active()
        known = link.broker.instruments()
        unknown = sorted({s.upper() for s in symbols} - set(known))
        if unknown and not quiet:
            raise ApiError(
                "invalid", f"not traded on this account: {', '.join(unknown)}", {"field": "symbols"}
            )
        wanted = [s.upper() for s in symbols if s.upper() in known]
        new = [s for s in dict.fromkeys(wanted) if s not in self._watch]
        if new:
            await link.broker.subscribe_quotes(new)
            self._watch.update(new)
        return sorted(self._watch)

    async def resync(self, account_id: str, reason: str) -> AccountSnapshot | None:
        """Replace local state by the exchange's (the exchange is the source of truth)."""
        link = self.links.get(account_id)
        if link is None:
            return None
        if link.resyncing:
            # a snapshot already in flight may predate what this request is about: run once more
            link.resync_again = reason
            return None
        link.resyncing = True
        try:
            snap = await link.broker.snapshot()
        except BrokerError as exc:
            self.log("warning", f"{account_id}: resync after {reason} failed: {exc.message}")
            return None
        finally:
            link.resyncing = False
            again, link.resync_again = link.resync_again, None
            if again is not None:
                self._spawn(self.resync(account_id, again))
        before = {p.key: p.quantity for p in self.portfolio.positions.positions(account_id)}
        self.portfolio.apply(snap)
        self.orders.apply_snapshot(snap)
        after = {p.key: p.quantity for p in self.portfolio.positions.positions(account_id)}
        for key in sorted(set(before) | set(after), key=str):
            if before.get(key, ZERO) != after.get(key, ZERO):
                self.log(
                    "info",
                    f"{key[1]} {key[2].value}: position corrected from {before.get(key, ZERO)} to "
                    f"{after.get(key, ZERO)} after {reason}",
                )
        self._journal("correction", {"reason": reason, "snapshot": snap}, account_id, None)
        self.publish("positions", self.positions_view)
        self.publish("orders", self.orders_view)
        self.publish("account", self.account_view)
        return snap

    # -- intents --------------------------------------------------------------------------------
    def rules(self, link: AccountLink, symbol: str) -> InstrumentRules:
        rules = link.broker.instruments().get(symbol)
        if rules is None:
            raise ApiError("invalid", f"{symbol} is not traded on this account", {"field": "symbol"})
        return rules

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

    def risk_limits(self) -> RiskLimits:
        r = self.host.config.risk
        return RiskLimits(
            r.max_order_notional, r.max_position_notional, r.max_orders_per_minute, r.confirm_above_notional
        )

    def position_qty(self, account_id: str, symbol: str) -> Decimal:
        return sum(
            (p.quantity for p in self.portfolio.positions.positions(account_id) if p.symbol == symbol), ZERO
        )

    def preview(self, ticket: Ticket, source: Source, *, kind: ClientKind = "m") -> Preview:
        link = self.active()
        rules = self.rules(link, ticket.symbol)
        cid = make_client_id(kind)
        try:
            request = prepare(
                ticket,
                rules,
                client_id=cid,
                mark_price=self.mark(ticket.symbol),
                hedge_mode=bool(getattr(link.broker, "hedge_mode", False)),
            )
        except PreflightError as exc:
            raise ApiError("invalid", str(exc), exc.details()) from None
        ref = request.price or self.mark(ticket.symbol) or ZERO
        notional = request.quantity * ref * rules.contract_multiplier
        pos = self.position_qty(link.account_id, ticket.symbol)
        after = pos + request.side.sign * request.quantity
        decision = evaluate(
            self.risk_limits(),
            order_notional=notional,
            position_notional_after=abs(after) * ref * rules.contract_multiplier,
            reduces_only=request.reduce_only or abs(after) < abs(pos),
            source=source,
            orders_last_minute=self.rate.count(now_ms()),
        )
        return Preview(link, request, decision, notional)

    async def place_ticket(
        self,
        ticket: Ticket,
        source: Source,
        *,
        confirmed: bool,
        leverage: int | None = None,
        asl: bool = True,
    ) -> dict[str, Any]:
        t0 = time.perf_counter_ns()
        pv = self.preview(ticket, source, kind="h" if source == "hotkey" else "m")
        link, request, decision, notional = pv.link, pv.request, pv.decision, pv.notional
        if decision.action == "refuse":
            self._journal(
                "outcome",
                {"refused": decision.reason, "request": request},
                link.account_id,
                request.client_id,
            )
            raise ApiError("rejected", decision.reason, {"limit": decision.limit})
        if decision.action == "confirm" and not confirmed:
            if source == "hotkey":
                raise ApiError(
                    "rejected", f"{decision.reason}: confirm it in the panel", {"limit": decision.limit}
                )
            return {"status": "confirm", "reason": decision.reason, "notional": dec(notional, 2)}
        prot = self.protection.get(link.account_id)
        if prot is not None and not request.reduce_only:
            prot.set_enabled(PositionKey(link.account_id, request.symbol, request.position_side), asl)
        if leverage is not None:
            try:
                await link.broker.set_leverage(request.symbol, leverage)
            except BrokerError as exc:
                raise api_error(exc) from None
            t0 = time.perf_counter_ns()  # host latency is the order's own path, not the leverage call
        placed = await self.place(link, request, source, t0)
        return placed.reply()

    async def place(
        self, link: AccountLink, request: OrderRequest, source: Source, t0: int | None = None
    ) -> Placed:
        """Journal the intent, send it, journal the outcome (before the reply is sent).

        The intent is queued and committed in the same loop iteration, just after the frame has
        left (its commit would otherwise sit on the order's path); the outcome is committed before
        the reply. A crash in the microseconds between can only lose the record of an intent
        nobody was told about, whose order the next resync shows anyway."""
        t0 = t0 if t0 is not None else time.perf_counter_ns()
        self.journal.append_soon(
            "intent",
            {"source": source, "request": request},
            account=link.account_id,
            client_id=request.client_id,
        )
        self._arm_flush()
        self.rate.record(now_ms())
        t_send = time.perf_counter_ns()
        try:
            ack = await link.broker.place(request)
        except BrokerError as exc:
            outcome = "unknown — reconciling" if exc.code == "unknown_outcome" else "refused"
            self._journal(
                "outcome",
                {"status": outcome, "code": exc.code, "message": exc.message, "broker_code": exc.broker_code},
                link.account_id,
                request.client_id,
            )
            if exc.code == "unknown_outcome":
                self._spawn(self.reconcile(link, request))
            raise api_error(exc) from None
        t_ack = time.perf_counter_ns()
        self._journal("outcome", {"status": ack.status.value, "ack": ack}, link.account_id, request.client_id)
        sent_ns: int | None = ack.sent_ns if t_send <= ack.sent_ns <= t_ack else None
        host_us = None if sent_ns is None else (sent_ns - t0) / 1000
        roundtrip_ms = (t_ack - (sent_ns or t_send)) / 1e6
        return Placed(ack, request, host_us, roundtrip_ms)

    async def reconcile_open_intents(self, link: AccountLink) -> None:
        """Intents journaled before a crash with no outcome: ask the exchange what became of each
        (by client id) and journal the answer, so every intent ends with a definite outcome."""
        for rec in self.journal.open_intents():
            if rec.account != link.account_id or rec.client_id is None:
                continue
            req = rec.data.get("request")
            if not isinstance(req, dict) or not isinstance(req.get("symbol"), str):
                continue
            conditional = str(req.get("type", "")) not in ("MARKET", "LIMIT")
            try:
                found = await link.broker.lookup(req["symbol"], rec.client_id, conditional=conditional)
            except BrokerError as exc:
                self.log("warning", f"order {rec.client_id}: still unknown after the restart ({exc.message})")
                continue
            status = found.status.value if found is not None else "NOT_FOUND"
            self._journal(
                "outcome", {"status": status, "reconciled": "after restart"}, link.account_id, rec.client_id
            )
            self.log("info", f"order {rec.client_id} from before the restart: {status.lower()}")

    async def reconcile(self, link: AccountLink, request: OrderRequest, attempts: int = 5) -> None:
        """A lost reply: look the order up by client id until the exchange says yes or no."""
        for i in range(attempts):
            await asyncio.sleep(min(0.5 * 2**i, 5.0))
            try:
                found = await link.broker.lookup(
                    request.symbol, request.client_id, conditional=request.type.is_conditional
                )
            except BrokerError:
                continue
            status = found.status.value if found is not None else "NOT_FOUND"
            self._journal(
                "outcome", {"status": status, "reconciled": True}, link.account_id, request.client_id
            )
            if found is not None:
                self.orders.apply(found)
                self.publish("orders", self.orders_view)
            self.log("info", f"order {request.client_id}: outcome resolved as {status}")
            return
        self.log("error", f"order {request.client_id}: outcome still unknown; check the exchange")

    async def cancel(
        self, symbol: str, *, order_id: str | None, client_id: str | None, conditional: bool
    ) -> OrderAck:
        link = self.active()
        try:
            ack = await link.broker.cancel(
                symbol, order_id=order_id, client_id=client_id, conditional=conditional
            )
        except BrokerError as exc:
            raise api_error(exc) from None
        self._journal("outcome", {"cancel": ack}, link.account_id, ack.client_id)
        return ack

    async def modify(
        self, symbol: str, order_id: str, side: Side, price: Decimal, quantity: Decimal
    ) -> OrderAck:
        link = self.active()
        rules = self.rules(link, symbol)
        from sidedesk.core.orders import check_price, check_quantity, round_price

        try:
            price = round_price(price, side, rules)
            check_price(price, side, rules)
            check_quantity(quantity, rules, market=False)
        except PreflightError as exc:
            raise ApiError("invalid", str(exc), exc.details()) from None
        try:
            ack = await link.broker.modify(symbol, order_id, quantity=quantity, price=price, side=side)
        except BrokerError as exc:
            raise api_error(exc) from None
        self._journal("outcome", {"modify": ack}, link.account_id, ack.client_id)
        return ack

    async def cancel_all(self, symbol: str | None) -> int:
        link = self.active()
        try:
            n = await link.broker.cancel_all(symbol)
        except BrokerError as exc:
            raise api_error(exc) from None
        self._journal("outcome", {"cancel_all": symbol or "*", "cancelled": n}, link.account_id, None)
        return n

    async def close_position(
        self, symbol: str, position_side: PositionSide, fraction: Decimal, source: Source
    ) -> Placed:
        link = self.active()
        rules = self.rules(link, symbol)
        pos = self.portfolio.positions.get(link.account_id, symbol, position_side)
        if pos is None or pos.quantity == 0:
            raise ApiError("invalid", f"no open {symbol} {position_side.value} position to close")
        event = PositionEvent(link.account_id, symbol, position_side, pos.quantity, pos.entry_price)
        try:
            request = close_order(
                event, fraction, rules, client_id=make_client_id("h" if source == "hotkey" else "m")
            )
        except PreflightError as exc:
            raise ApiError("invalid", str(exc), exc.details()) from None
        if not getattr(link.broker, "hedge_mode", False):
            request = replace(request, position_side=PositionSide.BOTH)
        return await self.place(link, request, source)

    async def flatten(self, source: Source) -> dict[str, Any]:
        """Cancel every order (regular and conditional), then close every position reduce-only,
        from the exchange's own snapshot so nothing local and stale is trusted."""
        link = self.active()
        errors: list[str] = []
        # ASL would answer the cancelled stops with new ones: pause it for the account while
        # everything is closed, then let it rebuild from what is left (normally nothing).
        prot = self.protection.pop(link.account_id, None)
        if prot is not None:
            await prot.stop()
        try:
            return await self._flatten(link, source, errors)
        finally:
            if prot is not None:
                self._start_protection(link)

    async def _flatten(self, link: AccountLink, source: Source, errors: list[str]) -> dict[str, Any]:
        try:
            cancelled = await link.broker.cancel_all(None)
        except BrokerError as exc:
            cancelled = 0
            errors.append(f"cancel all: {exc.message}")
        try:
            snap = await link.broker.snapshot()
        except BrokerError as exc:
            raise api_error(exc) from None
        closed = 0
        for pos in snap.positions:
            if pos.quantity == 0:
                continue
            rules = link.broker.instruments().get(pos.symbol)
            if rules is None:
                errors.append(f"{pos.symbol}: unknown instrument")
                continue
            request = close_order(
                pos, Decimal(1), rules, client_id=make_client_id("h" if source == "hotkey" else "m")
            )
            try:
                await self.place(link, request, source)
                closed += 1
            except ApiError as exc:
                errors.append(f"{pos.symbol}: {exc.message}")
        try:  # anything placed while we were closing (another tool, a late trigger)
            cancelled += await link.broker.cancel_all(None)
        except BrokerError as exc:
            errors.append(f"final cancel all: {exc.message}")
        self._journal(
            "outcome",
            {"flatten": True, "cancelled": cancelled, "closed": closed, "errors": errors},
            link.account_id,
            None,
        )
        return {"cancelled": cancelled, "closed": closed, "errors": errors}
