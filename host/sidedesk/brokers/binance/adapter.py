"""`BinanceBroker`: the `Broker` protocol on top of `BinanceSession` (binance.md throughout).

Regular orders go through `order.place`; stop, take-profit and trailing orders through
`algoOrder.place` (since 2025-12-09). The account's position mode (hedge or one-way) is read at
connect and kept current, and each order's `positionSide` is fitted to it. A lost reply
raises `unknown_outcome` and is never re-sent: order entry (`app/entry.py`) resolves it for every
broker through the intent machine, by `lookup` (client id, or client algo id for a stop).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sidedesk.brokers.binance.config import BinanceConfig, Endpoints
from sidedesk.brokers.binance.protocol import messages as msg
from sidedesk.brokers.binance.protocol import replies
from sidedesk.brokers.binance.protocol.events import (
    FillDeduper,
    LeverageChanged,
    ListenKeyExpired,
    StreamEvent,
)
from sidedesk.brokers.binance.protocol.fields import MalformedMessage
from sidedesk.brokers.binance.protocol.filters import parse_exchange_info
from sidedesk.brokers.binance.protocol.signing import KeyFormatError, make_signer
from sidedesk.brokers.binance.session import SENT_NS, USER_EVENTS, BinanceSession
from sidedesk.brokers.common import WS_STATES, safe_emit
from sidedesk.core.orders import close_order, make_client_id, position_side_for
from sidedesk.core.staleness import min_refresh_interval
from sidedesk.domain import (
    AccountSnapshot,
    BrokerAccount,
    BrokerError,
    BrokerEvent,
    Capabilities,
    ConnectionEvent,
    ConnectionState,
    EventSink,
    FillEvent,
    InstrumentRules,
    OrderAck,
    OrderEvent,
    OrderRequest,
    PositionEvent,
    PositionSide,
    QuoteEvent,
    Side,
)
from sidedesk.net.ws import WsStatus

log = logging.getLogger(__name__)

# A snapshot (account, positions, open orders, open algo orders) costs about 90 weight of the
# 2 400 per minute; silent-stream refreshes may use a tenth of that: at most one per 22.5 s.
SNAPSHOT_WEIGHT = 90
WEIGHT_PER_MINUTE = 2400

CAPABILITIES = Capabilities(
    native_trailing_stop=True,
    hedge_mode=True,
    reduce_only=True,
    modify_order=True,
    separate_conditional_orders=True,
    fractional_quantity=True,
    # callbackRate 0.1-20 % since 2026-10-23 (derivatives change log; see protocol/messages.py)
    min_callback_pct=msg.MIN_CALLBACK,
    max_callback_pct=msg.MAX_CALLBACK,
    quantity_unit="base",
    snapshot_min_interval_s=min_refresh_interval(SNAPSHOT_WEIGHT, WEIGHT_PER_MINUTE),
)


# which socket state wins when combining them (higher = worse)
_SEVERITY = {"connected": 0, "connecting": 1, "reconnecting": 2, "stopped": 3, "gave_up": 4, "auth_failed": 5}


@dataclass(frozen=True, slots=True)
class FlattenResult:
    cancelled: int
    closes: tuple[OrderAck, ...]
    errors: tuple[str, ...] = ()


class BinanceBroker:
    broker = "binance"
    capabilities = CAPABILITIES

    def __init__(
        self,
        account_id: str,
        config: BinanceConfig,
        sink: EventSink,
        *,
        fast_fills: bool = False,
        recv_window: int = msg.DEFAULT_RECV_WINDOW,
        request_timeout_s: float = 10.0,
        reconnect_wait_s: float = 2.0,
    ) -> None:
        api_key = config.api_key
        if not api_key or not api_key.isascii() or any(c.isspace() for c in api_key):
            raise BrokerError("invalid", "the API key is empty or contains spaces; paste it exactly")
        try:
            signer = make_signer(config.secret)
        except KeyFormatError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        self.account_id = account_id
        self.environment = config.environment
        self.endpoints: Endpoints = config.endpoints
        self._sink = sink
        self._rules: dict[str, InstrumentRules] = {}
        self._marks: dict[str, Decimal] = {}
        self._leverage: dict[str, int] = {}
        # the latest account event's exchange time and when it arrived (monotonic ms)
        self._anchor: tuple[int, float] | None = None
        self._socket_states: dict[str, WsStatus] = {}
        self.hedge_mode = False
        # With fast_fills, TRADE_LITE (earlier, but without fee) is the fill and the matching
        # ORDER_TRADE_UPDATE fill is dropped; otherwise ORDER_TRADE_UPDATE (with fee, P&L) is.
        self.fast_fills = fast_fills
        self._fills = FillDeduper()
        events = (*USER_EVENTS, "TRADE_LITE") if fast_fills else USER_EVENTS
        self.session = BinanceSession(
            self.endpoints,
            msg.Credentials(api_key, signer),
            on_event=self._on_stream_event,
            on_status=self._on_status,
            on_auth_failed=self._on_auth_failed,
            account_id=account_id,
            recv_window=recv_window,
            request_timeout_s=request_timeout_s,
            reconnect_wait_s=reconnect_wait_s,
            user_events=events,
        )

    # -- lifecycle --------------------------------------------------------------------------------

    async def connect(self) -> None:
        self._emit(
            ConnectionEvent(self.account_id, ConnectionState.CONNECTING, ts_ms=self.session.server_now_ms())
        )
        try:
            await self.session.sync_time()
            info = parse_exchange_info(await self.session.rest(msg.exchange_info()))
            self._rules = info.rules
            self.session.limiter.configure(info.rate_limits)
            for skipped in info.skipped:
                log.warning("exchangeInfo: skipped %s", skipped)
            await self.refresh_position_mode()
            # Leverage is not in ACCOUNT_UPDATE nor in v2/account.position, but margin and ROE
            # need it: read it once here, then follow ACCOUNT_CONFIG_UPDATE and our own changes.
            self._leverage.update(replies.leverages(await self.session.rest(msg.symbol_config())))
            await self.session.start_api()
            await self.session.start_user_stream()
        except MalformedMessage as exc:
            await self.session.close()
            raise BrokerError(
                "internal", f"Binance answered something unreadable at connect ({exc})"
            ) from exc
        except BrokerError:
            await self.session.close()
            raise

    def accounts(self) -> tuple[BrokerAccount, ...]:
        """A Binance key reaches one account: it is the only one listed."""
        return (BrokerAccount("usdm", "USDⓈ-M futures", self.environment.capitalize()),)

    def trading_account(self) -> BrokerAccount | None:
        return self.accounts()[0]

    async def close(self) -> None:
        await self.session.close()

    def instruments(self) -> dict[str, InstrumentRules]:
        return dict(self._rules)

    def mark_price(self, symbol: str) -> Decimal | None:
        return self._marks.get(symbol)

    async def refresh_position_mode(self) -> bool:
        self.hedge_mode = replies.dual_side(await self.session.rest(msg.get_position_mode()))
        return self.hedge_mode

    # -- orders -----------------------------------------------------------------------------------

    def _fit_position_side(self, order: OrderRequest) -> OrderRequest:
        """One-way accounts take BOTH; hedge accounts need LONG/SHORT (derived from side + reduce-only)."""
        if not self.hedge_mode:
            return (
                order
                if order.position_side is PositionSide.BOTH
                else replace(order, position_side=PositionSide.BOTH)
            )
        if order.position_side is not PositionSide.BOTH:
            return order
        reducing = order.reduce_only or (order.type.is_conditional and order.quantity == 0)
        return replace(
            order, position_side=position_side_for(order.side, hedge_mode=True, reduce_only=reducing)
        )

    async def place(self, order: OrderRequest) -> OrderAck:
        try:
            return await self._place(self._fit_position_side(order))
        except BrokerError as exc:
            if exc.broker_code != -4061:
                raise
            # The position mode was switched elsewhere (website, another tool) since we read it. A
            # -4061 order was refused, so nothing executed: re-read the mode, refit, send once more.
            before = self.hedge_mode
            await self.refresh_position_mode()
            if self.hedge_mode == before:
                raise
            log.info("position mode changed to %s; order refitted", "hedge" if self.hedge_mode else "one-way")
            return await self._place(self._fit_position_side(order))

    async def _place(self, order: OrderRequest) -> OrderAck:
        try:
            call = msg.algo_order_place(order) if order.type.is_conditional else msg.order_place(order)
        except msg.RequestError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        # a lost reply raises the session's unknown_outcome as is: order entry looks it up
        result = await self.session.call(call)
        return self._ack(result, conditional=order.type.is_conditional)

    def _ack(self, result: Any, *, conditional: bool) -> OrderAck:
        try:
            ack = replies.algo_ack(result) if conditional else replies.order_ack(result)
        except MalformedMessage as exc:
            # the exchange did act; only its answer is unreadable
            raise BrokerError(
                "unknown_outcome", f"Binance's answer was unreadable ({exc}); checking"
            ) from exc
        # a reply's time is on the events' clock too: a snapshot after it is stamped no earlier,
        # so an order answered while its events were held or lost is not kept open by it
        self._anchor_on(ack.update_time_ms)
        return replace(ack, sent_ns=SENT_NS.get())

    async def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_id: str | None = None,
        conditional: bool = False,
    ) -> OrderAck:
        try:
            call = (
                msg.algo_order_cancel(algo_id=order_id, client_algo_id=client_id)
                if conditional
                else msg.order_cancel(symbol, order_id=order_id, client_id=client_id)
            )
        except msg.RequestError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        return self._ack(await self.session.call(call), conditional=conditional)

    async def modify(
        self, symbol: str, order_id: str, *, quantity: Decimal, price: Decimal, side: Side
    ) -> OrderAck:
        try:
            call = msg.order_modify(symbol, order_id, side=side.value, quantity=quantity, price=price)
        except msg.RequestError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        return self._ack(await self.session.call(call), conditional=False)

    async def open_orders(self, symbol: str | None = None) -> tuple[OrderEvent, ...]:
        regular = replies.orders(await self.session.rest(msg.open_orders(symbol)), self.account_id)
        algo = replies.orders(
            await self.session.rest(msg.open_algo_orders(symbol)), self.account_id, algo=True
        )
        return regular + algo

    async def open_conditional_orders(self, symbol: str | None = None) -> tuple[OrderEvent, ...]:
        """Only the algo (stop, take-profit, trailing) orders: where every protective stop lives."""
        return replies.orders(
            await self.session.rest(msg.open_algo_orders(symbol)), self.account_id, algo=True
        )

    async def cancel_all(self, symbol: str | None = None) -> int:
        opened = await self.open_orders(symbol)
        count = 0
        for sym in sorted({o.symbol for o in opened}):
            mine = [o for o in opened if o.symbol == sym]
            if any(not o.is_conditional for o in mine):
                await self.session.rest(msg.cancel_all_open_orders(sym))
            if any(o.is_conditional for o in mine):
                await self.session.rest(msg.cancel_all_algo_open_orders(sym))
            count += len(mine)
        return count

    async def flatten(self, kind: str = "h") -> FlattenResult:
        """Cancel every order and algo order, then close every position reduce-only at market."""
        cancelled = await self.cancel_all(None)
        positions = replies.positions(await self.session.call(msg.account_position()), self.account_id)
        acks: list[OrderAck] = []
        errors: list[str] = []
        for pos in positions:
            rules = self._rules.get(pos.symbol)
            if pos.quantity == 0 or rules is None:
                continue
            order = close_order(pos, Decimal(1), rules, client_id=make_client_id(kind))  # type: ignore[arg-type]
            try:
                acks.append(await self.place(order))
            except BrokerError as exc:
                errors.append(f"{pos.symbol} {pos.position_side.value}: {exc.message}")
        return FlattenResult(cancelled, tuple(acks), tuple(errors))

    async def lookup(self, symbol: str, client_id: str, *, conditional: bool = False) -> OrderEvent | None:
        try:
            if conditional:
                return replies.algo_order(
                    await self.session.rest(msg.get_algo_order(client_algo_id=client_id)), self.account_id
                )
            return replies.order(
                await self.session.call(msg.order_status(symbol, client_id=client_id)), self.account_id
            )
        except BrokerError as exc:
            if exc.reason == "order_not_found":  # -2013/-2011: Binance has no order with this id
                return None
            raise
        except MalformedMessage as exc:
            raise BrokerError("internal", f"Binance's order query answer was unreadable ({exc})") from exc

    def _anchor_on(self, exchange_ms: int) -> None:
        if exchange_ms > 0 and (self._anchor is None or exchange_ms >= self._anchor[0]):
            self._anchor = (exchange_ms, time.monotonic() * 1000)

    def account_clock_ms(self) -> int:
        """The exchange's time now, on the clock its account events carry: our estimate (local
        time + the offset measured from `serverTime`), kept between the latest account event's
        (or order reply's) own time and that time moved on by our monotonic clock. A snapshot
        stamped with it is compared with those events' times: where the estimate is off (the
        offset is stale since our clock stepped, or `serverTime` disagrees with the event times),
        a snapshot stamped ahead made every position update for that long look older and be
        skipped (the soak, seed 7383: still long 15 s after a flatten), and one stamped behind
        was skipped itself, or kept an order it no longer listed open (seed 12051)."""
        estimate = self.session.server_now_ms()
        if self._anchor is None:
            return estimate
        at, received = self._anchor
        return max(at, min(estimate, at + int(time.monotonic() * 1000 - received)))

    async def snapshot(self) -> AccountSnapshot:
        anchored = self._anchor is not None
        started = self.account_clock_ms()
        try:
            balances = replies.balances(await self.session.call(msg.account_balance()), self.account_id)
            positions = replies.positions(await self.session.call(msg.account_position()), self.account_id)
            orders = await self.open_orders(None)
        except MalformedMessage as exc:
            raise BrokerError("internal", f"Binance's account snapshot was unreadable ({exc})") from exc
        if not anchored:
            # No account event yet (a start): nothing to check our estimate against, so the
            # snapshot is stamped with the newest change it holds, on the events' own clock. A
            # fill, a close or a new order moves a position's, a balance's or an order's
            # `updateTime`, so every update after it is newer and applied, and none inside it is
            # applied twice (soak seed 9271: stamped with an estimate 15 s ahead after a restart).
            times = [b.ts_ms for b in balances] + [p.ts_ms for p in positions]
            times += [o.update_time_ms for o in orders]
            started = max((t for t in times if t), default=0) or started
        return AccountSnapshot(
            self.account_id,
            balances,
            tuple(
                replace(p, leverage=self._leverage[p.symbol])
                if p.leverage is None and p.symbol in self._leverage
                else p
                for p in positions
                if p.quantity != 0
            ),
            orders,
            hedge_mode=self.hedge_mode,
            ts_ms=started,
        )

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        try:
            call = msg.change_leverage(symbol, leverage)
        except msg.RequestError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        if self._leverage.get(symbol) == leverage:
            return  # unchanged: no request (REST weight, and latency before the order)
        await self.session.rest(call)
        self._leverage[symbol] = leverage

    async def subscribe_quotes(self, symbols: list[str]) -> None:
        await self.session.subscribe(symbols)

    # -- events -----------------------------------------------------------------------------------

    def _emit(self, ev: BrokerEvent) -> None:
        safe_emit(self._sink, ev)

    def _on_stream_event(self, ev: StreamEvent) -> None:
        if isinstance(ev, ListenKeyExpired):
            self.session.renew_user_stream("listenKey expired")
            return
        if isinstance(ev, LeverageChanged):
            self._leverage[ev.symbol] = ev.leverage
            return
        if isinstance(ev, FillEvent) and not self._fills.first_time(ev):
            return
        if isinstance(ev, FillEvent | PositionEvent | OrderEvent):
            self._anchor_on(ev.update_time_ms if isinstance(ev, OrderEvent) else ev.ts_ms)
        if isinstance(ev, QuoteEvent) and ev.mark is not None:
            self._marks[ev.symbol] = ev.mark
        elif isinstance(ev, PositionEvent) and ev.leverage is None and ev.symbol in self._leverage:
            ev = replace(ev, leverage=self._leverage[ev.symbol])
        self._emit(ev)

    def _on_auth_failed(self, message: str) -> None:
        self._emit(
            ConnectionEvent(
                self.account_id,
                ConnectionState.AUTH_FAILED,
                detail=message,
                ts_ms=self.session.server_now_ms(),
            )
        )

    def _on_status(self, status: WsStatus) -> None:
        """The account's state is the worst of its sockets' (trading needs all of them), so one
        socket opening never hides another that is still reconnecting."""
        self._socket_states[status.name] = status
        if self.session.auth_error is not None:
            return  # the account stays AUTH_FAILED whatever its sockets do while they stop
        worst = max(self._socket_states.values(), key=lambda s: _SEVERITY.get(s.state, 0))
        if _SEVERITY.get(status.state, 0) == _SEVERITY.get(worst.state, 0):
            worst = status  # on a tie, name the socket that just changed
        state = WS_STATES.get(worst.state, ConnectionState.DISCONNECTED)
        self._emit(
            ConnectionEvent(
                self.account_id,
                state,
                attempt=worst.attempt,
                detail=f"{worst.name}: {worst.last_error or worst.reason or worst.state}",
                next_retry_s=worst.next_retry_s,
                ts_ms=self.session.server_now_ms(),
            )
        )
