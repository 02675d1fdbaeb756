"""The exchange engine: accounts, matching against a synthetic book, the algo (conditional) service.

No I/O and no clock: every mutating call takes `now_ms`, first advances the price process to it
(`advance`), then acts, and returns an `Outcome` whose `events` list everything that happened in
order. Calls with a `now_ms` earlier than the engine's time act at the engine's time.

Simplifications (documented for users of the simulator):
- the synthetic book replenishes instantly: every taker order sees the full book; orders of
  different accounts never match each other; account fills do not move the last price;
- a resting limit order fills (as maker, at its own price) when the touch reaches it, up to the
  synthetic depth at or better than its price per price step (thin book → partial fills);
- cross margin only; no liquidation, no funding payments, no self-trade prevention.
"""

from __future__ import annotations

import random
import string
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from .accounts import (
    Account,
    Position,
    WorkingOrder,
    is_closing,
    maint_margin,
    open_order_margin,
    position_margin,
    reducible_qty,
)
from .enums import (
    AccountUpdateReason,
    AlgoStatus,
    ExecType,
    ExpireReason,
    OrderStatus,
    OrderType,
    PositionSide,
    RejectReason,
    Side,
    TimeInForce,
    WorkingType,
)
from .instruments import Instrument, default_instruments
from .model import (
    AccountSummary,
    AccountUpdate,
    AggTrade,
    AlgoOrder,
    AlgoUpdate,
    BalanceChange,
    BalanceView,
    BookLevel,
    BookTickerUpdate,
    ConfigUpdate,
    EngineError,
    EngineEvent,
    Fill,
    MarketSnapshot,
    MarkPriceUpdate,
    Order,
    OrderSpec,
    OrderUpdate,
    Outcome,
    PositionModeUpdate,
    PositionView,
    Reject,
)
from .prices import PathSegment, PriceFeed, parse_path
from .triggers import (
    activation_would_trigger,
    callback_rate_valid,
    stop_condition_met,
    trailing_update,
)

ZERO = Decimal(0)
MONEY = Decimal("0.00000001")  # commissions and realized P&L are booked at 8 decimals
_ID_ALPHABET = string.ascii_letters + string.digits


def _money(value: Decimal) -> Decimal:
    return value.quantize(MONEY, rounding=ROUND_HALF_UP)


class _Rejected(Exception):
    """Internal: unwinds a request that must be refused (never escapes the engine)."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(detail)
        self.reject = Reject(reason, detail)


class Engine:
    """A deterministic simulated derivatives exchange (linear contracts, cross margin).

    `Engine(instruments, seed, start_ms)`: instruments default to `default_instruments()`;
    `seed` drives prices and generated client ids; `start_ms` is the engine's initial time.
    `step_ms` is the price-process grid; `max_event_steps` bounds how many trailing grid steps of
    one `advance` emit market events (triggers and fills are evaluated on every step);
    `max_algo_orders` is the per-account cap on open conditional orders.
    """

    def __init__(
        self,
        instruments: Mapping[str, Instrument] | Iterable[Instrument] | None = None,
        seed: int = 0,
        start_ms: int = 0,
        *,
        step_ms: int = 100,
        max_event_steps: int = 100,
        max_algo_orders: int = 200,
        closed_retention: int = 10_000,
        log_retention: int = 100_000,
    ) -> None:
        if instruments is None:
            instruments = default_instruments()
        items = list(instruments.values()) if isinstance(instruments, Mapping) else list(instruments)
        if step_ms <= 0:
            raise ValueError("step_ms must be > 0")
        self._instruments: dict[str, Instrument] = {i.symbol: i for i in items}
        self._feeds = {s: PriceFeed(i, seed, start_ms, step_ms) for s, i in self._instruments.items()}
        self._accounts: dict[str, Account] = {}
        self._now = start_ms
        self._step_ms = step_ms
        self._max_event_steps = max_event_steps
        self._max_algo_orders = max_algo_orders
        self._closed_retention = closed_retention
        self._log: deque[OrderUpdate | AlgoUpdate] = deque(maxlen=log_retention)
        self._buf: list[EngineEvent] = []
        self._id_rng = random.Random(seed * 7919 + 17)
        self._next_order_id = 8_000_000_001
        self._next_algo_id = 3_000_000_000_000_001
        # algo orders whose triggered order became final; FINISHED is emitted after the order's
        # own events and account update
        self._pending_finish: list[tuple[Account, AlgoOrder]] = []

    # =========================================================================================
    # properties and market queries
    # =========================================================================================
    @property
    def now_ms(self) -> int:
        """The engine's current time (the latest `now_ms` it has advanced to)."""
        return self._now

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return dict(self._instruments)

    def instrument(self, symbol: str) -> Instrument:
        inst = self._instruments.get(symbol)
        if inst is None:
            raise EngineError(Reject(RejectReason.UNKNOWN_SYMBOL, f"unknown symbol {symbol!r}"))
        return inst

    def market(self, symbol: str) -> MarketSnapshot:
        """Current prices of `symbol` (front-ends sample this for periodic mark-price streams)."""
        self.instrument(symbol)
        f = self._feeds[symbol]
        book_qty = f.instrument.book_qty
        return MarketSnapshot(
            symbol=symbol,
            last_price=f.last,
            mark_price=f.mark,
            index_price=f.index,
            funding_rate=f.funding_rate,
            next_funding_ms=f.next_funding_ms(),
            bid=f.bid,
            bid_qty=book_qty,
            ask=f.ask,
            ask_qty=book_qty,
            book_update_id=f.book_update_id,
            time_ms=self._now,
        )

    def book(self, symbol: str) -> tuple[list[BookLevel], list[BookLevel]]:
        """(bids, asks) of the synthetic book, best first."""
        self.instrument(symbol)
        f = self._feeds[symbol]
        return f.levels(taker_side_buy=False), f.levels(taker_side_buy=True)

    # =========================================================================================
    # prices and time
    # =========================================================================================
    def advance(self, now_ms: int) -> list[EngineEvent]:
        """Move every symbol's price to `now_ms` step by step; on each step fire triggers and fill
        crossed resting orders. Returns the events (market events only for the last
        `max_event_steps` steps of a long jump)."""
        self._buf = []
        self._advance(now_ms)
        return self._take()

    def set_price(
        self, symbol: str, price: Decimal, now_ms: int, *, mark: Decimal | None = None
    ) -> list[EngineEvent]:
        """Jump `symbol`'s last price (and mark: `mark`, default = `price`) at `now_ms`, stopping any
        running path; then fire triggers and fill crossed orders. Raises ValueError / EngineError."""
        self.instrument(symbol)
        if price <= ZERO or (mark is not None and mark <= ZERO):
            raise ValueError("prices must be > 0")
        self._buf = []
        self._advance(now_ms)
        feed = self._feeds[symbol]
        feed.set_price(price, self._now, mark)
        self._emit_market(feed, trade_qty=ZERO, buyer_is_maker=False, mark=True, book=True)
        self._on_price(symbol)
        return self._take()

    def set_path(self, symbol: str, path: Sequence[PathSegment] | str, now_ms: int) -> list[EngineEvent]:
        """Script `symbol`'s price from `now_ms`: a list of `PathSegment` or text for `parse_path`
        (e.g. "+5% over 10s, then -3% over 5s"). The path is exact (no noise); afterwards the random
        walk resumes at the symbol's volatility. Raises ValueError on a bad path."""
        self.instrument(symbol)
        segments = parse_path(path) if isinstance(path, str) else list(path)
        self._buf = []
        self._advance(now_ms)
        self._feeds[symbol].set_path(segments, self._now)
        return self._take()

    def set_volatility(self, symbol: str, volatility: Decimal) -> None:
        """Std-dev of the relative random move per √second (0 freezes the price between paths)."""
        self.instrument(symbol)
        self._feeds[symbol].set_volatility(volatility)

    def set_funding_rate(self, symbol: str, rate: Decimal) -> None:
        """Funding rate reported in mark-price data (funding is not charged)."""
        self.instrument(symbol)
        self._feeds[symbol].funding_rate = rate

    def _advance(self, now_ms: int) -> None:
        if now_ms <= self._now:
            return
        emit_from = now_ms - self._max_event_steps * self._step_ms
        feeds = list(self._feeds.items())
        # every feed shares the engine's grid (origin start_ms, step step_ms)
        t = min((f.next_step_ms(f.time_ms) for _, f in feeds), default=now_ms + 1)
        while t <= now_ms:
            self._now = t
            for symbol, feed in feeds:
                if feed.time_ms >= t:
                    continue  # an intervention already moved this feed to (or past) this time
                r = feed.step(t)
                if t > emit_from:
                    qty = r.trade_qty(feed.instrument)
                    self._emit_market(feed, qty, r.buyer_is_maker, r.last_changed, r.last_changed)
                if r.last_changed:
                    self._on_price(symbol)
            t += self._step_ms
        self._now = now_ms

    def _emit_market(
        self, feed: PriceFeed, trade_qty: Decimal, buyer_is_maker: bool, mark: bool, book: bool
    ) -> None:
        t = self._now
        sym = feed.instrument.symbol
        if trade_qty > ZERO:
            first, last_id = feed.next_trade_ids()
            self._buf.append(
                AggTrade(t, sym, feed.next_agg_id(), feed.last, trade_qty, first, last_id, buyer_is_maker)
            )
        if book:
            q = feed.instrument.book_qty
            self._buf.append(BookTickerUpdate(t, sym, feed.book_update_id, feed.bid, q, feed.ask, q))
        if mark:
            self._buf.append(
                MarkPriceUpdate(t, sym, feed.mark, feed.index, feed.funding_rate, feed.next_funding_ms())
            )

    def _on_price(self, symbol: str) -> None:
        """Prices of `symbol` moved: fire its triggers, then fill crossed resting orders."""
        accounts = list(self._accounts.values())
        # orders created by this price's triggers already took what the book offered: match only
        # the orders that were resting before
        resting = [
            (a, o) for a in accounts for o in sorted(a.open_orders_for(symbol), key=lambda o: o.order_id)
        ]
        for acct in accounts:
            for algo in sorted(acct.open_algos_for(symbol), key=lambda a: a.algo_id):
                if algo.status is AlgoStatus.NEW and self._condition_met(algo):
                    self._trigger(acct, algo)
        for acct, order in resting:
            if order.is_open and order.type is OrderType.LIMIT:
                self._match_resting(acct, order)

    # =========================================================================================
    # accounts
    # =========================================================================================
    def create_account(
        self,
        account_id: str,
        balances: Mapping[str, Decimal],
        now_ms: int | None = None,
        *,
        hedge_mode: bool = False,
    ) -> Outcome:
        """Create an account with wallet balances per asset (e.g. {"USDT": Decimal(10000)})."""
        self._buf = []
        self._advance(self._now if now_ms is None else now_ms)
        if account_id in self._accounts:
            return self._reject(RejectReason.ACCOUNT_EXISTS, f"account {account_id!r} exists")
        if not account_id or any(v < ZERO for v in balances.values()):
            return self._reject(RejectReason.INVALID_AMOUNT, "account id must be non-empty and balances ≥ 0")
        acct = Account(
            account_id, {a: Decimal(v) for a, v in balances.items()}, self._now, hedge_mode=hedge_mode
        )
        acct.update_ms = self._now
        self._accounts[account_id] = acct
        return self._done()

    def has_account(self, account_id: str) -> bool:
        return account_id in self._accounts

    def account_ids(self) -> list[str]:
        return list(self._accounts)

    def hedge_mode(self, account_id: str) -> bool:
        return self._acct(account_id).hedge_mode

    def leverage(self, account_id: str, symbol: str) -> int:
        self.instrument(symbol)
        acct = self._acct(account_id)
        return acct.leverage.get(symbol, self._instruments[symbol].default_leverage)

    def set_hedge_mode(self, account_id: str, enabled: bool, now_ms: int | None = None) -> Outcome:
        """Switch one-way ↔ hedge for every symbol. Refused when unchanged, with open (regular or
        algo) orders, or with any open position."""
        self._buf = []
        self._advance(self._now if now_ms is None else now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            if acct.hedge_mode == enabled:
                raise _Rejected(RejectReason.POSITION_MODE_UNCHANGED, "no need to change position side")
            if acct.orders or acct.open_algos_for():
                raise _Rejected(RejectReason.POSITION_MODE_OPEN_ORDERS, "open orders exist")
            if any(p.amount != ZERO for p in acct.positions.values()):
                raise _Rejected(RejectReason.POSITION_MODE_OPEN_POSITION, "open positions exist")
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        acct.hedge_mode = enabled
        acct.positions = {}  # all flat; the position keys differ between the modes
        self._buf.append(PositionModeUpdate(self._now, account_id, enabled))
        return self._done()

    def set_leverage(self, account_id: str, symbol: str, leverage: int, now_ms: int | None = None) -> Outcome:
        """Set the initial leverage of `symbol` (1..Instrument.max_leverage). Refused when the
        resulting initial margin would exceed the margin balance."""
        self._buf = []
        self._advance(self._now if now_ms is None else now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            inst = self._inst_or_reject(symbol)
            if not 1 <= leverage <= inst.max_leverage:
                raise _Rejected(RejectReason.INVALID_LEVERAGE, f"leverage {leverage} is not valid")
            old = acct.leverage.get(symbol)
            acct.leverage[symbol] = leverage
            view = self._balance_view(acct, inst.margin_asset)
            if view.initial_margin > view.margin_balance and (old is None or leverage < old):
                if old is None:
                    del acct.leverage[symbol]
                else:
                    acct.leverage[symbol] = old
                raise _Rejected(
                    RejectReason.LEVERAGE_INSUFFICIENT_MARGIN, "insufficient margin for this leverage"
                )
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        self._buf.append(ConfigUpdate(self._now, account_id, symbol, leverage))
        return self._done()

    def deposit(self, account_id: str, asset: str, amount: Decimal, now_ms: int | None = None) -> Outcome:
        """Add (amount > 0) or withdraw (amount < 0, up to the max withdraw amount) wallet balance."""
        self._buf = []
        self._advance(self._now if now_ms is None else now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            if amount == ZERO or not asset:
                raise _Rejected(RejectReason.INVALID_AMOUNT, "amount must be non-zero")
            if amount < ZERO and -amount > self._balance_view(acct, asset).max_withdraw_amount:
                raise _Rejected(RejectReason.INSUFFICIENT_BALANCE, "balance is insufficient")
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        acct.balances[asset] = acct.balances.get(asset, ZERO) + amount
        reason = AccountUpdateReason.DEPOSIT if amount > ZERO else AccountUpdateReason.WITHDRAW
        wb = acct.balances[asset]
        self._buf.append(
            AccountUpdate(self._now, account_id, reason, (BalanceChange(asset, wb, wb, amount),), ())
        )
        return self._done()

    def set_position(
        self,
        account_id: str,
        symbol: str,
        amount: Decimal,
        entry_price: Decimal,
        now_ms: int | None = None,
        position_side: PositionSide | None = None,
    ) -> Outcome:
        """Admin: overwrite a position (one-way: BOTH; hedge: LONG ≥ 0 or SHORT ≤ 0; amount signed).
        The wallet is untouched. Emits an ADJUSTMENT account update."""
        self._buf = []
        self._advance(self._now if now_ms is None else now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            self._inst_or_reject(symbol)
            if position_side is None:
                position_side = (
                    PositionSide.BOTH
                    if not acct.hedge_mode
                    else (PositionSide.LONG if amount >= ZERO else PositionSide.SHORT)
                )
            if position_side not in acct.position_sides():
                raise _Rejected(RejectReason.POSITION_SIDE_MISMATCH, "position side does not match the mode")
            if (position_side is PositionSide.LONG and amount < ZERO) or (
                position_side is PositionSide.SHORT and amount > ZERO
            ):
                raise _Rejected(RejectReason.INVALID_AMOUNT, "LONG needs amount ≥ 0, SHORT amount ≤ 0")
            if amount != ZERO and entry_price <= ZERO:
                raise _Rejected(RejectReason.INVALID_AMOUNT, "entry price must be > 0")
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        pos = acct.position(symbol, position_side)
        pos.amount = amount
        pos.entry_price = entry_price if amount != ZERO else ZERO
        pos.open_fees = ZERO
        pos.update_ms = self._now
        self._account_update(acct, AccountUpdateReason.ADJUSTMENT, {(symbol, position_side)})
        self._after_position_change(acct, symbol, position_side)
        return self._done()

    # =========================================================================================
    # orders
    # =========================================================================================
    def submit_order(self, account_id: str, spec: OrderSpec, now_ms: int) -> Outcome:
        """Place an order. LIMIT/MARKET go to the matching engine (`Outcome.order`); conditional
        types become algo orders (`Outcome.algo`) that turn into a regular MARKET/LIMIT order when
        triggered. Front-ends that only accept LIMIT/MARKET on an endpoint check `type` themselves.

        Engine rules (filters are the front-end's): one-way needs position side BOTH, hedge LONG
        or SHORT and no reduce-only; client ids unique among open orders (algo ids among open algo
        orders); per-symbol open-order cap; margin check for orders that add exposure; reduce-only
        (and hedge closing) orders need a position to reduce; GTX must not take; FOK must fill
        completely; MARKET remainder beyond the synthetic book expires.
        """
        self._buf = []
        self._advance(now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            inst = self._inst_or_reject(spec.symbol)
            self._check_position_side(acct, spec.position_side, spec.reduce_only)
            if spec.type.is_conditional:
                algo = self._submit_algo(acct, inst, spec)
                return self._done(algo=algo)
            order = self._new_regular(acct, inst, spec)
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        self._execute(acct, order)
        return self._done(order=order)

    def cancel_order(
        self,
        account_id: str,
        symbol: str,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
        now_ms: int,
    ) -> Outcome:
        """Cancel an open regular order by id (wins) or client id. UNKNOWN_ORDER if not open."""
        self._buf = []
        self._advance(now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            order = self._find_open(acct, symbol, order_id, client_id)
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        self._close_order(acct, order, OrderStatus.CANCELED, ExecType.CANCELED)
        return self._done(order=order)

    def cancel_all(self, account_id: str, symbol: str, now_ms: int) -> Outcome:
        """Cancel every open regular order of `symbol` (algo orders: `cancel_all_algos`)."""
        self._buf = []
        self._advance(now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            self._inst_or_reject(symbol)
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        canceled = []
        for order in sorted(acct.open_orders_for(symbol), key=lambda o: o.order_id):
            self._close_order(acct, order, OrderStatus.CANCELED, ExecType.CANCELED)
            canceled.append(order.snapshot())
        return self._done(orders=tuple(canceled))

    def cancel_algo(
        self,
        account_id: str,
        *,
        algo_id: int | None = None,
        client_id: str | None = None,
        now_ms: int,
    ) -> Outcome:
        """Cancel an untriggered algo order by algo id (wins) or client algo id."""
        self._buf = []
        self._advance(now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            algo = self._find_open_algo(acct, algo_id, client_id)
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        self._finish_algo(acct, algo, AlgoStatus.CANCELED)
        return self._done(algo=algo)

    def cancel_all_algos(self, account_id: str, symbol: str, now_ms: int) -> Outcome:
        """Cancel every untriggered algo order of `symbol`."""
        self._buf = []
        self._advance(now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            self._inst_or_reject(symbol)
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        canceled = []
        for algo in sorted(acct.open_algos_for(symbol), key=lambda a: a.algo_id):
            self._finish_algo(acct, algo, AlgoStatus.CANCELED)
            canceled.append(algo.snapshot())
        return self._done(algos=tuple(canceled))

    def modify_order(
        self,
        account_id: str,
        symbol: str,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
        quantity: Decimal,
        price: Decimal,
        now_ms: int,
    ) -> Outcome:
        """Amend an open LIMIT order's quantity and price (both required).

        NO_NEED_TO_MODIFY when unchanged. The order is CANCELED instead when the new quantity is
        ≤ the executed quantity, or when it is GTX and the new price would take. A new price that
        crosses the book fills at once (taker). Margin and reduce-only checks apply as on placement.
        """
        self._buf = []
        self._advance(now_ms)
        try:
            acct = self._acct_or_reject(account_id)
            order = self._find_open(acct, symbol, order_id, client_id)
            inst = self._instruments[order.symbol]
            if order.type is not OrderType.LIMIT:
                raise _Rejected(RejectReason.MODIFY_ONLY_LIMIT, "only limit orders can be modified")
            if quantity <= ZERO:
                raise _Rejected(RejectReason.INVALID_QUANTITY, "quantity must be > 0")
            if price <= ZERO:
                raise _Rejected(RejectReason.INVALID_PRICE, "price must be > 0")
            if quantity == order.quantity and price == order.price:
                raise _Rejected(RejectReason.NO_NEED_TO_MODIFY, "no need to modify the order")
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        feed = self._feeds[order.symbol]
        takes = price >= feed.ask if order.side is Side.BUY else price <= feed.bid
        if quantity <= order.executed_qty or (order.time_in_force is TimeInForce.GTX and takes):
            self._close_order(acct, order, OrderStatus.CANCELED, ExecType.CANCELED)
            return self._done(order=order)
        closing = is_closing(acct.hedge_mode, order.side, order.position_side, order.reduce_only)
        try:
            if closing:
                self._check_closing(
                    acct,
                    inst,
                    order.side,
                    order.position_side,
                    quantity - order.executed_qty,
                    OrderType.LIMIT,
                    exclude=order.order_id,
                )
            else:
                self._check_margin(
                    acct,
                    inst,
                    order.side,
                    order.position_side,
                    price,
                    quantity - order.executed_qty,
                    exclude=order.order_id,
                )
        except _Rejected as exc:
            return self._reject(exc.reject.reason, exc.reject.detail)
        order.quantity = quantity
        order.price = price
        order.amend_count += 1
        order.update_ms = self._now
        self._order_event(acct, order, ExecType.AMENDMENT)
        if takes:
            filled = self._take_liquidity(acct, order)
            self._settle_after_fills(acct, order, filled)
        return self._done(order=order)

    # =========================================================================================
    # queries (raise EngineError for an unknown account/symbol)
    # =========================================================================================
    def open_orders(self, account_id: str, symbol: str | None = None) -> list[Order]:
        acct = self._acct(account_id)
        return [
            o.snapshot()
            for o in sorted(acct.orders.values(), key=lambda o: o.order_id)
            if symbol is None or o.symbol == symbol
        ]

    def open_algo_orders(self, account_id: str, symbol: str | None = None) -> list[AlgoOrder]:
        acct = self._acct(account_id)
        return [a.snapshot() for a in sorted(acct.open_algos_for(symbol), key=lambda a: a.algo_id)]

    def order(
        self,
        account_id: str,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> Order | None:
        """A regular order, open or recently closed, by id (wins) or client id (the open one,
        else the most recent closed one with that client id). None if unknown."""
        acct = self._acct(account_id)
        found: Order | None = None
        if order_id is not None:
            found = acct.orders.get(order_id) or acct.closed_orders.get(order_id)
        elif client_id is not None:
            found = next((o for o in acct.orders.values() if o.client_id == client_id), None)
            if found is None:
                found = next(
                    (o for o in reversed(acct.closed_orders.values()) if o.client_id == client_id), None
                )
        if found is None or (symbol is not None and found.symbol != symbol):
            return None
        return found.snapshot()

    def algo_order(
        self, account_id: str, *, algo_id: int | None = None, client_id: str | None = None
    ) -> AlgoOrder | None:
        """An algo order (any status, recently closed included) by algo id (wins) or client id."""
        acct = self._acct(account_id)
        found: AlgoOrder | None = None
        if algo_id is not None:
            found = acct.algos.get(algo_id) or acct.closed_algos.get(algo_id)
        elif client_id is not None:
            found = next((a for a in acct.algos.values() if a.client_id == client_id), None)
            if found is None:
                found = next(
                    (a for a in reversed(acct.closed_algos.values()) if a.client_id == client_id), None
                )
        return None if found is None else found.snapshot()

    def all_orders(self, account_id: str, symbol: str | None = None) -> list[Order]:
        """Open and retained closed regular orders, by order id."""
        acct = self._acct(account_id)
        items = list(acct.orders.values()) + list(acct.closed_orders.values())
        return [
            o.snapshot()
            for o in sorted(items, key=lambda o: o.order_id)
            if symbol is None or o.symbol == symbol
        ]

    def all_algo_orders(self, account_id: str, symbol: str | None = None) -> list[AlgoOrder]:
        acct = self._acct(account_id)
        items = list(acct.algos.values()) + list(acct.closed_algos.values())
        return [
            a.snapshot()
            for a in sorted(items, key=lambda a: a.algo_id)
            if symbol is None or a.symbol == symbol
        ]

    def positions(self, account_id: str, symbol: str | None = None) -> list[PositionView]:
        """Every position row (all instruments, or one): one-way BOTH; hedge LONG and SHORT."""
        acct = self._acct(account_id)
        symbols = [symbol] if symbol is not None else list(self._instruments)
        if symbol is not None:
            self.instrument(symbol)
        return [self._position_view(acct, s, ps) for s in symbols for ps in acct.position_sides()]

    def balances(self, account_id: str) -> list[BalanceView]:
        """One row per asset the account holds or margins in."""
        acct = self._acct(account_id)
        return [self._balance_view(acct, a) for a in self._assets(acct)]

    def balance(self, account_id: str, asset: str) -> BalanceView:
        return self._balance_view(self._acct(account_id), asset)

    def account_summary(self, account_id: str) -> AccountSummary:
        acct = self._acct(account_id)
        views = tuple(self._balance_view(acct, a) for a in self._assets(acct))
        positions = tuple(
            self._position_view(acct, s, ps) for s in self._instruments for ps in acct.position_sides()
        )

        def total(attr: str) -> Decimal:
            return sum((getattr(v, attr) for v in views), ZERO)

        return AccountSummary(
            account_id=account_id,
            hedge_mode=acct.hedge_mode,
            total_wallet_balance=total("wallet_balance"),
            total_unrealized_pnl=total("unrealized_pnl"),
            total_margin_balance=total("margin_balance"),
            total_initial_margin=total("initial_margin"),
            total_position_initial_margin=total("position_initial_margin"),
            total_open_order_initial_margin=total("open_order_initial_margin"),
            total_maint_margin=total("maint_margin"),
            available_balance=total("available_balance"),
            max_withdraw_amount=total("max_withdraw_amount"),
            assets=views,
            positions=positions,
            update_ms=acct.update_ms,
        )

    def trades(self, account_id: str, symbol: str | None = None) -> list[Fill]:
        """The account's fills (most recent 10 000), oldest first."""
        acct = self._acct(account_id)
        return [f for f in acct.trades if symbol is None or f.symbol == symbol]

    def order_log(self, account_id: str | None = None) -> list[OrderUpdate | AlgoUpdate]:
        """Every order and algo-order state change, in sequence (for exact-sequence tests)."""
        return [e for e in self._log if account_id is None or e.account_id == account_id]

    # =========================================================================================
    # internals: helpers
    # =========================================================================================
    def _take(self) -> list[EngineEvent]:
        self._run_pending_finish()
        out, self._buf = self._buf, []
        return out

    def _done(
        self,
        *,
        order: Order | None = None,
        algo: AlgoOrder | None = None,
        orders: tuple[Order, ...] = (),
        algos: tuple[AlgoOrder, ...] = (),
    ) -> Outcome:
        return Outcome(
            events=tuple(self._take()),
            order=None if order is None else order.snapshot(),
            algo=None if algo is None else algo.snapshot(),
            orders=orders,
            algos=algos,
        )

    def _reject(self, reason: RejectReason, detail: str) -> Outcome:
        return Outcome(events=tuple(self._take()), reject=Reject(reason, detail))

    def _acct(self, account_id: str) -> Account:
        acct = self._accounts.get(account_id)
        if acct is None:
            raise EngineError(Reject(RejectReason.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}"))
        return acct

    def _acct_or_reject(self, account_id: str) -> Account:
        acct = self._accounts.get(account_id)
        if acct is None:
            raise _Rejected(RejectReason.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}")
        return acct

    def _inst_or_reject(self, symbol: str) -> Instrument:
        inst = self._instruments.get(symbol)
        if inst is None:
            raise _Rejected(RejectReason.UNKNOWN_SYMBOL, f"unknown symbol {symbol!r}")
        return inst

    def _lev(self, acct: Account, symbol: str) -> int:
        return acct.leverage.get(symbol, self._instruments[symbol].default_leverage)

    def _new_client_id(self) -> str:
        return "".join(self._id_rng.choice(_ID_ALPHABET) for _ in range(22))

    def _working_price(self, symbol: str, working_type: WorkingType) -> Decimal:
        feed = self._feeds[symbol]
        return feed.mark if working_type is WorkingType.MARK_PRICE else feed.last

    def _check_position_side(self, acct: Account, position_side: PositionSide, reduce_only: bool) -> None:
        if acct.hedge_mode:
            if position_side is PositionSide.BOTH:
                raise _Rejected(
                    RejectReason.POSITION_SIDE_MISMATCH, "hedge mode needs position side LONG or SHORT"
                )
            if reduce_only:
                raise _Rejected(
                    RejectReason.REDUCE_ONLY_NOT_ALLOWED, "reduce-only is not allowed in hedge mode"
                )
        elif position_side is not PositionSide.BOTH:
            raise _Rejected(RejectReason.POSITION_SIDE_MISMATCH, "one-way mode needs position side BOTH")

    def _position_amount(self, acct: Account, symbol: str, position_side: PositionSide) -> Decimal:
        pos = acct.positions.get((symbol, position_side))
        return ZERO if pos is None else pos.amount

    def _working_orders(self, acct: Account, symbol: str, exclude: int | None = None) -> list[WorkingOrder]:
        return [
            WorkingOrder(
                o.side,
                o.position_side,
                o.price,
                o.remaining,
                is_closing(acct.hedge_mode, o.side, o.position_side, o.reduce_only),
            )
            for o in acct.open_orders_for(symbol)
            if o.order_id != exclude and o.type is OrderType.LIMIT
        ]

    def _symbol_margins(
        self, acct: Account, symbol: str, extra: Sequence[WorkingOrder] = (), exclude: int | None = None
    ) -> tuple[Decimal, Decimal, Decimal]:
        """(position initial margin, open-order initial margin, maintenance margin) of one symbol."""
        inst = self._instruments[symbol]
        mark = self._feeds[symbol].mark
        lev = self._lev(acct, symbol)
        amounts = {ps: self._position_amount(acct, symbol, ps) for ps in acct.position_sides()}
        pos_im = sum(
            (position_margin(a, mark, inst.contract_multiplier, lev) for a in amounts.values()), ZERO
        )
        mm = sum(
            (
                maint_margin(a, mark, inst.contract_multiplier, inst.maint_margin_rate)
                for a in amounts.values()
            ),
            ZERO,
        )
        orders = self._working_orders(acct, symbol, exclude) + list(extra)
        ord_im = open_order_margin(orders, amounts, acct.hedge_mode, mark, inst.contract_multiplier, lev)
        return pos_im, ord_im, mm

    def _assets(self, acct: Account) -> list[str]:
        assets = dict.fromkeys(acct.balances)
        for (symbol, _), pos in acct.positions.items():
            if pos.amount != ZERO:
                assets.setdefault(self._instruments[symbol].margin_asset)
        for o in acct.orders.values():
            assets.setdefault(self._instruments[o.symbol].margin_asset)
        return list(assets)

    def _balance_view(
        self,
        acct: Account,
        asset: str,
        extra: tuple[str, Sequence[WorkingOrder]] | None = None,
        exclude: int | None = None,
    ) -> BalanceView:
        wallet = acct.balances.get(asset, ZERO)
        upnl = pos_im = ord_im = mm = ZERO
        symbols = {s for (s, _), p in acct.positions.items() if p.amount != ZERO}
        symbols |= {o.symbol for o in acct.orders.values()}
        if extra is not None:
            symbols.add(extra[0])
        for symbol in sorted(symbols):
            inst = self._instruments[symbol]
            if inst.margin_asset != asset:
                continue
            mark = self._feeds[symbol].mark
            for ps in acct.position_sides():
                pos = acct.positions.get((symbol, ps))
                if pos is not None:
                    upnl += pos.unrealized(mark, inst.contract_multiplier)
            more = extra[1] if extra is not None and extra[0] == symbol else ()
            p, o, m = self._symbol_margins(acct, symbol, more, exclude)
            pos_im, ord_im, mm = pos_im + p, ord_im + o, mm + m
        margin_balance = wallet + upnl
        available = margin_balance - pos_im - ord_im
        return BalanceView(
            asset=asset,
            wallet_balance=wallet,
            unrealized_pnl=upnl,
            margin_balance=margin_balance,
            initial_margin=pos_im + ord_im,
            position_initial_margin=pos_im,
            open_order_initial_margin=ord_im,
            maint_margin=mm,
            available_balance=available,
            max_withdraw_amount=max(ZERO, min(wallet, available)),
            update_ms=acct.update_ms,
        )

    def _position_view(self, acct: Account, symbol: str, ps: PositionSide) -> PositionView:
        inst = self._instruments[symbol]
        mark = self._feeds[symbol].mark
        pos = acct.positions.get((symbol, ps)) or Position(symbol, ps)
        lev = self._lev(acct, symbol)
        mult = inst.contract_multiplier
        _, ord_im, _ = self._symbol_margins(acct, symbol)
        return PositionView(
            symbol=symbol,
            position_side=ps,
            amount=pos.amount,
            entry_price=pos.entry_price,
            break_even_price=pos.break_even_price,
            mark_price=mark,
            unrealized_pnl=pos.unrealized(mark, mult),
            realized_pnl=pos.realized_pnl,
            notional=pos.amount * mark * mult,
            leverage=lev,
            initial_margin=position_margin(pos.amount, mark, mult, lev),
            maint_margin=maint_margin(pos.amount, mark, mult, inst.maint_margin_rate),
            open_order_initial_margin=ord_im,
            margin_asset=inst.margin_asset,
            margin_type="cross",
            update_ms=pos.update_ms,
        )

    # =========================================================================================
    # internals: validation
    # =========================================================================================
    def _check_client_id(self, acct: Account, client_id: str | None, algo: bool) -> str:
        if client_id is None:
            return self._new_client_id()
        if not client_id:
            raise _Rejected(RejectReason.INVALID_AMOUNT, "client id must not be empty")
        pool: Iterable[Order | AlgoOrder] = acct.open_algos_for() if algo else acct.orders.values()
        if any(o.client_id == client_id for o in pool):
            raise _Rejected(RejectReason.DUPLICATE_CLIENT_ID, "client id is duplicated")
        return client_id

    def _check_open_count(self, acct: Account, inst: Instrument) -> None:
        count = len(acct.open_orders_for(inst.symbol)) + len(acct.open_algos_for(inst.symbol))
        if count >= inst.max_num_orders:
            raise _Rejected(RejectReason.MAX_OPEN_ORDERS, "reach max open order limit")

    def _check_margin(
        self,
        acct: Account,
        inst: Instrument,
        side: Side,
        position_side: PositionSide,
        price: Decimal,
        qty: Decimal,
        exclude: int | None = None,
    ) -> None:
        """Refuse when the order raises the initial margin above the margin balance."""
        before = self._balance_view(acct, inst.margin_asset, exclude=exclude)
        extra = [WorkingOrder(side, position_side, price, qty, False)]
        after = self._balance_view(acct, inst.margin_asset, (inst.symbol, extra), exclude=exclude)
        if after.initial_margin > before.initial_margin and after.initial_margin > after.margin_balance:
            raise _Rejected(RejectReason.INSUFFICIENT_MARGIN, "margin is insufficient")

    def _check_closing(
        self,
        acct: Account,
        inst: Instrument,
        side: Side,
        position_side: PositionSide,
        qty: Decimal,
        order_type: OrderType,
        exclude: int | None = None,
    ) -> None:
        """Reduce-only (one-way) or closing (hedge) order: there must be a position to reduce."""
        amount = self._position_amount(acct, inst.symbol, position_side)
        available = reducible_qty(amount, side)
        if available == ZERO:
            raise _Rejected(
                RejectReason.REDUCE_ONLY_REJECTED, "reduce-only order is rejected: no position to reduce"
            )
        if acct.hedge_mode:
            if qty > available:
                raise _Rejected(
                    RejectReason.REDUCE_ONLY_REJECTED, "reduce-only order is rejected: exceeds position"
                )
        elif order_type is OrderType.LIMIT:
            same_side = sum(
                (
                    o.remaining
                    for o in acct.open_orders_for(inst.symbol)
                    if o.side is side and o.order_id != exclude
                ),
                ZERO,
            )
            if same_side + qty > available:
                raise _Rejected(
                    RejectReason.REDUCE_ONLY_WOULD_FLIP,
                    "reduce-only order failed: with open orders it exceeds the position",
                )

    def _new_regular(
        self, acct: Account, inst: Instrument, spec: OrderSpec, *, algo: AlgoOrder | None = None
    ) -> Order:
        """Validate a LIMIT/MARKET request and build the order (not yet registered)."""
        if spec.close_position:
            raise _Rejected(
                RejectReason.CLOSE_POSITION_NOT_ALLOWED, "close-position is for stop/take-profit market"
            )
        qty = spec.quantity
        if qty is None or qty <= ZERO:
            raise _Rejected(RejectReason.INVALID_QUANTITY, "quantity must be > 0")
        if spec.type is OrderType.LIMIT:
            if spec.price is None or spec.price <= ZERO:
                raise _Rejected(RejectReason.INVALID_PRICE, "limit orders need a price > 0")
            tif = spec.time_in_force or TimeInForce.GTC
            if tif is TimeInForce.GTE_GTC:
                raise _Rejected(RejectReason.INVALID_TIME_IN_FORCE, "GTE_GTC is internal")
            price = spec.price
        else:
            tif, price = TimeInForce.GTC, ZERO
        client_id = (
            self._check_client_id(acct, spec.client_id, algo=False) if algo is None else algo.client_id
        )
        if algo is None:
            self._check_open_count(acct, inst)
        feed = self._feeds[inst.symbol]
        closing = is_closing(acct.hedge_mode, spec.side, spec.position_side, spec.reduce_only)
        if closing and algo is not None:
            # a triggered reduce-only/closing order reduces what is there (clipped), or nothing
            available = reducible_qty(self._position_amount(acct, inst.symbol, spec.position_side), spec.side)
            if available == ZERO:
                raise _Rejected(
                    RejectReason.REDUCE_ONLY_REJECTED, "reduce-only order is rejected: no position"
                )
            qty = min(qty, available)
        elif closing:
            self._check_closing(acct, inst, spec.side, spec.position_side, qty, spec.type)
        else:
            est = price if spec.type is OrderType.LIMIT else (feed.ask if spec.side is Side.BUY else feed.bid)
            self._check_margin(acct, inst, spec.side, spec.position_side, est, qty)
        if spec.type is OrderType.LIMIT:
            takes = price >= feed.ask if spec.side is Side.BUY else price <= feed.bid
            if tif is TimeInForce.GTX and takes:
                raise _Rejected(RejectReason.POST_ONLY_WOULD_TAKE, "post-only order would take liquidity")
            if tif is TimeInForce.FOK:
                fillable = sum((lv.qty for lv in self._levels_within(feed, spec.side, price)), ZERO)
                if closing:
                    fillable = min(
                        fillable,
                        reducible_qty(
                            self._position_amount(acct, inst.symbol, spec.position_side), spec.side
                        ),
                    )
                if fillable < qty:
                    raise _Rejected(RejectReason.FOK_NOT_FILLED, "FOK order could not be filled completely")
        order_id = self._next_order_id
        self._next_order_id += 1
        return Order(
            order_id=order_id,
            client_id=client_id,
            account_id=acct.account_id,
            symbol=inst.symbol,
            side=spec.side,
            type=spec.type,
            orig_type=spec.type if algo is None else algo.type,
            time_in_force=tif,
            quantity=qty,
            price=price,
            position_side=spec.position_side,
            reduce_only=spec.reduce_only,
            close_position=False if algo is None else algo.close_position,
            working_type=spec.working_type,
            price_protect=spec.price_protect,
            create_ms=self._now,
            update_ms=self._now,
            stop_price=ZERO if algo is None else algo.trigger_price,
            activation_price=None if algo is None else algo.activation_price,
            callback_rate=None if algo is None else algo.callback_rate,
            algo_id=None if algo is None else algo.algo_id,
        )

    def _submit_algo(self, acct: Account, inst: Instrument, spec: OrderSpec) -> AlgoOrder:
        t = spec.type
        price = ZERO
        trigger = ZERO
        tif = spec.time_in_force or TimeInForce.GTC
        if tif is TimeInForce.GTE_GTC:
            raise _Rejected(RejectReason.INVALID_TIME_IN_FORCE, "GTE_GTC is internal")
        if spec.close_position:
            if t not in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET):
                raise _Rejected(
                    RejectReason.CLOSE_POSITION_NOT_ALLOWED, "close-position is for stop/take-profit market"
                )
            if spec.quantity is not None and spec.quantity != ZERO:
                raise _Rejected(
                    RejectReason.CLOSE_POSITION_WITH_QUANTITY, "quantity must be empty with close-position"
                )
            if acct.hedge_mode and not is_closing(True, spec.side, spec.position_side, False):
                raise _Rejected(
                    RejectReason.CLOSE_POSITION_SIDE_INVALID, "close-position side does not close"
                )
            qty = ZERO
            tif = TimeInForce.GTE_GTC
        else:
            if spec.quantity is None or spec.quantity <= ZERO:
                raise _Rejected(RejectReason.INVALID_QUANTITY, "quantity must be > 0")
            qty = spec.quantity
        if t in (OrderType.STOP, OrderType.TAKE_PROFIT):
            if spec.price is None or spec.price <= ZERO:
                raise _Rejected(RejectReason.INVALID_PRICE, "stop/take-profit limit orders need a price > 0")
            price = spec.price
        if t is not OrderType.TRAILING_STOP_MARKET:
            if spec.stop_price is None or spec.stop_price <= ZERO:
                raise _Rejected(RejectReason.MISSING_STOP_PRICE, "trigger price must be > 0")
            trigger = spec.stop_price
        client_id = self._check_client_id(acct, spec.client_id, algo=True)
        self._check_open_count(acct, inst)
        if len(acct.open_algos_for()) >= self._max_algo_orders:
            raise _Rejected(RejectReason.MAX_ALGO_ORDERS, "reach max stop order limit")
        ps = spec.position_side
        if spec.close_position:
            if reducible_qty(self._position_amount(acct, inst.symbol, ps), spec.side) == ZERO:
                raise _Rejected(
                    RejectReason.NO_POSITION_FOR_GTE, "close-position needs an open position to close"
                )
            for other in acct.open_algos_for(inst.symbol):
                if (
                    other.close_position
                    and other.side is spec.side
                    and other.position_side is ps
                    and other.type is t
                ):
                    raise _Rejected(
                        RejectReason.CLOSE_POSITION_EXISTS,
                        "an open stop or take profit order with close-position in the direction exists",
                    )
        current = self._working_price(inst.symbol, spec.working_type)
        activation: Decimal | None = None
        extreme: Decimal | None = None
        activated = False
        if t is OrderType.TRAILING_STOP_MARKET:
            rate = spec.callback_rate
            if rate is None or not callback_rate_valid(rate):
                raise _Rejected(RejectReason.INVALID_CALLBACK_RATE, "callback rate must be within [0.1, 20]")
            if spec.activation_price is not None:
                if spec.activation_price <= ZERO:
                    raise _Rejected(RejectReason.INVALID_PRICE, "activation price must be > 0")
                if activation_would_trigger(spec.side, spec.activation_price, current):
                    raise _Rejected(RejectReason.WOULD_TRIGGER_IMMEDIATELY, "order would immediately trigger")
                activation = spec.activation_price
            else:
                activation = current  # defaults to the latest price: active from placement
                activated = True
            extreme = current
        elif stop_condition_met(t, spec.side, trigger, current):
            raise _Rejected(RejectReason.WOULD_TRIGGER_IMMEDIATELY, "order would immediately trigger")
        algo_id = self._next_algo_id
        self._next_algo_id += 1
        algo = AlgoOrder(
            algo_id=algo_id,
            client_id=client_id,
            account_id=acct.account_id,
            symbol=inst.symbol,
            side=spec.side,
            type=t,
            position_side=ps,
            time_in_force=tif,
            quantity=qty,
            price=price,
            trigger_price=trigger,
            working_type=spec.working_type,
            price_protect=spec.price_protect,
            reduce_only=spec.reduce_only or (spec.close_position and not acct.hedge_mode),
            close_position=spec.close_position,
            create_ms=self._now,
            update_ms=self._now,
            activation_price=activation,
            callback_rate=spec.callback_rate if t is OrderType.TRAILING_STOP_MARKET else None,
            activated=activated,
            extreme=extreme,
        )
        acct.algos[algo_id] = algo
        self._algo_event(acct, algo)
        return algo

    def _find_open(self, acct: Account, symbol: str, order_id: int | None, client_id: str | None) -> Order:
        order: Order | None = None
        if order_id is not None:
            order = acct.orders.get(order_id)
        elif client_id is not None:
            order = next((o for o in acct.orders.values() if o.client_id == client_id), None)
        if order is None or order.symbol != symbol:
            raise _Rejected(RejectReason.UNKNOWN_ORDER, "unknown order sent")
        return order

    def _find_open_algo(self, acct: Account, algo_id: int | None, client_id: str | None) -> AlgoOrder:
        algo: AlgoOrder | None = None
        if algo_id is not None:
            algo = acct.algos.get(algo_id)
        elif client_id is not None:
            algo = next((a for a in acct.algos.values() if a.client_id == client_id and a.is_open), None)
        if algo is None or not algo.is_open:
            raise _Rejected(RejectReason.UNKNOWN_ORDER, "unknown algo order")
        return algo

    # =========================================================================================
    # internals: matching
    # =========================================================================================
    @staticmethod
    def _levels_within(feed: PriceFeed, side: Side, limit: Decimal | None) -> list[BookLevel]:
        levels = feed.levels(taker_side_buy=side is Side.BUY)
        if limit is None:
            return levels
        if side is Side.BUY:
            return [lv for lv in levels if lv.price <= limit]
        return [lv for lv in levels if lv.price >= limit]

    def _fill_cap(self, acct: Account, order: Order) -> Decimal:
        """Most this order may fill now: its remainder, clipped to the position for closing orders."""
        if is_closing(acct.hedge_mode, order.side, order.position_side, order.reduce_only):
            amount = self._position_amount(acct, order.symbol, order.position_side)
            return min(order.remaining, reducible_qty(amount, order.side))
        return order.remaining

    def _execute(self, acct: Account, order: Order) -> None:
        """Register a validated new order: NEW, take liquidity, then rest or expire."""
        acct.orders[order.order_id] = order
        self._order_event(acct, order, ExecType.NEW)
        feed = self._feeds[order.symbol]
        takes = order.type is OrderType.MARKET or (
            order.price >= feed.ask if order.side is Side.BUY else order.price <= feed.bid
        )
        filled = self._take_liquidity(acct, order) if takes else False
        self._settle_after_fills(acct, order, filled)

    def _take_liquidity(self, acct: Account, order: Order) -> bool:
        """Walk the synthetic book as taker (up to the limit price); True if anything filled."""
        feed = self._feeds[order.symbol]
        limit = None if order.type is OrderType.MARKET else order.price
        filled = False
        for level in self._levels_within(feed, order.side, limit):
            cap = self._fill_cap(acct, order)
            if cap <= ZERO:
                break
            self._fill(acct, order, min(cap, level.qty), level.price, maker=False)
            filled = True
        return filled

    def _settle_after_fills(self, acct: Account, order: Order, filled: bool) -> None:
        """After a taker pass: account update, then expire what may not rest."""
        if filled:
            self._flush_account_update(acct, order)
        if order.is_open:
            if order.type is OrderType.MARKET:
                clipped = self._fill_cap(acct, order) < order.remaining
                self._expire(
                    acct,
                    order,
                    ExpireReason.REDUCE_ONLY_KNOCKED_OUT if clipped else ExpireReason.MARKET_NOT_FILLED,
                )
            elif order.time_in_force is TimeInForce.IOC:
                self._expire(acct, order, ExpireReason.IOC_NOT_FILLED)
        self._run_pending_finish()

    def _match_resting(self, acct: Account, order: Order) -> None:
        """A resting LIMIT order fills as maker at its price when the touch reaches it."""
        feed = self._feeds[order.symbol]
        crossed = feed.ask <= order.price if order.side is Side.BUY else feed.bid >= order.price
        if not crossed:
            return
        available = sum((lv.qty for lv in self._levels_within(feed, order.side, order.price)), ZERO)
        qty = min(available, self._fill_cap(acct, order))
        if qty <= ZERO:
            return
        self._fill(acct, order, qty, order.price, maker=True)
        self._flush_account_update(acct, order)
        self._run_pending_finish()

    def _fill(self, acct: Account, order: Order, qty: Decimal, price: Decimal, maker: bool) -> None:
        inst = self._instruments[order.symbol]
        feed = self._feeds[order.symbol]
        mult = inst.contract_multiplier
        quote = price * qty * mult
        commission = _money(quote * (inst.maker_fee if maker else inst.taker_fee))
        pos = acct.position(order.symbol, order.position_side)
        realized = _money(pos.apply_fill(order.side, qty, price, mult, commission))
        pos.update_ms = self._now
        asset = inst.margin_asset
        acct.balances[asset] = acct.balances.get(asset, ZERO) + realized - commission
        acct.update_ms = self._now
        order.executed_qty += qty
        order.cum_quote += quote
        order.commission += commission
        order.realized_pnl += realized
        order.status = OrderStatus.FILLED if order.remaining == ZERO else OrderStatus.PARTIALLY_FILLED
        order.update_ms = self._now
        trade_id, _ = feed.next_trade_ids()
        fill = Fill(
            trade_id=trade_id,
            order_id=order.order_id,
            account_id=acct.account_id,
            symbol=order.symbol,
            side=order.side,
            position_side=order.position_side,
            qty=qty,
            price=price,
            quote_qty=quote,
            commission=commission,
            commission_asset=asset,
            realized_pnl=realized,
            maker=maker,
            time_ms=self._now,
        )
        acct.trades.append(fill)
        self._order_event(acct, order, ExecType.TRADE, fill)
        if not maker:
            self._buf.append(
                AggTrade(
                    self._now,
                    order.symbol,
                    feed.next_agg_id(),
                    price,
                    qty,
                    trade_id,
                    trade_id,
                    buyer_is_maker=order.side is Side.SELL,
                )
            )
        if order.status is OrderStatus.FILLED:
            self._archive(acct, order)

    def _flush_account_update(self, acct: Account, order: Order) -> None:
        key = (order.symbol, order.position_side)
        self._account_update(acct, AccountUpdateReason.ORDER, {key})
        self._after_position_change(acct, order.symbol, order.position_side)

    def _account_update(
        self, acct: Account, reason: AccountUpdateReason, keys: set[tuple[str, PositionSide]]
    ) -> None:
        assets = sorted({self._instruments[s].margin_asset for s, _ in keys})
        balances = tuple(
            BalanceChange(a, acct.balances.get(a, ZERO), acct.balances.get(a, ZERO), ZERO) for a in assets
        )
        positions = tuple(self._position_view(acct, s, ps) for s, ps in sorted(keys))
        self._buf.append(AccountUpdate(self._now, acct.account_id, reason, balances, positions))

    def _after_position_change(self, acct: Account, symbol: str, position_side: PositionSide) -> None:
        """A position changed: expire close-position algos and resting reduce-only orders that have
        nothing left to reduce."""
        amount = self._position_amount(acct, symbol, position_side)
        for algo in sorted(acct.open_algos_for(symbol), key=lambda a: a.algo_id):
            if (
                algo.close_position
                and algo.position_side is position_side
                and reducible_qty(amount, algo.side) == ZERO
            ):
                self._finish_algo(acct, algo, AlgoStatus.EXPIRED)
        for order in sorted(acct.open_orders_for(symbol), key=lambda o: o.order_id):
            if (
                order.position_side is position_side
                and order.type is OrderType.LIMIT
                and is_closing(acct.hedge_mode, order.side, order.position_side, order.reduce_only)
                and reducible_qty(amount, order.side) == ZERO
            ):
                self._expire(acct, order, ExpireReason.REDUCE_ONLY_KNOCKED_OUT)

    def _expire(self, acct: Account, order: Order, reason: ExpireReason) -> None:
        order.expire_reason = reason
        self._close_order(acct, order, OrderStatus.EXPIRED, ExecType.EXPIRED)

    def _close_order(self, acct: Account, order: Order, status: OrderStatus, exec_type: ExecType) -> None:
        order.status = status
        order.update_ms = self._now
        self._order_event(acct, order, exec_type)
        self._archive(acct, order)

    def _archive(self, acct: Account, order: Order) -> None:
        """The order is final: move it to the closed set; finish the algo order it came from."""
        acct.orders.pop(order.order_id, None)
        acct.closed_orders[order.order_id] = order
        while len(acct.closed_orders) > self._closed_retention:
            acct.closed_orders.popitem(last=False)
        if order.algo_id is not None:
            algo = acct.algos.get(order.algo_id)
            if algo is not None and algo.status is AlgoStatus.TRIGGERED:
                algo.executed_qty = order.executed_qty
                algo.avg_price = order.avg_price
                self._pending_finish.append((acct, algo))

    # =========================================================================================
    # internals: algo service
    # =========================================================================================
    def _condition_met(self, algo: AlgoOrder) -> bool:
        price = self._working_price(algo.symbol, algo.working_type)
        if algo.type is OrderType.TRAILING_STOP_MARKET:
            return trailing_update(algo, price)
        return stop_condition_met(algo.type, algo.side, algo.trigger_price, price)

    def _trigger(self, acct: Account, algo: AlgoOrder) -> None:
        """Condition met: TRIGGERING, then the regular order (TRIGGERED) or a refusal."""
        algo.status = AlgoStatus.TRIGGERING
        algo.trigger_ms = self._now
        algo.update_ms = self._now
        self._algo_event(acct, algo)
        inst = self._instruments[algo.symbol]
        qty = algo.quantity
        if algo.close_position:
            qty = reducible_qty(self._position_amount(acct, algo.symbol, algo.position_side), algo.side)
            if qty == ZERO:
                self._finish_algo(acct, algo, AlgoStatus.EXPIRED, "GTE condition unsatisfied")
                return
        actual = algo.type.triggered_type
        spec = OrderSpec(
            symbol=algo.symbol,
            side=algo.side,
            type=actual,
            quantity=qty,
            price=algo.price if actual is OrderType.LIMIT else None,
            time_in_force=TimeInForce.GTC
            if algo.time_in_force is TimeInForce.GTE_GTC
            else algo.time_in_force,
            reduce_only=algo.reduce_only,
            position_side=algo.position_side,
            working_type=algo.working_type,
            price_protect=algo.price_protect,
        )
        try:
            order = self._new_regular(acct, inst, spec, algo=algo)
        except _Rejected as exc:
            reason = exc.reject.reason
            if reason in (RejectReason.REDUCE_ONLY_REJECTED, RejectReason.REDUCE_ONLY_WOULD_FLIP):
                self._finish_algo(acct, algo, AlgoStatus.CANCELED, "Reduce Only reject")
            else:
                self._finish_algo(
                    acct, algo, AlgoStatus.REJECTED, _REJECT_TEXT.get(reason, exc.reject.detail)
                )
            return
        algo.status = AlgoStatus.TRIGGERED
        algo.order_id = order.order_id
        algo.actual_type = actual
        algo.update_ms = self._now
        self._algo_event(acct, algo)
        self._execute(acct, order)

    def _run_pending_finish(self) -> None:
        pending, self._pending_finish = self._pending_finish, []
        for acct, algo in pending:
            self._finish_algo(acct, algo, AlgoStatus.FINISHED)

    def _finish_algo(self, acct: Account, algo: AlgoOrder, status: AlgoStatus, reason: str = "") -> None:
        algo.status = status
        algo.update_ms = self._now
        if reason:
            algo.reason = reason
        self._algo_event(acct, algo)
        acct.algos.pop(algo.algo_id, None)
        acct.closed_algos[algo.algo_id] = algo
        while len(acct.closed_algos) > self._closed_retention:
            acct.closed_algos.popitem(last=False)

    # =========================================================================================
    # internals: events
    # =========================================================================================
    def _order_event(
        self, acct: Account, order: Order, exec_type: ExecType, fill: Fill | None = None
    ) -> None:
        ev = OrderUpdate(self._now, acct.account_id, exec_type, order.snapshot(), fill)
        self._buf.append(ev)
        self._log.append(ev)

    def _algo_event(self, acct: Account, algo: AlgoOrder) -> None:
        ev = AlgoUpdate(self._now, acct.account_id, algo.snapshot())
        self._buf.append(ev)
        self._log.append(ev)


_REJECT_TEXT: dict[RejectReason, str] = {
    RejectReason.INSUFFICIENT_MARGIN: "Margin is insufficient",
    RejectReason.POST_ONLY_WOULD_TAKE: "Post Only reject",
    RejectReason.FOK_NOT_FILLED: "FOK reject",
}

__all__ = ["Engine"]
