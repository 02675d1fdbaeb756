"""The watchdog: every 500 ms, hold the ASL state against the host's live orders and positions.

Pure: it reads the live view (kept exact by user-data events and reconciled against the
exchange) and the engine, and returns commands. It guarantees that

- every open position with ASL on has one of our working stops covering its quantity, else it
  places the safety stop (or closes at market when the price is already beyond it), unless a
  placement for it is in flight and not yet overdue;
- a position the engine has not seen (opened elsewhere, or while the host was down) is adopted;
- a position the view no longer holds is treated as closed;
- our stops that no position owns (orphans) are cancelled after the grace period (at once where
  the broker has no reduce-only flag: `AslEngine.orphan_grace_ms`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sidedesk.domain import OrderEvent, PositionEvent

from . import ids
from .engine import AslEngine, OrphanTimer, is_working_stop
from .machine import Phase
from .model import CancelStop, Output, PositionKey

WATCHDOG_PERIOD_MS = 500


def watchdog(
    engine: AslEngine,
    open_orders: Iterable[OrderEvent],
    positions: Iterable[PositionEvent],
    now: int,
) -> list[Output]:
    """`open_orders`: every open order of the managed accounts (ours are picked by client id);
    `positions`: every open position of those accounts (flat ones may be left out)."""
    out: list[Output] = []
    ours: dict[PositionKey, list[OrderEvent]] = {}
    for o in open_orders:
        if is_working_stop(o) and ids.decode(o.client_id, o.symbol) is not None:
            ours.setdefault(PositionKey(o.account_id, o.symbol, o.position_side), []).append(o)

    live: set[PositionKey] = set()
    for p in positions:
        if p.quantity == 0:
            continue
        key = PositionKey(p.account_id, p.symbol, p.position_side)
        live.add(key)
        m = engine.machine(key)
        if m is None or m.phase is not Phase.ACTIVE or m.long != (p.quantity > 0) or m.qty != abs(p.quantity):
            out.extend(engine.on_position(p, now))
            m = engine.machine(key)
        if m is not None:
            out.extend(engine._track(m, m.watch(ours.get(key, []), now)))

    for m in engine.machines():
        if m.phase is Phase.ACTIVE and m.key not in live:
            k = m.key
            flat = PositionEvent(k.account_id, k.symbol, k.position_side, Decimal(0), m.entry)
            out.extend(engine.on_position(flat, now))

    grace = engine.orphan_grace_ms
    retry = engine.profile.cancel_retry_ms
    seen: set[str] = set()
    for key, lst in ours.items():
        owner = engine.machine(key)
        for o in lst:
            cid = o.client_id
            if owner is not None and owner.knows(cid):
                continue
            seen.add(cid)
            t = engine.orphans.get(cid)
            if t is None:
                t = engine.orphans[cid] = OrphanTimer(first_seen=now)
            if now - t.first_seen >= grace and (t.cancel_sent_at is None or now - t.cancel_sent_at >= retry):
                t.cancel_sent_at = now
                out.append(CancelStop(key, cid, o.order_id or None))
    for cid in [c for c in engine.orphans if c not in seen]:
        del engine.orphans[cid]
    return out


def follow_positions(engine: AslEngine, positions: Iterable[PositionEvent], now: int) -> list[Output]:
    """Right after a burst of the account's events: a position of the host's live view that is
    now flat, or reversed, while the engine still holds it open, is told to the engine now, not
    at the next watchdog pass.

    Some adapters report a fill before its position update and the books move the position on
    the fill itself, so the position update changes nothing and tells nobody (Alpaca: up to one
    watchdog period, 500 ms, with the stop still working). Only closes and reversals are
    followed: they are what makes a stop without reduce-only dangerous; a size change waits for
    the exchange's own position update or the watchdog, as before."""
    out: list[Output] = []
    live: dict[PositionKey, PositionEvent] = {
        PositionKey(p.account_id, p.symbol, p.position_side): p for p in positions if p.quantity != 0
    }
    for m in engine.machines():
        if m.phase is not Phase.ACTIVE:
            continue
        held = live.get(m.key)
        if held is None:
            k = m.key
            flat = PositionEvent(k.account_id, k.symbol, k.position_side, Decimal(0), m.entry)
            out.extend(engine.on_position(flat, now))
        elif (held.quantity > 0) != m.long:
            out.extend(engine.on_position(held, now))
    return out
