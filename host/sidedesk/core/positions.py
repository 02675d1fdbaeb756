"""The position book: positions, average entry and P&L from fills, exchange updates and marks.

Pure: values in, state out; no I/O, no clock. One book serves one broker connection group
(its accounts share market data, so a mark price is keyed by symbol alone).

Model, per key (account, symbol, position side):

- The exchange is the source of truth. Its latest position update (or snapshot) is the *base*:
  quantity, entry, leverage, margin, liquidation price at transaction time `base_ts`.
- Fills keep the position current between exchange updates. A fill newer than the base is
  *pending*: it is applied on top of the base in time order (arrival order within one
  millisecond), so a late fill is slotted in and the pending run is replayed. A fill at or
  before `base_ts` is already inside the exchange's figures and only books its realized P&L
  and fee. Times are the exchange's transaction times (Binance `T`) on fills and updates
  alike; a fill with time 0 (unknown) is always applied on top.
- A newer exchange update replaces the base, drops the pending fills it already includes and
  replays the rest. An older one is stale and changes nothing; so does a duplicate fill
  (same account, order id and trade id). A repeat of a fill that adds what the first copy
  lacked (Binance's TRADE_LITE has no fee and no realized profit; ORDER_TRADE_UPDATE follows
  with both) enriches the first copy instead of counting twice.

Arithmetic: signed quantity (+ long, - short), average-cost entry. A fill against the position
realizes `closed x (price - entry) x direction x multiplier`; a fill larger than a one-way
position closes it and opens the rest the other way at the fill price. In hedge mode LONG and
SHORT are independent keys and never flip (the exchange rejects such an order); an over-close
is clamped to flat and counted in `anomalies` until the next exchange update reconciles it.
Realized P&L is the exchange's figure when the fill carries it (Binance `rp`), else computed.
Fees paid in the settlement asset are subtracted from realized P&L; fees in another asset
(BNB discount) are kept apart in `other_fees` because they cannot be converted exactly.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from sidedesk.domain import (
    AccountSnapshot,
    FillEvent,
    InstrumentRules,
    PositionEvent,
    PositionSide,
    QuoteEvent,
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

PositionKey = tuple[str, str, PositionSide]  # (account_id, symbol, position_side)
FillKey = tuple[str, str, str]  # (account_id, order_id, trade_id)

# The average entry of a position built from fills is a division and rarely terminates; kept to
# 1e-12 (far below any exchange's tick), every P&L computed from it is an exact Decimal, so sums
# in any order agree to the last digit (exchanges themselves report entry prices rounded).
ENTRY_QUANTUM = Decimal("1e-12")
# Pending fills kept per position between exchange updates; beyond this the oldest half is
# folded into the base (a fill arriving later than that window is applied on top, not slotted).
MAX_PENDING = 512
# Fill identities remembered for de-duplication (oldest forgotten first).
DEFAULT_FILL_MEMORY = 200_000


class FillRecord:
    """One booked fill. Mutable only by the book (replay and enrichment update `realized`)."""

    __slots__ = (
        "account_id",
        "fee",
        "fee_asset",
        "key",
        "order_key",
        "position_side",
        "price",
        "realized",
        "reported_pnl",
        "settle_asset",
        "signed_qty",
        "symbol",
        "ts_ms",
    )

    def __init__(self, ev: FillEvent, settle_asset: str, seq: int) -> None:
        self.key: FillKey = (ev.account_id, ev.order_id, ev.trade_id)
        # time order; fills of the same millisecond keep their arrival (= exchange) order
        self.order_key = (ev.ts_ms, seq)
        self.account_id = ev.account_id
        self.symbol = ev.symbol
        self.position_side = ev.position_side
        self.ts_ms = ev.ts_ms
        self.signed_qty: Decimal = ev.quantity if ev.side.sign > 0 else -ev.quantity
        self.price = ev.price
        self.fee = ev.fee
        self.fee_asset = ev.fee_asset or settle_asset
        self.settle_asset = settle_asset
        self.reported_pnl = ev.realized_pnl
        self.realized = ZERO  # gross realized P&L in the settlement asset (before fees)

    @property
    def settle_fee(self) -> Decimal:
        return self.fee if self.fee_asset == self.settle_asset else ZERO

    @property
    def net(self) -> Decimal:
        """What this fill did to the settlement-asset wallet: realized P&L minus fee."""
        return self.realized - self.settle_fee


def step(
    qty: Decimal, entry: Decimal, signed_qty: Decimal, price: Decimal, multiplier: Decimal, hedge: bool
) -> tuple[Decimal, Decimal, Decimal, bool]:
    """Apply one fill to (qty, entry): returns (qty, entry, realized gross, clamped)."""
    if qty == 0 or (qty > 0) == (signed_qty > 0):
        new_qty = qty + signed_qty
        if new_qty == 0:
            return ZERO, ZERO, ZERO, False
        avg = (abs(qty) * entry + abs(signed_qty) * price) / abs(new_qty)
        return new_qty, avg.quantize(ENTRY_QUANTUM, rounding=ROUND_HALF_EVEN), ZERO, False
    closed = min(abs(qty), abs(signed_qty))
    realized = closed * (price - entry) * multiplier
    if qty < 0:
        realized = -realized
    rest = qty + signed_qty
    if rest == 0:
        return ZERO, ZERO, realized, False
    if (rest > 0) == (qty > 0):
        return rest, entry, realized, False
    if hedge:  # a hedge-mode side cannot cross zero
        return ZERO, ZERO, realized, True
    return rest, price, realized, False  # flip: the remainder opens at the fill price


class Position:
    """One position's live state. Read its attributes; change it only through `PositionBook`."""

    __slots__ = (
        "_cost",
        "_qm",
        "account_id",
        "anomalies",
        "base_entry",
        "base_qty",
        "base_ts_ms",
        "break_even_price",
        "entry_price",
        "fees",
        "folded_ts_ms",
        "leverage",
        "liquidation_price",
        "mark_price",
        "multiplier",
        "other_fees",
        "pending",
        "position_side",
        "quantity",
        "realized_committed",
        "realized_gross",
        "reported_margin",
        "reported_unrealized",
        "settle_asset",
        "symbol",
        "unrealized",
        "updated_ms",
    )

    def __init__(
        self, account_id: str, symbol: str, position_side: PositionSide, multiplier: Decimal, settle: str
    ) -> None:
        self.account_id = account_id
        self.symbol = symbol
        self.position_side = position_side
        self.multiplier = multiplier
        self.settle_asset = settle
        self.quantity = ZERO
        self.entry_price = ZERO
        self.base_qty = ZERO
        self.base_entry = ZERO
        self.base_ts_ms = -1  # nothing from the exchange yet
        self.folded_ts_ms = -1
        self.pending: list[FillRecord] = []
        self.realized_gross = ZERO  # committed + the pending run's, summed in order
        self.realized_committed = ZERO  # fills no longer pending (inside an exchange update)
        self.fees = ZERO  # settlement-asset fees (already inside realized_pnl)
        self.other_fees: dict[str, Decimal] = {}
        self.mark_price: Decimal | None = None
        self.unrealized: Decimal | None = None
        self.reported_unrealized: Decimal | None = None
        self.reported_margin: Decimal | None = None
        self.liquidation_price: Decimal | None = None
        self.break_even_price: Decimal | None = None
        self.leverage: int | None = None
        self.anomalies = 0
        self.updated_ms = 0
        self._qm = ZERO  # quantity x multiplier
        self._cost = ZERO  # quantity x multiplier x entry: unrealized = _qm x mark - _cost

    # -- derived figures (computed on read; the tick path only touches `unrealized`) ----------
    @property
    def key(self) -> PositionKey:
        return (self.account_id, self.symbol, self.position_side)

    @property
    def hedge(self) -> bool:
        return self.position_side is not PositionSide.BOTH

    @property
    def direction(self) -> str:
        """LONG, SHORT or FLAT: what the panel shows as the side."""
        if self.quantity > 0:
            return "LONG"
        return "SHORT" if self.quantity < 0 else "FLAT"

    @property
    def realized_pnl(self) -> Decimal:
        """Realized P&L net of settlement-asset fees, over every fill this book has seen."""
        return self.realized_gross - self.fees

    @property
    def in_sync(self) -> bool:
        """True while the position is exactly what the exchange last reported (no fills since)."""
        return not self.pending and self.quantity == self.base_qty

    @property
    def unrealized_pnl(self) -> Decimal | None:
        if self.unrealized is not None:
            return self.unrealized
        if self.quantity == 0:
            return ZERO
        return self.reported_unrealized if self.in_sync else None

    @property
    def notional(self) -> Decimal:
        price = self.mark_price if self.mark_price is not None else self.entry_price
        return abs(self.quantity) * price * self.multiplier

    @property
    def initial_margin(self) -> Decimal | None:
        """Margin at entry (|qty| x entry x multiplier / leverage): the ROE denominator."""
        if self.quantity == 0:
            return None
        if self.leverage:
            return abs(self.quantity) * self.entry_price * self.multiplier / self.leverage
        if self.reported_margin and self.in_sync:
            return self.reported_margin
        return None

    @property
    def margin(self) -> Decimal | None:
        """Margin as the exchange reports it (isolated), else notional at mark / leverage."""
        if self.quantity == 0:
            return ZERO
        if self.reported_margin and self.in_sync:
            return self.reported_margin
        if self.leverage:
            return self.notional / self.leverage
        return None

    @property
    def roe_pct(self) -> Decimal | None:
        """Return on equity in percent: unrealized P&L / initial margin x 100 (leverage included)."""
        upnl = self.unrealized_pnl
        im = self.initial_margin
        if upnl is None or not im:
            return None
        return upnl / im * HUNDRED

    # -- mutation (book only) -----------------------------------------------------------------
    def _set_qty(self, qty: Decimal, entry: Decimal) -> None:
        self.quantity = qty
        self.entry_price = entry
        self._qm = qty * self.multiplier
        self._cost = self._qm * entry
        mark = self.mark_price
        self.unrealized = None if mark is None else self._qm * mark - self._cost

    def _apply_incremental(self, rec: FillRecord) -> None:
        qty, entry, realized, clamped = step(
            self.quantity, self.entry_price, rec.signed_qty, rec.price, self.multiplier, self.hedge
        )
        self.anomalies += clamped
        rec.realized = rec.reported_pnl if rec.reported_pnl is not None else realized
        self.realized_gross += rec.realized
        self._set_qty(qty, entry)

    def _replay(self) -> None:
        # totals are re-summed in order, so any arrival order gives the very same Decimal
        qty, entry = self.base_qty, self.base_entry
        total = self.realized_committed
        for rec in self.pending:
            qty, entry, realized, clamped = step(
                qty, entry, rec.signed_qty, rec.price, self.multiplier, self.hedge
            )
            self.anomalies += clamped
            rec.realized = rec.reported_pnl if rec.reported_pnl is not None else realized
            total += rec.realized
        self.realized_gross = total
        self._set_qty(qty, entry)

    def _fold(self) -> None:
        """Bound the pending run: the oldest half becomes part of the base."""
        half = len(self.pending) // 2
        qty, entry = self.base_qty, self.base_entry
        for rec in self.pending[:half]:
            qty, entry, _, _ = step(qty, entry, rec.signed_qty, rec.price, self.multiplier, self.hedge)
            self.realized_committed += rec.realized
        self.folded_ts_ms = self.pending[half - 1].ts_ms
        self.base_qty, self.base_entry = qty, entry
        del self.pending[:half]

    def _book_fee(self, rec: FillRecord, sign: int) -> None:
        if rec.fee_asset == rec.settle_asset:
            self.fees += rec.fee * sign
        else:
            self.other_fees[rec.fee_asset] = self.other_fees.get(rec.fee_asset, ZERO) + rec.fee * sign

    def _visible(self) -> tuple[object, ...]:
        return (
            self.quantity,
            self.entry_price,
            self.realized_gross,
            self.fees,
            self.leverage,
            self.reported_margin,
            self.reported_unrealized,
            self.liquidation_price,
            self.break_even_price,
            self.mark_price,
        )


def check_position(ev: PositionEvent) -> None:
    if not (ev.quantity.is_finite() and ev.entry_price.is_finite()):
        raise ValueError(f"position {ev.symbol}: quantity and entry price must be finite numbers")
    if ev.quantity != 0 and ev.entry_price <= 0:
        raise ValueError(f"position {ev.symbol}: an open position needs a positive entry price")
    if ev.position_side is PositionSide.LONG and ev.quantity < 0:
        raise ValueError(f"position {ev.symbol}: a LONG hedge position cannot be negative")
    if ev.position_side is PositionSide.SHORT and ev.quantity > 0:
        raise ValueError(f"position {ev.symbol}: a SHORT hedge position is negative (signed quantity)")


@dataclass(frozen=True, slots=True)
class FillResult:
    """What a fill did: `record` is the booked fill (None for a plain duplicate)."""

    record: FillRecord | None
    changed: bool
    duplicate: bool = False
    enriched: bool = False


class PositionBook:
    """Every position of one broker's accounts. See the module docstring for the rules."""

    def __init__(
        self,
        rules: Mapping[str, InstrumentRules] | None = None,
        *,
        default_settle_asset: str = "USDT",
        fill_memory: int = DEFAULT_FILL_MEMORY,
    ) -> None:
        self._rules: dict[str, InstrumentRules] = dict(rules or {})
        self.default_settle_asset = default_settle_asset
        self._fill_memory = fill_memory
        self._positions: dict[PositionKey, Position] = {}
        self._by_symbol: dict[str, list[Position]] = {}
        self._mark_px: dict[str, Decimal] = {}
        self._mark_ts: dict[str, int] = {}
        self._fills: dict[FillKey, FillRecord] = {}
        self._seq = 0
        self.hedge_mode: dict[str, bool] = {}

    # -- instruments --------------------------------------------------------------------------
    def set_rules(self, rules: Mapping[str, InstrumentRules]) -> None:
        """Load or refresh instrument rules; existing positions pick up a changed multiplier."""
        self._rules.update(rules)
        for pos in self._positions.values():
            r = self._rules.get(pos.symbol)
            if r is not None and r.contract_multiplier != pos.multiplier:
                pos.multiplier = r.contract_multiplier
                pos._set_qty(pos.quantity, pos.entry_price)

    def settle_asset(self, symbol: str) -> str:
        r = self._rules.get(symbol)
        return r.quote_asset if r is not None else self.default_settle_asset

    # -- lookups -------------------------------------------------------------------------------
    def get(self, account_id: str, symbol: str, position_side: PositionSide) -> Position | None:
        return self._positions.get((account_id, symbol, position_side))

    def positions(self, account_id: str | None = None, *, open_only: bool = True) -> list[Position]:
        """Positions sorted by account, symbol, side; flat ones only with `open_only=False`."""
        out = [
            p
            for p in self._positions.values()
            if (account_id is None or p.account_id == account_id) and (not open_only or p.quantity != 0)
        ]
        out.sort(key=lambda p: (p.account_id, p.symbol, p.position_side.value))
        return out

    def __iter__(self) -> Iterator[Position]:
        return iter(self._positions.values())

    def mark(self, symbol: str) -> Decimal | None:
        return self._mark_px.get(symbol)

    def fill(self, key: FillKey) -> FillRecord | None:
        return self._fills.get(key)

    def unrealized_total(self, account_id: str, asset: str) -> Decimal:
        """Sum of unrealized P&L of the account's positions settled in `asset` (unknown counts 0)."""
        total = ZERO
        for p in self._positions.values():
            if p.account_id == account_id and p.settle_asset == asset and p.quantity != 0:
                u = p.unrealized_pnl
                if u is not None:
                    total += u
        return total

    def margin_total(self, account_id: str, asset: str) -> Decimal:
        total = ZERO
        for p in self._positions.values():
            if p.account_id == account_id and p.settle_asset == asset and p.quantity != 0:
                m = p.margin
                if m is not None:
                    total += m
        return total

    def _position(self, account_id: str, symbol: str, side: PositionSide) -> Position:
        key = (account_id, symbol, side)
        pos = self._positions.get(key)
        if pos is None:
            r = self._rules.get(symbol)
            mult = r.contract_multiplier if r is not None else ONE
            pos = Position(account_id, symbol, side, mult, self.settle_asset(symbol))
            pos.mark_price = self._mark_px.get(symbol)
            self._positions[key] = pos
            self._by_symbol.setdefault(symbol, []).append(pos)
        return pos

    # -- market data (the hot path) ------------------------------------------------------------
    def on_mark(self, symbol: str, price: Decimal, ts_ms: int = 0) -> bool:
        """A mark price tick: O(positions of the symbol), no allocation. False if stale."""
        if ts_ms < self._mark_ts.get(symbol, -1):
            return False
        self._mark_ts[symbol] = ts_ms
        self._mark_px[symbol] = price
        positions = self._by_symbol.get(symbol)
        if positions is None:
            return False
        for p in positions:
            p.mark_price = price
            p.unrealized = p._qm * price - p._cost
        return True

    def apply_quote(self, ev: QuoteEvent) -> bool:
        """A quote carrying a mark price; `on_mark` is the unchecked fast path for parsed ticks."""
        if ev.mark is None:
            return False
        if not ev.mark.is_finite() or ev.mark <= 0:
            raise ValueError(f"mark price of {ev.symbol} must be a positive number, got {ev.mark}")
        return self.on_mark(ev.symbol, ev.mark, ev.ts_ms)

    # -- fills -----------------------------------------------------------------------------------
    def apply_fill(self, ev: FillEvent) -> FillResult:
        if not (ev.quantity.is_finite() and ev.price.is_finite() and ev.fee.is_finite()):
            raise ValueError(
                f"fill {ev.order_id}/{ev.trade_id}: quantity, price and fee must be finite numbers"
            )
        if ev.quantity <= 0 or ev.price <= 0:
            raise ValueError(f"fill {ev.order_id}/{ev.trade_id}: quantity and price must be positive")
        key = (ev.account_id, ev.order_id, ev.trade_id)
        old = self._fills.get(key)
        if old is not None:
            return self._enrich(old, ev)
        pos = self._position(ev.account_id, ev.symbol, ev.position_side)
        self._seq += 1
        rec = FillRecord(ev, pos.settle_asset, self._seq)
        self._remember(rec)
        pos.updated_ms = max(pos.updated_ms, ev.ts_ms)
        pos._book_fee(rec, 1)
        if 0 < ev.ts_ms <= pos.base_ts_ms:
            # Already inside the exchange's figures: book the P&L, leave quantity and entry.
            # (ts 0 = the adapter does not know the time: always applied on top.)
            rec.realized = rec.reported_pnl if rec.reported_pnl is not None else ZERO
            pos.realized_committed += rec.realized
            pos.realized_gross += rec.realized
            return FillResult(rec, True)
        pending = pos.pending
        if not pending or rec.order_key >= pending[-1].order_key:
            pending.append(rec)
            pos._apply_incremental(rec)
        else:  # late fill: slot it in and replay the run from the base
            bisect.insort(pending, rec, key=lambda r: r.order_key)
            pos._replay()
        if len(pending) > MAX_PENDING:
            pos._fold()
        return FillResult(rec, True)

    def _remember(self, rec: FillRecord) -> None:
        fills = self._fills
        fills[rec.key] = rec
        if len(fills) > self._fill_memory:
            del fills[next(iter(fills))]  # dicts keep insertion order: drop the oldest

    def _enrich(self, rec: FillRecord, ev: FillEvent) -> FillResult:
        """A repeat of a booked fill: count nothing twice, take what the first copy lacked."""
        gains_pnl = rec.reported_pnl is None and ev.realized_pnl is not None
        gains_fee = rec.fee == 0 and ev.fee != 0
        if not (gains_pnl or gains_fee):
            return FillResult(rec, False, duplicate=True)
        pos = self._positions[(rec.account_id, rec.symbol, rec.position_side)]
        if gains_fee:
            pos._book_fee(rec, -1)
            rec.fee = ev.fee
            rec.fee_asset = ev.fee_asset or rec.settle_asset
            pos._book_fee(rec, 1)
        if gains_pnl:
            assert ev.realized_pnl is not None
            rec.reported_pnl = ev.realized_pnl
            if any(r is rec for r in pos.pending):
                pos._replay()
            else:
                pos.realized_committed += ev.realized_pnl - rec.realized
                pos.realized_gross += ev.realized_pnl - rec.realized
                rec.realized = ev.realized_pnl
        return FillResult(rec, True, duplicate=True, enriched=True)

    # -- exchange position updates and snapshots -------------------------------------------------
    def apply_position(self, ev: PositionEvent) -> bool:
        """An exchange position update: authoritative unless older than what is applied."""
        check_position(ev)
        # a flat update still creates the key: its time and leverage order what comes later
        pos = self._position(ev.account_id, ev.symbol, ev.position_side)
        return self._rebase(pos, ev, ev.ts_ms)

    def _rebase(self, pos: Position, ev: PositionEvent, ts_ms: int) -> bool:
        if ts_ms < pos.base_ts_ms or ts_ms < pos.folded_ts_ms:
            return False
        before = pos._visible()
        pos.base_ts_ms = ts_ms
        pos.base_qty = ev.quantity
        pos.base_entry = ev.entry_price if ev.quantity != 0 else ZERO
        if pos.pending and pos.pending[0].ts_ms <= ts_ms:
            # fills at or before the update are inside it: their P&L stays, their quantity goes
            keep = []
            for r in pos.pending:
                if r.ts_ms > ts_ms:
                    keep.append(r)
                else:
                    pos.realized_committed += r.realized
            pos.pending = keep
        pos.reported_unrealized = ev.unrealized_pnl
        pos.reported_margin = ev.margin
        pos.liquidation_price = ev.liquidation_price
        pos.break_even_price = ev.break_even_price
        if ev.leverage is not None:
            pos.leverage = ev.leverage
        pos.updated_ms = max(pos.updated_ms, ts_ms)
        pos._replay()
        if ev.mark_price is not None:
            self.on_mark(ev.symbol, ev.mark_price, ts_ms)
        return pos._visible() != before

    def apply_snapshot(self, snap: AccountSnapshot) -> bool:
        """The exchange's full state for one account: positions it omits are flat."""
        for ev in snap.positions:  # check everything before changing anything
            if ev.account_id != snap.account_id:
                raise ValueError(f"snapshot of {snap.account_id} holds a position of {ev.account_id}")
            check_position(ev)
        changed = False
        self.hedge_mode[snap.account_id] = snap.hedge_mode
        seen: set[PositionKey] = set()
        for ev in snap.positions:
            key = (ev.account_id, ev.symbol, ev.position_side)
            seen.add(key)
            pos = self._positions.get(key)
            if pos is None and ev.quantity == 0:
                continue
            pos = pos or self._position(ev.account_id, ev.symbol, ev.position_side)
            changed |= self._rebase(pos, ev, max(ev.ts_ms, snap.ts_ms))
        for pos in list(self._positions.values()):
            if pos.account_id == snap.account_id and pos.key not in seen:
                flat = PositionEvent(pos.account_id, pos.symbol, pos.position_side, ZERO, ZERO)
                changed |= self._rebase(pos, flat, snap.ts_ms)
        return changed
