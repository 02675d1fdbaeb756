"""`AlpacaBroker`: US stocks through Alpaca's REST orders, trade_updates and market data.

Facts that shape it (brokers.md §3; the simulator models them):
- Shares held by an open sell stop are not available to a second sell order, and a replace
  (`PATCH /v2/orders/{id}`) cannot change an order's type. So ASL runs with
  `native_trailing_stop=False`: the host trails by moving a plain stop, and the adapter turns
  "place the next ASL stop" into one atomic PATCH of the working one (new client id, new price).
  The old order's `replaced` event is held back until ASL asks to cancel it, which then
  completes at once: the core sees place-new / confirm / cancel-old as it does on Binance.
- Market hours: `/v2/clock` is read at connect and at each session change. Outside regular hours
  a MARKET ticket is refused with the next open time; a LIMIT ticket goes out as an
  extended-hours DAY order; stops are accepted and wait for the open (as Alpaca holds them).
- There is no reduce-only flag: a reduce-only order is checked against the position and clipped
  to it; a reduce-only market order whose shares are held by our own stops cancels those first.
- Fills carry `position_qty`; positions are kept from fills (Alpaca's average-cost rule) and
  corrected from REST whenever `position_qty` disagrees. trade_updates has no replay: after a
  reconnect the desk resyncs from `snapshot()`.
- A lost reply raises `unknown_outcome` and is never re-sent: order entry resolves it through
  `lookup` (`GET /v2/orders:by_client_order_id`). A cancel or lookup of an order Alpaca no
  longer has (404 / 40410000, or 422 / 42210000 'order is already in "filled" state' on a
  cancel) carries the neutral reason `order_not_found`. Alpaca has no "would trigger" refusal
  to map: a stop already through its price is accepted and triggers (the simulator does so too).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sidedesk.brokers.alpaca.config import AlpacaConfig
from sidedesk.brokers.alpaca.protocol import messages as msg
from sidedesk.brokers.alpaca.protocol import parse
from sidedesk.brokers.alpaca.protocol.parse import Malformed
from sidedesk.brokers.alpaca.session import AlpacaSession
from sidedesk.brokers.common import WS_STATES, safe_emit
from sidedesk.core.asl import ids as asl_ids
from sidedesk.domain import (
    AccountSnapshot,
    BrokerAccount,
    BrokerError,
    BrokerEvent,
    Capabilities,
    ConnectionEvent,
    ConnectionState,
    EventSink,
    InstrumentRules,
    OrderAck,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    Side,
)
from sidedesk.net.ws import WsStatus

log = logging.getLogger(__name__)
ZERO = Decimal(0)
QTY_UNAVAILABLE = 40310000
NOT_FOUND = 40410000  # 404: no such order (the session sets it when the body has no code)
NOT_CANCELABLE = 42210000  # 422 on a cancel: 'order is already in "filled" state'


def _gone(exc: BrokerError) -> BrokerError:
    """The same refusal, saying why in neutral words: the order is no longer there to act on."""
    return BrokerError(exc.code, exc.message, exc.broker_code, exc.retry_after_s, reason="order_not_found")


CAPABILITIES = Capabilities(
    native_trailing_stop=False,
    hedge_mode=False,
    reduce_only=False,
    modify_order=True,
    separate_conditional_orders=False,
    fractional_quantity=True,
    quantity_unit="shares",
    snapshot_min_interval_s=5.0,  # an Alpaca snapshot is three REST calls of the 200 a minute allows
)


def now_ms() -> int:
    return int(time.time() * 1000)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


class AlpacaBroker:
    broker = "alpaca"
    capabilities = CAPABILITIES
    hedge_mode = False

    def __init__(
        self,
        account_id: str,
        config: AlpacaConfig,
        sink: EventSink,
        *,
        request_timeout_s: float = 10.0,
    ) -> None:
        key_id, secret = config.key_id, config.secret
        if not key_id or not key_id.isascii() or any(c.isspace() for c in key_id):
            raise BrokerError("invalid", "the Alpaca key id is empty or contains spaces; paste it exactly")
        if not secret or any(c.isspace() for c in secret):
            raise BrokerError(
                "invalid", "the Alpaca secret key is empty or contains spaces; paste it exactly"
            )
        self.endpoints = config.endpoints
        self.account_id = account_id
        self.environment = config.environment
        self._sink = sink
        self._rules: dict[str, InstrumentRules] = {}
        self._orders: dict[str, OrderEvent] = {}  # open orders by id, as last seen
        self._replaced: dict[str, OrderEvent] = {}  # old ASL stops replaced for a place(), by client id
        self._positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (qty, avg entry)
        self._last: dict[str, Decimal] = {}
        self._clock: parse.Clock | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._clock_task: asyncio.Task[None] | None = None
        self._balance_due: asyncio.Task[None] | None = None
        self.session = AlpacaSession(
            self.endpoints,
            key_id,
            secret,
            on_trade=self._on_trade_frame,
            on_data=self._on_data_frame,
            on_status=self._on_status,
            request_timeout_s=request_timeout_s,
        )

    # -- lifecycle --------------------------------------------------------------------------------
    async def connect(self) -> None:
        self._emit(ConnectionEvent(self.account_id, ConnectionState.CONNECTING, ts_ms=now_ms()))
        try:
            await self.session.rest("GET", "/account")  # checks the key before any socket
            await self.refresh_clock()
            assets = await self.session.rest(
                "GET", "/assets", params={"status": "active", "asset_class": "us_equity"}
            )
            if not isinstance(assets, list):
                raise BrokerError("internal", "Alpaca's asset list was unreadable")
            for a in assets:
                try:
                    rules = parse.asset_rules(a)
                except Malformed as exc:
                    log.warning("alpaca asset skipped: %s", exc)
                    continue
                if rules is not None:
                    self._rules[rules.symbol] = rules
            await self.session.start_streams()
            await self.snapshot()  # positions and open orders the adapter keeps track of
        except BrokerError:
            await self.close()
            raise
        except Malformed as exc:
            await self.close()
            raise BrokerError("internal", f"Alpaca answered something unreadable at connect ({exc})") from exc
        self._clock_task = asyncio.get_running_loop().create_task(self._clock_loop(), name="alpaca-clock")

    def accounts(self) -> tuple[BrokerAccount, ...]:
        """A Alpaca key reaches one account: it is the only one listed."""
        return (BrokerAccount("account", "Alpaca", "Paper" if self.environment != "live" else "Live"),)

    def trading_account(self) -> BrokerAccount | None:
        return self.accounts()[0]

    async def close(self) -> None:
        for t in [self._clock_task, self._balance_due, *self._tasks]:
            if t is not None:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        self._clock_task = None
        await self.session.close()

    def instruments(self) -> dict[str, InstrumentRules]:
        return dict(self._rules)

    # -- market hours -----------------------------------------------------------------------------
    async def refresh_clock(self) -> parse.Clock:
        self._clock = parse.clock(await self.session.rest("GET", "/clock"))
        return self._clock

    def market_open(self) -> bool:
        c = self._clock
        return True if c is None else c.open_at(now_ms())

    async def _clock_loop(self) -> None:
        while True:
            c = self._clock
            wait = 30.0 if c is None else min(30.0, max(0.5, (c.next_change_ms() - now_ms()) / 1000 + 0.5))
            await asyncio.sleep(wait)
            try:
                await self.refresh_clock()
            except (BrokerError, Malformed) as exc:
                log.warning("alpaca clock refresh failed: %s", exc)

    async def _check_hours(self, order: OrderRequest) -> bool:
        """True when the order must go out as an extended-hours order; raises if it may not go."""
        if self.market_open():
            return False
        with contextlib.suppress(BrokerError, Malformed):
            await self.refresh_clock()  # the cached reading may be behind a session change
        if self.market_open():
            return False
        c = self._clock
        opens = f" (next open {_when(c.next_open_ms)})" if c is not None else ""
        if order.type is OrderType.MARKET:
            raise BrokerError(
                "rejected",
                f"the US market is closed{opens}: a market order would wait for the open; "
                "use a limit order, which is sent as an extended-hours order",
            )
        return order.type is OrderType.LIMIT

    # -- orders -----------------------------------------------------------------------------------
    async def place(self, order: OrderRequest) -> OrderAck:
        if order.reduce_only:
            order = await self._fit_reduce_only(order)
        extended = await self._check_hours(order)
        if self._is_asl_stop(order):
            old = self._stop_to_move(order)
            if old is not None:
                try:
                    return await self._move_stop(old, order)
                except BrokerError as exc:
                    if exc.code != "invalid" and exc.broker_code != 42210000:
                        raise
                    log.info(
                        "alpaca: moving stop %s failed (%s); placing a new one", old.client_id, exc.message
                    )
        try:
            body = msg.order_body(order, extended_hours=extended)
        except msg.RequestError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        try:
            return await self._post(order, body)
        except BrokerError as exc:
            if not (
                order.reduce_only and order.type is OrderType.MARKET and exc.broker_code == QTY_UNAVAILABLE
            ):
                raise
            # our own stops hold the shares: a closing market order frees them first
            if not await self._free_shares(order):
                raise
            return await self._post(order, body)

    async def _post(self, order: OrderRequest, body: dict[str, Any]) -> OrderAck:
        # a lost reply raises the session's unknown_outcome as is: order entry looks it up
        reply = await self.session.rest("POST", "/orders", body=body)
        return self._ack(reply)

    def _ack(self, reply: Any) -> OrderAck:
        try:
            ev = parse.order(reply, self.account_id, now_ms())
        except Malformed as exc:
            raise BrokerError("unknown_outcome", f"Alpaca's answer was unreadable ({exc}); checking") from exc
        self._note(ev)
        self._emit(ev)  # the book learns of it now; the stream's copy is a duplicate by design
        return OrderAck(ev.order_id, ev.client_id, ev.status, ev.filled, ev.avg_price, ev.is_conditional,
                        ev.update_time_ms)  # fmt: skip

    async def _fit_reduce_only(self, order: OrderRequest) -> OrderRequest:
        qty, _ = self._positions.get(order.symbol, (ZERO, ZERO))
        if qty == 0 or (qty > 0) == (order.side is Side.BUY) or order.quantity > abs(qty):
            # the stream's fill may not be here yet: ask Alpaca before refusing or clipping
            await self._refresh_position(order.symbol)
            qty, _ = self._positions.get(order.symbol, (ZERO, ZERO))
        if qty == 0 or (qty > 0) == (order.side is Side.BUY):
            raise BrokerError(
                "rejected", f"nothing to reduce: there is no {order.symbol} position this order closes"
            )
        if order.quantity > abs(qty):
            return replace(order, quantity=abs(qty))
        return order

    @staticmethod
    def _is_asl_stop(order: OrderRequest) -> bool:
        return (
            order.type is OrderType.STOP_MARKET and asl_ids.decode(order.client_id, order.symbol) is not None
        )

    def _stop_to_move(self, order: OrderRequest) -> OrderEvent | None:
        """The working ASL stop on the same symbol and side that the new one replaces."""
        mine = [
            o
            for o in self._orders.values()
            if o.symbol == order.symbol
            and o.side is order.side
            and o.type is OrderType.STOP_MARKET
            and o.status is OrderStatus.NEW
            and o.filled == 0
            and o.client_id not in self._replaced
            and asl_ids.decode(o.client_id, o.symbol) is not None
        ]
        return max(mine, key=lambda o: o.update_time_ms, default=None)

    async def _move_stop(self, old: OrderEvent, order: OrderRequest) -> OrderAck:
        try:
            body = msg.replace_stop_body(order)
        except msg.RequestError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        self._replaced[old.client_id] = old  # before the PATCH: its `replaced` event may come first
        try:
            reply = await self.session.rest("PATCH", f"/orders/{old.order_id}", body=body)
        except BrokerError:
            # Refused or lost (order entry looks the new client id up). Either way the old stop is
            # no longer counted as moved: a later cancel of it goes to Alpaca, so a stop the PATCH
            # never reached cannot be left working there (a moved one answers 422: nothing to do).
            self._replaced.pop(old.client_id, None)
            raise
        self._orders.pop(old.order_id, None)
        return self._ack(reply)

    async def _free_shares(self, order: OrderRequest) -> bool:
        """Cancel our open conditional orders on the closing side of `order.symbol`."""
        holding = [
            o for o in list(self._orders.values())
            if o.symbol == order.symbol and o.side is order.side and o.type.is_conditional
        ]  # fmt: skip
        for o in holding:
            with contextlib.suppress(BrokerError):
                await self.cancel(o.symbol, order_id=o.order_id, client_id=o.client_id)
        return bool(holding)

    async def _order_id(self, symbol: str, order_id: str | None, client_id: str | None) -> OrderEvent | None:
        if order_id is not None:
            known = self._orders.get(order_id)
            if known is not None:
                return known
        if client_id is not None:
            known = next((o for o in self._orders.values() if o.client_id == client_id), None)
            if known is not None:
                return known
            return await self.lookup(symbol, client_id)
        return None

    async def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_id: str | None = None,
        conditional: bool = False,
    ) -> OrderAck:
        old = self._replaced.pop(client_id, None) if client_id is not None else None
        if old is None and order_id is not None:
            key = next((c for c, o in self._replaced.items() if o.order_id == order_id), None)
            old = self._replaced.pop(key) if key is not None else None
        if old is not None:
            # moved into its replacement already: that was the cancel
            done = replace(old, status=OrderStatus.CANCELED, update_time_ms=now_ms())
            self._emit(done)
            return OrderAck(old.order_id, old.client_id, OrderStatus.CANCELED, old.filled, old.avg_price)
        if order_id is None:
            found = await self._order_id(symbol, None, client_id)
            if found is None:
                raise BrokerError(
                    "rejected",
                    f"Alpaca has no order with client id {client_id}",
                    NOT_FOUND,
                    reason="order_not_found",
                )
            order_id = found.order_id
        try:
            await self.session.rest("DELETE", f"/orders/{order_id}")
        except BrokerError as exc:
            if exc.broker_code == NOT_FOUND:
                raise _gone(exc) from exc
            if exc.broker_code != NOT_CANCELABLE:
                raise
            # no longer cancelable (filled, cancelled, replaced): report what it became instead
            try:
                ev = parse.order(await self.session.rest("GET", f"/orders/{order_id}"), self.account_id)
            except Malformed as err:
                raise _gone(exc) from err
            self._note(ev)
            return OrderAck(ev.order_id, ev.client_id, ev.status, ev.filled, ev.avg_price, ev.is_conditional)
        known = self._orders.get(order_id)
        return OrderAck(order_id, known.client_id if known else (client_id or ""), OrderStatus.CANCELED,
                        known.filled if known else ZERO)  # fmt: skip

    async def modify(
        self, symbol: str, order_id: str, *, quantity: Decimal, price: Decimal, side: Side
    ) -> OrderAck:
        reply = await self.session.rest(
            "PATCH", f"/orders/{order_id}", body=msg.replace_limit_body(quantity, price)
        )
        return self._ack(reply)

    async def cancel_all(self, symbol: str | None = None) -> int:
        params = {"status": "open", "limit": "500"}
        if symbol is not None:
            params["symbols"] = symbol
        rows = await self.session.rest("GET", "/orders", params=params)
        count = 0
        for row in rows if isinstance(rows, list) else []:
            oid = row.get("id") if isinstance(row, dict) else None
            if not isinstance(oid, str):
                continue
            try:
                await self.session.rest("DELETE", f"/orders/{oid}")
                count += 1
            except BrokerError as exc:
                if exc.broker_code != 42210000:
                    raise
        for key in [c for c, o in self._replaced.items() if symbol in (None, o.symbol)]:
            old = self._replaced.pop(key)
            self._emit(replace(old, status=OrderStatus.CANCELED, update_time_ms=now_ms()))
        return count

    async def lookup(self, symbol: str, client_id: str, *, conditional: bool = False) -> OrderEvent | None:
        """The order with this client order id (one list for orders and stops; a stop comes back
        conditional by its type); None only when Alpaca says it has none (404). Any other failure
        raises: it says nothing about the order."""
        try:
            reply = await self.session.rest(
                "GET", "/orders:by_client_order_id", params={"client_order_id": client_id}
            )
        except BrokerError as exc:
            if exc.broker_code == NOT_FOUND:
                return None
            raise
        try:
            return parse.order(reply, self.account_id)
        except Malformed as exc:
            raise BrokerError("internal", f"Alpaca's order query answer was unreadable ({exc})") from exc

    async def snapshot(self) -> AccountSnapshot:
        started = now_ms()
        try:
            account = await self.session.rest("GET", "/account")
            rows = await self.session.rest("GET", "/positions")
            orders = await self.session.rest("GET", "/orders", params={"status": "open", "limit": "500"})
            positions = tuple(parse.position(p, self.account_id) for p in (rows or []))
            opened = tuple(parse.order(o, self.account_id) for o in (orders or []))
            balance = parse.balance(account, list(positions), self.account_id, now_ms())
        except Malformed as exc:
            raise BrokerError("internal", f"Alpaca's account snapshot was unreadable ({exc})") from exc
        self._positions = {p.symbol: (p.quantity, p.entry_price) for p in positions}
        live = {o.order_id: o for o in opened}
        # replaced-by-us stops stay open for the core until ASL cancels them
        opened += tuple(o for o in self._replaced.values() if o.order_id not in live)
        self._orders = live
        return AccountSnapshot(self.account_id, (balance,), positions, opened, ts_ms=started)

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        if leverage != 1:
            raise BrokerError(
                "invalid", "Alpaca has no per-symbol leverage: buying power comes from the account's margin"
            )

    async def subscribe_quotes(self, symbols: list[str]) -> None:
        await self.session.subscribe([s for s in symbols if s in self._rules])

    # -- events -----------------------------------------------------------------------------------
    def _emit(self, ev: BrokerEvent) -> None:
        safe_emit(self._sink, ev)

    def _note(self, ev: OrderEvent) -> None:
        if ev.status.is_open:
            self._orders[ev.order_id] = ev
        else:
            self._orders.pop(ev.order_id, None)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_trade_frame(self, frame: str | bytes) -> None:
        try:
            obj = parse.trading_frame(frame)
            if obj.get("stream") != "trade_updates":
                return
            tu = parse.trade_update(obj.get("data"), self.account_id)
        except Malformed as exc:
            log.warning("alpaca trade update dropped: %s", exc)
            return
        ev = tu.order
        if tu.raw_order_status == "replaced" and ev.client_id in self._replaced:
            self._orders.pop(ev.order_id, None)
            return  # held back: ASL cancels it (see the module docstring)
        self._note(ev)
        self._emit(ev)
        if tu.fill is not None:
            self._emit(tu.fill)
            self._on_fill(tu)

    def _on_fill(self, tu: parse.TradeUpdate) -> None:
        fill = tu.fill
        assert fill is not None
        qty, entry = self._positions.get(fill.symbol, (ZERO, ZERO))
        signed = fill.quantity * fill.side.sign
        new_qty = qty + signed
        if qty == 0 or (qty > 0) == (signed > 0):
            entry = (qty * entry + signed * fill.price) / new_qty if new_qty != 0 else ZERO
        elif new_qty == 0:
            entry = ZERO
        elif (new_qty > 0) != (qty > 0):
            entry = fill.price  # flipped through zero
        if tu.position_qty is not None and tu.position_qty != new_qty:
            log.info(
                "alpaca %s: position %s from fills, %s reported; re-reading",
                fill.symbol,
                new_qty,
                tu.position_qty,
            )
            new_qty = tu.position_qty
            self._spawn(self._refresh_position(fill.symbol))
        self._positions[fill.symbol] = (new_qty, entry)
        mark = self._last.get(fill.symbol)
        self._emit(
            PositionEvent(self.account_id, fill.symbol, PositionSide.BOTH, new_qty, entry,
                          mark_price=mark, leverage=1, ts_ms=fill.ts_ms)
        )  # fmt: skip
        self._schedule_balance()

    async def _refresh_position(self, symbol: str) -> None:
        try:
            row = await self.session.rest("GET", f"/positions/{symbol}")
            p = parse.position(row, self.account_id)
        except BrokerError as exc:
            if exc.broker_code != 40410000:
                return
            p = PositionEvent(self.account_id, symbol, PositionSide.BOTH, ZERO, ZERO)
        except Malformed:
            return
        self._positions[symbol] = (p.quantity, p.entry_price)
        self._emit(p)

    def _schedule_balance(self) -> None:
        if self._balance_due is None or self._balance_due.done():
            self._balance_due = asyncio.get_running_loop().create_task(self._refresh_balance())

    async def _refresh_balance(self) -> None:
        await asyncio.sleep(0.2)  # one read after a burst of fills
        try:
            account = await self.session.rest("GET", "/account")
            rows = await self.session.rest("GET", "/positions")
            positions = [parse.position(p, self.account_id) for p in (rows or [])]
            self._emit(parse.balance(account, positions, self.account_id, now_ms()))
        except (BrokerError, Malformed) as exc:
            log.warning("alpaca balance refresh failed: %s", exc)

    def _on_data_frame(self, frame: str | bytes) -> None:
        try:
            items = parse.data_frame(frame)
        except Malformed as exc:
            log.warning("alpaca data frame dropped: %s", exc)
            return
        for m in items:
            kind = m.get("T")
            try:
                if kind == "t":
                    q = parse.trade(m)
                    if q.last is not None:
                        self._last[q.symbol] = q.last
                    self._emit(q)
                elif kind == "q":
                    self._emit(parse.quote(m))
                elif kind == "error":
                    log.warning("alpaca data stream error %s: %s", m.get("code"), m.get("msg"))
            except Malformed as exc:
                log.warning("alpaca data message dropped: %s", exc)

    def _on_status(self, status: WsStatus) -> None:
        self._emit(
            ConnectionEvent(
                self.account_id,
                WS_STATES.get(status.state, ConnectionState.DISCONNECTED),
                attempt=status.attempt,
                detail=f"{status.name}: {status.last_error or status.reason or status.state}",
                next_retry_s=status.next_retry_s,
                ts_ms=now_ms(),
            )
        )


__all__ = ["CAPABILITIES", "AlpacaBroker"]
