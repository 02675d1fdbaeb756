"""All positions' ASL machines behind one object: routes inputs, keeps the per-symbol index.

`on_mark` is the hot path: a tick that changes no level costs a dict lookup and two or three
`Decimal` comparisons per position on that symbol, and returns a shared empty tuple.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sidedesk.domain import Capabilities, OrderEvent, OrderStatus, PositionEvent

from . import ids
from .machine import MachineView, Phase, PositionMachine
from .model import (
    AslEvent,
    CancelDone,
    CancelFailed,
    ClosePosition,
    Notify,
    Output,
    PlaceAcked,
    PlaceRejected,
    PlaceStop,
    PositionKey,
)
from .profile import AslProfile

_EMPTY: tuple[Output, ...] = ()


@dataclass(slots=True)
class OrphanTimer:
    """One of our stops in the live view that no machine owns."""

    first_seen: int
    cancel_sent_at: int | None = None


Input = PositionEvent | OrderEvent | PlaceAcked | PlaceRejected | CancelDone | CancelFailed


class AslEngine:
    def __init__(
        self,
        profile: AslProfile,
        capabilities: Capabilities,
        *,
        tick_sizes: Mapping[str, Decimal] | None = None,
        default_enabled: bool = True,
    ) -> None:
        profile.check_broker(capabilities)
        self.profile = profile
        self.capabilities = capabilities
        self.native = capabilities.native_trailing_stop
        self.reduce_only = capabilities.reduce_only
        # our stops that no position owns wait this long before they are cancelled: with reduce-only
        # stops a late event may still explain them; without, each one could open a position
        self.orphan_grace_ms = profile.orphan_grace_ms if capabilities.reduce_only else 0
        self.default_enabled = default_enabled
        self._ticks: dict[str, Decimal] = dict(tick_sizes or {})
        self._machines: dict[PositionKey, PositionMachine] = {}
        self._by_symbol: dict[str, list[PositionMachine]] = {}
        self._owner: dict[str, PositionMachine] = {}  # client id -> machine, for replies
        self._enabled: dict[PositionKey, bool] = {}
        self._marks: dict[str, Decimal] = {}
        self.orphans: dict[str, OrphanTimer] = {}

    # -- machines ---------------------------------------------------------------------------

    def machine(self, key: PositionKey) -> PositionMachine | None:
        return self._machines.get(key)

    def machines(self) -> list[PositionMachine]:
        return list(self._machines.values())

    @property
    def enabled_overrides(self) -> dict[PositionKey, bool]:
        """Per-position on/off choices (pass to `rebuild(enabled=...)` to keep them)."""
        return dict(self._enabled)

    def view(self, key: PositionKey) -> MachineView | None:
        m = self._machines.get(key)
        return None if m is None else m.view()

    def set_tick_size(self, symbol: str, tick: Decimal) -> None:
        self._ticks[symbol] = tick
        for m in self._by_symbol.get(symbol, ()):
            m.tick = tick

    def _ensure(self, key: PositionKey) -> PositionMachine:
        m = self._machines.get(key)
        if m is None:
            m = PositionMachine(
                key,
                self.profile,
                native_trailing=self.native,
                tick_size=self._ticks.get(key.symbol, Decimal(0)),
                enabled=self._enabled.get(key, self.default_enabled),
                reduce_only=self.reduce_only,
            )
            m.mark = self._marks.get(key.symbol)
            self._machines[key] = m
            self._by_symbol.setdefault(key.symbol, []).append(m)
        return m

    def _track(self, m: PositionMachine, out: Sequence[Output]) -> Sequence[Output]:
        for o in out:
            if isinstance(o, PlaceStop | ClosePosition):
                self._owner[o.request.client_id] = m
        return out

    def _find(self, client_id: str) -> PositionMachine | None:
        m = self._owner.get(client_id)
        if m is not None and m.knows(client_id):
            return m
        self._owner.pop(client_id, None)
        return None

    # -- inputs -----------------------------------------------------------------------------

    def handle(self, msg: Input, now: int) -> Sequence[Output]:
        """Dispatch any non-tick input value."""
        if isinstance(msg, PositionEvent):
            return self.on_position(msg, now)
        if isinstance(msg, OrderEvent):
            return self.on_order(msg, now)
        m = self._find(msg.client_id)
        if m is None:
            return _EMPTY
        if isinstance(msg, PlaceAcked):
            out = m.on_place_acked(msg.client_id, msg.order_id, now)
        elif isinstance(msg, PlaceRejected):
            out = m.on_place_rejected(msg.client_id, msg.reason, msg.immediate_trigger, now)
        elif isinstance(msg, CancelDone):
            out = m.on_cancel_done(msg.client_id, now)
        else:
            out = m.on_cancel_failed(msg.client_id, msg.reason, now)
        return self._track(m, out)

    def on_position(self, ev: PositionEvent, now: int) -> Sequence[Output]:
        key = PositionKey(ev.account_id, ev.symbol, ev.position_side)
        m = self._machines.get(key)
        if m is None:
            if ev.quantity == 0:
                return _EMPTY
            m = self._ensure(key)
        return self._track(
            m, m.on_position(ev.quantity, ev.entry_price, ev.leverage, ev.mark_price, now, ev.ts_ms)
        )

    def on_mark(self, symbol: str, mark: Decimal, now: int) -> Sequence[Output]:
        self._marks[symbol] = mark
        ms = self._by_symbol.get(symbol)
        if ms is None:
            return _EMPTY
        if len(ms) == 1:
            m = ms[0]
            out = m.on_mark(mark, now)
            return self._track(m, out) if out else _EMPTY
        acc: list[Output] = []
        for m in ms:
            r = m.on_mark(mark, now)
            if r:
                acc.extend(self._track(m, r))
        return acc if acc else _EMPTY

    def on_order(self, ev: OrderEvent, now: int) -> Sequence[Output]:
        cid = ev.client_id
        if not cid.startswith(ids.PREFIX):
            return _EMPTY
        m = self._find(cid)
        if m is None:
            if not ev.status.is_open:
                self.orphans.pop(cid, None)
            return _EMPTY
        return self._track(m, m.on_order(ev, now))

    def closing(self, key: PositionKey, client_id: str, now: int) -> Sequence[Output]:
        """Order entry closes the whole position with `client_id`, which takes its stops down with
        it (`PositionMachine.on_closing`); a `PlaceRejected` for that id reopens it."""
        m = self._machines.get(key)
        if m is None:
            return _EMPTY
        out = m.on_closing(client_id, now)
        if m.closing is not None and m.closing[0] == client_id:
            self._owner[client_id] = m
        return self._track(m, out)

    def on_time(self, now: int) -> Sequence[Output]:
        """Timers: confirm timeouts, retries, cancel re-sends, grace periods. Call every ~100 ms.

        A flat machine is forgotten `profile.orphan_grace_ms` after the position closed, once it
        holds no stop (on every broker: it keeps the last position time against late updates)."""
        acc: list[Output] = []
        gone: list[PositionKey] = []
        for key, m in self._machines.items():
            r = m.on_time(now)
            if r:
                acc.extend(self._track(m, r))
            if m.phase is Phase.FLAT and not m.stops and now - m.flat_since >= self.profile.orphan_grace_ms:
                gone.append(key)
        for key in gone:
            self._drop(key)
        return acc

    def _drop(self, key: PositionKey) -> None:
        m = self._machines.pop(key)
        lst = self._by_symbol.get(key.symbol, [])
        if m in lst:
            lst.remove(m)
        if not lst:
            self._by_symbol.pop(key.symbol, None)
        for cid in [c for c, o in self._owner.items() if o is m]:
            del self._owner[cid]

    # -- user commands ----------------------------------------------------------------------

    def set_enabled(self, key: PositionKey, on: bool, now: int) -> Sequence[Output]:
        """Per-position on/off; also valid before the position exists (a ticket's choice)."""
        self._enabled[key] = on
        m = self._machines.get(key)
        if m is None:
            return _EMPTY
        return self._track(m, m.set_enabled(on, now))

    def move_to_breakeven(self, key: PositionKey, now: int) -> Sequence[Output]:
        m = self._machines.get(key)
        if m is None:
            return (
                Notify(key, "refused", f"{key.symbol}: breakeven refused: no open position", "warning", now),
            )
        return self._track(m, m.move_to_breakeven(now))

    def snapshot(self, now: int) -> list[AslEvent]:
        """One `snapshot` event per tracked position, for a panel that (re)subscribes."""
        return [m.event("snapshot", now) for m in self._machines.values() if m.phase is not Phase.IDLE]

    # -- restart ----------------------------------------------------------------------------

    @classmethod
    def rebuild(
        cls,
        profile: AslProfile,
        capabilities: Capabilities,
        open_orders: Iterable[OrderEvent],
        positions: Iterable[PositionEvent],
        now: int,
        *,
        tick_sizes: Mapping[str, Decimal] | None = None,
        marks: Mapping[str, Decimal] | None = None,
        enabled: Mapping[PositionKey, bool] | None = None,
        default_enabled: bool = True,
    ) -> tuple[AslEngine, list[Output]]:
        """A fresh engine resumed from the exchange's open orders and positions (after a restart).

        Each open position gets a machine holding our open stops for it (level from their tags,
        sequence above their ids); it then does what the state calls for (nothing when one stop
        covers the position; cancel extra stops; place a missing one). Stops of ours for no
        position are left to the watchdog, which cancels them after `orphan_grace_ms` (at its
        first pass where the broker has no reduce-only stops).
        """
        eng = cls(profile, capabilities, tick_sizes=tick_sizes, default_enabled=default_enabled)
        eng._enabled.update(enabled or {})
        eng._marks.update(marks or {})
        ours: dict[PositionKey, list[OrderEvent]] = {}
        for o in open_orders:
            if o.status.is_open and ids.decode(o.client_id, o.symbol) is not None:
                ours.setdefault(PositionKey(o.account_id, o.symbol, o.position_side), []).append(o)
        out: list[Output] = []
        for p in positions:
            if p.quantity == 0:
                continue
            key = PositionKey(p.account_id, p.symbol, p.position_side)
            m = eng._ensure(key)
            mark = eng._marks.get(p.symbol, p.mark_price)
            mine = ours.get(key, [])
            for o in mine:
                eng._owner[o.client_id] = m
            out.extend(eng._track(m, m.restore(p.quantity, p.entry_price, p.leverage, mark, mine, now)))
        return eng, out


def is_working_stop(o: OrderEvent) -> bool:
    """An open conditional order still waiting for its trigger."""
    return o.status is OrderStatus.NEW and (o.is_conditional or o.type.is_conditional)
