"""One position's Advanced Stop Loss state machine: values in, commands and events out.

Rules it keeps (see DESIGN.md, ASL):

- the stop level only tightens: `level` never goes down within one position, and no stop is
  placed looser than the tightest one already confirmed (`_floor`), except the safety stop when
  nothing else can be placed;
- replace = place new, wait for the exchange's reply *and* the working event, then cancel the
  old one; at most one placement in flight (`pending`); anything newer is folded into one
  re-evaluation when it resolves (latest wins, `dirty`);
- a rejected placement leaves the old stop working and retries with exponential back-off;
- stops are reduce-only with an explicit quantity that follows the position;
- where the broker has no reduce-only flag (`reduce_only=False`: Tradovate, Volumetrica, Alpaca
  stocks) a stop that outlives its position would open an opposite one when it fires, so the
  stops of a position are cancelled the moment it is flat (and those of the old direction the
  moment it reverses), and a stop confirmed after that is cancelled on its reply; with
  reduce-only stops (Binance) they are cancelled after `orphan_grace_ms`.

The machine does no I/O and reads no clock: time is the `now` (ms) of each input. It mutates
itself (like an h11 or websockets protocol object); every public method returns the outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sidedesk.core.trailing import loose_on_tick, trigger_level
from sidedesk.domain import OrderEvent, OrderRequest, OrderStatus, OrderType, Side

from . import ids
from .model import AslEvent, CancelStop, ClosePosition, Notify, Output, PlaceStop, PositionKey, Severity
from .profile import AslProfile

_HUNDRED = Decimal(100)
_EMPTY: tuple[Output, ...] = ()
_GONE = {
    "CANCELED": "was cancelled outside Sidedesk",
    "EXPIRED": "expired on the exchange",
    "REJECTED": "was rejected by the exchange",
    "MISSING": "is no longer on the exchange",
}


class Phase(StrEnum):
    IDLE = "idle"  # never saw the position open
    ACTIVE = "active"
    FLAT = "flat"  # the position closed; its stops are cancelled (after the grace, if reduce-only)


class StopState(StrEnum):
    PENDING = "pending"  # placed, waiting for the reply and the working event
    WORKING = "working"
    CANCELLING = "cancelling"


@dataclass(slots=True)
class Stop:
    client_id: str
    tag: str
    epoch: int  # which opening of the position it was placed for
    long: bool  # direction of the position it protects
    trailing: bool
    price: Decimal | None  # fixed stop price (None for trailing)
    callback: Decimal | None  # trailing callback in percent
    quantity: Decimal
    placed_at: int
    mark_at_place: Decimal | None
    state: StopState
    order_id: str | None = None
    acked: bool = False
    seen_working: bool = False
    confirmed_at: int | None = None
    cancel_sent_at: int | None = None
    cancel_attempts: int = 0
    exchange_stop: Decimal | None = None  # trailing: the stop level the exchange reported
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    tag: str
    trailing: bool
    price: Decimal | None
    callback: Decimal | None
    eff: Decimal  # the stop price it stands for now (trailing: from the current mark)


@dataclass(frozen=True, slots=True)
class MachineView:
    """A comparable summary of the state (tests, diagnostics, rebuild equivalence)."""

    phase: Phase
    enabled: bool
    long: bool
    quantity: Decimal
    entry_price: Decimal
    level: int
    working: frozenset[str]
    current: str | None
    pending: str | None
    cancelling: frozenset[str]
    seq: int
    breakeven: Decimal | None


class PositionMachine:
    def __init__(
        self,
        key: PositionKey,
        profile: AslProfile,
        *,
        native_trailing: bool,
        tick_size: Decimal = Decimal(0),
        enabled: bool = True,
        reduce_only: bool = True,
    ) -> None:
        self.key = key
        self.profile = profile
        self.native = native_trailing
        # how long the stops of a flat position stay: a reduce-only stop cannot open a position, so
        # it may wait out a late fill or a reopen; any other stop would, so it goes at once
        self.flat_grace_ms = profile.orphan_grace_ms if reduce_only else 0
        self.tick = tick_size
        self.enabled = enabled
        self.phase = Phase.IDLE
        self.epoch = 0
        self.long = True
        self.qty = Decimal(0)
        self.entry = Decimal(0)
        self.leverage = 1
        self.level = 0
        self.mark: Decimal | None = None
        self.peak = Decimal(0)  # best mark since the position opened (highest long, lowest short)
        self.peak_at = 0
        self.floor: Decimal | None = None  # tightest stop price confirmed in this opening
        self.be_price: Decimal | None = None
        self.hard_price = Decimal(0)
        self.safety_price = Decimal(0)
        self.triggers: tuple[Decimal, ...] = ()
        self.next_trig: Decimal | None = None  # hot path: the price that starts the next level
        self.check: Decimal | None = None  # hot path: the price at which the target may change
        self.stops: dict[str, Stop] = {}
        self.gone: dict[str, None] = {}  # recently finished ids (insertion-ordered, bounded)
        self.pending: Stop | None = None
        self.dirty = False
        self.attempts = 0
        self.retry_at: int | None = None
        self.triggered_at: int | None = None
        self.closing: tuple[str, int] | None = None  # (client id, placed at) of a market close
        # the close in flight is order entry's, on a broker without reduce-only where the close
        # takes this position's stops down (Tradovate liquidatePosition at the venue, Alpaca's
        # adapter freeing the shares they hold): their cancels are expected, not replaced
        self.venue_closing = False
        self.flat_since = 0
        self.seq = 0
        self.pos_ts = 0  # exchange time of the last position update applied
        self._callbacks = tuple(lv.callback_pct for lv in profile.levels)

    # -- direction helpers ------------------------------------------------------------------

    def _better(self, a: Decimal, b: Decimal) -> bool:
        """a is a strictly tighter stop (a more favourable price) than b."""
        return a > b if self.long else a < b

    def _best(self, a: Decimal | None, b: Decimal | None) -> Decimal | None:
        if a is None:
            return b
        if b is None:
            return a
        return a if self._better(a, b) else b

    def _adverse(self, price: Decimal, pct: Decimal) -> Decimal:
        """`pct` against the position from `price`: where a trailing stop from that extreme fires
        (the venue's rule, core/trailing.py, which the panel's estimate uses too)."""
        return trigger_level(self.closing_side, pct, price)

    def _round(self, p: Decimal, *, tight: bool) -> Decimal:
        # loose = away from the market (a stop that is valid and not tighter than asked); tight
        # rounds the other way, as a stop of the opposite side would be loose
        side = self.closing_side
        return loose_on_tick(p, self.tick, side.opposite if tight else side)

    def _triggers_now(self, stop_price: Decimal) -> bool:
        m = self.mark
        if m is None:
            return False
        return m <= stop_price if self.long else m >= stop_price

    def _nudge(self, p: Decimal) -> Decimal:
        step = self.tick if self.tick > 0 else abs(p) * Decimal("0.0001")
        return p + step if self.long else p - step

    @property
    def closing_side(self) -> Side:
        return Side.SELL if self.long else Side.BUY

    # -- stops ------------------------------------------------------------------------------

    def _eff(self, s: Stop) -> Decimal:
        """The price at which `s` fires now (trailing: estimated from marks since it was placed)."""
        if not s.trailing:
            assert s.price is not None
            return s.price
        assert s.callback is not None
        ext = self.peak if self.peak_at >= s.placed_at or s.mark_at_place is None else s.mark_at_place
        e = self._adverse(ext, s.callback)
        return e if s.exchange_stop is None else (self._best(e, s.exchange_stop) or e)

    def _working(self) -> list[Stop]:
        return [s for s in self.stops.values() if s.state is StopState.WORKING]

    def _current(self) -> Stop | None:
        """The stop protecting this opening: the tightest covering one, else the tightest."""
        best: Stop | None = None
        best_cov = False
        best_eff = Decimal(0)
        for s in self.stops.values():
            if s.state is not StopState.WORKING or s.epoch != self.epoch or s.long != self.long:
                continue
            cov = s.quantity >= self.qty
            e = self._eff(s)
            if (
                best is None
                or (cov and not best_cov)
                or (cov == best_cov and self._better(e, best_eff))
                or (cov == best_cov and e == best_eff and s.seq > best.seq)  # ties: the newest
            ):
                best, best_cov, best_eff = s, cov, e
        return best

    def _floor(self) -> Decimal | None:
        fl = self.floor
        for s in self.stops.values():
            if (
                s.trailing
                and s.state is StopState.WORKING
                and s.epoch == self.epoch
                and s.long == self.long
                and s.tag != ids.TAG_SAFETY
            ):
                fl = self._best(fl, self._eff(s))
        return fl

    def _remember(self, s: Stop) -> None:
        """Keep a leaving trailing stop's last level in the floor (levels never loosen)."""
        if s.trailing and s.epoch == self.epoch and s.long == self.long and s.state is StopState.WORKING:
            self.floor = self._best(self.floor, self._eff(s))

    # -- events -----------------------------------------------------------------------------

    def event(self, transition: str, now: int, *, latency: int | None = None, detail: str = "") -> AslEvent:
        cur = self._current() if self.phase is Phase.ACTIVE else None
        return AslEvent(
            key=self.key,
            ts_ms=now,
            transition=transition,
            enabled=self.enabled,
            long=self.long,
            quantity=self.qty,
            entry_price=self.entry,
            level=self.level,
            stop_client_id=cur.client_id if cur else None,
            stop_tag=cur.tag if cur else None,
            stop_kind=None if cur is None else ("trailing" if cur.trailing else "stop"),
            stop_price=self._eff(cur) if cur else None,
            callback_pct=cur.callback if cur else None,
            next_trigger=self.next_trig,
            latency_ms=latency,
            detail=detail,
        )

    def _notify(self, kind: str, message: str, severity: Severity, now: int) -> Notify:
        return Notify(self.key, kind, message, severity, now)

    def view(self) -> MachineView:
        cur = self._current() if self.phase is Phase.ACTIVE else None
        return MachineView(
            phase=self.phase,
            enabled=self.enabled,
            long=self.long,
            quantity=self.qty,
            entry_price=self.entry,
            level=self.level,
            working=frozenset(s.client_id for s in self._working()),
            current=cur.client_id if cur else None,
            pending=self.pending.client_id if self.pending else None,
            cancelling=frozenset(s.client_id for s in self.stops.values() if s.state is StopState.CANCELLING),
            seq=self.seq,
            breakeven=self.be_price,
        )

    def knows(self, client_id: str) -> bool:
        return client_id in self.stops or (self.closing is not None and self.closing[0] == client_id)

    # -- position ---------------------------------------------------------------------------

    def _set_prices(self) -> None:
        p = self.profile
        self.hard_price = self._round(self._adverse(self.entry, p.hard_stop_pct), tight=False)
        self.safety_price = self._round(self._adverse(self.entry, p.safety_stop_pct), tight=False)
        div = Decimal(max(self.leverage, 1)) if p.profit_basis == "roe" else Decimal(1)
        sign = 1 if self.long else -1
        self.triggers = tuple(self.entry * (1 + sign * lv.profit_pct / _HUNDRED / div) for lv in p.levels)
        self.next_trig = self.triggers[self.level] if self.level < len(self.triggers) else None

    def _open(self, long: bool, qty: Decimal, entry: Decimal, leverage: int | None, now: int) -> None:
        # ids continue from the clock, so a restarted host never reuses the id of an order that
        # was still on its way to the exchange when it stopped
        self.seq = max(self.seq, now)
        self.phase = Phase.ACTIVE
        self.epoch += 1
        self.long = long
        self.qty = qty
        self.entry = entry
        self.leverage = leverage or 1
        self.level = 0
        self.floor = None
        self.be_price = None
        self.attempts = 0
        self.retry_at = None
        self.triggered_at = None
        self.closing = None
        self.venue_closing = False
        self.dirty = False
        self.check = None
        self.peak = self.mark if self.mark is not None else entry
        if self._better(entry, self.peak):
            self.peak = entry
        self.peak_at = now
        self._set_prices()

    def on_position(
        self,
        quantity: Decimal,
        entry: Decimal,
        leverage: int | None,
        mark: Decimal | None,
        now: int,
        ts_ms: int = 0,
    ) -> list[Output]:
        """The position's signed quantity and entry price as the exchange reports them."""
        if mark is not None and self.mark is None:
            self.mark = mark
        if ts_ms:
            if ts_ms < self.pos_ts:
                return []  # an older update arriving late changes nothing
            self.pos_ts = ts_ms
        if quantity == 0:
            if self.phase is not Phase.ACTIVE:
                return []
            self.phase = Phase.FLAT
            self.flat_since = now
            self.closing = None
            self.venue_closing = False
            self.dirty = False
            self.retry_at = None
            self.check = None
            self.next_trig = None
            out: list[Output] = [self.event("flat", now)]
            if self.flat_grace_ms == 0:
                out.extend(self._cancel_stale(now))
            return out
        long = quantity > 0
        qty = -quantity if quantity < 0 else quantity
        if self.phase is not Phase.ACTIVE or long != self.long:
            self._open(long, qty, entry, leverage, now)
            out = [self.event("opened", now)]
            if self.flat_grace_ms == 0:
                out.extend(self._cancel_stale(now))  # a reversal: the old direction's stops add to it
            out.extend(self._evaluate(now))
            return out
        lev = leverage or self.leverage
        if qty == self.qty and entry == self.entry and lev == self.leverage:
            return []
        self.qty, self.entry, self.leverage = qty, entry, lev
        self.triggered_at = None  # a fired stop that only partly closed: protect the rest now
        self._set_prices()
        return [self.event("position", now), *self._evaluate(now)]

    def restore(
        self,
        quantity: Decimal,
        entry: Decimal,
        leverage: int | None,
        mark: Decimal | None,
        orders: Iterable[OrderEvent],
        now: int,
    ) -> list[Output]:
        """Resume after a restart from the exchange's open orders of this position (ours only)."""
        if mark is not None:
            self.mark = mark
        self._open(quantity > 0, abs(quantity), entry, leverage, now)
        level = 0
        for o in orders:
            p = ids.decode(o.client_id, o.symbol)
            if p is None or p.long != self.long or p.tag == ids.TAG_CLOSE:
                continue  # a stale opposite-direction stop stays unknown: the watchdog sweeps it
            trailing = o.type is OrderType.TRAILING_STOP_MARKET
            if (trailing and o.callback_rate_pct is None) or (not trailing and o.stop_price is None):
                continue
            s = Stop(
                client_id=o.client_id,
                tag=p.tag,
                epoch=self.epoch,
                long=self.long,
                trailing=trailing,
                price=None if trailing else o.stop_price,
                callback=o.callback_rate_pct if trailing else None,
                quantity=o.quantity,
                placed_at=now,
                mark_at_place=self.mark,
                state=StopState.WORKING,
                order_id=o.order_id or None,
                acked=True,
                seen_working=True,
                confirmed_at=now,
                exchange_stop=o.stop_price if trailing else None,
                seq=p.seq,
            )
            self.stops[s.client_id] = s
            self.seq = max(self.seq, p.seq)
            if p.level is not None:
                level = max(level, p.level)
            if p.tag == ids.TAG_BREAKEVEN:
                self.be_price = self._round(entry, tight=True)
            if p.tag != ids.TAG_SAFETY:
                self.floor = self._best(self.floor, self._eff(s))
        self.level = min(level, len(self.triggers))
        self._raise_level()
        self._set_prices()
        return [self.event("restored", now), *self._evaluate(now)]

    # -- mark ticks (hot path) --------------------------------------------------------------

    def on_mark(self, mark: Decimal, now: int) -> Sequence[Output]:
        self.mark = mark
        nt, ck = self.next_trig, self.check
        if self.long:
            if mark > self.peak:
                self.peak = mark
                self.peak_at = now
            if (nt is None or mark < nt) and (ck is None or mark < ck):
                return _EMPTY
        else:
            if mark < self.peak:
                self.peak = mark
                self.peak_at = now
            if (nt is None or mark > nt) and (ck is None or mark > ck):
                return _EMPTY
        if self.phase is not Phase.ACTIVE:
            return _EMPTY
        out: list[Output] = []
        before = self.level
        self._raise_level()
        if self.level != before:
            self.next_trig = self.triggers[self.level] if self.level < len(self.triggers) else None
            out.append(self.event("level", now, detail=f"level {before} -> {self.level}"))
            cb = self._callbacks[self.level - 1]
            out.append(
                self._notify("level", f"{self.key.symbol}: level {self.level} (trailing {cb} %)", "info", now)
            )
        out.extend(self._evaluate(now))
        return out

    def _raise_level(self) -> None:
        m = self.mark
        if m is None:
            return
        t = self.triggers
        while self.level < len(t) and (m >= t[self.level] if self.long else m <= t[self.level]):
            self.level += 1

    # -- deciding ---------------------------------------------------------------------------

    def _target(self) -> Target:
        lv = self.level
        t: Target
        if lv == 0 or (self.native and self.mark is None):
            t = Target(ids.TAG_HARD, False, self.hard_price, None, self.hard_price)
        elif self.native:
            assert self.mark is not None
            cb = self._callbacks[lv - 1]
            t = Target(ids.LEVEL_TAGS[lv - 1], True, None, cb, self._adverse(self.mark, cb))
        else:
            p = self._round(self._adverse(self.peak, self._callbacks[lv - 1]), tight=False)
            t = Target(ids.LEVEL_TAGS[lv - 1], False, p, None, p)
        if self.be_price is not None and self._better(self.be_price, t.eff):
            t = Target(ids.TAG_BREAKEVEN, False, self.be_price, None, self.be_price)
        fl = self._floor()
        if fl is not None and self._better(fl, t.eff):
            p = self._round(fl, tight=False)  # hold where we already are: never loosen
            t = Target(t.tag, False, p, None, p)
        return t

    def _sw_step(self, price: Decimal) -> Decimal:
        step = abs(price) * self.profile.software_trail_step_pct / _HUNDRED
        return max(step, self.tick)

    def _needs_replace(self, cur: Stop, t: Target) -> bool:
        if cur.quantity != self.qty:
            return True
        if cur.tag == ids.TAG_SAFETY:
            return self._better(t.eff, self._eff(cur))
        if t.trailing:
            if cur.trailing:
                assert t.callback is not None and cur.callback is not None
                return t.callback < cur.callback
            assert cur.price is not None
            return not self._better(cur.price, t.eff)
        assert t.price is not None
        if cur.trailing:
            return self._better(t.price, self._eff(cur))
        assert cur.price is not None
        if not self.native and t.tag in ids.LEVEL_TAGS:
            step = self._sw_step(cur.price)
            edge = cur.price + step if self.long else cur.price - step
            return not self._better(edge, t.price)
        return self._better(t.price, cur.price)

    def _next_check(self, cur: Stop) -> Decimal | None:
        if self.level == 0:
            return None
        cb = self._callbacks[self.level - 1]
        f = cb / _HUNDRED
        div = (1 - f) if self.long else (1 + f)
        if self.native:
            if cur.trailing and cur.callback is not None and cur.callback <= cb:
                return None
            fl = self._floor()
            return None if fl is None else fl / div
        if cur.trailing or cur.price is None:
            return None
        step = self._sw_step(cur.price)
        return (cur.price + step if self.long else cur.price - step) / div

    def _evaluate(self, now: int) -> list[Output]:
        if self.phase is not Phase.ACTIVE or not self.enabled or self.closing is not None:
            self.check = None
            return []
        if self.pending is not None:
            self.dirty = True
            self.check = None
            return []
        if self.retry_at is not None and now < self.retry_at:
            self.check = None
            return []
        if self.triggered_at is not None and now - self.triggered_at < self.profile.trigger_settle_ms:
            self.check = None
            return []
        cur = self._current()
        t = self._target()
        if cur is None or self._needs_replace(cur, t):
            if t.trailing or t.price is None or not self._triggers_now(t.price):
                return self._place(t, now)
            if cur is not None and cur.quantity >= self.qty:
                # the tighter stop would fire at once; keep the covering one until the price allows
                self.check = self._nudge(t.price)
                return self._cancel_others(cur, now)
            return self._fallback(now, "the wanted stop is already beyond the price")
        out = self._cancel_others(cur, now)
        self.check = self._next_check(cur)
        return out

    # -- commands ---------------------------------------------------------------------------

    def _request(
        self, order_type: OrderType, cid: str, stop_price: Decimal | None, cb: Decimal | None
    ) -> OrderRequest:
        return OrderRequest(
            symbol=self.key.symbol,
            side=self.closing_side,
            type=order_type,
            quantity=self.qty,
            client_id=cid,
            stop_price=stop_price,
            reduce_only=True,
            position_side=self.key.position_side,
            working_type=self.profile.working_type,
            callback_rate_pct=cb,
            price_protect=self.profile.price_protect,
        )

    def _place(self, t: Target, now: int) -> list[Output]:
        self.seq += 1
        cid = ids.encode(self.key.symbol, self.long, t.tag, self.seq)
        s = Stop(
            client_id=cid,
            tag=t.tag,
            epoch=self.epoch,
            long=self.long,
            trailing=t.trailing,
            price=t.price,
            callback=t.callback,
            quantity=self.qty,
            placed_at=now,
            mark_at_place=self.mark,
            state=StopState.PENDING,
            seq=self.seq,
        )
        self.stops[cid] = s
        self.pending = s
        self.dirty = False
        self.check = None
        otype = OrderType.TRAILING_STOP_MARKET if t.trailing else OrderType.STOP_MARKET
        req = self._request(otype, cid, t.price, t.callback)
        what = f"trailing {t.callback} %" if t.trailing else f"stop {t.price}"
        return [
            PlaceStop(self.key, req, t.tag),
            self.event("place", now, detail=f"{cid}: {what} x {self.qty}"),
        ]

    def _cancel(self, s: Stop, now: int) -> list[Output]:
        self._remember(s)
        s.state = StopState.CANCELLING
        s.cancel_sent_at = now
        s.cancel_attempts = 0
        return [CancelStop(self.key, s.client_id, s.order_id), self.event("cancel", now, detail=s.client_id)]

    def _unwanted(self, s: Stop) -> bool:
        """No reduce-only flag, and `s` protects no open position: it must go now."""
        return self.flat_grace_ms == 0 and (self.phase is not Phase.ACTIVE or s.long != self.long)

    def _drop_pending(self, s: Stop, now: int) -> list[Output]:
        """A placement for a position that has since closed (or reversed), on a broker where the stop
        would open one: cancel it at its first sign of life (reply or working event)."""
        if self.pending is s:
            self.pending = None
        out = self._cancel(s, now)
        if self.phase is Phase.ACTIVE and self.dirty:
            out.extend(self._evaluate(now))  # the new opening waited for this placement
        return out

    def _cancel_stale(self, now: int) -> list[Output]:
        """Cancel every stop that protects nothing any more (see `_unwanted`): the working ones and
        the placements the exchange has answered; one still unanswered goes on its first answer."""
        out: list[Output] = []
        for s in list(self.stops.values()):
            if not self._unwanted(s):
                continue
            if s.state is StopState.WORKING:
                out.extend(self._cancel(s, now))
            elif s.state is StopState.PENDING and (s.acked or s.seen_working):
                out.extend(self._drop_pending(s, now))
        return out

    def _cancel_others(self, keep: Stop, now: int) -> list[Output]:
        if keep.quantity < self.qty:
            return []  # it does not cover the position alone: keep the others until it does
        out: list[Output] = []
        for s in list(self.stops.values()):
            if s is not keep and s.state is StopState.WORKING:
                out.extend(self._cancel(s, now))
        return out

    def _fallback(self, now: int, why: str) -> list[Output]:
        """No stop can protect the position: safety stop, or a market close if past it."""
        if self._triggers_now(self.safety_price):
            return self._close(now, f"price beyond the safety stop ({why})")
        if self.pending is not None or self.closing is not None:
            return []
        sp = self.safety_price
        msg = f"{self.key.symbol}: safety stop at {sp} ({why})"
        return [
            self._notify("safety", msg, "warning", now),
            *self._place(Target(ids.TAG_SAFETY, False, sp, None, sp), now),
        ]

    def _close(self, now: int, reason: str) -> list[Output]:
        if self.closing is not None:
            return []
        self.seq += 1
        cid = ids.encode(self.key.symbol, self.long, ids.TAG_CLOSE, self.seq)
        self.closing = (cid, now)
        self.check = None
        req = OrderRequest(
            symbol=self.key.symbol,
            side=self.closing_side,
            type=OrderType.MARKET,
            quantity=self.qty,
            client_id=cid,
            reduce_only=True,
            position_side=self.key.position_side,
        )
        return [
            ClosePosition(self.key, req, reason),
            self._notify("close", f"{self.key.symbol}: closing at market: {reason}", "error", now),
            self.event("close", now, detail=reason),
        ]

    # -- outcomes ---------------------------------------------------------------------------

    def _confirm(self, s: Stop, now: int) -> list[Output]:
        prev = self._current()
        s.state = StopState.WORKING
        s.confirmed_at = now
        self.pending = None
        self.attempts = 0
        self.retry_at = None
        out: list[Output] = [self.event("confirmed", now, latency=now - s.placed_at, detail=s.client_id)]
        if self.phase is not Phase.ACTIVE or s.epoch != self.epoch:
            past_grace = self.phase is Phase.FLAT and now - self.flat_since >= self.flat_grace_ms
            if past_grace or self._unwanted(s):
                out.extend(self._cancel(s, now))
            if self.phase is Phase.ACTIVE and self.dirty:
                out.extend(self._evaluate(now))  # the new opening waited for this placement
            return out
        if s.tag != ids.TAG_SAFETY:
            self.floor = self._best(self.floor, self._eff(s))
        if prev is None or prev.tag != s.tag:
            name = {"0": "hard stop", "S": "safety stop", "E": "breakeven stop"}.get(s.tag, f"level {s.tag}")
            out.append(self._notify("level", f"{self.key.symbol}: {name} working", "info", now))
        # the new stop works: cancel the old ones (those still needed for coverage stay)
        for o in list(self.stops.values()):
            if (
                o is not s
                and o.state is StopState.WORKING
                and (s.quantity >= self.qty or o.quantity < self.qty)
            ):
                out.extend(self._cancel(o, now))
        out.extend(self._evaluate(now))
        return out

    def _fail(self, s: Stop, reason: str, now: int, immediate: bool) -> list[Output]:
        self._forget(s.client_id)
        if self.pending is s:
            self.pending = None
        self.attempts += 1
        delay = self.profile.backoff_ms(self.attempts)
        self.retry_at = now + delay
        self.check = None
        out: list[Output] = [
            self.event("rejected", now, detail=f"{s.client_id}: {reason}"),
            self._notify(
                "rejected",
                f"{self.key.symbol}: stop {s.client_id} rejected ({reason}); the previous stop stays; "
                f"retry {self.attempts} in {delay} ms",
                "warning",
                now,
            ),
        ]
        if self.phase is not Phase.ACTIVE or s.epoch != self.epoch or not self.enabled:
            return out
        cur = self._current()
        if immediate and (cur is None or cur.quantity < self.qty):
            if s.tag == ids.TAG_SAFETY:
                out.extend(self._close(now, "the safety stop would trigger at once"))
            else:
                out.extend(self._fallback(now, "the stop would trigger at once"))
        return out

    def on_place_acked(self, client_id: str, order_id: str, now: int) -> list[Output]:
        s = self.stops.get(client_id)
        if s is None:
            return []
        s.order_id = order_id or s.order_id
        s.acked = True
        if s.state is StopState.PENDING and self._unwanted(s):
            return self._drop_pending(s, now)
        if s.state is StopState.PENDING and s.seen_working:
            return self._confirm(s, now)
        return []

    def on_place_rejected(self, client_id: str, reason: str, immediate: bool, now: int) -> list[Output]:
        if self.closing is not None and self.closing[0] == client_id:
            return self._close_failed(reason, now)
        s = self.stops.get(client_id)
        if s is None or s.state is not StopState.PENDING:
            return []
        return self._fail(s, reason, now, immediate)

    def on_closing(self, client_id: str, now: int) -> list[Output]:
        """Order entry is closing the whole position with `client_id` on a broker without
        reduce-only, where the close takes the position's stops down (Tradovate liquidatePosition
        at the venue, Alpaca's adapter freeing the shares): no stop is placed while it is in flight
        (its stops' cancels are expected), until the position is flat, the close fails
        (`on_place_rejected`) or the confirm timeout."""
        if self.phase is not Phase.ACTIVE or self.closing is not None:
            return []
        self.closing = (client_id, now)
        self.venue_closing = True
        self.check = None
        return [self.event("close", now, detail=f"{client_id}: closing with its stops at the venue")]

    def _close_failed(self, reason: str, now: int) -> list[Output]:
        self.closing = None
        self.venue_closing = False
        out: list[Output] = [
            self.event("close_failed", now, detail=reason),
            self._notify("close", f"{self.key.symbol}: market close failed ({reason})", "error", now),
        ]
        out.extend(self._evaluate(now))
        return out

    def on_order(self, ev: OrderEvent, now: int) -> list[Output]:
        """An order/algo update for one of this position's ids."""
        cid = ev.client_id
        if self.closing is not None and self.closing[0] == cid:
            if ev.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
                return self._close_failed(ev.reject_reason or ev.status.value, now)
            return []
        s = self.stops.get(cid)
        if s is None:
            return []
        if ev.order_id and s.order_id is None:
            s.order_id = ev.order_id
        st = ev.status
        waiting = ev.is_conditional or ev.type.is_conditional
        if st is OrderStatus.NEW and waiting and ev.filled == 0:
            if s.state is StopState.PENDING:
                s.seen_working = True
                if self._unwanted(s):
                    return self._drop_pending(s, now)
                if s.acked:
                    return self._confirm(s, now)
            return []
        if st in (OrderStatus.TRIGGERED, OrderStatus.FILLED) or st.is_open:
            # it fired (a triggered conditional becomes a regular order that fills)
            self._forget(cid)
            if self.pending is s:
                self.pending = None
            if s.state is StopState.CANCELLING or s.epoch != self.epoch or self.phase is not Phase.ACTIVE:
                return [self.event("triggered", now, detail=cid)]
            self.triggered_at = now
            self.check = None
            return [
                self.event("triggered", now, detail=cid),
                self._notify("triggered", f"{self.key.symbol}: stop {cid} triggered", "info", now),
            ]
        if st in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
            if s.state is StopState.PENDING:
                return self._fail(s, ev.reject_reason or st.value, now, False)
            return self._gone(s, now, expected=s.state is StopState.CANCELLING, why=st.value)
        return []

    def _forget(self, cid: str) -> None:
        self.stops.pop(cid, None)
        self.gone[cid] = None  # never adopt it again from a view that lags behind
        if len(self.gone) > 64:
            del self.gone[next(iter(self.gone))]

    def _gone(self, s: Stop, now: int, *, expected: bool, why: str) -> list[Output]:
        self._remember(s)
        self._forget(s.client_id)
        if expected or self.venue_closing:
            return [self.event("canceled", now, detail=s.client_id)]
        out: list[Output] = [
            self.event("vanished", now, detail=f"{s.client_id}: {why}"),
            self._notify(
                "external",
                f"{self.key.symbol}: stop {s.client_id} {_GONE.get(why, why)}",
                "warning",
                now,
            ),
        ]
        out.extend(self._evaluate(now))
        return out

    def on_cancel_done(self, client_id: str, now: int) -> list[Output]:
        s = self.stops.get(client_id)
        if s is None:
            return []
        if s.state is StopState.PENDING:
            # cancelled before it was confirmed (timeout path already moved it): treat as gone
            return self._fail(s, "cancelled", now, False)
        return self._gone(s, now, expected=s.state is StopState.CANCELLING, why="CANCELED")

    def on_cancel_failed(self, client_id: str, reason: str, now: int) -> list[Output]:
        s = self.stops.get(client_id)
        if s is None or s.state is not StopState.CANCELLING:
            return []
        s.cancel_sent_at = now
        s.cancel_attempts += 1
        return [self.event("cancel_failed", now, detail=f"{client_id}: {reason}")]

    # -- time -------------------------------------------------------------------------------

    def on_time(self, now: int) -> list[Output]:
        out: list[Output] = []
        p = self.profile
        s = self.pending
        if s is not None and now - s.placed_at >= p.confirm_timeout_ms:
            # no confirmation: cancel it (harmless if it never arrived) and retry with back-off
            self.pending = None
            s.state = StopState.CANCELLING
            s.cancel_sent_at = now
            out.append(CancelStop(self.key, s.client_id, s.order_id))
            self.attempts += 1
            delay = p.backoff_ms(self.attempts)
            self.retry_at = now + delay
            out.append(self.event("timeout", now, detail=s.client_id))
            out.append(
                self._notify(
                    "retry",
                    f"{self.key.symbol}: stop {s.client_id} not confirmed in {p.confirm_timeout_ms} ms; "
                    f"retry {self.attempts} in {delay} ms",
                    "warning",
                    now,
                )
            )
        if self.closing is not None and now - self.closing[1] >= p.confirm_timeout_ms:
            self.closing = None  # the watchdog decides again from the live view
            self.venue_closing = False
        for c in list(self.stops.values()):
            if c.state is StopState.CANCELLING and c.cancel_sent_at is not None:
                wait = min(p.retry_max_ms, p.cancel_retry_ms << min(c.cancel_attempts, 10))
                if now - c.cancel_sent_at >= wait:
                    c.cancel_sent_at = now
                    c.cancel_attempts += 1
                    out.append(CancelStop(self.key, c.client_id, c.order_id))
        if self.phase is Phase.FLAT:
            if now - self.flat_since >= self.flat_grace_ms:
                for w in list(self.stops.values()):
                    if w.state is StopState.WORKING:
                        out.extend(self._cancel(w, now))
            return out
        if self.phase is not Phase.ACTIVE:
            return out
        due = False
        if self.retry_at is not None and now >= self.retry_at:
            self.retry_at = None
            due = True
        if self.triggered_at is not None and now - self.triggered_at >= p.trigger_settle_ms:
            self.triggered_at = None
            due = True
        if due:
            out.append(self.event("retry", now))
            out.extend(self._evaluate(now))
        return out

    # -- user commands ----------------------------------------------------------------------

    def set_enabled(self, on: bool, now: int) -> list[Output]:
        if on == self.enabled:
            return []
        self.enabled = on
        out: list[Output] = [self.event("enabled" if on else "disabled", now)]
        if on:
            out.extend(self._evaluate(now))
        else:
            self.check = None
        return out

    def move_to_breakeven(self, now: int) -> list[Output]:
        def refuse(why: str) -> list[Output]:
            return [self._notify("refused", f"{self.key.symbol}: breakeven refused: {why}", "warning", now)]

        if self.phase is not Phase.ACTIVE:
            return refuse("no open position")
        if not self.enabled:
            return refuse("ASL is off for this position")
        be = self._round(self.entry, tight=True)
        if self.mark is None or not self._better(self.mark, be):
            return refuse("the price is not beyond the entry price")
        fl = self._floor()
        if (fl is not None and not self._better(be, fl)) or (
            self.be_price is not None and not self._better(be, self.be_price)
        ):
            return refuse("the stop is already at or beyond breakeven")
        self.be_price = be
        out: list[Output] = [
            self.event("breakeven", now, detail=str(be)),
            self._notify("breakeven", f"{self.key.symbol}: moving the stop to breakeven {be}", "info", now),
        ]
        out.extend(self._evaluate(now))
        return out

    # -- watchdog ---------------------------------------------------------------------------

    def watch(self, view: Sequence[OrderEvent], now: int) -> list[Output]:
        """Check this open position against the live view of our open stops for it."""
        out: list[Output] = []
        if self.phase is not Phase.ACTIVE:
            return out
        p = self.profile
        in_view = {o.client_id for o in view}
        for s in self._working():
            if (
                s.client_id not in in_view
                and s.confirmed_at is not None
                and now - s.confirmed_at >= p.view_grace_ms
            ):
                out.extend(self._gone(s, now, expected=False, why="MISSING"))
        cur = self._current()
        if cur is None or cur.quantity < self.qty:
            for o in view:
                d = ids.decode(o.client_id, o.symbol)
                if (
                    o.client_id not in self.stops
                    and o.client_id not in self.gone
                    and d is not None
                    and d.long == self.long
                    and o.side is self.closing_side
                    and o.quantity >= self.qty
                    and d.tag != ids.TAG_CLOSE
                ):
                    out.extend(self._adopt(o, d, now))
                    break
        if not self.enabled:
            return out
        covered = any(o.side is self.closing_side and o.quantity >= self.qty for o in view)
        if covered:
            return out
        if self.pending is not None and now - self.pending.placed_at < p.confirm_timeout_ms:
            return out  # the placement in flight will cover it
        if self.closing is not None:
            return out
        if self.triggered_at is not None and now - self.triggered_at < p.trigger_settle_ms:
            return out  # our stop fired; the exchange is closing the position
        out.extend(self._fallback(now, "no working stop covers the position"))
        return out

    def _adopt(self, o: OrderEvent, d: ids.ParsedId, now: int) -> list[Output]:
        trailing = o.type is OrderType.TRAILING_STOP_MARKET
        if (trailing and o.callback_rate_pct is None) or (not trailing and o.stop_price is None):
            return []
        s = Stop(
            client_id=o.client_id,
            tag=d.tag,
            epoch=self.epoch,
            long=self.long,
            trailing=trailing,
            price=None if trailing else o.stop_price,
            callback=o.callback_rate_pct if trailing else None,
            quantity=o.quantity,
            placed_at=now,
            mark_at_place=self.mark,
            state=StopState.WORKING,
            order_id=o.order_id or None,
            acked=True,
            seen_working=True,
            confirmed_at=now,
            exchange_stop=o.stop_price if trailing else None,
            seq=d.seq,
        )
        self.stops[s.client_id] = s
        self.seq = max(self.seq, d.seq)
        out: list[Output] = [self.event("adopted", now, detail=s.client_id)]
        out.extend(self._evaluate(now))
        return out
