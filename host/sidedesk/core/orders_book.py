"""The live open-orders table (regular and conditional) kept exact by order events.

Pure. Each order (account, order id, conditional or not: Binance's algo ids are their own id
space) keeps the rank of the last event applied: (update time, final?, filled quantity). An
event applies only if it ranks higher, so a duplicate (same id, status, filled and time) and a
late older event change nothing; a final status (filled, canceled, rejected, expired,
triggered) is absorbing, so an order once final never shows as open again whatever arrives
later. An exchange snapshot is authoritative: orders of that account it does not list, and
that have not changed since it was taken, are gone.

`stop_coverage` is the question the ASL watchdog asks every 500 ms: which working stop orders
protect a position, and how much of its quantity do they cover?
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sidedesk.domain import (
    AccountSnapshot,
    OrderEvent,
    OrderType,
    PositionSide,
    Side,
)

ZERO = Decimal(0)
OrderKey = tuple[str, str, bool]  # (account_id, order_id, is_conditional)
Rank = tuple[int, int, Decimal]  # (update time, 1 if final, filled)

STOP_TYPES = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP_MARKET})
# Final orders remembered so late events cannot resurrect them. A late event arrives seconds after
# the final one, not thousands of orders later; each remembered order costs about 1 KiB, so the
# bound is what keeps a host that trades for days flat in memory (100 000 grew ~100 MiB).
DEFAULT_CLOSED_MEMORY = 10_000


def order_key(ev: OrderEvent) -> OrderKey:
    return (ev.account_id, ev.order_id, ev.is_conditional)


def check_order(ev: OrderEvent) -> None:
    if not ev.order_id:
        raise ValueError(f"order event for {ev.symbol} without an order id")
    for name in ("quantity", "filled", "price", "stop_price", "avg_price"):
        value = getattr(ev, name)
        if value is not None and (not value.is_finite() or value < 0):
            raise ValueError(f"order {ev.order_id}: {name} must be a non-negative number, got {value}")


@dataclass(frozen=True, slots=True)
class StopCoverage:
    """The working stops protecting one position and the quantity they cover."""

    position_qty: Decimal  # signed
    orders: tuple[OrderEvent, ...]
    covered_qty: Decimal  # sum of the remaining quantity of the stops (close-position ones excluded)
    close_position: bool  # a close-position stop covers whatever the quantity is

    @property
    def fully_covered(self) -> bool:
        return self.close_position or self.covered_qty >= abs(self.position_qty)

    @property
    def shortfall(self) -> Decimal:
        return ZERO if self.fully_covered else abs(self.position_qty) - self.covered_qty

    @property
    def stop_price(self) -> Decimal | None:
        """The tightest trigger price among the stops (highest for a long, lowest for a short)."""
        prices = [o.stop_price for o in self.orders if o.stop_price is not None and o.stop_price > 0]
        if not prices:
            return None
        return max(prices) if self.position_qty > 0 else min(prices)


class OrdersBook:
    def __init__(self, *, closed_memory: int = DEFAULT_CLOSED_MEMORY) -> None:
        self._open: dict[OrderKey, OrderEvent] = {}
        self._rank: dict[OrderKey, Rank] = {}
        self._closed: dict[OrderKey, None] = {}  # insertion-ordered, for bounded forgetting
        self._closed_memory = closed_memory
        self._by_symbol: dict[tuple[str, str], set[OrderKey]] = {}

    # -- updates -------------------------------------------------------------------------------
    def apply(self, ev: OrderEvent) -> bool:
        """Apply one order event; False when it is a duplicate, stale or about a final order."""
        check_order(ev)
        return self._apply(ev)

    def _apply(self, ev: OrderEvent) -> bool:
        key = order_key(ev)
        final = ev.status.is_final
        rank: Rank = (ev.update_time_ms, 1 if final else 0, ev.filled)
        old = self._rank.get(key)
        if old is not None and (old[1] == 1 or rank <= old):
            return False
        self._rank[key] = rank
        if final:
            self._remove(key)
            self._remember_closed(key)
        else:
            self._open[key] = ev
            self._by_symbol.setdefault((ev.account_id, ev.symbol), set()).add(key)
        return True

    def _remove(self, key: OrderKey) -> None:
        ev = self._open.pop(key, None)
        if ev is not None:
            keys = self._by_symbol.get((ev.account_id, ev.symbol))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_symbol[(ev.account_id, ev.symbol)]

    def _remember_closed(self, key: OrderKey) -> None:
        self._closed[key] = None
        while len(self._closed) > self._closed_memory:
            oldest = next(iter(self._closed))
            del self._closed[oldest]
            self._rank.pop(oldest, None)

    def apply_snapshot(self, snap: AccountSnapshot) -> bool:
        """The exchange's open orders of one account (regular and conditional)."""
        for ev in snap.open_orders:  # check everything before changing anything
            if ev.account_id != snap.account_id:
                raise ValueError(f"snapshot of {snap.account_id} holds an order of {ev.account_id}")
            check_order(ev)
        changed = False
        listed = set()
        for ev in snap.open_orders:
            listed.add(order_key(ev))
            changed |= self._apply(ev)
        for key, ev in list(self._open.items()):
            if key[0] == snap.account_id and key not in listed and ev.update_time_ms <= snap.ts_ms:
                # gone while we were not looking: final at the snapshot's time
                self._rank[key] = (snap.ts_ms, 1, ev.filled)
                self._remove(key)
                self._remember_closed(key)
                changed = True
        return changed

    # -- queries -------------------------------------------------------------------------------
    def get(self, account_id: str, order_id: str, *, conditional: bool = False) -> OrderEvent | None:
        return self._open.get((account_id, order_id, conditional))

    def is_known_final(self, account_id: str, order_id: str, *, conditional: bool = False) -> bool:
        rank = self._rank.get((account_id, order_id, conditional))
        return rank is not None and rank[1] == 1

    def open_orders(self, account_id: str | None = None, symbol: str | None = None) -> list[OrderEvent]:
        """Orders that may still trade (and ones whose outcome is being reconciled), oldest first."""
        if account_id is not None and symbol is not None:
            keys = self._by_symbol.get((account_id, symbol), set())
            out = [self._open[k] for k in keys]
        else:
            out = [
                ev
                for ev in self._open.values()
                if (account_id is None or ev.account_id == account_id)
                and (symbol is None or ev.symbol == symbol)
            ]
        out.sort(key=lambda e: (e.update_time_ms, e.account_id, e.order_id, e.is_conditional))
        return out

    def __len__(self) -> int:
        return len(self._open)

    def stop_coverage(
        self, account_id: str, symbol: str, position_side: PositionSide, position_qty: Decimal
    ) -> StopCoverage:
        """Working stops on the closing side of a position (signed quantity) and what they cover.

        A stop counts when it is open (not one whose outcome is unknown), is a stop or trailing
        stop, closes the position's direction and is for the same position side (hedge mode).
        """
        if position_qty == 0:
            return StopCoverage(position_qty, (), ZERO, False)
        closing = Side.SELL if position_qty > 0 else Side.BUY
        found = []
        covered = ZERO
        close_all = False
        for key in self._by_symbol.get((account_id, symbol), ()):
            o = self._open[key]
            if (
                o.status.is_open
                and o.type in STOP_TYPES
                and o.side is closing
                and o.position_side is position_side
            ):
                found.append(o)
                if o.close_position:
                    close_all = True
                else:
                    covered += max(ZERO, o.quantity - o.filled)
        found.sort(key=lambda e: (e.update_time_ms, e.order_id))
        return StopCoverage(position_qty, tuple(found), covered, close_all)

    def stops(self, account_id: str | None = None) -> list[OrderEvent]:
        """Every working stop order (for finding orphans: stops whose position is flat)."""
        return [o for o in self.open_orders(account_id) if o.status.is_open and o.type in STOP_TYPES]
