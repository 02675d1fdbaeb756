"""Alpaca orders on top of the shared engine. No I/O; time is always an argument.

An Alpaca order is a record here; the engine only ever sees MARKET and LIMIT orders (one per
Alpaca order, created when the order goes live or when its trigger fires). Stop, stop-limit and
trailing-stop triggers are evaluated here on the last trade price, in regular hours only, so one
mechanism covers `stop_price`, `trail_price` and `trail_percent` (the engine's own trailing stop
knows callback percentages only). Everything that happens to an order becomes a `TradeUpdate`
(the `trade_updates` event) in `updates`; market events go to `market` for the data stream.

Rules modelled (documented in the README's simulator notes):
- outside regular hours orders are accepted (status `accepted`) and go live at the next open,
  except extended-hours DAY limit orders, which work at once; live DAY orders expire at the close;
- shares held by open orders: a sell against a long position (a buy against a short) may not
  exceed the position minus what other open orders on that side already hold ("insufficient qty
  available"), so an order never flips a position; opening a short needs whole shares;
- fractional quantities and notional orders are DAY only and not for trailing stops;
- buying power: opening exposure may not exceed the account's margin (2x equity) at placement.
Not modelled: wash-trade checks, order classes other than simple, auctions (opg/cls), PDT rules.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal

from sidedesk_sim.alpaca.errors import AlpacaError, forbidden, invalid, not_found, unprocessable
from sidedesk_sim.alpaca.instruments import SHARE_STEP, Stock
from sidedesk_sim.alpaca.orders_in import OrderInput, ReplaceInput
from sidedesk_sim.alpaca.session import Session
from sidedesk_sim.engine import (
    Engine,
    EngineEvent,
    ExecType,
    OrderSpec,
    OrderUpdate,
    RejectReason,
    Side,
    TimeInForce,
)
from sidedesk_sim.engine import OrderType as EType

ZERO = Decimal(0)
HUNDRED = Decimal(100)
FINAL = frozenset({"filled", "canceled", "expired", "replaced", "rejected"})


@dataclass
class AOrder:
    """One Alpaca order as the REST API and the stream show it."""

    id: str
    client_order_id: str
    account: str
    symbol: str
    asset_id: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    trail_price: Decimal | None
    trail_percent: Decimal | None
    extended_hours: bool
    position_intent: str | None
    created_ms: int
    status: str = "new"
    updated_ms: int = 0
    submitted_ms: int = 0
    filled_ms: int | None = None
    canceled_ms: int | None = None
    expired_ms: int | None = None
    replaced_ms: int | None = None
    failed_ms: int | None = None
    filled_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    hwm: Decimal | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    phase: str = "queued"  # queued | trigger | working | done
    engine_id: int | None = None
    exec_qty: Decimal | None = None  # shares the engine order was sized to (notional orders)

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL

    @property
    def remaining(self) -> Decimal:
        total = self.qty if self.qty is not None else self.exec_qty
        return ZERO if total is None else total - self.filled_qty

    @property
    def avg_price(self) -> Decimal | None:
        return None if self.filled_qty == ZERO else self.cum_quote / self.filled_qty

    @property
    def side_sign(self) -> int:
        return 1 if self.side == "buy" else -1

    def copy(self) -> AOrder:
        return replace(self)


@dataclass(frozen=True)
class TradeUpdate:
    """One `trade_updates` event: the order after the change, plus the execution for fills."""

    event: str
    order: AOrder
    ts_ms: int
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None
    execution_id: str | None = None


@dataclass
class Book:
    engine: Engine
    stocks: dict[str, Stock]
    session: Session
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    orders: dict[str, AOrder] = field(default_factory=dict)
    by_engine: dict[int, str] = field(default_factory=dict)
    updates: list[TradeUpdate] = field(default_factory=list)
    market: list[EngineEvent] = field(default_factory=list)
    was_open: bool | None = None

    # -- helpers -----------------------------------------------------------------------------
    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def drain(self) -> tuple[list[TradeUpdate], list[EngineEvent]]:
        out = (self.updates, self.market)
        self.updates, self.market = [], []
        return out

    def last_price(self, symbol: str) -> Decimal:
        return self.engine.market(symbol).last_price

    def position(self, account: str, symbol: str) -> Decimal:
        rows = self.engine.positions(account, symbol)
        return rows[0].amount if rows else ZERO

    def held(self, account: str, symbol: str, side: str, exclude: str | None = None) -> Decimal:
        """Shares open orders on `side` already hold (their unfilled remainder)."""
        return sum(
            (
                o.remaining
                for o in self.orders.values()
                if o.account == account
                and o.symbol == symbol
                and o.side == side
                and o.is_open
                and o.id != exclude
            ),
            ZERO,
        )

    def open_orders(self, account: str) -> list[AOrder]:
        return [o for o in self.orders.values() if o.account == account and o.is_open]

    def find(self, account: str, order_id: str) -> AOrder:
        o = self.orders.get(order_id)
        if o is None or o.account != account:
            raise not_found()
        return o

    def by_client_id(self, account: str, client_order_id: str) -> AOrder:
        for o in reversed(list(self.orders.values())):
            if o.account == account and o.client_order_id == client_order_id:
                return o
        raise not_found()

    def _emit(self, event: str, o: AOrder, now: int, **extra: object) -> None:
        self.updates.append(TradeUpdate(event, o.copy(), now, **extra))  # type: ignore[arg-type]

    # -- placing ------------------------------------------------------------------------------
    def submit(self, account: str, req: OrderInput, now: int) -> AOrder:
        stock = self.stocks.get(req.symbol)
        if stock is None:
            raise invalid(f'asset "{req.symbol}" not found')
        cid = req.client_order_id or self.new_id()
        if any(o.account == account and o.client_order_id == cid for o in self.orders.values()):
            raise invalid("client_order_id must be unique")
        if req.fractional:
            if req.time_in_force != "day":
                raise invalid("fractional orders must be DAY orders")
            if req.type == "trailing_stop":
                raise invalid("fractional orders are not supported for trailing_stop orders")
            if not stock.fractionable:
                raise invalid(f"asset {req.symbol} is not fractionable")
        if req.notional is not None:
            if req.type != "market":
                raise invalid("notional orders are only supported for market orders in the simulator")
            if req.notional < 1:
                raise forbidden("order notional must be at least $1")
        self.absorb(self.engine.advance(now))
        self._check_shares(account, req, stock, exclude=None)
        self._check_buying_power(account, req)
        o = AOrder(
            id=self.new_id(),
            client_order_id=cid,
            account=account,
            symbol=req.symbol,
            asset_id=stock.asset_id,
            side=req.side,
            type=req.type,
            time_in_force=req.time_in_force,
            qty=req.qty,
            notional=req.notional,
            limit_price=req.limit_price,
            stop_price=req.stop_price,
            trail_price=req.trail_price,
            trail_percent=req.trail_percent,
            extended_hours=req.extended_hours,
            position_intent=req.position_intent,
            created_ms=now,
            updated_ms=now,
            submitted_ms=now,
        )
        self.orders[o.id] = o
        if self.session.is_open(now) or req.extended_hours:
            try:
                self._go_live(o, now, sync=True)
            except AlpacaError:
                del self.orders[o.id]  # refused at once: the order never existed
                raise
        else:
            o.status = "accepted"  # waits for the open; goes live (event `new`) then
        return o

    def _check_shares(
        self, account: str, req: OrderInput | AOrder, stock: Stock, exclude: str | None
    ) -> None:
        pos = self.position(account, req.symbol)
        sign = 1 if req.side == "buy" else -1
        qty = req.qty
        if qty is None:
            return  # notional orders buy (or sell) at most what the notional covers: checked below
        closing = pos * sign < 0
        if closing:
            available = abs(pos) - self.held(account, req.symbol, req.side, exclude)
            if qty > available:
                raise forbidden(
                    f"insufficient qty available for order (requested: {qty.normalize():f}, "
                    f"available: {max(available, ZERO).normalize():f})"
                )
            return
        if req.side == "sell":  # opening or adding to a short
            if qty != qty.to_integral_value():
                raise forbidden("fractional orders cannot be sold short")
            if not stock.shortable:
                raise forbidden(f"asset {req.symbol} cannot be sold short")

    def _check_buying_power(self, account: str, req: OrderInput | AOrder) -> None:
        pos = self.position(account, req.symbol)
        sign = 1 if req.side == "buy" else -1
        if pos * sign < 0:
            return  # reduces exposure
        m = self.engine.market(req.symbol)
        ref = req.limit_price or req.stop_price or (m.ask if req.side == "buy" else m.bid)
        cost = req.notional if req.notional is not None else (req.qty or ZERO) * ref
        bp = self.buying_power(account)
        if cost > bp:
            raise forbidden("insufficient buying power")

    def buying_power(self, account: str) -> Decimal:
        bal = self.engine.balance(account, "USD")
        lev = self.engine.leverage(account, next(iter(self.stocks)))
        return max(ZERO, bal.available_balance * lev)

    def _go_live(self, o: AOrder, now: int, *, sync: bool) -> None:
        """Queued or new order becomes working: event `new`, then the engine order or the trigger."""
        o.status = "new"
        o.updated_ms = now
        if o.type in ("stop", "stop_limit", "trailing_stop"):
            o.phase = "trigger"
            if o.type == "trailing_stop":
                o.hwm = self.last_price(o.symbol)
                o.stop_price = self._trail_stop(o)
            self._emit("new", o, now)
            if self.session.is_open(now) and self._triggered(o):
                self._fire(o, now)
            return
        self._submit_engine(o, now, sync=sync, emit_new=True)

    def _engine_spec(self, o: AOrder, *, market: bool) -> OrderSpec:
        side = Side.BUY if o.side == "buy" else Side.SELL
        qty = o.remaining
        if o.notional is not None and o.exec_qty is None:
            m = self.engine.market(o.symbol)
            price = m.ask if side is Side.BUY else m.bid
            qty = (o.notional / price).quantize(SHARE_STEP, rounding=ROUND_DOWN)
            o.exec_qty = qty
        if market:
            return OrderSpec(o.symbol, side, EType.MARKET, quantity=qty, client_id=o.id)
        tif = {"ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}.get(o.time_in_force, TimeInForce.GTC)
        return OrderSpec(
            o.symbol, side, EType.LIMIT, quantity=qty, price=o.limit_price, time_in_force=tif, client_id=o.id
        )

    def _submit_engine(self, o: AOrder, now: int, *, sync: bool, emit_new: bool) -> None:
        market = o.type in ("market", "stop", "trailing_stop")
        spec = self._engine_spec(o, market=market)
        if spec.quantity is not None and spec.quantity <= ZERO:
            if sync:
                raise forbidden("order notional buys less than the smallest fraction of a share")
            self._reject(o, now, "order quantity rounds to zero")
            return
        out = self.engine.submit_order(o.account, spec, now)
        if out.reject is not None:
            self.absorb(list(out.events))
            message = _REJECTS.get(out.reject.reason, out.reject.detail)
            if sync:
                err = (
                    forbidden(message)
                    if out.reject.reason is RejectReason.INSUFFICIENT_MARGIN
                    else unprocessable(message)
                )
                raise err
            self._reject(o, now, message)
            return
        assert out.order is not None
        o.engine_id = out.order.order_id
        o.phase = "working"
        self.by_engine[o.engine_id] = o.id
        if emit_new:
            self._emit("new", o, now)
        self.absorb(list(out.events))

    def _reject(self, o: AOrder, now: int, reason: str) -> None:
        o.status = "rejected"
        o.phase = "done"
        o.failed_ms = now
        o.updated_ms = now
        self._emit("rejected", o, now)

    # -- triggers -----------------------------------------------------------------------------
    def _trail_stop(self, o: AOrder) -> Decimal | None:
        if o.hwm is None:
            return None
        if o.trail_price is not None:
            return o.hwm - o.trail_price if o.side == "sell" else o.hwm + o.trail_price
        assert o.trail_percent is not None
        f = o.trail_percent / HUNDRED
        stop = o.hwm * (1 - f) if o.side == "sell" else o.hwm * (1 + f)
        return stop.quantize(Decimal("0.01"))

    def _triggered(self, o: AOrder) -> bool:
        last = self.last_price(o.symbol)
        if o.type == "trailing_stop":
            assert o.hwm is not None
            o.hwm = max(o.hwm, last) if o.side == "sell" else min(o.hwm, last)
            o.stop_price = self._trail_stop(o)
        assert o.stop_price is not None
        return last <= o.stop_price if o.side == "sell" else last >= o.stop_price

    def _fire(self, o: AOrder, now: int) -> None:
        o.updated_ms = now
        self._submit_engine(o, now, sync=False, emit_new=False)

    # -- engine events ------------------------------------------------------------------------
    def absorb(self, events: list[EngineEvent]) -> None:
        """Map the engine's order updates to `trade_updates`; keep market events for the data feed."""
        fills: dict[tuple[str, str], Decimal] = {}
        for ev in events:
            if isinstance(ev, OrderUpdate) and ev.fill is not None:
                k = (ev.account_id, ev.order.symbol)
                fills[k] = fills.get(k, ZERO) + ev.fill.qty * ev.fill.side.sign
        running = {k: self.position(k[0], k[1]) - v for k, v in fills.items()}
        for ev in events:
            if not isinstance(ev, OrderUpdate):
                self.market.append(ev)
                continue
            oid = self.by_engine.get(ev.order.order_id)
            o = self.orders.get(oid) if oid is not None else None
            if o is None:
                continue
            now = ev.time_ms
            if ev.exec_type is ExecType.TRADE and ev.fill is not None:
                k = (ev.account_id, ev.order.symbol)
                running[k] += ev.fill.qty * ev.fill.side.sign
                o.filled_qty += ev.fill.qty
                o.cum_quote += ev.fill.qty * ev.fill.price
                o.updated_ms = now
                done = o.remaining <= ZERO
                o.status = "filled" if done else "partially_filled"
                if done:
                    o.filled_ms = now
                    o.phase = "done"
                self._emit(
                    "fill" if done else "partial_fill",
                    o,
                    now,
                    price=ev.fill.price,
                    qty=ev.fill.qty,
                    position_qty=running[k],
                    execution_id=self.new_id(),
                )
            elif ev.exec_type in (ExecType.EXPIRED, ExecType.CANCELED) and o.is_open:
                # IOC remainders and market orders the book could not fill end as canceled
                o.status = "canceled"
                o.phase = "done"
                o.canceled_ms = now
                o.updated_ms = now
                self._emit("canceled", o, now)

    # -- cancel / replace ---------------------------------------------------------------------
    def cancel(self, account: str, order_id: str, now: int) -> AOrder:
        o = self.find(account, order_id)
        if not o.is_open:
            raise unprocessable(f'order is already in "{o.status}" state')
        self._end(o, now, "canceled")
        return o

    def _end(self, o: AOrder, now: int, status: str) -> None:
        """Cancel / expire / replace an open order (its engine order too)."""
        if o.engine_id is not None and o.phase == "working":
            out = self.engine.cancel_order(o.account, o.symbol, order_id=o.engine_id, now_ms=now)
            o.status = status  # first: the engine's CANCELED update must not re-emit
            self.absorb(list(out.events))
        o.status = status
        o.phase = "done"
        o.updated_ms = now
        if status == "canceled":
            o.canceled_ms = now
        elif status == "expired":
            o.expired_ms = now
        elif status == "replaced":
            o.replaced_ms = now
        if status != "replaced":
            self._emit(status, o, now)

    def replace(self, account: str, order_id: str, req: ReplaceInput, now: int) -> AOrder:
        o = self.find(account, order_id)
        if not o.is_open:
            raise unprocessable(f'order is already in "{o.status}" state')
        if o.filled_qty > 0:
            raise unprocessable("a partially filled order cannot be replaced in the simulator")
        if o.notional is not None:
            raise unprocessable("notional orders cannot be replaced")
        if req.limit_price is not None and o.type not in ("limit", "stop_limit"):
            raise invalid(f"limit_price is not allowed for {o.type}")
        if req.stop_price is not None and o.type not in ("stop", "stop_limit"):
            raise invalid(f"stop_price is not allowed for {o.type}")
        if req.trail is not None and o.type != "trailing_stop":
            raise invalid(f"trail is not allowed for {o.type}")
        cid = req.client_order_id or self.new_id()
        if any(x.account == account and x.client_order_id == cid for x in self.orders.values()):
            raise invalid("client_order_id must be unique")
        new = AOrder(
            id=self.new_id(),
            client_order_id=cid,
            account=account,
            symbol=o.symbol,
            asset_id=o.asset_id,
            side=o.side,
            type=o.type,
            time_in_force=req.time_in_force or o.time_in_force,
            qty=req.qty or o.qty,
            notional=None,
            limit_price=req.limit_price or o.limit_price,
            stop_price=req.stop_price or (None if o.type == "trailing_stop" else o.stop_price),
            trail_price=req.trail if req.trail is not None and o.trail_price is not None else o.trail_price,
            trail_percent=(
                req.trail if req.trail is not None and o.trail_percent is not None else o.trail_percent
            ),
            extended_hours=o.extended_hours,
            position_intent=o.position_intent,
            created_ms=now,
            updated_ms=now,
            submitted_ms=now,
            replaces=o.id,
        )
        if new.qty is not None and new.qty != new.qty.to_integral_value() and new.time_in_force != "day":
            raise invalid("fractional orders must be DAY orders")
        self._check_shares(account, new, self.stocks[o.symbol], exclude=o.id)
        self.absorb(self.engine.advance(now))
        was_live = o.status != "accepted"
        self._end(o, now, "replaced")
        o.replaced_by = new.id
        self._emit("replaced", o, now)
        self.orders[new.id] = new
        if was_live and (self.session.is_open(now) or new.extended_hours):
            try:
                self._go_live(new, now, sync=True)
            except AlpacaError as exc:
                self._reject(new, now, exc.message)
        else:
            new.status = "accepted"
        return new

    # -- time ---------------------------------------------------------------------------------
    def step(self, now: int) -> None:
        """Advance prices, then session transitions and triggers."""
        self.absorb(self.engine.advance(now))
        is_open = self.session.is_open(now)
        if self.was_open is not None and is_open != self.was_open:
            if is_open:
                for o in sorted(self.orders.values(), key=lambda x: x.created_ms):
                    if o.status == "accepted":
                        self._go_live(o, now, sync=False)
            else:
                for o in list(self.orders.values()):
                    if (
                        o.is_open
                        and o.status != "accepted"
                        and o.time_in_force == "day"
                        and not o.extended_hours
                    ):
                        self._end(o, now, "expired")
        self.was_open = is_open
        if not is_open:
            return
        for o in list(self.orders.values()):
            if o.phase == "trigger" and o.is_open and self._triggered(o):
                self._fire(o, now)


_REJECTS: dict[RejectReason, str] = {
    RejectReason.INSUFFICIENT_MARGIN: "insufficient buying power",
    RejectReason.FOK_NOT_FILLED: "order could not be filled completely (fok)",
    RejectReason.MAX_OPEN_ORDERS: "too many open orders for this symbol",
}
