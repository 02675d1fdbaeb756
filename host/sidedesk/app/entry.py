"""Order entry: tickets become validated, risk-checked orders, each run through the order
intent machine (`core/intent.py`), the same for every broker.

Write-ahead: the intent is on disk (the journal's write-ahead file) before its frame can leave
(the machine hands out `Send` only for `Journaled`); its outcome is committed before the reply.
Every reply is applied to local order state at once (a place's ack, a cancel, a cancel-all, a
modify), so nothing waits for a user stream that may be down. A lost reply is resolved here,
once for all brokers: the order is looked up by client id with back-off until the exchange says
yes or no; it is never re-sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from sidedesk.app.books import Books
from sidedesk.app.links import AccountLink, AccountLinks
from sidedesk.app.notices import Notices, now_ms
from sidedesk.app.recorder import Recorder
from sidedesk.app.settings import Settings
from sidedesk.core import intent as im
from sidedesk.core.intent import Intent
from sidedesk.core.lock import ActionKind, VaultState, decide
from sidedesk.core.orders import (
    ClientKind,
    PreflightError,
    Ticket,
    check_price,
    check_quantity,
    close_order,
    make_client_id,
    prepare,
    round_price,
)
from sidedesk.core.risk import OrderRate, RiskDecision, RiskLimits, evaluate
from sidedesk.core.views import dec
from sidedesk.domain import (
    BrokerError,
    InstrumentRules,
    OrderAck,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    PositionEvent,
    PositionSide,
    Side,
)
from sidedesk.domain.errors import Refused

log = logging.getLogger(__name__)

Source = Literal["panel", "hotkey", "asl"]
ZERO = Decimal(0)


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
    quote: str
    reduces: bool = False  # only takes risk off (reduce-only, or it shrinks the position)


@dataclass
class Pending:
    """An intent whose outcome is being looked up, and what the lookup needs."""

    intent: Intent
    account_id: str
    symbol: str
    conditional: bool
    timer: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def order_from_ack(account_id: str, request: OrderRequest, ack: OrderAck) -> OrderEvent:
    """The order as the place reply describes it, for the books until the stream says more."""
    return OrderEvent(
        account_id,
        request.symbol,
        ack.order_id,
        ack.client_id or request.client_id,
        request.side,
        request.type,
        ack.status,
        request.quantity,
        ack.filled,
        price=request.price,
        stop_price=request.stop_price,
        avg_price=ack.avg_price,
        reduce_only=request.reduce_only,
        position_side=request.position_side,
        time_in_force=request.time_in_force,
        is_conditional=ack.is_conditional,
        callback_rate_pct=request.callback_rate_pct,
        activation_price=request.activation_price,
        working_type=request.working_type,
        update_time_ms=ack.update_time_ms,
    )


def units(rules: InstrumentRules, quantity_unit: str) -> str:
    """How a quantity of this instrument is said: coins, contracts or shares."""
    return {"contracts": "contracts", "shares": "shares"}.get(quantity_unit, rules.base_asset)


async def _nothing_paused(account_id: str) -> bool:
    return False


class OrderEntry:
    def __init__(
        self,
        *,
        links: AccountLinks,
        books: Books,
        recorder: Recorder,
        notices: Notices,
        settings: Settings,
        vault_state: Callable[[], VaultState] = lambda: "unlocked",
        activity: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._links = links
        self._vault_state = vault_state
        self._activity = activity
        self._books = books
        self._recorder = recorder
        self._notices = notices
        self._settings = settings
        self._clock = clock
        self.rate = OrderRate()
        self.pending: dict[str, Pending] = {}
        # protection hooks (set by the composition root): per-position ASL choice, pause/resume
        self.on_new_position: Callable[[str, str, PositionSide, bool], None] = lambda *a: None
        self.pause_protection: Callable[[str], Awaitable[bool]] = _nothing_paused
        self.resume_protection: Callable[[AccountLink], None] = lambda link: None
        # a whole close on a broker without reduce-only: ASL holds off replacing the position's
        # stops until it resolves (account, symbol, position side, client id)
        self.on_closing: Callable[[str, str, PositionSide, str], None] = lambda *a: None
        self.on_close_failed: Callable[[str, str, str], None] = lambda *a: None
        links.live_listeners.append(lambda link, first: self.recover_intents(link))

    # -- checks ---------------------------------------------------------------------------------
    def allow(self, kind: ActionKind) -> None:
        """Refuse a trader's action the locked vault does not allow (core/lock.py decides); what
        protection does itself (`place`, `cancel_on` from ASL) never comes through here."""
        d = decide(
            self._vault_state(), kind, require_unlock_to_reduce=self._settings.config.require_unlock_to_reduce
        )
        if not d.allowed:
            raise Refused("locked", d.reason, {"locked": True})
        # a trader at work: the auto-lock counts from the last action, not the last vault request
        self._activity()

    def rules(self, link: AccountLink, symbol: str) -> InstrumentRules:
        rules = link.broker.instruments().get(symbol)
        if rules is None:
            raise Refused("invalid", f"{symbol} is not traded on this account", {"field": "symbol"})
        return rules

    def risk_limits(self, broker: str) -> RiskLimits:
        """The limits for an account of `broker`: the confirmation threshold is the broker's own
        (store/config.py RiskSettings.confirm_threshold), in that account's currency."""
        r = self._settings.config.risk
        return RiskLimits(
            r.max_order_notional,
            r.max_position_notional,
            r.max_orders_per_minute,
            r.confirm_threshold(broker),
        )

    def preview(self, ticket: Ticket, source: Source, *, kind: ClientKind = "m") -> Preview:
        link = self._links.active()
        rules = self.rules(link, ticket.symbol)
        mark = self._books.mark(ticket.symbol)
        try:
            request = prepare(
                ticket,
                rules,
                client_id=make_client_id(kind),
                mark_price=mark,
                hedge_mode=bool(getattr(link.broker, "hedge_mode", False)),
            )
        except PreflightError as exc:
            raise Refused("invalid", str(exc), exc.details()) from None
        ref = request.price or mark or ZERO
        notional = request.quantity * ref * rules.contract_multiplier
        pos = self._books.position_qty(link.account_id, ticket.symbol)
        after = pos + request.side.sign * request.quantity
        quote = rules.quote_asset or "USD"
        reduces = request.reduce_only or abs(after) < abs(pos)
        decision = evaluate(
            self.risk_limits(str(getattr(link.broker, "broker", ""))),
            order_notional=notional,
            position_notional_after=abs(after) * ref * rules.contract_multiplier,
            reduces_only=reduces,
            source=source,
            orders_last_minute=self.rate.count(now_ms()),
            quote=quote,
        )
        return Preview(link, request, decision, notional, quote, reduces)

    # -- placing --------------------------------------------------------------------------------
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
        # a reduce-only ticket, or one that only shrinks the position, takes risk off
        self.allow("reduce" if pv.reduces else "open")
        link, request, decision = pv.link, pv.request, pv.decision
        if decision.action == "refuse":
            self._recorder.now(
                "outcome",
                {"refused": decision.reason, "request": request},
                link.account_id,
                request.client_id,
            )
            raise Refused("rejected", decision.reason, {"limit": decision.limit})
        if decision.action == "confirm" and not confirmed:
            # nothing is sent: the panel (or, for a hotkey, the extension's worker) asks the trader
            # and sends the same ticket again with `confirmed`
            return {
                "status": "confirm",
                "reason": decision.reason,
                "notional": dec(pv.notional, 2),
                "currency": pv.quote,
                "quantity": dec(request.quantity),
                "price": dec(request.price),
                "message": f"waiting for your confirmation: {decision.reason}",
            }
        if not request.reduce_only:
            self.on_new_position(link.account_id, request.symbol, request.position_side, asl)
        if leverage is not None:
            await link.broker.set_leverage(request.symbol, leverage)
            t0 = time.perf_counter_ns()  # host latency is the order's own path, not the leverage call
        placed = await self.place(link, request, source, t0)
        return {**placed.reply(), "currency": pv.quote}  # so a hotkey's notice can name it

    async def place(
        self, link: AccountLink, request: OrderRequest, source: Source, t0: int | None = None
    ) -> Placed:
        """One order through the intent machine: journaled (committed), sent, answered."""
        t0 = t0 if t0 is not None else time.perf_counter_ns()
        account_id = link.account_id
        intent = Intent(request.client_id)
        intent_data = {"source": source, "request": request}
        # on disk (the write-ahead file, ~1 µs) before the frame leaves; committed to SQLite at
        # the end of this burst, while the exchange answers, and at the latest with the outcome
        if not self._recorder.ahead("intent", intent_data, account_id, request.client_id):
            raise Refused(
                "internal", "the journal could not record the order, so it was not sent; see the log"
            )
        intent, commands = im.step(intent, im.Journaled(), self._clock())
        assert commands == [im.Send()]  # the machine's write-ahead rule, kept visible here
        self.rate.record(now_ms())
        intent, _ = im.step(intent, im.Sent(), self._clock())
        # without reduce-only, a whole close takes the position's stops down with it, at the venue
        # (Tradovate liquidatePosition, Volumetrica FLAT_CANCEL) or in the adapter (Alpaca frees
        # the shares they hold): ASL must not answer their cancel with a new stop that the closing
        # fill would leave behind
        hold_off = request.closes_position and not link.broker.capabilities.reduce_only
        if hold_off and source != "asl":
            self.on_closing(account_id, request.symbol, request.position_side, request.client_id)
        t_send = time.perf_counter_ns()
        try:
            ack = await link.broker.place(request)
        except BrokerError as exc:
            if hold_off and exc.code != "unknown_outcome":
                self.on_close_failed(account_id, request.client_id, exc.message)
            event: im.IntentEvent = (
                im.Lost(exc.message) if exc.code == "unknown_outcome" else im.Rejected(exc.code, exc.message)
            )
            intent, commands = im.step(intent, event, self._clock())
            pending = Pending(intent, account_id, request.symbol, request.type.is_conditional)
            self._carry_out(pending, commands, broker_code=exc.broker_code)
            raise
        t_ack = time.perf_counter_ns()
        intent, commands = im.step(intent, im.Acked(ack.status.value), self._clock())
        self._carry_out(
            Pending(intent, account_id, request.symbol, request.type.is_conditional), commands, ack=ack
        )
        # the reply updates the books, just after the trader's answer has gone out
        asyncio.get_running_loop().call_soon(self._apply_ack, account_id, request, ack)
        sent_ns: int | None = ack.sent_ns if t_send <= ack.sent_ns <= t_ack else None
        host_us = None if sent_ns is None else (sent_ns - t0) / 1000
        roundtrip_ms = (t_ack - (sent_ns or t_send)) / 1e6
        return Placed(ack, request, host_us, roundtrip_ms)

    def _apply_ack(self, account_id: str, request: OrderRequest, ack: OrderAck) -> None:
        if ack.order_id:
            self._books.apply_order(account_id, order_from_ack(account_id, request, ack))

    # -- the intent machine's commands ------------------------------------------------------------
    def _carry_out(self, p: Pending, commands: list[im.IntentCommand], **detail: Any) -> None:
        cid = p.intent.client_id
        for cmd in commands:
            if isinstance(cmd, im.Record):
                data: dict[str, Any] = {"status": cmd.status, **cmd.detail}
                if detail.get("ack") is not None:
                    data["ack"] = detail["ack"]
                if detail.get("broker_code") is not None:
                    data["broker_code"] = detail["broker_code"]
                # committed before the reply goes out: the journal loses nothing acknowledged
                self._recorder.now("outcome", data, p.account_id, cid)
            elif isinstance(cmd, im.LookupAt):
                self.pending[cid] = p
                if p.timer is not None:
                    p.timer.cancel()
                delay = max(0.0, cmd.at - self._clock())
                p.timer = asyncio.get_running_loop().call_later(delay, self._lookup_due, cid)
            elif isinstance(cmd, im.Lookup):
                p.task = asyncio.get_running_loop().create_task(self._lookup(p))
            elif isinstance(cmd, im.Say):
                self._notices.tell(cmd.level, cmd.message)
        if p.intent.done:
            self.pending.pop(cid, None)

    def _feed(self, p: Pending, event: im.IntentEvent) -> None:
        p.intent, commands = im.step(p.intent, event, self._clock())
        self._carry_out(p, commands)

    def _lookup_due(self, client_id: str) -> None:
        p = self.pending.get(client_id)
        if p is not None:
            p.timer = None
            self._feed(p, im.LookupDue())

    async def _lookup(self, p: Pending) -> None:
        link = self._links.links.get(p.account_id)
        if link is None or not link.tradable:
            self._feed(p, im.LookupFailed("the account is not connected"))
            return
        try:
            found = await link.broker.lookup(p.symbol, p.intent.client_id, conditional=p.conditional)
        except BrokerError as exc:
            self._feed(p, im.LookupFailed(exc.message))
            return
        except Exception as exc:
            log.exception("looking up %s failed", p.intent.client_id)
            self._feed(p, im.LookupFailed(type(exc).__name__))
            return
        if found is None:
            self._feed(p, im.NotFound())
            return
        self._books.apply_order(p.account_id, found)
        self._feed(p, im.Found(found.status.value))

    def recover_intents(self, link: AccountLink) -> None:
        """Intents on disk with no outcome (a crash between send and answer): look each up."""
        # intents journaled under the entry's id alone (a Tradovate or Volumetrica entry before
        # its login's accounts could be picked) were sent on the account the entry remembers
        mine = {link.account_id}
        if self._remembered_account_link(link):
            mine.add(link.entry_id)
        for rec in self._recorder.journal.open_intents():
            if rec.account not in mine or rec.client_id is None or rec.client_id in self.pending:
                continue
            req = rec.data.get("request")
            if not isinstance(req, dict) or not isinstance(req.get("symbol"), str):
                continue
            conditional = str(req.get("type", "")) not in ("MARKET", "LIMIT")
            p = Pending(Intent(rec.client_id), link.account_id, req["symbol"], conditional)
            self._feed(p, im.Recovered())

    def _remembered_account_link(self, link: AccountLink) -> bool:
        """Whether `link` trades its entry's remembered account: the one it names, or (an entry
        that names none yet) the first of its login's links, which the venue's default chose."""
        if link.venue_account is None:
            return False
        remembered = getattr(link.entry, "account", None)
        if remembered is not None:
            return bool(remembered == link.venue_account)
        first = next((li for li in self._links.links.values() if li.entry_id == link.entry_id), None)
        return first is link

    # -- replies to other requests ----------------------------------------------------------------
    async def cancel(
        self, symbol: str, *, order_id: str | None, client_id: str | None, conditional: bool
    ) -> OrderAck:
        self.allow("reduce")
        link = self._links.active()
        return await self.cancel_on(
            link, symbol, order_id=order_id, client_id=client_id, conditional=conditional
        )

    async def cancel_on(
        self,
        link: AccountLink,
        symbol: str,
        *,
        order_id: str | None,
        client_id: str | None,
        conditional: bool,
    ) -> OrderAck:
        """Cancel one order and apply the answer to the books (the stream may be down)."""
        known = self._find(link.account_id, symbol, order_id, client_id, conditional)
        try:
            ack = await link.broker.cancel(
                symbol, order_id=order_id, client_id=client_id, conditional=conditional
            )
        except BrokerError as exc:
            if exc.reason == "order_not_found" and known is not None:
                self._books.forget_orders([known])  # gone already: the books agree with the exchange
            raise
        self._recorder.now("outcome", {"cancel": ack}, link.account_id, ack.client_id)
        if known is not None:
            status = ack.status if ack.status.is_final else OrderStatus.CANCELED
            self._books.apply_order(
                link.account_id, replace(known, status=status, filled=max(known.filled, ack.filled))
            )
        return ack

    def _find(
        self, account_id: str, symbol: str, order_id: str | None, client_id: str | None, conditional: bool
    ) -> OrderEvent | None:
        for o in self._books.open_orders(account_id):
            if o.symbol != symbol or o.is_conditional != conditional:
                continue
            if (order_id is not None and o.order_id == order_id) or (
                client_id is not None and o.client_id == client_id
            ):
                return o
        return None

    async def modify(
        self, symbol: str, order_id: str, side: Side, price: Decimal, quantity: Decimal
    ) -> OrderAck:
        self.allow("open")  # a changed limit order can add risk (a larger size, a nearer price)
        link = self._links.active()
        rules = self.rules(link, symbol)
        try:
            price = round_price(price, side, rules)
            check_price(price, side, rules)
            check_quantity(quantity, rules, market=False)
        except PreflightError as exc:
            raise Refused("invalid", str(exc), exc.details()) from None
        known = self._find(link.account_id, symbol, order_id, None, False)
        ack = await link.broker.modify(symbol, order_id, quantity=quantity, price=price, side=side)
        self._recorder.now("outcome", {"modify": ack}, link.account_id, ack.client_id)
        if known is not None and ack.order_id == known.order_id:
            changed = replace(
                known, price=price, quantity=quantity, status=ack.status, update_time_ms=ack.update_time_ms
            )
            self._books.apply_order(link.account_id, changed)
        return ack

    async def cancel_all(self, symbol: str | None) -> int:
        self.allow("reduce")
        return await self.cancel_all_on(self._links.active(), symbol)

    async def cancel_all_on(self, link: AccountLink, symbol: str | None) -> int:
        """Cancel every open order (regular and conditional); the books drop them at once."""
        before = [o for o in self._books.open_orders(link.account_id) if symbol is None or o.symbol == symbol]
        n = await link.broker.cancel_all(symbol)
        self._recorder.now("outcome", {"cancel_all": symbol or "*", "cancelled": n}, link.account_id, None)
        self._books.forget_orders(before)
        return n

    async def close_position(
        self, symbol: str, position_side: PositionSide, fraction: Decimal, source: Source
    ) -> Placed:
        self.allow("reduce")
        link = self._links.active()
        rules = self.rules(link, symbol)
        pos = self._books.portfolio.positions.get(link.account_id, symbol, position_side)
        if pos is None or pos.quantity == 0:
            raise Refused("invalid", f"no open {symbol} {position_side.value} position to close")
        event = PositionEvent(link.account_id, symbol, position_side, pos.quantity, pos.entry_price)
        try:
            request = close_order(
                event, fraction, rules, client_id=make_client_id("h" if source == "hotkey" else "m")
            )
        except PreflightError as exc:
            raise Refused("invalid", str(exc), exc.details()) from None
        if not getattr(link.broker, "hedge_mode", False):
            request = replace(request, position_side=PositionSide.BOTH)
        return await self.place(link, request, source)

    async def flatten(self, source: Source) -> dict[str, Any]:
        """Cancel every order (regular and conditional), then close every position reduce-only,
        from the exchange's own snapshot so nothing local and stale is trusted."""
        self.allow("reduce")
        link = self._links.active()
        # ASL would answer the cancelled stops with new ones: pause it for the account while
        # everything is closed, then let it rebuild from what is left (normally nothing).
        paused = await self.pause_protection(link.account_id)
        try:
            return await self._flatten(link, source)
        finally:
            if paused:
                self.resume_protection(link)

    async def _flatten(self, link: AccountLink, source: Source) -> dict[str, Any]:
        """With reduce-only stops (Binance): cancel everything, close every position from the
        exchange's snapshot, then cancel anything placed meanwhile (a stop kept a moment too long
        cannot open a position there). Without reduce-only (Tradovate, Volumetrica, Alpaca) a stop
        cancelled before its close leaves the position bare, and one cancelled once its close is
        confirmed (a round trip later) may fire and open the opposite position: there, from the
        snapshot, each position's close and the cancels of its symbol's orders go out together,
        nothing awaited between them, then the other orders' cancels, then the same final sweep.
        Where the close itself cancels its symbol's orders at the venue (`close_cancels_orders`:
        Tradovate's liquidatePosition, Volumetrica's FLAT_CANCEL) the close goes alone and the
        venue takes the stops down."""
        errors: list[str] = []
        kind: Literal["h", "m"] = "h" if source == "hotkey" else "m"
        if link.broker.capabilities.reduce_only:
            try:
                cancelled = await self.cancel_all_on(link, None)
            except BrokerError as exc:
                cancelled = 0
                errors.append(f"cancel all: {exc.message}")
            snap = await link.broker.snapshot()
            closed = 0
            for pos in snap.positions:
                if pos.quantity == 0:
                    continue
                rules = link.broker.instruments().get(pos.symbol)
                if rules is None:
                    errors.append(f"{pos.symbol}: unknown instrument")
                    continue
                request = close_order(pos, Decimal(1), rules, client_id=make_client_id(kind))
                try:
                    await self.place(link, request, source)
                    closed += 1
                except Refused as exc:
                    errors.append(f"{pos.symbol}: {exc.message}")
        else:
            snap = await link.broker.snapshot()
            tally = {"closed": 0, "cancelled": 0}

            async def close(pos: PositionEvent, rules: InstrumentRules) -> None:
                request = close_order(pos, Decimal(1), rules, client_id=make_client_id(kind))
                try:
                    await self.place(link, request, source)
                except (Refused, BrokerError) as exc:
                    errors.append(f"{pos.symbol}: {exc.message}")
                    return
                tally["closed"] += 1

            async def cancel(o: OrderEvent) -> None:
                try:
                    await self.cancel_on(
                        link,
                        o.symbol,
                        order_id=o.order_id or None,
                        client_id=o.client_id or None,
                        conditional=o.is_conditional,
                    )
                except BrokerError as exc:
                    if exc.reason != "order_not_found":  # else gone already: filled or cancelled
                        errors.append(f"cancel {o.symbol} {o.client_id or o.order_id}: {exc.message}")
                    return
                tally["cancelled"] += 1

            held = [o for o in snap.open_orders if o.status.is_open]
            jobs: list[Awaitable[None]] = []
            closing: set[str] = set()
            for pos in snap.positions:
                if pos.quantity == 0:
                    continue
                rules = link.broker.instruments().get(pos.symbol)
                if rules is None:
                    errors.append(f"{pos.symbol}: unknown instrument")
                    continue
                closing.add(pos.symbol)
                jobs.append(close(pos, rules))
                if not link.broker.capabilities.close_cancels_orders:
                    jobs.extend(cancel(o) for o in held if o.symbol == pos.symbol)
            jobs.extend(cancel(o) for o in held if o.symbol not in closing)
            # gather starts each in turn and each runs to its first send: the frames go out back
            # to back, the close of a position first and its stops' cancels right behind it
            await asyncio.gather(*jobs)
            closed, cancelled = tally["closed"], tally["cancelled"]
        try:  # anything placed while we were closing (another tool, a late trigger)
            cancelled += await self.cancel_all_on(link, None)
        except BrokerError as exc:
            errors.append(f"final cancel all: {exc.message}")
        self._recorder.now(
            "outcome",
            {"flatten": True, "cancelled": cancelled, "closed": closed, "errors": errors},
            link.account_id,
            None,
        )
        return {"cancelled": cancelled, "closed": closed, "errors": errors}

    def close(self) -> None:
        for p in self.pending.values():
            if p.timer is not None:
                p.timer.cancel()
            if p.task is not None:
                p.task.cancel()
