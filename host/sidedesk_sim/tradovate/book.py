"""Tradovate's order and account entities on top of the neutral engine (brokers.md §1.4-§1.7).

One Tradovate order keeps its id for life while the engine may hold it as a regular order, an
algo (stop) order, or several algo orders in turn (a modified stop, a trailing stop that moves).
Every engine event is translated into Tradovate `props` entities in the documented order:
order Created(PendingNew) → orderVersion Created → executionReport(New) → order Updated(Working)
→ executionReport(Trade) → fill Created → order Updated(Filled) → position Updated → fillPair
Created (when a fill closes exposure) → cashBalance Updated.

Simplifications (documented for users): bracket legs of `placeoso` activate when the entry is
completely filled; a trailing stop trails the last price by `abs(pegDifference)` points and its
moves are not reported as new order versions; the trade date is the UTC date; no commissions.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sidedesk_sim.engine import (
    AccountUpdate,
    AlgoStatus,
    AlgoUpdate,
    Engine,
    EngineEvent,
    ExecType,
    OrderSpec,
    OrderType,
    OrderUpdate,
    RejectReason,
    Side,
    TimeInForce,
    WorkingType,
)
from sidedesk_sim.tradovate.auth import SimAccount, iso
from sidedesk_sim.tradovate.instruments import Contract

ZERO = Decimal(0)
ORDER_TYPES = ("Market", "Limit", "Stop", "StopLimit", "TrailingStop")
KNOWN_TYPES = (*ORDER_TYPES, "TrailingStopLimit", "MIT", "QTS")
TIME_IN_FORCE = ("Day", "FOK", "GTC", "GTD", "IOC")
OPEN_STATUSES = frozenset({"PendingNew", "Working", "Suspended", "PendingReplace", "PendingCancel"})
CURRENCY = "USD"

Entity = tuple[int, str, str, dict[str, Any]]  # (account id, entityType, eventType, entity)


class Failure(Exception):
    """A refused order command: answered as `{"failureReason", "failureText"}` (s 200)."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text

    def body(self) -> dict[str, str]:
        return {"failureReason": self.reason, "failureText": self.text}


class BadBody(ValueError):
    """A malformed request body: answered with status 400 and the message."""


_REJECTS: dict[RejectReason, tuple[str, str]] = {
    RejectReason.INSUFFICIENT_MARGIN: ("OtherExecutionRelated", "Insufficient margin for this order"),
    RejectReason.WOULD_TRIGGER_IMMEDIATELY: (
        "InvalidPrice",
        "The stop price is on the wrong side of the market",
    ),
    RejectReason.FOK_NOT_FILLED: ("NotEnoughLiquidity", "Not enough liquidity to fill the order"),
    RejectReason.UNKNOWN_ORDER: ("TooLate", "The order is no longer working"),
    RejectReason.MAX_OPEN_ORDERS: ("UnknownReason", "Too many open orders for this contract"),
}


def failure_for(reason: RejectReason, detail: str) -> Failure:
    code, text = _REJECTS.get(reason, ("UnknownReason", detail or reason.value))
    return Failure(code, text)


# -- body parsing -----------------------------------------------------------------------------------


def _dec(body: dict[str, Any], name: str) -> Decimal | None:
    v = body.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal | str):
        raise BadBody(f"{name} must be a number")
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise BadBody(f"{name} must be a number") from None
    if not d.is_finite():
        raise BadBody(f"{name} must be finite")
    return d


def _int(body: dict[str, Any], name: str) -> int | None:
    d = _dec(body, name)
    if d is None:
        return None
    if d != d.to_integral_value():
        raise BadBody(f"{name} must be an integer")
    return int(d)


def _text(body: dict[str, Any], name: str, limit: int = 64) -> str | None:
    v = body.get(name)
    if v is None:
        return None
    if not isinstance(v, str) or len(v) > limit:
        raise BadBody(f"{name} must be a string of at most {limit} characters")
    return v


@dataclass(frozen=True)
class LegFields:
    """What an order (or a bracket leg) asks for, validated for shape (not yet for the market)."""

    action: str
    order_type: str
    price: Decimal | None
    stop: Decimal | None
    peg: Decimal | None
    tif: str
    text: str | None
    cl_ord_id: str | None


def parse_leg(body: Any, *, require_qty: bool = False) -> tuple[LegFields, int | None]:
    if not isinstance(body, dict):
        raise BadBody("the body must be a JSON object")
    action = body.get("action")
    if action not in ("Buy", "Sell"):
        raise BadBody("action must be Buy or Sell")
    otype = body.get("orderType")
    if otype not in KNOWN_TYPES:
        raise BadBody(f"orderType must be one of {', '.join(KNOWN_TYPES)}")
    qty = _int(body, "orderQty")
    if require_qty and qty is None:
        raise BadBody("orderQty is required")
    tif = body.get("timeInForce") or "Day"
    if tif not in TIME_IN_FORCE:
        raise BadBody(f"timeInForce must be one of {', '.join(TIME_IN_FORCE)}")
    fields = LegFields(
        action=action,
        order_type=otype,
        price=_dec(body, "price"),
        stop=_dec(body, "stopPrice"),
        peg=_dec(body, "pegDifference"),
        tif=tif,
        text=_text(body, "text"),
        cl_ord_id=_text(body, "clOrdId"),
    )
    return fields, qty


# -- state --------------------------------------------------------------------------------------------


@dataclass
class TvOrder:
    id: int
    account: SimAccount
    contract: Contract
    leg: LegFields
    qty: int
    automated: bool
    status: str = "PendingNew"
    cum_qty: int = 0
    cum_value: Decimal = ZERO
    stop: Decimal | None = None  # current trigger (a trailing stop's moves it)
    extreme: Decimal | None = None  # trailing: best last price since it started working
    engine_order: int | None = None
    engine_algo: int | None = None
    parent_id: int | None = None
    oco_id: int | None = None
    children: list[int] = field(default_factory=list)
    version_id: int = 0
    last_ts: int = 0
    replacing: bool = False
    engine_seq: int = 0
    # what cancelled it: the request ("order/cancelorder", "order/liquidateposition") or the
    # venue's own link ("oco": its OCO partner filled; "parent": its OSO entry died). Not on
    # Tradovate's wire: the simulator's record for tests and the control API
    canceled_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def side(self) -> Side:
        return Side.BUY if self.leg.action == "Buy" else Side.SELL

    def avg_px(self) -> Decimal | None:
        return None if self.cum_qty == 0 else self.cum_value / self.cum_qty


@dataclass
class PosState:
    id: int
    account_id: int
    contract: Contract
    bought: int = 0
    bought_value: Decimal = ZERO
    sold: int = 0
    sold_value: Decimal = ZERO
    lots: deque[list[Any]] = field(default_factory=deque)  # [fill id, "Buy"|"Sell", qty, price]
    pending: list[tuple[int, str, int, Decimal]] = field(default_factory=list)
    created: bool = False


@dataclass
class CashState:
    id: int
    account_id: int
    realized: Decimal = ZERO
    amount_sod: Decimal = ZERO


def trade_date(ms: int) -> dict[str, int]:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return {"year": d.year, "month": d.month, "day": d.day}


class Book:
    def __init__(self, engine: Engine, contracts: Iterable[Contract], clock: Callable[[], int]) -> None:
        self.engine = engine
        self.contracts = {c.id: c for c in contracts}
        self.by_name = {c.name.lower(): c for c in self.contracts.values()}
        self._clock = clock
        self.orders: dict[int, TvOrder] = {}
        self.by_engine_order: dict[int, TvOrder] = {}
        self.by_algo: dict[int, TvOrder] = {}
        self.versions: dict[int, list[dict[str, Any]]] = {}
        self.reports: deque[dict[str, Any]] = deque(maxlen=20_000)
        self.fills: deque[dict[str, Any]] = deque(maxlen=20_000)
        self.fill_pairs: deque[dict[str, Any]] = deque(maxlen=20_000)
        self.positions: dict[tuple[int, int], PosState] = {}
        self.cash: dict[int, CashState] = {}
        self.accounts: dict[int, SimAccount] = {}
        self.out: list[Entity] = []
        self.market_moved: set[str] = set()
        self._ids = itertools.count(210_518)
        self._version_ids = itertools.count(310_001)
        self._report_ids = itertools.count(410_001)
        self._fill_ids = itertools.count(510_001)
        self._pair_ids = itertools.count(610_001)
        self._pos_ids = itertools.count(710_001)
        self._command_ids = itertools.count(810_001)
        self._oco_ids = itertools.count(910_001)
        self._followups: list[tuple[str, TvOrder]] = []
        self._latest = 0

    # -- accounts --------------------------------------------------------------------------------
    def add_account(self, account: SimAccount, balance: Decimal, now: int) -> None:
        if account.id in self.accounts:
            return
        out = self.engine.create_account(account.name, {CURRENCY: balance}, now)
        if out.reject is not None:
            raise ValueError(out.reject.detail)
        self.accounts[account.id] = account
        self.cash[account.id] = CashState(next(self._pos_ids), account.id, amount_sod=balance)

    def contract(self, ref: object) -> Contract | None:
        """By name (case-insensitive) or id."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            return self.contracts.get(ref)
        if isinstance(ref, str):
            if ref.isdigit():
                return self.contracts.get(int(ref))
            return self.by_name.get(ref.lower())
        return None

    def take(self) -> list[Entity]:
        out, self.out = self.out, []
        return out

    # -- time ------------------------------------------------------------------------------------
    def step(self, now: int) -> None:
        self._translate(self.engine.advance(now))
        self._trail()
        self._run_followups()

    def set_price(self, symbol: str, price: Decimal, now: int) -> None:
        """Jump the last price: stops fire and limits fill through the usual translation."""
        self.step(now)
        self._translate(self.engine.set_price(symbol, price, now))
        self.market_moved.add(symbol)
        self._trail()
        self._run_followups()

    def _stamp(self, tv: TvOrder) -> int:
        # strictly increasing per order, so each change of one order has its own time
        tv.last_ts = max(self.engine.now_ms, self._clock(), tv.last_ts + 1)
        self._latest = max(self._latest, tv.last_ts)
        return tv.last_ts

    def _account_ts(self) -> int:
        """Position and cash updates are as new as the fills they include."""
        self._latest = max(self._latest, self.engine.now_ms, self._clock())
        return self._latest

    # -- commands --------------------------------------------------------------------------------
    def _check_prices(self, leg: LegFields, c: Contract) -> None:
        inst = self.engine.instrument(c.name)
        t = leg.order_type
        if t not in ORDER_TYPES:
            raise Failure("Unsupported", f"{t} orders are not supported by this simulator")
        if t in ("Limit", "StopLimit") and (leg.price is None or leg.price <= 0):
            raise Failure("InvalidPrice", f"{t} orders need a price > 0")
        if t in ("Stop", "StopLimit") and (leg.stop is None or leg.stop <= 0):
            raise Failure("InvalidPrice", f"{t} orders need a stopPrice > 0")
        if t == "TrailingStop" and (leg.peg is None or leg.peg == 0):
            raise Failure("InvalidPrice", "TrailingStop orders need a non-zero pegDifference")
        for name, value in (("price", leg.price), ("stopPrice", leg.stop), ("pegDifference", leg.peg)):
            if value is None or (name == "price" and t not in ("Limit", "StopLimit")):
                continue
            if name == "stopPrice" and t not in ("Stop", "StopLimit"):
                continue
            if name == "pegDifference" and t != "TrailingStop":
                continue
            if abs(value) % inst.tick_size != 0:
                raise Failure(
                    "InvalidPrice", f"{name} {value} is not a multiple of the tick {inst.tick_size}"
                )

    def new_order(
        self, account: SimAccount, c: Contract, leg: LegFields, qty: int, automated: bool, *, status: str
    ) -> TvOrder:
        if qty <= 0:
            raise Failure("UnknownReason", "orderQty must be a positive integer")
        if qty > 5000:
            raise Failure("MaxOrderQtyLimitReached", "orderQty is above the maximum of 5000")
        self._check_prices(leg, c)
        tv = TvOrder(next(self._ids), account, c, leg, qty, automated, status=status, stop=leg.stop)
        return tv

    def place(
        self, account: SimAccount, c: Contract, leg: LegFields, qty: int, automated: bool, now: int
    ) -> TvOrder:
        """order/placeorder; raises Failure (nothing is created then)."""
        self.step(now)
        tv = self.new_order(account, c, leg, qty, automated, status="PendingNew")
        mark = len(self.out)
        self._register(tv)
        try:
            self._submit(tv)
        except Failure:
            del self.out[mark:]
            self.orders.pop(tv.id, None)
            self.versions.pop(tv.id, None)
            raise
        self._run_followups()
        return tv

    def place_oso(
        self,
        account: SimAccount,
        c: Contract,
        leg: LegFields,
        qty: int,
        automated: bool,
        brackets: list[LegFields],
        now: int,
    ) -> tuple[TvOrder, list[TvOrder]]:
        self.step(now)
        entry = self.new_order(account, c, leg, qty, automated, status="PendingNew")
        legs = [self.new_order(account, c, b, qty, automated, status="Suspended") for b in brackets]
        for b in legs:
            if b.side is entry.side:
                raise Failure("UnknownReason", "bracket orders must be on the opposite side of the entry")
        mark = len(self.out)
        self._register(entry)
        oco = next(self._oco_ids) if len(legs) == 2 else None
        for b in legs:
            b.parent_id = entry.id
            b.oco_id = oco
            entry.children.append(b.id)
            self._register(b)
        try:
            self._submit(entry)
        except Failure:
            del self.out[mark:]
            for o in (entry, *legs):
                self.orders.pop(o.id, None)
                self.versions.pop(o.id, None)
            raise
        self._run_followups()
        return entry, legs

    def modify(self, tv: TvOrder, qty: int, leg: LegFields, now: int) -> None:
        """order/modifyorder: a new orderVersion; the engine order is amended or replaced."""
        self.step(now)
        if not tv.is_open:
            raise Failure("TooLate", "The order is no longer working")
        if leg.order_type != tv.leg.order_type:
            raise Failure("Unsupported", "the order type of a working order cannot change")
        if tv.leg.order_type == "Market":
            raise Failure("Unsupported", "market orders cannot be modified")
        if tv.leg.order_type == "TrailingStop" and leg.peg not in (None, tv.leg.peg):
            raise Failure("TrailingStopNonOrderQtyModify", "only the quantity of a trailing stop can change")
        if qty <= tv.cum_qty:
            raise Failure("UnknownReason", f"orderQty must be above the filled quantity {tv.cum_qty}")
        merged = LegFields(
            tv.leg.action,
            tv.leg.order_type,
            leg.price if leg.price is not None else tv.leg.price,
            leg.stop if leg.stop is not None else tv.leg.stop,
            tv.leg.peg,
            leg.tif if leg.tif else tv.leg.tif,
            leg.text or tv.leg.text,
            leg.cl_ord_id or tv.leg.cl_ord_id,
        )
        self._check_prices(merged, tv.contract)
        old_leg, old_qty, old_stop = tv.leg, tv.qty, tv.stop
        tv.leg, tv.qty = merged, qty
        if merged.order_type in ("Stop", "StopLimit"):
            tv.stop = merged.stop
        if tv.status == "Suspended":
            self._version(tv)
            return
        if tv.engine_algo is not None and tv.engine_order is None:
            try:
                self._replace_algo(tv)
            except Failure:
                tv.leg, tv.qty, tv.stop = old_leg, old_qty, old_stop
                raise
            self._version(tv)
            self._report(tv, "Replaced")
            self._order_updated(tv)
            return
        if tv.engine_order is None or merged.order_type not in ("Limit", "StopLimit"):
            tv.leg, tv.qty, tv.stop = old_leg, old_qty, old_stop
            raise Failure("TooLate", "the order is executing and cannot be modified now")
        assert merged.price is not None
        if qty == old_qty and merged.price == old_leg.price:
            self._version(tv)
            self._report(tv, "Replaced")
            self._order_updated(tv)
            return
        self._version(tv)
        out = self.engine.modify_order(
            tv.account.name,
            tv.contract.name,
            order_id=tv.engine_order,
            quantity=Decimal(qty),
            price=merged.price,
            now_ms=now,
        )
        if out.reject is not None:
            tv.leg, tv.qty, tv.stop = old_leg, old_qty, old_stop
            self.versions[tv.id].pop()
            self.out.pop()
            self._translate(list(out.events))
            raise failure_for(out.reject.reason, out.reject.detail)
        self._translate(list(out.events))
        self._run_followups()

    def cancel(self, tv: TvOrder, now: int) -> None:
        self.step(now)
        if not tv.is_open:
            raise Failure("TooLate", "The order is no longer working")
        self._cancel(tv, "order/cancelorder")
        self._run_followups()

    def liquidate(self, account: SimAccount, c: Contract, now: int) -> TvOrder | None:
        """order/liquidateposition: cancel the contract's working orders, then close at market
        (the docs: "cancel orders for a specific contract and close that position"), all in one
        step of the venue: no request and no price can come between the cancels and the close."""
        self.step(now)
        for tv in list(self.orders.values()):
            if tv.account.id == account.id and tv.contract.id == c.id and tv.is_open:
                self._cancel(tv, "order/liquidateposition")
        self._run_followups()
        net = self._net_pos(account, c)
        if net == 0:
            return None
        leg = LegFields("Sell" if net > 0 else "Buy", "Market", None, None, None, "Day", "liquidation", None)
        return self.place(account, c, leg, abs(net), True, now)

    def _cancel(self, tv: TvOrder, cause: str) -> None:
        tv.canceled_by = cause
        if tv.status == "Suspended" or (tv.engine_order is None and tv.engine_algo is None):
            tv.status = "Canceled"
            self._report(tv, "Canceled")
            self._order_updated(tv)
            self._followups.append(("dead", tv))
            return
        now = self.engine.now_ms
        if tv.engine_order is not None:
            out = self.engine.cancel_order(
                tv.account.name, tv.contract.name, order_id=tv.engine_order, now_ms=now
            )
        else:
            out = self.engine.cancel_algo(tv.account.name, algo_id=tv.engine_algo, now_ms=now)
        self._translate(list(out.events))
        if out.reject is not None:
            tv.canceled_by = None
            raise failure_for(out.reject.reason, out.reject.detail)

    # -- engine plumbing -------------------------------------------------------------------------
    def _register(self, tv: TvOrder) -> None:
        self.orders[tv.id] = tv
        self._emit(tv.account.id, "order", "Created", self._order_json(tv))
        self._version(tv)

    def _spec(self, tv: TvOrder) -> OrderSpec:
        t = tv.leg.order_type
        tif = {"IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}.get(tv.leg.tif, TimeInForce.GTC)
        tv.engine_seq += 1
        cid = f"tv{tv.id}-{tv.engine_seq}"
        qty = Decimal(tv.qty - tv.cum_qty)
        if t == "Market":
            return OrderSpec(tv.contract.name, tv.side, OrderType.MARKET, qty, client_id=cid)
        if t == "Limit":
            return OrderSpec(
                tv.contract.name,
                tv.side,
                OrderType.LIMIT,
                qty,
                price=tv.leg.price,
                time_in_force=tif,
                client_id=cid,
            )
        if t == "StopLimit":
            return OrderSpec(
                tv.contract.name,
                tv.side,
                OrderType.STOP,
                qty,
                price=tv.leg.price,
                stop_price=tv.stop,
                time_in_force=tif,
                client_id=cid,
                working_type=WorkingType.CONTRACT_PRICE,
            )
        return OrderSpec(
            tv.contract.name,
            tv.side,
            OrderType.STOP_MARKET,
            qty,
            stop_price=tv.stop,
            client_id=cid,
            working_type=WorkingType.CONTRACT_PRICE,
        )

    def _submit(self, tv: TvOrder) -> None:
        if tv.leg.order_type == "TrailingStop":
            assert tv.leg.peg is not None
            last = self.engine.market(tv.contract.name).last_price
            tv.extreme = last
            peg = abs(tv.leg.peg)
            tv.stop = last - peg if tv.side is Side.SELL else last + peg
        out = self.engine.submit_order(tv.account.name, self._spec(tv), self.engine.now_ms)
        if out.reject is not None:
            self._translate(list(out.events))
            raise failure_for(out.reject.reason, out.reject.detail)
        if out.order is not None:
            tv.engine_order = out.order.order_id
            self.by_engine_order[out.order.order_id] = tv
        if out.algo is not None:
            tv.engine_algo = out.algo.algo_id
            self.by_algo[out.algo.algo_id] = tv
        self._translate(list(out.events))

    def _replace_algo(self, tv: TvOrder) -> None:
        """A stop's trigger or size changed: swap the engine algo order (the Tradovate id stays)."""
        assert tv.engine_algo is not None
        tv.replacing = True
        try:
            now = self.engine.now_ms
            out = self.engine.cancel_algo(tv.account.name, algo_id=tv.engine_algo, now_ms=now)
            self._translate(list(out.events))
            if out.reject is not None:
                raise Failure("TooLate", "the stop has triggered and cannot be modified now")
            out = self.engine.submit_order(tv.account.name, self._spec(tv), now)
            if out.reject is None and out.algo is not None:
                tv.engine_algo = out.algo.algo_id
                self.by_algo[out.algo.algo_id] = tv
                self._translate(list(out.events))
                return
            failure = failure_for(
                out.reject.reason if out.reject else RejectReason.UNKNOWN_ORDER,
                out.reject.detail if out.reject else "",
            )
        finally:
            tv.replacing = False
        raise failure

    def _trail(self) -> None:
        for tv in list(self.orders.values()):
            if tv.leg.order_type != "TrailingStop" or tv.status != "Working" or tv.engine_order is not None:
                continue
            if tv.engine_algo is None or tv.extreme is None or tv.leg.peg is None:
                continue
            last = self.engine.market(tv.contract.name).last_price
            peg = abs(tv.leg.peg)
            if tv.side is Side.SELL and last > tv.extreme:
                tv.extreme = last
                new_stop = last - peg
            elif tv.side is Side.BUY and last < tv.extreme:
                tv.extreme = last
                new_stop = last + peg
            else:
                continue
            old = tv.stop
            tv.stop = new_stop
            try:
                self._replace_algo(tv)
            except Failure:
                tv.stop = old

    def _net_pos(self, account: SimAccount, c: Contract) -> int:
        views = self.engine.positions(account.name, c.name)
        return int(sum((v.amount for v in views), ZERO))

    # -- engine events -> entities ---------------------------------------------------------------
    def _translate(self, events: list[EngineEvent]) -> None:
        for ev in events:
            if isinstance(ev, OrderUpdate):
                self._on_order(ev)
            elif isinstance(ev, AlgoUpdate):
                self._on_algo(ev)
            elif isinstance(ev, AccountUpdate):
                self._on_account(ev)
            elif hasattr(ev, "symbol"):
                self.market_moved.add(ev.symbol)

    def _on_order(self, ev: OrderUpdate) -> None:
        o = ev.order
        tv = self.by_engine_order.get(o.order_id)
        if tv is None and o.algo_id is not None:
            tv = self.by_algo.get(o.algo_id)
            if tv is not None:
                tv.engine_order = o.order_id
                self.by_engine_order[o.order_id] = tv
        if tv is None:
            return
        if ev.exec_type is ExecType.NEW:
            if o.algo_id is not None or tv.replacing:
                return  # a triggered stop: the Tradovate order was working already
            tv.status = "Working"
            self._report(tv, "New")
            self._order_updated(tv)
        elif ev.exec_type is ExecType.TRADE and ev.fill is not None:
            f = ev.fill
            qty = int(f.qty)
            tv.cum_qty += qty
            tv.cum_value += f.price * qty
            tv.status = "Filled" if tv.cum_qty >= tv.qty else "Working"
            self._report(tv, "Trade", last_qty=qty, last_px=f.price)
            self._fill(tv, qty, f.price, f.realized_pnl)
            self._order_updated(tv)
            if tv.status == "Filled":
                self._followups.append(("filled", tv))
        elif ev.exec_type is ExecType.AMENDMENT:
            self._report(tv, "Replaced")
            self._order_updated(tv)
        elif ev.exec_type in (ExecType.CANCELED, ExecType.EXPIRED):
            if tv.replacing:
                return
            tv.status = "Canceled" if ev.exec_type is ExecType.CANCELED else "Expired"
            self._report(tv, "Canceled" if ev.exec_type is ExecType.CANCELED else "Expired")
            self._order_updated(tv)
            self._followups.append(("dead", tv))

    def _on_algo(self, ev: AlgoUpdate) -> None:
        a = ev.algo
        tv = self.by_algo.get(a.algo_id)
        if tv is None or tv.replacing:
            return
        if a.status is AlgoStatus.NEW:
            tv.status = "Working"
            self._report(tv, "New")
            self._order_updated(tv)
        elif a.status is AlgoStatus.CANCELED and tv.engine_algo == a.algo_id and tv.engine_order is None:
            tv.status = "Canceled"
            self._report(tv, "Canceled")
            self._order_updated(tv)
            self._followups.append(("dead", tv))
        elif a.status in (AlgoStatus.REJECTED, AlgoStatus.EXPIRED) and tv.engine_algo == a.algo_id:
            tv.status = "Rejected"
            self._report(tv, "Rejected", reject=a.reason or "Rejected at trigger")
            self._order_updated(tv)
            self._followups.append(("dead", tv))

    def _on_account(self, ev: AccountUpdate) -> None:
        account = next((a for a in self.accounts.values() if a.name == ev.account_id), None)
        if account is None:
            return
        for p in ev.positions:
            c = self.by_name.get(p.symbol.lower())
            if c is None:
                continue
            pos = self._pos(account.id, c)
            self._emit(
                account.id,
                "position",
                "Updated" if pos.created else "Created",
                self._position_json(pos, p.amount, p.entry_price),
            )
            pos.created = True
            self._pair(pos)
        self._emit(account.id, "cashBalance", "Updated", self._cash_json(account.id))

    def _run_followups(self) -> None:
        for _ in range(1000):  # bounded: each pass finishes orders, it never creates new work forever
            if not self._followups:
                return
            kind, tv = self._followups.pop(0)
            if kind == "filled":
                for child_id in tv.children:
                    child = self.orders[child_id]
                    if child.status != "Suspended":
                        continue
                    try:
                        self._submit(child)
                    except Failure as exc:
                        child.status = "Rejected"
                        self._report(child, "Rejected", reject=exc.text)
                        self._order_updated(child)
                self._cancel_oco(tv)
            else:
                for child_id in tv.children:
                    child = self.orders[child_id]
                    if child.is_open:
                        self._cancel(child, "parent")
                self._cancel_oco(tv)

    def _cancel_oco(self, tv: TvOrder) -> None:
        if tv.oco_id is None:
            return
        for other in self.orders.values():
            if other.oco_id == tv.oco_id and other.id != tv.id and other.is_open:
                self._cancel(other, "oco")

    # -- entities --------------------------------------------------------------------------------
    def _emit(self, account_id: int, etype: str, event: str, entity: dict[str, Any]) -> None:
        self.out.append((account_id, etype, event, entity))

    def _order_json(self, tv: TvOrder) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": tv.id,
            "accountId": tv.account.id,
            "contractId": tv.contract.id,
            "timestamp": iso(self._stamp(tv)),
            "action": tv.leg.action,
            "ordStatus": tv.status,
            "admin": False,
        }
        if tv.parent_id is not None:
            out["parentId"] = tv.parent_id
        if tv.oco_id is not None:
            out["ocoId"] = tv.oco_id
        return out

    def _order_updated(self, tv: TvOrder) -> None:
        self._emit(tv.account.id, "order", "Updated", self._order_json(tv))

    def _version(self, tv: TvOrder) -> None:
        tv.version_id = next(self._version_ids)
        v: dict[str, Any] = {
            "id": tv.version_id,
            "orderId": tv.id,
            "orderQty": tv.qty,
            "orderType": tv.leg.order_type,
            "timeInForce": tv.leg.tif,
        }
        if tv.leg.price is not None and tv.leg.order_type in ("Limit", "StopLimit"):
            v["price"] = tv.leg.price
        if tv.stop is not None and tv.leg.order_type in ("Stop", "StopLimit"):
            v["stopPrice"] = tv.stop
        if tv.leg.peg is not None and tv.leg.order_type == "TrailingStop":
            v["pegDifference"] = tv.leg.peg
        if tv.leg.text:
            v["text"] = tv.leg.text
        self.versions.setdefault(tv.id, []).append(v)
        self._emit(tv.account.id, "orderVersion", "Created", v)

    def _report(
        self,
        tv: TvOrder,
        exec_type: str,
        *,
        last_qty: int | None = None,
        last_px: Decimal | None = None,
        reject: str | None = None,
    ) -> None:
        ts = self._stamp(tv)
        r: dict[str, Any] = {
            "id": next(self._report_ids),
            "commandId": next(self._command_ids),
            "name": "",
            "accountId": tv.account.id,
            "contractId": tv.contract.id,
            "timestamp": iso(ts),
            "tradeDate": trade_date(ts),
            "orderId": tv.id,
            "execType": exec_type,
            "ordStatus": tv.status,
            "action": tv.leg.action,
            "cumQty": tv.cum_qty,
        }
        avg = tv.avg_px()
        if avg is not None:
            r["avgPx"] = avg
        if last_qty is not None:
            r["lastQty"] = last_qty
            r["lastPx"] = last_px
        if reject is not None:
            r["rejectReason"] = "UnknownReason"
            r["text"] = reject
        self.reports.append(r)
        self._emit(tv.account.id, "executionReport", "Created", r)

    def _pos(self, account_id: int, c: Contract) -> PosState:
        key = (account_id, c.id)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = PosState(next(self._pos_ids), account_id, c)
        return pos

    def _fill(self, tv: TvOrder, qty: int, price: Decimal, realized: Decimal) -> None:
        ts = self._stamp(tv)
        fid = next(self._fill_ids)
        f = {
            "id": fid,
            "orderId": tv.id,
            "contractId": tv.contract.id,
            "timestamp": iso(ts),
            "tradeDate": trade_date(ts),
            "action": tv.leg.action,
            "qty": qty,
            "price": price,
            "active": True,
            "finallyPaired": 0,
        }
        self.fills.append(f)
        self._emit(tv.account.id, "fill", "Created", f)
        pos = self._pos(tv.account.id, tv.contract)
        if tv.leg.action == "Buy":
            pos.bought += qty
            pos.bought_value += price * qty
        else:
            pos.sold += qty
            pos.sold_value += price * qty
        pos.pending.append((fid, tv.leg.action, qty, price))
        self.cash[tv.account.id].realized += realized

    def _pair(self, pos: PosState) -> None:
        """FIFO pairing of fills into fillPairs (one per closed slice)."""
        for fid, action, qty, price in pos.pending:
            left = qty
            while left > 0 and pos.lots and pos.lots[0][1] != action:
                lot = pos.lots[0]
                n = min(left, lot[2])
                buy, sell = (
                    ((fid, price), (lot[0], lot[3])) if action == "Buy" else ((lot[0], lot[3]), (fid, price))
                )
                pair = {
                    "id": next(self._pair_ids),
                    "positionId": pos.id,
                    "buyFillId": buy[0],
                    "sellFillId": sell[0],
                    "qty": n,
                    "buyPrice": buy[1],
                    "sellPrice": sell[1],
                    "active": True,
                }
                self.fill_pairs.append(pair)
                self._emit(pos.account_id, "fillPair", "Created", pair)
                lot[2] -= n
                left -= n
                if lot[2] == 0:
                    pos.lots.popleft()
            if left > 0:
                pos.lots.append([fid, action, left, price])
        pos.pending.clear()

    def _position_json(self, pos: PosState, net: Decimal, entry: Decimal) -> dict[str, Any]:
        now = self._account_ts()
        out: dict[str, Any] = {
            "id": pos.id,
            "accountId": pos.account_id,
            "contractId": pos.contract.id,
            "timestamp": iso(now),
            "tradeDate": trade_date(now),
            "netPos": int(net),
            "bought": pos.bought,
            "boughtValue": pos.bought_value,
            "sold": pos.sold,
            "soldValue": pos.sold_value,
            "prevPos": 0,
        }
        if net != 0:
            out["netPrice"] = entry
        return out

    def _cash_json(self, account_id: int) -> dict[str, Any]:
        now = self._account_ts()
        cash = self.cash[account_id]
        amount = self.engine.balance(self.accounts[account_id].name, CURRENCY).wallet_balance
        return {
            "id": cash.id,
            "accountId": account_id,
            "timestamp": iso(now),
            "tradeDate": trade_date(now),
            "currencyId": 1,
            "amount": amount,
            "realizedPnL": cash.realized,
            "weekRealizedPnL": cash.realized,
            "amountSOD": cash.amount_sod,
        }

    # -- queries ---------------------------------------------------------------------------------
    def position_rows(self, account_ids: Iterable[int]) -> list[dict[str, Any]]:
        rows = []
        for (aid, _cid), pos in self.positions.items():
            if aid not in account_ids:
                continue
            views = self.engine.positions(self.accounts[aid].name, pos.contract.name)
            net = sum((v.amount for v in views), ZERO)
            entry = views[0].entry_price if views else ZERO
            rows.append(self._position_json(pos, net, entry))
        return rows

    def cash_rows(self, account_ids: Iterable[int]) -> list[dict[str, Any]]:
        return [self._cash_json(a) for a in account_ids if a in self.cash]

    def order_rows(self, account_ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = set(account_ids)
        rows = []
        for tv in self.orders.values():
            if tv.account.id in ids:
                row = self._order_json(tv)
                row["timestamp"] = iso(tv.last_ts)
                rows.append(row)
        return rows

    def version_rows(self, account_ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = set(account_ids)
        return [
            v for tv in self.orders.values() if tv.account.id in ids for v in self.versions.get(tv.id, [])
        ]

    def report_rows(self, account_ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = set(account_ids)
        return [r for r in self.reports if r["accountId"] in ids]

    def fill_rows(self, account_ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = set(account_ids)
        return [f for f in self.fills if self.orders[f["orderId"]].account.id in ids]

    def pair_rows(self, account_ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = set(account_ids)
        pos_ids = {p.id for p in self.positions.values() if p.account_id in ids}
        return [p for p in self.fill_pairs if p["positionId"] in pos_ids]
