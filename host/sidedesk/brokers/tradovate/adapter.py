"""`TradovateBroker`: the `Broker` protocol for Tradovate futures (brokers.md §1).

Quantities are whole contracts; P&L is in US dollars through each product's `valuePerPoint`
(`InstrumentRules.contract_multiplier`). Tradovate has no reduce-only flag and no hedge mode:
`reduce_only` is not sent (a stop sized to the position closes it). ASL trails in software
(`native_trailing_stop` false): it moves a plain stop order, which Tradovate supports exactly,
while a native TrailingStop trails by a fixed distance in points whose sign and reference price
the public docs leave open. Native trailing stops can still be placed (`TRAILING_STOP_MARKET`
with `callback_rate_pct`, converted to points at the current price).

The contract traded per product root is its front month (protocol/contracts.py: the nearest expiry, from
`contractMaturity/item` or the CME rule, rolled at expiry or `roll_days` before it); the ticket
shows it with its expiry (`contract_details`). Contracts still held after a roll keep their rules.

A login holds one or more accounts (`user/syncrequest` lists them; `accounts()` reports them all).
The account traded is the one `account_spec` names (its id or its name, the accountSpec); a
login without it trades its first account (lowest id), the choice made before accounts could be
picked. Every order carries the traded account's `accountId` and `accountSpec`; the store keeps
only that account's entities (`Store.mine`), so other accounts of the login never leak in. A named
account the login does not hold refuses the connection (never a fallback to another account).
A lost reply raises `unknown_outcome` and is never re-sent: order entry resolves it through
`lookup` (by client id: the order version's `text`). Stop and trailing orders are conditional
orders (`is_conditional`), as on every other broker, so the books key them alike.

A close of the whole position (`OrderRequest.closes_position`) goes out as
`order/liquidateposition`, which per Tradovate's docs cancels the contract's working orders and
closes the position (https://partner.tradovate.com/api/rest-api-endpoints/orders/liquidate-position):
the venue itself takes the position's stops down with the close, so none outlives it; the
host's cancel at flat stays as the backstop. The liquidation carries no client id of ours, so
its closing order (the next market order on the contract that is not ours, whether it is told
before the reply or found by `lookup` after a lost one) takes the intent's client id (`Store`). The route also
cancels the contract's other working orders (a resting entry or target: the README says so); a
partial close stays a plain market order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sidedesk.brokers.common import WS_STATES, safe_emit
from sidedesk.brokers.tradovate.config import Endpoints, TradovateConfig
from sidedesk.brokers.tradovate.protocol import contracts as ct
from sidedesk.brokers.tradovate.protocol import frames as proto
from sidedesk.brokers.tradovate.protocol import messages as msg
from sidedesk.brokers.tradovate.protocol.state import Store, product_info, rules_for
from sidedesk.brokers.tradovate.session import TradovateSession, wall_ms
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
    NoticeEvent,
    OrderAck,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from sidedesk.domain.errors import Reason
from sidedesk.net.backoff import Backoff
from sidedesk.net.ws import WsStatus

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    native_trailing_stop=False,
    hedge_mode=False,
    reduce_only=False,
    modify_order=True,
    separate_conditional_orders=False,
    fractional_quantity=False,
    quantity_unit="contracts",
    # Tradovate's request limits are per hour and penalise bursts: one snapshot per 10 s at most
    snapshot_min_interval_s=10.0,
    close_cancels_orders=True,  # a whole close goes out as liquidatePosition (see `place`)
)
DEFAULT_ROOTS = ("ES", "MES", "NQ", "MNQ")


class TradovateBroker:
    broker = "tradovate"
    capabilities = CAPABILITIES
    hedge_mode = False

    def __init__(
        self,
        account_id: str,
        config: TradovateConfig,
        sink: EventSink,
        *,
        roots: tuple[str, ...] = DEFAULT_ROOTS,
        account_spec: str | None = None,
        request_timeout_s: float = 10.0,
        reconnect_wait_s: float = 5.0,
        heartbeat_s: float = 2.5,
        stale_after_s: float | None = 10.0,
        renew_lead_s: float = 600.0,
        max_penalty_wait_s: float = 60.0,
        backoff: Backoff | None = None,
        roll_days: int = 0,
        fast_attempts: int = 8,
        slow_retry_s: float = 300.0,
        clock: Callable[[], int] = wall_ms,
    ) -> None:
        credentials = config.credentials
        if not credentials.name or not credentials.password or not credentials.sec:
            raise BrokerError(
                "invalid", "a Tradovate account needs a username, a password and the API secret"
            )
        self.account_id = account_id
        self.environment = config.environment
        self.endpoints: Endpoints = config.endpoints
        self.roots = roots
        self.account_spec = account_spec if account_spec is not None else config.account
        self._sink = sink
        self._rules: dict[str, InstrumentRules] = {}
        self.roll_days = roll_days  # roll this many days before expiry (0: at expiry)
        self._clock = clock  # epoch ms: the token's and the contracts' calendar
        self.fronts: dict[str, ct.Choice] = {}  # root -> the contract traded
        self._slow_told: set[str] = set()  # sockets whose slow retry the trader was told about
        self.store = Store(account_id)
        self.tv_account_name = ""
        self._accounts: tuple[BrokerAccount, ...] = ()
        self._missing_account: str | None = None  # the named account, when the login lacks it
        self.session = TradovateSession(
            self.endpoints,
            credentials,
            on_props=self._on_props,
            on_quotes=self._on_quotes,
            on_sync=self._on_sync,
            on_status=self._on_status,
            request_timeout_s=request_timeout_s,
            reconnect_wait_s=reconnect_wait_s,
            heartbeat_s=heartbeat_s,
            stale_after_s=stale_after_s,
            renew_lead_s=renew_lead_s,
            max_penalty_wait_s=max_penalty_wait_s,
            backoff=backoff,
            now=clock,
            fast_attempts=fast_attempts,
            slow_retry_s=slow_retry_s,
        )

    # -- lifecycle --------------------------------------------------------------------------------
    async def connect(self) -> None:
        self._emit(ConnectionEvent(self.account_id, ConnectionState.CONNECTING, ts_ms=wall_ms()))
        try:
            await self.session.ensure_token()
            await self._load_instruments()
            await self.session.start()
            if self._missing_account is not None:
                held = ", ".join(a.name for a in self._accounts) or "none"
                raise BrokerError(
                    "invalid",
                    f"this Tradovate login has no account {self._missing_account} (it holds: {held}); "
                    "pick one of its accounts in Setup",
                )
        except BrokerError:
            await self.session.close()
            raise

    def accounts(self) -> tuple[BrokerAccount, ...]:
        return self._accounts

    def trading_account(self) -> BrokerAccount | None:
        tv = self.store.tv_account
        return next((a for a in self._accounts if a.id == str(tv)), None) if tv else None

    async def close(self) -> None:
        await self.session.close()

    def instruments(self) -> dict[str, InstrumentRules]:
        """The front months, plus any other contract of a known product still held (a position
        opened before a roll must stay closable and protected)."""
        rules = dict(self._rules)
        for cid, pos in self.store.positions.items():
            name = self.store.symbol(cid)
            product = self.store.product_of(name) if name else None
            if name and product is not None and name not in rules and pos.get("netPos"):
                rules[name] = rules_for(name, product)
        return rules

    def contract_details(self) -> dict[str, tuple[str, str]]:
        """symbol -> (contract, last trading day), e.g. MESZ6 -> ("MESZ6", "2026-12-18"), for the
        ticket. Contracts held besides the front months get the CME rule's date."""
        out = {ch.name: (ch.name, ch.expires) for ch in self.fronts.values()}
        for name in self.instruments():
            if name not in out:
                root = name[:-2]
                exp = ct.expiry_of(ct.Candidate(0, name), root, self._clock())
                if exp is not None:
                    out[name] = (name, ct.expiry_date(exp[0]))
        return out

    async def _load_instruments(self) -> None:
        """Each product root's front month (protocol/contracts.py: `contract/suggest`, each candidate's
        expiry from `contractMaturity/item` or the CME rule, the roll rule) and its product's tick
        size and value per point (`product/find`)."""
        now = self._clock()
        for root in self.roots:
            hits = await self.session.get("/contract/suggest", {"t": root, "l": "10"})
            listed = [await self._maturity(c) for c in ct.candidates(root, hits)]
            product = await self.session.get("/product/find", {"name": root})
            p = product_info(product) if isinstance(product, dict) else None
            choice = ct.choose_front(root, listed, now, self.roll_days)
            if choice is None or p is None:
                names = ", ".join(c.name for c in listed) or "none listed"
                log.warning("Tradovate: no tradable %s contract (listed: %s)", root, names)
                continue
            for c in listed:  # every listed contract, so events on any of them are named
                self.store.contracts[c.contract_id] = c.name
            self.store.products[p.name] = p
            self._rules[choice.name] = rules_for(choice.name, p)
            self.fronts[root] = choice
            log.info(
                "Tradovate %s: trading %s, last trading day %s (expiry from the %s; roll %d days before)",
                root,
                choice.name,
                choice.expires,
                choice.source,
                self.roll_days,
            )

    async def _maturity(self, c: ct.Candidate) -> ct.Candidate:
        """`c` with its `contractMaturity/item` (expirationDate, isFront) when Tradovate answers;
        unchanged otherwise (the CME rule then dates it)."""
        if c.maturity_id is None:
            return c
        try:
            item = await self.session.get("/contractMaturity/item", {"id": str(c.maturity_id)})
        except BrokerError as exc:
            if exc.code == "rate_limited":
                raise
            log.info("Tradovate contractMaturity %s unavailable (%s); dating %s by the CME rule",
                     c.maturity_id, exc.message, c.name)  # fmt: skip
            return c
        return ct.with_maturity(c, item)

    # -- orders -----------------------------------------------------------------------------------
    def _account(self) -> tuple[int, str]:
        if not self.store.tv_account:
            raise BrokerError("not_connected", "the Tradovate account is not known yet (no sync)")
        return self.store.tv_account, self.tv_account_name

    def _peg(self, order: OrderRequest) -> Decimal | None:
        if order.type is not OrderType.TRAILING_STOP_MARKET:
            return None
        rules = self._rules.get(order.symbol)
        cid = self.store.contract_id(order.symbol)
        ref = order.activation_price or (self.store.last.get(cid) if cid is not None else None)
        if rules is None or ref is None or order.callback_rate_pct is None:
            raise BrokerError("invalid", "a trailing stop needs a callback rate and a current price")
        ticks = (ref * order.callback_rate_pct / 100 / rules.tick_size).to_integral_value(ROUND_HALF_UP)
        return max(Decimal(1), ticks) * rules.tick_size

    async def place(self, order: OrderRequest) -> OrderAck:
        account_id, spec = self._account()
        if order.closes_position and order.type is OrderType.MARKET:
            return await self._liquidate(order, account_id)
        try:
            body = msg.order_body(order, account_id, spec, peg=self._peg(order))
        except msg.RequestError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        return await self._send_order("order/placeorder", body, order)

    async def _send_order(self, endpoint: str, body: dict[str, Any], order: OrderRequest) -> OrderAck:
        # a lost reply raises the session's unknown_outcome as is: order entry looks it up
        data = await self.session.request(endpoint, body, mutates=True)
        return self._order_ack(data, order)

    def _order_ack(self, data: Any, order: OrderRequest) -> OrderAck:
        failure = proto.failure_of(data)
        if failure is not None:
            raise BrokerError(
                "rejected",
                f"Tradovate refused the order: {failure.text}",
                failure.reason,
                reason=self._place_reason(failure, order),
            )
        oid = data.get("orderId") if isinstance(data, dict) else None
        if isinstance(oid, bool) or not isinstance(oid, int):
            raise BrokerError("unknown_outcome", "Tradovate's answer to the order had no orderId; checking")
        self.store.client_ids[oid] = order.client_id
        cond = order.type.is_conditional
        ev = self.store.order_event(oid)
        if ev is not None:
            return OrderAck(
                ev.order_id, order.client_id, ev.status, ev.filled, ev.avg_price, cond, ev.update_time_ms
            )
        return OrderAck(
            str(oid), order.client_id, OrderStatus.NEW, is_conditional=cond, update_time_ms=wall_ms()
        )

    def _place_reason(self, failure: proto.Failure, order: OrderRequest) -> Reason | None:
        """`InvalidPrice` on a stop whose trigger the last trade has already crossed: the stop
        would trigger at once. Tradovate says InvalidPrice for off-tick prices too, so the reason
        is given only when the price we know confirms it (never a guess that closes a position)."""
        if failure.reason != "InvalidPrice" or order.stop_price is None:
            return None
        if order.type not in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            return None
        cid = self.store.contract_id(order.symbol)
        last = self.store.last.get(cid) if cid is not None else None
        if last is None:
            return None
        crossed = order.stop_price >= last if order.side is Side.SELL else order.stop_price <= last
        return "would_trigger" if crossed else None

    def _known(self, order_id: str | None, client_id: str | None) -> OrderEvent | None:
        if order_id is not None and order_id.isdigit():
            return self.store.order_event(int(order_id))
        if client_id:
            return self.store.find_client_id(client_id)
        return None

    async def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_id: str | None = None,
        conditional: bool = False,
    ) -> OrderAck:
        known = self._known(order_id, client_id)
        if order_id is None and known is not None:
            order_id = known.order_id
        if order_id is None or not order_id.isdigit():
            raise BrokerError("invalid", "cancel needs the Tradovate order id (or a known client id)")
        data = await self.session.request(
            "order/cancelorder", msg.cancel_body(int(order_id), client_id or ""), mutates=True
        )
        failure = proto.failure_of(data)
        if failure is not None:
            known = self.store.order_event(int(order_id))
            if known is not None and known.status.is_final:
                return OrderAck(known.order_id, known.client_id, known.status, known.filled, known.avg_price,
                                known.is_conditional)  # fmt: skip
            # TooLate: "the order is no longer working" (filled or cancelled): nothing to cancel
            gone: Reason | None = "order_not_found" if failure.reason == "TooLate" else None
            raise BrokerError(
                "rejected", f"Tradovate refused the cancel: {failure.text}", failure.reason, reason=gone
            )
        return OrderAck(
            order_id,
            client_id or (known.client_id if known else ""),
            OrderStatus.CANCELED,
            update_time_ms=wall_ms(),
        )

    async def modify(
        self, symbol: str, order_id: str, *, quantity: Decimal, price: Decimal, side: Side
    ) -> OrderAck:
        """Limit orders get a new price; stop orders a new stop price (`price` is the trigger)."""
        if not order_id.isdigit():
            raise BrokerError("invalid", "modify needs the Tradovate order id")
        known = self.store.order_event(int(order_id))
        otype = known.type if known is not None else OrderType.LIMIT
        try:
            if otype is OrderType.STOP_MARKET:
                body = msg.modify_body(
                    int(order_id), quantity, otype, stop=price, client_id=known.client_id if known else ""
                )
            else:
                body = msg.modify_body(
                    int(order_id),
                    quantity,
                    otype,
                    price=price,
                    stop=known.stop_price if known else None,
                    client_id=known.client_id if known else "",
                )
        except msg.RequestError as exc:
            raise BrokerError("invalid", str(exc)) from exc
        data = await self.session.request("order/modifyorder", body, mutates=True)
        failure = proto.failure_of(data)
        if failure is not None:
            raise BrokerError("rejected", f"Tradovate refused the change: {failure.text}", failure.reason)
        return OrderAck(order_id, known.client_id if known else "", OrderStatus.NEW, update_time_ms=wall_ms())

    async def cancel_all(self, symbol: str | None = None) -> int:
        count = 0
        for ev in self.store.open_orders():
            if symbol is not None and ev.symbol != symbol:
                continue
            try:
                await self.cancel(ev.symbol, order_id=ev.order_id, client_id=ev.client_id)
                count += 1
            except BrokerError as exc:
                if exc.code != "rejected":
                    raise
        return count

    async def _liquidate(self, order: OrderRequest, account_id: int) -> OrderAck:
        """A whole close as `order/liquidateposition` (the module docstring says why)."""
        cid = self.store.contract_id(order.symbol)
        if cid is None:
            raise BrokerError("invalid", f"unknown Tradovate contract {order.symbol}")
        body = msg.liquidate_body(account_id, cid, automated=msg.is_automated(order.client_id))
        # its closing order may be reported before the reply, or found only by `lookup`
        self.store.liquidating[cid] = (order.client_id, max(self.store.orders, default=0))
        data = await self.session.request("order/liquidateposition", body, mutates=True)
        if isinstance(data, dict) and data.get("orderId") is None and proto.failure_of(data) is None:
            # accepted with no closing order: nothing was open on the contract (its orders are
            # cancelled all the same)
            self.store.liquidating.pop(cid, None)
            raise BrokerError(
                "rejected", f"Tradovate had no {order.symbol} position to close", reason="order_not_found"
            )
        self.store.liquidating.pop(cid, None)  # answered: the reply names the closing order
        return self._order_ack(data, order)

    async def lookup(self, symbol: str, client_id: str, *, conditional: bool = False) -> OrderEvent | None:
        """The order with this client id, from what the account's events told us or else from the
        list endpoints (their failure raises: it says nothing about the order). Orders and stops
        share one id space at Tradovate, so the client id alone finds either; a stop comes back
        conditional (`is_conditional`, from its type), the key the books hold it under."""
        found = self.store.find_client_id(client_id)
        if found is not None:
            return found
        await self._refresh()  # a liquidation's closing order is claimed as it loads
        return self.store.find_client_id(client_id)

    async def _refresh(self) -> None:
        """Reload orders, versions, reports, positions and cash from the list endpoints."""
        parts: dict[str, Any] = {}
        for array, endpoint in (
            ("orders", "order/list"),
            ("orderVersions", "orderVersion/list"),
            ("executionReports", "executionReport/list"),
            ("positions", "position/list"),
            ("cashBalances", "cashBalance/list"),
        ):
            parts[array] = await self.session.request(endpoint)
        self.store.load(parts)

    async def snapshot(self) -> AccountSnapshot:
        started = wall_ms()
        await self._refresh()
        return self.store.snapshot(started)

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        """Futures margins are set by the exchange and the broker's risk settings: nothing to send."""

    async def subscribe_quotes(self, symbols: list[str]) -> None:
        unknown = [s for s in symbols if s not in self._rules]
        if unknown:
            raise BrokerError("invalid", f"unknown Tradovate contract(s): {', '.join(unknown)}")
        await self.session.subscribe_quotes(symbols)

    # -- events -----------------------------------------------------------------------------------
    def _emit(self, ev: BrokerEvent) -> None:
        safe_emit(self._sink, ev)

    def _on_sync(self, data: dict[str, Any]) -> None:
        accounts = [
            a for a in data.get("accounts", []) if isinstance(a, dict) and isinstance(a.get("id"), int)
        ]
        accounts.sort(key=lambda a: a["id"])
        # the `account` entity's name is the accountSpec prop firms print (e.g. APEX-1234-01);
        # a nickname, where the trader gave one, is shown beside it
        self._accounts = tuple(
            BrokerAccount(str(a["id"]), str(a.get("name") or a["id"]), str(a.get("nickname") or ""))
            for a in accounts
        )
        spec = self.account_spec
        chosen = (
            next((a for a in accounts if spec in (str(a["id"]), a.get("name"))), None)
            if spec
            else (accounts[0] if accounts else None)
        )
        self._missing_account = spec if spec and chosen is None else None
        if chosen is None:
            log.error("Tradovate sync lists no account%s", f" named {spec}" if spec else "")
            self.store.tv_account = 0
            return
        self.store.tv_account = chosen["id"]
        self.tv_account_name = str(chosen.get("name", ""))
        self.store.load(data)
        for ev in self.store.replay():
            self._emit(ev)

    def _on_props(self, changes: list[proto.PropsChange]) -> None:
        for change in changes:
            for ev in self.store.apply(change):
                self._emit(ev)

    def _on_quotes(self, quotes: list[proto.QuoteUpdate]) -> None:
        for q in quotes:
            ev = self.store.on_quote(q)
            if ev is not None:
                self._emit(ev)

    def _on_status(self, status: WsStatus) -> None:
        state = WS_STATES.get(status.state, ConnectionState.DISCONNECTED)
        if status.state == "connected":
            self._slow_told.discard(status.name)
        elif status.slow and status.name not in self._slow_told:
            # once per outage and socket: the panel's log and the host log (the status line
            # keeps showing it on every attempt)
            self._slow_told.add(status.name)
            self._emit(
                NoticeEvent(
                    self.account_id,
                    f"Tradovate ({status.name}): {status.attempt} connection attempts failed in a "
                    f"row: {status.last_error or status.reason or 'no answer; retrying slowly'}",
                    "warning",
                    wall_ms(),
                )
            )
        self._emit(
            ConnectionEvent(
                self.account_id,
                state,
                attempt=status.attempt,
                detail=f"{status.name}: {status.last_error or status.reason or status.state}",
                next_retry_s=status.next_retry_s,
                ts_ms=wall_ms(),
            )
        )
