"""A small simulated exchange and host loop for the ASL property tests.

The exchange keeps one position and our reduce-only stops, triggers them on marks (fixed stops
and trailing stops with their extreme since placement), and answers commands after random
delays: replies and order events travel separately, so an event may arrive before the reply.
It rejects a placement at random, and with `immediate_trigger` when a fixed stop is already
beyond the mark. The host side keeps the live open-orders view from the events it has
received, runs `on_time` every tick of the loop and the watchdog every 500 ms.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sidedesk.core.asl import (
    AslEngine,
    AslEvent,
    AslProfile,
    CancelDone,
    CancelStop,
    ClosePosition,
    Output,
    PlaceAcked,
    PlaceRejected,
    PlaceStop,
    PositionKey,
    ids,
    watchdog,
)
from sidedesk.domain import (
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    Side,
)

from .helpers import ACCOUNT, SYMBOL, caps

STEP_MS = 25


@dataclass
class SimOrder:
    req: OrderRequest
    order_id: str
    extreme: Decimal  # trailing: best mark since placement


@dataclass
class Exchange:
    rng: random.Random
    reject_p: float
    mark: Decimal
    qty: Decimal = Decimal(0)  # signed
    entry: Decimal = Decimal(0)
    orders: dict[str, SimOrder] = field(default_factory=dict)
    next_id: int = 1
    log: list[tuple[str, str]] = field(default_factory=list)  # (action, client id)

    def delay(self) -> int:
        return self.rng.randint(1, 12) * STEP_MS

    def ours(self) -> list[SimOrder]:
        return list(self.orders.values())

    def _event(self, o: SimOrder, status: OrderStatus, reason: str | None = None) -> OrderEvent:
        r = o.req
        return OrderEvent(
            account_id=ACCOUNT,
            symbol=r.symbol,
            order_id=o.order_id,
            client_id=r.client_id,
            side=r.side,
            type=r.type,
            status=status,
            quantity=r.quantity,
            filled=Decimal(0),
            stop_price=r.stop_price,
            reduce_only=True,
            position_side=r.position_side,
            is_conditional=True,
            callback_rate_pct=r.callback_rate_pct,
            reject_reason=reason,
        )

    def position_event(self) -> PositionEvent:
        return PositionEvent(ACCOUNT, SYMBOL, PositionSide.BOTH, self.qty, self.entry, mark_price=self.mark)

    # each returns the messages for the host as (delay, message)
    def place(self, req: OrderRequest) -> list[tuple[int, Any]]:
        cid = req.client_id
        if req.type is OrderType.MARKET:
            self.log.append(("close", cid))
            return self._fill(req.side, req.quantity)
        if self.rng.random() < self.reject_p:
            self.log.append(("reject", cid))
            return [(self.delay(), PlaceRejected(cid, "Reduce Only reject", 0))]
        if req.type is OrderType.STOP_MARKET:
            assert req.stop_price is not None
            beyond = self.mark <= req.stop_price if req.side is Side.SELL else self.mark >= req.stop_price
            if beyond:
                self.log.append(("reject", cid))
                return [(self.delay(), PlaceRejected(cid, "Order would immediately trigger.", 0, True))]
        assert cid not in self.orders, f"duplicate open client id {cid}"
        o = SimOrder(req, f"a{self.next_id}", self.mark)
        self.next_id += 1
        self.orders[cid] = o
        self.log.append(("place", cid))
        return [
            (self.delay(), PlaceAcked(cid, o.order_id, 0)),
            (self.delay(), self._event(o, OrderStatus.NEW)),
        ]

    def cancel(self, c: CancelStop) -> list[tuple[int, Any]]:
        o = self.orders.pop(c.client_id, None)
        if o is None:
            return [(self.delay(), CancelDone(c.client_id, 0))]  # -2011: already gone
        self.log.append(("cancel", c.client_id))
        return [
            (self.delay(), CancelDone(c.client_id, 0)),
            (self.delay(), self._event(o, OrderStatus.CANCELED)),
        ]

    def _fill(self, side: Side, qty: Decimal) -> list[tuple[int, Any]]:
        """A reduce-only market fill: never grows or flips the position."""
        if self.qty == 0 or (side is Side.SELL) != (self.qty > 0):
            return []
        q = min(qty, abs(self.qty))
        self.qty += -q if self.qty > 0 else q
        if self.qty == 0:
            self.entry = Decimal(0)
        return [(self.delay(), self.position_event())]

    def set_position(self, qty: Decimal, entry: Decimal) -> list[tuple[int, Any]]:
        self.qty, self.entry = qty, entry
        return [(self.delay(), self.position_event())]

    def on_mark(self, mark: Decimal) -> list[tuple[int, Any]]:
        self.mark = mark
        out: list[tuple[int, Any]] = []
        for cid, o in list(self.orders.items()):
            r = o.req
            sell = r.side is Side.SELL
            if r.type is OrderType.TRAILING_STOP_MARKET:
                assert r.callback_rate_pct is not None
                o.extreme = max(o.extreme, mark) if sell else min(o.extreme, mark)
                f = r.callback_rate_pct / 100
                fire = mark <= o.extreme * (1 - f) if sell else mark >= o.extreme * (1 + f)
            else:
                assert r.stop_price is not None
                fire = mark <= r.stop_price if sell else mark >= r.stop_price
            if fire:
                del self.orders[cid]
                self.log.append(("trigger", cid))
                out.append((self.delay(), self._event(o, OrderStatus.TRIGGERED)))
                out.extend(self._fill(r.side, r.quantity))
        return out


@dataclass(order=True)
class _Msg:
    at: int
    seq: int
    to_exchange: bool = field(compare=False)
    body: Any = field(compare=False)


class Harness:
    """The host loop: engine + watchdog + live view, wired to the simulated exchange."""

    def __init__(
        self, seed: int, *, native: bool, reject_p: float, profile: AslProfile | None = None
    ) -> None:
        self.rng = random.Random(seed)
        self.profile = profile or AslProfile()
        self.native = native
        self.ex = Exchange(self.rng, reject_p, Decimal(100))
        self.engine = AslEngine(self.profile, caps(native), tick_sizes={SYMBOL: Decimal("0.01")})
        self.now = 0
        self.q: list[_Msg] = []
        self.last_at: dict[str, int] = {}
        self.seq = 0
        self.view: dict[str, OrderEvent] = {}
        self.host_pos: PositionEvent | None = None
        self.last_watchdog = 0
        self.outputs: list[Output] = []
        self.checks: list[Callable[[Harness], None]] = []
        self.key = PositionKey(ACCOUNT, SYMBOL, PositionSide.BOTH)
        # independent bookkeeping for the invariants
        self.levels: dict[int, int] = {}  # epoch -> highest level seen
        self.place_state: dict[str, set[str]] = {}  # cid -> {"ack", "event", "done"}
        self.protected = False  # a stop was confirmed for the current opening
        self.lost_at: int | None = None  # a stop of ours was cancelled behind the engine's back

    # -- plumbing ---------------------------------------------------------------------------

    def _push(self, delay: int, to_exchange: bool, body: Any) -> None:
        # each connection delivers in order: commands, replies (WS API), events (user data)
        ch = "cmd" if to_exchange else ("event" if isinstance(body, OrderEvent | PositionEvent) else "reply")
        at = max(self.now + delay, self.last_at.get(ch, 0))
        self.last_at[ch] = at
        self.seq += 1
        heapq.heappush(self.q, _Msg(at, self.seq, to_exchange, body))

    def _to_host(self, msgs: Sequence[tuple[int, Any]]) -> None:
        for d, m in msgs:
            self._push(d, False, m)

    def run_outputs(self, out: Sequence[Output]) -> None:
        for o in out:
            self.outputs.append(o)
            if isinstance(o, PlaceStop):
                cid = o.request.client_id
                for other, st in self.place_state.items():
                    if other != cid and "done" not in st:
                        raise AssertionError(f"two placements in flight: {other} and {cid}")
                self.place_state[cid] = set()
                self._push(self.ex.delay(), True, o)
            elif isinstance(o, ClosePosition):
                self._push(self.ex.delay(), True, o)
            elif isinstance(o, CancelStop):
                gave_up = self.place_state.get(o.client_id)
                if gave_up is not None:
                    gave_up.add("done")  # given up on (timeout) or replaced
                self._push(self.ex.delay(), True, o)
            elif isinstance(o, AslEvent):
                if o.transition in ("opened", "restored"):
                    self.protected = o.transition == "restored" and o.stop_client_id is not None
                if o.transition == "confirmed":
                    self.protected = True

    def _deliver(self, m: _Msg) -> None:
        b = m.body
        if m.to_exchange:
            if isinstance(b, PlaceStop | ClosePosition):
                self._to_host(self.ex.place(b.request))
            elif isinstance(b, CancelStop):
                self._to_host(self.ex.cancel(b))
            return
        if isinstance(b, PositionEvent):
            self.host_pos = b
            self.run_outputs(self.engine.on_position(b, self.now))
            return
        if isinstance(b, OrderEvent):
            if b.status.is_open:
                self.view[b.client_id] = b
            else:
                self.view.pop(b.client_id, None)
            st = self.place_state.get(b.client_id)
            if st is not None:
                st.add("event" if b.status.is_open else "done")
                if {"ack", "event"} <= st:
                    st.add("done")
            self.run_outputs(self.engine.handle(b, self.now))
            return
        if isinstance(b, PlaceAcked | PlaceRejected | CancelDone):
            st = self.place_state.get(b.client_id)
            if st is not None:
                st.add("ack" if isinstance(b, PlaceAcked) else "done")
                if {"ack", "event"} <= st:
                    st.add("done")
            b2: Any
            if isinstance(b, PlaceAcked):
                b2 = PlaceAcked(b.client_id, b.order_id, self.now)
            elif isinstance(b, PlaceRejected):
                b2 = PlaceRejected(b.client_id, b.reason, self.now, b.immediate_trigger)
            else:
                b2 = CancelDone(b.client_id, self.now)
            self.run_outputs(self.engine.handle(b2, self.now))

    def advance(self, ms: int, step: int = STEP_MS) -> None:
        end = self.now + ms
        while self.now < end:
            self.now += step
            while self.q and self.q[0].at <= self.now:
                self._deliver(heapq.heappop(self.q))
                self.check()
            self.run_outputs(self.engine.on_time(self.now))
            if self.now - self.last_watchdog >= 500:
                self.last_watchdog = self.now
                positions = [self.host_pos] if self.host_pos is not None else []
                self.run_outputs(watchdog(self.engine, list(self.view.values()), positions, self.now))
            self.check()

    # -- scenario actions -------------------------------------------------------------------

    def mark(self, mark: Decimal) -> None:
        self._to_host(self.ex.on_mark(mark))
        self.run_outputs(self.engine.on_mark(SYMBOL, mark, self.now))
        self.check()

    def position(self, qty: Decimal, entry: Decimal) -> None:
        self._to_host(self.ex.set_position(qty, entry))

    def cancel_behind_back(self) -> None:
        """Someone cancels one of our stops on the exchange (the event reaches the host)."""
        if not self.ex.orders:
            return
        cid = sorted(self.ex.orders)[0]
        self.lost_at = self.now
        # no reply: only the user-data event tells the host
        self._to_host([m for m in self.ex.cancel(CancelStop(self.key, cid)) if isinstance(m[1], OrderEvent)])

    def restart(self) -> AslEngine:
        """Host restart: in-flight messages to the host are lost; rebuild from the exchange."""
        self.q = [m for m in self.q if m.to_exchange]
        self.last_at = {"cmd": self.last_at.get("cmd", 0)}
        heapq.heapify(self.q)
        open_orders = [self.ex._event(o, OrderStatus.NEW) for o in self.ex.ours()]
        positions = [self.ex.position_event()] if self.ex.qty != 0 else []
        self.view = {o.client_id: o for o in open_orders}
        self.host_pos = positions[0] if positions else None
        eng, out = AslEngine.rebuild(
            self.profile,
            caps(self.native),
            open_orders,
            positions,
            self.now,
            tick_sizes={SYMBOL: Decimal("0.01")},
            marks={SYMBOL: self.ex.mark},
        )
        self.engine = eng
        self.place_state = {}
        self.levels = {}
        self.protected = False
        m = eng.machine(self.key)
        if m is not None and m.view().current is not None:
            self.protected = True
        self.run_outputs(out)
        return eng

    # -- invariants -------------------------------------------------------------------------

    def check(self) -> None:
        m = self.engine.machine(self.key)
        if m is None:
            return
        # levels never loosen within one opening
        lv = self.levels.get(m.epoch, 0)
        assert m.level >= lv, f"level went down {lv} -> {m.level}"
        self.levels[m.epoch] = m.level
        # at most one placement in flight
        assert sum(1 for s in m.stops.values() if s.state.value == "pending") <= 1
        # coverage once protected, unless a replace is under way with the old stop working
        ex = self.ex
        if ex.qty == 0 or not self.protected or not m.enabled:
            return
        if self.host_pos is None or self.host_pos.quantity != ex.qty:
            return  # the host has not heard of the change yet
        closing = Side.SELL if ex.qty > 0 else Side.BUY
        mine = [o for o in ex.ours() if o.req.side is closing and ids.decode(o.req.client_id) is not None]
        covering = {o.req.client_id for o in mine if o.req.quantity >= abs(ex.qty)}
        if covering:
            window = 500 + 3 * 12 * STEP_MS
            if m.view().current in covering and self.lost_at is not None and self.now - self.lost_at > window:
                self.lost_at = None  # protection restored by the engine's own stop
            return
        if m.triggered_at is not None:
            return  # our stop fired; the exchange is closing the position
        replacing = m.pending is not None or m.retry_at is not None or m.dirty or m.closing is not None
        if self.lost_at is not None and (replacing or self.now - self.lost_at <= 500 + 3 * 12 * STEP_MS):
            return  # re-protecting after an outside cancel: one watchdog period plus a round trip
        assert replacing and mine, (
            f"t={self.now} position {ex.qty} not covered: stops "
            f"{[(o.req.client_id, o.req.quantity) for o in ex.ours()]} view={m.view()}"
        )
