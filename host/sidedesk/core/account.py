"""Account figures: wallet balance, equity, margin used, available and today's realized P&L.

Pure. Balances follow the same rule as positions: the exchange's latest balance (or snapshot)
is the base at its transaction time, and fills newer than that keep the wallet current until
the exchange's own update (which already includes them) arrives. Equity is wallet plus the
position book's unrealized P&L, so between updates `equity - start = realized + unrealized`.

`available` and `margin_used` start from the exchange's figures (which include what open
orders reserve) and move with the book: `available` by the change in equity and in position
margin since the exchange reported it. Without exchange figures they are computed from the
book (equity - position margin). "Today" is the UTC day of each fill's transaction time.

`Portfolio` wires a `PositionBook` and an `AccountBook` to the normalised broker events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from sidedesk.core.positions import FillRecord, PositionBook
from sidedesk.domain import (
    AccountSnapshot,
    BalanceEvent,
    BrokerEvent,
    FillEvent,
    InstrumentRules,
    PositionEvent,
    QuoteEvent,
)

ZERO = Decimal(0)
DAY_MS = 86_400_000
MAX_PENDING = 4096  # fills kept per wallet between exchange balance updates before folding


def utc_day(ts_ms: int) -> int:
    """Days since the epoch of a millisecond timestamp, in UTC (the day boundary is 00:00 UTC)."""
    return ts_ms // DAY_MS


def contribution(rec: FillRecord, asset: str) -> Decimal:
    """What one fill did to the wallet of `asset`: realized P&L in the settlement asset, fee in its own."""
    amount = rec.realized if rec.settle_asset == asset else ZERO
    if rec.fee_asset == asset:
        amount -= rec.fee
    return amount


def _by_time(rec: FillRecord) -> tuple[int, int]:
    return rec.order_key


def check_balance(ev: BalanceEvent) -> None:
    for name in ("wallet_balance", "available", "equity", "margin_used"):
        value = getattr(ev, name)
        if value is not None and not value.is_finite():
            raise ValueError(f"balance {ev.asset} of {ev.account_id}: {name} must be a finite number")


@dataclass(frozen=True, slots=True)
class AccountState:
    account_id: str
    asset: str
    wallet_balance: Decimal
    unrealized_pnl: Decimal
    equity: Decimal
    margin_used: Decimal
    available: Decimal
    realized_today: Decimal  # realized P&L net of fees in this asset, fills of the current UTC day
    updated_ms: int  # transaction time of the latest balance or fill applied


class _Wallet:
    __slots__ = (
        "avail_at_margin",
        "avail_equity",
        "avail_rep",
        "base",
        "base_ts",
        "margin_at_rep",
        "margin_rep",
        "pending",
        "updated_ms",
    )

    def __init__(self) -> None:
        self.base = ZERO
        self.base_ts = -1
        self.pending: list[FillRecord] = []
        self.avail_rep: Decimal | None = None
        self.avail_equity = ZERO
        self.avail_at_margin = ZERO
        self.margin_rep: Decimal | None = None
        self.margin_at_rep = ZERO
        self.updated_ms = 0


class AccountBook:
    """Balances per (account, asset) and today's realized P&L per (account, settlement asset)."""

    def __init__(self) -> None:
        self._wallets: dict[tuple[str, str], _Wallet] = {}
        self._days: dict[tuple[str, str], dict[int, list[FillRecord]]] = {}

    def wallet_keys(self) -> list[tuple[str, str]]:
        return sorted(self._wallets)

    def _wallet(self, account_id: str, asset: str) -> _Wallet:
        w = self._wallets.get((account_id, asset))
        if w is None:
            w = self._wallets[(account_id, asset)] = _Wallet()
        return w

    def on_balance(self, ev: BalanceEvent, unrealized_now: Decimal, margin_now: Decimal) -> bool:
        """An exchange balance: authoritative unless older than the last one applied.

        `unrealized_now` and `margin_now` are the book's figures for this account and asset at
        this moment; later figures move `available` and `margin_used` by their change.
        """
        check_balance(ev)
        w = self._wallet(ev.account_id, ev.asset)
        if ev.ts_ms < w.base_ts:
            return False
        before = (w.base, len(w.pending), w.avail_rep, w.margin_rep)
        w.base = ev.wallet_balance
        w.base_ts = ev.ts_ms
        if w.pending:  # kept in arrival order: filter them all
            w.pending = [r for r in w.pending if r.ts_ms > ev.ts_ms]
        if ev.available is not None:
            w.avail_rep = ev.available
            w.avail_equity = self._wallet_now(w, ev.asset) + unrealized_now
            w.avail_at_margin = margin_now
        if ev.margin_used is not None:
            w.margin_rep = ev.margin_used
            w.margin_at_rep = margin_now
        w.updated_ms = max(w.updated_ms, ev.ts_ms)
        return (w.base, len(w.pending), w.avail_rep, w.margin_rep) != before

    def on_fill(self, rec: FillRecord) -> None:
        """A newly booked fill (never a duplicate: the position book filters those)."""
        assets = {rec.settle_asset, rec.fee_asset} if rec.fee else {rec.settle_asset}
        for asset in assets:
            w = self._wallet(rec.account_id, asset)
            w.updated_ms = max(w.updated_ms, rec.ts_ms)
            if rec.ts_ms > w.base_ts or rec.ts_ms == 0:  # 0: time unknown, count it until a balance
                w.pending.append(rec)
                if len(w.pending) > MAX_PENDING:
                    half = MAX_PENDING // 2
                    w.base += sum((contribution(r, asset) for r in w.pending[:half]), ZERO)
                    del w.pending[:half]
        days = self._days.setdefault((rec.account_id, rec.settle_asset), {})
        day = utc_day(rec.ts_ms)
        days.setdefault(day, []).append(rec)
        for old in [d for d in days if d < day - 1]:  # keep today and yesterday
            del days[old]

    def on_enriched(self, rec: FillRecord) -> None:
        """A fill's late copy added a fee in another asset: that wallet now owes it too."""
        if rec.fee_asset == rec.settle_asset:
            return  # the settlement wallet reads the record's current figures already
        w = self._wallet(rec.account_id, rec.fee_asset)
        if (rec.ts_ms > w.base_ts or rec.ts_ms == 0) and not any(r is rec for r in w.pending):
            w.pending.append(rec)

    def _wallet_now(self, w: _Wallet, asset: str) -> Decimal:
        # summed in time order so any arrival order gives the very same Decimal
        return w.base + sum((contribution(r, asset) for r in sorted(w.pending, key=_by_time)), ZERO)

    def realized_today(self, account_id: str, asset: str, now_ms: int) -> Decimal:
        fills = self._days.get((account_id, asset), {}).get(utc_day(now_ms), ())
        return sum((r.net for r in sorted(fills, key=_by_time)), ZERO)

    def state(
        self, account_id: str, asset: str, unrealized_now: Decimal, margin_now: Decimal, now_ms: int
    ) -> AccountState | None:
        w = self._wallets.get((account_id, asset))
        if w is None:
            return None
        wallet = self._wallet_now(w, asset)
        equity = wallet + unrealized_now
        if w.margin_rep is not None:
            margin_used = w.margin_rep + (margin_now - w.margin_at_rep)
        else:
            margin_used = margin_now
        if w.avail_rep is not None:
            available = w.avail_rep + (equity - w.avail_equity) - (margin_now - w.avail_at_margin)
        else:
            available = equity - margin_used
        return AccountState(
            account_id=account_id,
            asset=asset,
            wallet_balance=wallet,
            unrealized_pnl=unrealized_now,
            equity=equity,
            margin_used=margin_used,
            available=available,
            realized_today=self.realized_today(account_id, asset, now_ms),
            updated_ms=w.updated_ms,
        )


@dataclass(frozen=True, slots=True)
class Changes:
    """Which topics an event touched (the shell publishes those)."""

    positions: bool = False
    account: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.positions or other.positions, self.account or other.account)


NOTHING = Changes()


class Portfolio:
    """Positions and balances of one broker's accounts, fed with normalised events."""

    def __init__(
        self, rules: Mapping[str, InstrumentRules] | None = None, *, default_settle_asset: str = "USDT"
    ) -> None:
        self.positions = PositionBook(rules, default_settle_asset=default_settle_asset)
        self.accounts = AccountBook()

    def apply(self, ev: BrokerEvent | AccountSnapshot) -> Changes:
        if isinstance(ev, QuoteEvent):
            return Changes(positions=self.positions.apply_quote(ev))
        if isinstance(ev, FillEvent):
            r = self.positions.apply_fill(ev)
            if r.record is not None and not r.duplicate:
                self.accounts.on_fill(r.record)
            elif r.enriched and r.record is not None:
                self.accounts.on_enriched(r.record)
            return Changes(r.changed, r.changed)
        if isinstance(ev, PositionEvent):
            changed = self.positions.apply_position(ev)
            return Changes(changed, changed)
        if isinstance(ev, BalanceEvent):
            return Changes(account=self._balance(ev))
        if isinstance(ev, AccountSnapshot):
            for b in ev.balances:  # check everything before changing anything
                if b.account_id != ev.account_id:
                    raise ValueError(f"snapshot of {ev.account_id} holds a balance of {b.account_id}")
                check_balance(b)
            changed = self.positions.apply_snapshot(ev)
            for b in ev.balances:
                self._balance(replace(b, ts_ms=max(b.ts_ms, ev.ts_ms)))
            return Changes(changed, True)
        return NOTHING  # orders and connection events belong to other books

    def _balance(self, ev: BalanceEvent) -> bool:
        u = self.positions.unrealized_total(ev.account_id, ev.asset)
        m = self.positions.margin_total(ev.account_id, ev.asset)
        return self.accounts.on_balance(ev, u, m)

    def on_mark(self, symbol: str, price: Decimal, ts_ms: int = 0) -> bool:
        return self.positions.on_mark(symbol, price, ts_ms)

    def account_state(self, account_id: str, asset: str, now_ms: int) -> AccountState | None:
        u = self.positions.unrealized_total(account_id, asset)
        m = self.positions.margin_total(account_id, asset)
        return self.accounts.state(account_id, asset, u, m, now_ms)

    def account_states(self, now_ms: int) -> list[AccountState]:
        out = []
        for account_id, asset in self.accounts.wallet_keys():
            st = self.account_state(account_id, asset, now_ms)
            if st is not None:
                out.append(st)
        return out
