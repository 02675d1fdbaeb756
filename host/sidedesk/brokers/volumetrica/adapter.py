"""`VolumetricaBroker`: futures on Volumetrica prop-firm accounts (protobuf over WebSocket).

What shapes it (brokers.md §2; the simulator models each point):
- A fresh REST token for every (re)connection (tokens are one-shot); login with account
  subscription ExistingAndNew; `InfoReq` modes 1-3 for the snapshot, which also subscribes.
- Quantities are signed on the wire (negative = sell) and whole contracts. Client ids are
  integers (`SeqClientId`), mapped from ours in `protocol/ids.py`; ASL ids survive a restart.
- Orders are keyed by `OrgServerId`; fills come from the change in `FilledQty` (`protocol/convert.py`).
- There is no native trailing stop, no reduce-only flag and no market data on the trading
  socket: ASL trails by moving a plain stop (`native_trailing_stop=False`); reduce-only orders
  are checked against the position and clipped to it here; the mark price is the one the server
  valued an open position at (its open P&L), and fills give the last price.
- `Source` is Automatic for ASL orders (client ids `sda-…`) and Manual for everything else.
- The server's protocol version is read at every login (`protocol/dialect.py`): v5 keeps quantities and
  client ids in int32, v5.1 in sint64, and the client translates every frame; client ids are
  narrowed to int32 for a v5 server; a version we do not know is not traded on.
- The user's other sessions (their main platform) are kept by default (`keep_other_sessions`,
  KeepConcurrentSessionOn), so orders and positions made there show up here, as they happen.
- Contract ids come from `SymbolLookup` (front months of `roots`) and `ContractReq`, cached for
  the adapter's life; a user map {feed symbol or symbol: contract id} (host setting
  `volumetrica_contracts`) pins or adds contracts.
- `LogMsg` texts reach the desk as `NoticeEvent`s (the panel's log).
- An order unanswered within `request_timeout_s` raises `unknown_outcome` and is never re-sent:
  order entry resolves it through `lookup`, which raises when it cannot ask (not logged in, the
  snapshot failed) rather than report "not found". The snapshot (InfoReq) lists only working
  orders, so an order that finished while unseen (a lost reply, then filled) is looked for in the
  current session's history (`AccountHistoricalSessionReq`, Orders; v5.1 only: v5 has no such
  request, and there only the updates already received can find it).
- A close of the whole position (`OrderRequest.closes_position`, at market) goes out as
  `CancelFlatReq` with FLAT_CANCEL for the link's account and that one contract: per the vendor's
  proto, "Cancel orders and flat positions", so the venue takes the position's stops down with
  the close and none outlives it (the host's cancel at flat stays the backstop). The request
  carries no client id of ours: its closing order (the next market order on the contract, of
  the closing side, that is not ours; told by its OrderInfo or found by `lookup` after a lost
  reply) takes the intent's client id. It also cancels the contract's other working orders (a
  resting entry or target: the README says so); a partial close stays a plain market order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sidedesk.brokers.common import WS_STATES, safe_emit
from sidedesk.brokers.volumetrica.config import VolumetricaConfig
from sidedesk.brokers.volumetrica.protocol import convert, errors, wire
from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk.brokers.volumetrica.protocol.convert import Contract, OrderTracker, Tracked
from sidedesk.brokers.volumetrica.protocol.dialect import V5
from sidedesk.brokers.volumetrica.protocol.ids import FOREIGN_PREFIX, ClientIds
from sidedesk.brokers.volumetrica.session import VolumetricaSession
from sidedesk.core.asl import ids as asl_ids
from sidedesk.domain import (
    AccountSnapshot,
    BalanceEvent,
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
    PositionEvent,
    QuoteEvent,
    Side,
    TimeInForce,
)
from sidedesk.net.ws import WsStatus

log = logging.getLogger(__name__)
ZERO = Decimal(0)
DEFAULT_ROOTS = ("ES", "MES", "NQ", "MNQ")

CAPABILITIES = Capabilities(
    native_trailing_stop=False,
    hedge_mode=False,
    reduce_only=False,
    modify_order=True,
    separate_conditional_orders=False,
    fractional_quantity=False,
    quantity_unit="contracts",
    snapshot_min_interval_s=5.0,  # a Volumetrica snapshot is a few info requests on the open socket
    close_cancels_orders=True,  # a whole close goes out as CancelFlatReq FLAT_CANCEL (see `place`)
)


def _mode(acc: pb.AccountHeaderMsg) -> str:
    """The account's mode as the trader knows it: "Evaluation", "Sim funded", "Funded", ..."""
    try:
        name = pb.AccountMode.Name(acc.mode)
    except ValueError:
        return ""
    return name.removeprefix("MODE_").replace("_", " ").capitalize()


def now_ms() -> int:
    return int(time.time() * 1000)


def source_for(client_id: str) -> int:
    return pb.SOURCE_AUTOMATIC if client_id.startswith(asl_ids.PREFIX) else pb.SOURCE_MANUAL


def _lookup_frame(rid: int, *, text: str) -> bytes:
    return wire.symbol_lookup(rid, text)


@dataclass(frozen=True, slots=True)
class _Flat:
    client_id: str  # the intent's
    after: int  # the highest OrgServerId known when the request left
    sign: int  # the closing side: +1 buys (closes a short), -1 sells


def _is_root_month(symbol: str, root: str) -> bool:
    """`ESZ26` is a contract of root `ES`; `ESTX50` or `MESZ26` is not."""
    rest = symbol[len(root) :]
    return symbol.startswith(root) and len(rest) >= 2 and rest[0].isalpha() and rest[1:].isdigit()


class VolumetricaBroker:
    broker = "volumetrica"
    capabilities = CAPABILITIES
    hedge_mode = False

    def __init__(
        self,
        account_id: str,
        config: VolumetricaConfig,
        sink: EventSink,
        *,
        roots: Iterable[str] = DEFAULT_ROOTS,
        account_number: int | None = None,
        ping_interval_s: float = 25.0,
        request_timeout_s: float = 10.0,
        client_ids: ClientIds | None = None,
    ) -> None:
        creds = config.credentials
        if not creds.platform_key or not creds.login or not creds.password:
            raise BrokerError("invalid", "a Volumetrica account needs its platform key, login and password")
        if config.environment == "simulator" and not config.auth_url:
            raise BrokerError("invalid", "the Volumetrica simulator account needs the simulator's URL")
        self.account_id = account_id
        self.environment = config.environment
        self._sink = sink
        self._user_map = {k.strip(): int(v) for k, v in config.contracts.items()}
        self._roots = tuple(r.upper() for r in roots)
        if account_number is None and config.account is not None:
            if not config.account.isdigit():
                raise BrokerError("invalid", f"a Volumetrica account is a number, not {config.account!r}")
            account_number = int(config.account)
        self._want_account = account_number
        self.acc_number = 0
        self._accounts: tuple[BrokerAccount, ...] = ()
        self.currency = "USD"
        self.ids = client_ids or ClientIds()
        self.tracker = OrderTracker(account_id)
        self._contracts: dict[int, Contract] = {}
        self._by_symbol: dict[str, Contract] = {}
        self._positions: dict[str, Decimal] = {}
        self._fill_ms: dict[str, int] = {}  # the latest fill time per symbol (dates a v5 position)
        self._acks: dict[int, asyncio.Future[OrderEvent]] = {}
        self._cancels: dict[int, asyncio.Future[OrderEvent]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._resolving: set[int] = set()
        # whole closes in flight (CancelFlatReq FLAT_CANCEL): contract id -> the close waiting
        # for its closing order, which takes the intent's client id (`_order_client_id`)
        self._flattening: dict[int, _Flat] = {}
        self._claimed: dict[int, str] = {}  # OrgServerId of a claimed closing order -> client id
        self._flat_acks: dict[str, asyncio.Future[OrderEvent]] = {}
        self._high_oid = 0  # the highest OrgServerId seen: a closing order comes after it
        self.request_timeout_s = request_timeout_s
        self.keep_other_sessions = config.keep_other_sessions
        self.session = VolumetricaSession(
            config.auth_url,
            creds,
            on_frame=self._on_frame,
            on_status=self._on_status,
            on_logged_in=self._on_logged_in,
            ping_interval_s=ping_interval_s,
            request_timeout_s=request_timeout_s,
            keep_concurrent=config.keep_other_sessions,
        )

    @property
    def wanted_account(self) -> int | None:
        """The account number this adapter was told to trade (None: the login's first)."""
        return self._want_account

    # -- lifecycle --------------------------------------------------------------------------------
    async def connect(self) -> None:
        self._emit(ConnectionEvent(self.account_id, ConnectionState.CONNECTING, ts_ms=now_ms()))
        try:
            await self.session.start()
            info = await self._info()
            self._choose_account(info)
            await self._load_contracts(info)
            self._absorb_snapshot(info)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.session.close()

    def instruments(self) -> dict[str, InstrumentRules]:
        return {s: convert.rules(c) for s, c in self._by_symbol.items()}

    def contracts(self) -> dict[str, Contract]:
        return dict(self._by_symbol)

    # -- snapshot and contracts -------------------------------------------------------------------
    async def _info(self) -> pb.InfoRespMsg:
        ans: pb.InfoRespMsg = await self.session.request("info", wire.info_request)
        return ans

    def accounts(self) -> tuple[BrokerAccount, ...]:
        return self._accounts

    def trading_account(self) -> BrokerAccount | None:
        return next((a for a in self._accounts if a.id == str(self.acc_number)), None)

    def _choose_account(self, info: pb.InfoRespMsg) -> None:
        """The account named by `account_number`, else the first one enabled for trading (the
        choice before accounts could be picked). Every account of the login is listed."""
        accounts = list(info.account_list)
        v5 = self.session.dialect is V5  # a v5 header has no Mode: its default would read "Evaluation"
        self._accounts = tuple(
            BrokerAccount(
                str(a.account_number), a.account_header or str(a.account_number), "" if v5 else _mode(a)
            )
            for a in accounts
            if not a.archived
        )
        if self._want_account is not None:
            match = [a for a in accounts if a.account_number == self._want_account]
        else:
            match = [a for a in accounts if a.is_trading_enabled and not a.archived] or accounts
        if not match:
            raise BrokerError(
                "invalid",
                "this Volumetrica login has no account to trade"
                + (f" numbered {self._want_account}" if self._want_account is not None else ""),
            )
        acc = match[0]
        self.acc_number = acc.account_number
        self.currency = acc.currency or "USD"
        if not acc.is_trading_enabled:
            log.warning("volumetrica account %s is not enabled for trading", acc.account_header)

    async def _contract(self, *, contract_id: int = 0, feed_symbol: str = "") -> Contract | None:
        ans: pb.ContractRespMsg = await self.session.request(
            "contract",
            lambda rid: wire.contract_request(rid, feed_symbol=feed_symbol, contract_id=contract_id),
        )
        c = convert.contract_from(ans)
        if c is not None:
            self._add_contract(c)
        return c

    def _add_contract(self, c: Contract) -> None:
        old = self._by_symbol.get(c.symbol)
        if old is not None and old.contract_id != c.contract_id and old.contract_id in self._user_pins():
            return  # the user's pin wins over a lookup
        self._contracts[c.contract_id] = c
        self._by_symbol[c.symbol] = c

    def _user_pins(self) -> set[int]:
        return set(self._user_map.values())

    async def _load_contracts(self, info: pb.InfoRespMsg) -> None:
        for key, cid in self._user_map.items():
            c = await self._contract(contract_id=cid)
            if c is None:
                c = await self._contract(feed_symbol=key) if key.startswith("/") else None
            if c is None:
                self._emit_log(f"contract {key} = {cid} is unknown to Volumetrica; fix it in Setup")
        for root in self._roots:
            if any(_is_root_month(s, root) for s in self._by_symbol):
                continue
            ans: pb.SymbolLookupRespMsg = await self.session.request(
                "lookup", functools.partial(_lookup_frame, text=root)
            )
            for s in ans.symbols:
                sym = convert.desk_symbol(s.symbol)
                usable = s.contract_id > 0 and not s.trading_inhibited and _is_root_month(sym, root)
                if usable and s.contract_id not in self._contracts:
                    await self._contract(contract_id=s.contract_id)
        wanted = {o.contract_id for o in info.order_list} | {p.contract_id for p in info.position_list}
        for cid in sorted(wanted - set(self._contracts)):
            if cid > 0:
                await self._contract(contract_id=cid)

    def _absorb_snapshot(self, info: pb.InfoRespMsg, started: int | None = None) -> AccountSnapshot:
        now = started if started is not None else now_ms()
        balances: list[BalanceEvent] = []
        for acc in info.account_list:
            if acc.account_number == self.acc_number and acc.HasField("balance"):
                balances.append(convert.balance_event(self.account_id, acc.balance, self.currency, now))
        positions: dict[str, PositionEvent] = {}
        for line in info.order_list:
            c = self._contracts.get(line.contract_id)
            if line.acc_number not in (0, self.acc_number) or c is None:
                continue
            if line.snap_type == pb.OrderInfoMsg.HIST_POS:
                positions.setdefault(c.symbol, convert.hist_pos_event(self.account_id, line, c, now))
        for p in info.position_list:  # the position list, where present, has P&L too
            c = self._contracts.get(p.contract_id)
            if p.acc_number in (0, self.acc_number) and c is not None:
                positions[c.symbol] = convert.position_event(self.account_id, p, c, now)
        live: set[int] = set()
        for line in info.order_list:
            c = self._contracts.get(line.contract_id)
            if line.snap_type == pb.OrderInfoMsg.HIST_POS or line.acc_number not in (0, self.acc_number):
                continue
            live.add(line.org_server_id)
            self.tracker.apply(line, c, self._order_client_id(line), now)
        for oid, t in list(self.tracker.orders.items()):
            if t.open and oid not in live:
                del self.tracker.orders[oid]  # finished while we were away; the positions say how
        self._positions = {s: p.quantity for s, p in positions.items()}
        open_orders = tuple(convert.tracked_event(self.account_id, t) for t in self.tracker.open_orders())
        for pe in positions.values():
            if pe.mark_price is not None:
                self._emit(QuoteEvent(pe.symbol, mark=pe.mark_price, ts_ms=now, account_id=self.account_id))
        return AccountSnapshot(
            self.account_id, tuple(balances), tuple(positions.values()), open_orders, ts_ms=now
        )

    async def snapshot(self) -> AccountSnapshot:
        started = now_ms()
        info = await self._info()
        missing = {o.contract_id for o in info.order_list} | {p.contract_id for p in info.position_list}
        for cid in sorted(missing - set(self._contracts)):
            if cid > 0:
                await self._contract(contract_id=cid)
        return self._absorb_snapshot(info, started)

    def _client_id(self, number: int, contract_id: int) -> str:
        c = self._contracts.get(contract_id)
        return self.ids.name(number, c.symbol if c is not None else "")

    def _order_client_id(self, info: pb.OrderInfoMsg) -> str:
        """The order's client id: ours by its number, or the intent's when it is the closing
        order of a whole close in flight (the module docstring says how it is told)."""
        oid = info.org_server_id
        self._high_oid = max(self._high_oid, oid)
        claimed = self._claimed.get(oid)
        if claimed is not None:
            return claimed
        name = self._client_id(info.org_client_id, info.contract_id)
        flat = self._flattening.get(info.contract_id)
        if flat is None or info.order_type != pb.ORDER_MARKET or oid <= flat.after:
            return name
        signed = info.pending_qty + info.filled_qty
        if not name.startswith(FOREIGN_PREFIX) or signed * flat.sign < 0:
            return name  # one of ours, or not of the closing side
        del self._flattening[info.contract_id]
        self._claimed[oid] = flat.client_id
        return flat.client_id

    # -- orders -----------------------------------------------------------------------------------
    def _contract_for(self, symbol: str) -> Contract:
        c = self._by_symbol.get(symbol)
        if c is None:
            raise BrokerError("invalid", f"{symbol} is not a Volumetrica contract known to this account")
        return c

    @staticmethod
    def _whole(qty: Decimal) -> int:
        if qty <= 0 or qty != qty.to_integral_value():
            raise BrokerError(
                "invalid", f"futures trade whole contracts: {qty} is not a positive whole number"
            )
        return int(qty)

    def _fit_reduce_only(self, order: OrderRequest) -> int:
        qty = self._whole(order.quantity)
        pos = self._positions.get(order.symbol, ZERO)
        if pos == 0 or (pos > 0) == (order.side is Side.BUY):
            raise BrokerError(
                "rejected", f"nothing to reduce: there is no {order.symbol} position this order closes"
            )
        return min(qty, int(abs(pos)))

    async def place(self, order: OrderRequest) -> OrderAck:
        c = self._contract_for(order.symbol)
        if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK, TimeInForce.GTX):
            raise BrokerError(
                "invalid", f"Volumetrica orders have no time in force {order.time_in_force.value}"
            )
        qty = self._fit_reduce_only(order) if order.reduce_only else self._whole(order.quantity)
        if order.closes_position and order.type is OrderType.MARKET:
            return await self._flatten(order, c)
        price = limit = None
        if order.type is OrderType.LIMIT:
            price = order.price
        elif order.type is OrderType.STOP_MARKET:
            price = order.stop_price
        elif order.type is OrderType.STOP_LIMIT:
            price, limit = order.stop_price, order.price
        elif order.type is not OrderType.MARKET:
            raise BrokerError(
                "invalid", f"Volumetrica has no {order.type.value} orders (no native trailing stop)"
            )
        if order.type is not OrderType.MARKET and (
            price is None or price <= 0 or (limit is not None and limit <= 0)
        ):
            raise BrokerError("invalid", f"a {order.type.value} order needs a positive price")
        if order.type is OrderType.STOP_LIMIT and limit is None:
            raise BrokerError("invalid", "a stop-limit order needs its limit price")
        number = self.ids.number(order.client_id, order.symbol)
        frame = wire.insert(
            contract_id=c.contract_id,
            seq_client_id=number,
            quantity=qty * order.side.sign,
            order_type=convert.WIRE_TYPES[order.type],
            acc_number=self.acc_number,
            source=source_for(order.client_id),
            price=price,
            limit_price=limit,
        )
        await self.session.wait_ready()
        fut: asyncio.Future[OrderEvent] = asyncio.get_running_loop().create_future()
        self._acks[number] = fut
        try:
            await self.session.send(frame)
            try:
                ev = await asyncio.wait_for(asyncio.shield(fut), self.request_timeout_s)
            except (TimeoutError, ConnectionError) as exc:
                # sent, unanswered: order entry looks it up by client id; never re-sent here
                raise BrokerError(
                    "unknown_outcome",
                    f"Volumetrica did not confirm order {order.client_id} in "
                    f"{self.request_timeout_s:g} s; checking whether it exists",
                ) from exc
        finally:
            self._acks.pop(number, None)
        if ev.status is OrderStatus.REJECTED:
            raise BrokerError(
                "rejected",
                f"Volumetrica refused the order: {ev.reject_reason or 'no reason given'}",
                "order_error",
                reason=errors.place_reason(order.type, ev.reject_reason),
            )
        return OrderAck(
            ev.order_id,
            ev.client_id,
            ev.status,
            ev.filled,
            ev.avg_price,
            ev.is_conditional,
            ev.update_time_ms,
        )

    async def _flatten(self, order: OrderRequest, c: Contract) -> OrderAck:
        """A whole close as CancelFlatReq FLAT_CANCEL on this account and contract (the module
        docstring says why). Sent once; an unanswered one is `unknown_outcome`, for `lookup`."""
        await self.session.wait_ready()
        self._flattening[c.contract_id] = _Flat(order.client_id, self._high_oid, order.side.sign)
        fut: asyncio.Future[OrderEvent] = asyncio.get_running_loop().create_future()
        self._flat_acks[order.client_id] = fut
        deadline = time.monotonic() + self.request_timeout_s
        try:
            try:
                ans: pb.CancelFlatRespMsg = await self.session.request(
                    "cancel_flat",
                    lambda rid: wire.cancel_flat(
                        request_id=rid,
                        acc_number=self.acc_number,
                        action=pb.CancelFlatReqMsg.FLAT_CANCEL,
                        source=source_for(order.client_id),
                        contract_ids=[c.contract_id],
                    ),
                )
            except BrokerError as exc:  # it may have left: never re-sent, looked up
                raise BrokerError(
                    "unknown_outcome",
                    f"Volumetrica did not confirm the close of {order.symbol} ({exc.message}); "
                    "checking whether it happened",
                ) from exc
            if ans.errors:
                self._flattening.pop(c.contract_id, None)
                raise BrokerError(
                    "rejected",
                    "Volumetrica could not close: " + "; ".join(e.error for e in ans.errors),
                    "order_error",
                )
            # v5.1 lists what it did (v5's answer has no Items): no position item, nothing to close
            closed = any(i.is_position and i.contract_id == c.contract_id for i in ans.items)
            if self.session.dialect is not V5 and not closed and not fut.done():
                self._flattening.pop(c.contract_id, None)
                raise BrokerError(
                    "rejected",
                    f"Volumetrica had no {order.symbol} position to close",
                    reason="order_not_found",
                )
            try:
                ev = await asyncio.wait_for(asyncio.shield(fut), max(0.0, deadline - time.monotonic()))
            except TimeoutError as exc:
                raise BrokerError(
                    "unknown_outcome",
                    f"Volumetrica closed {order.symbol} but did not show the closing order in "
                    f"{self.request_timeout_s:g} s; checking for it",
                ) from exc
        finally:
            self._flat_acks.pop(order.client_id, None)
        if ev.status is OrderStatus.REJECTED:
            raise BrokerError(
                "rejected",
                f"Volumetrica refused the close: {ev.reject_reason or 'no reason given'}",
                "order_error",
                reason=errors.place_reason(order.type, ev.reject_reason),
            )
        return OrderAck(
            ev.order_id,
            ev.client_id,
            ev.status,
            ev.filled,
            ev.avg_price,
            ev.is_conditional,
            ev.update_time_ms,
        )

    def _find(self, order_id: str | None, client_id: str | None) -> Tracked | None:
        if order_id is not None:
            with contextlib.suppress(ValueError):
                t = self.tracker.orders.get(int(order_id))
                if t is not None:
                    return t
        if client_id is not None:
            return self.tracker.by_client_id(client_id)
        return None

    async def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_id: str | None = None,
        conditional: bool = False,
    ) -> OrderAck:
        t = self._find(order_id, client_id)
        if t is None:
            raise BrokerError(
                "rejected",
                f"Volumetrica has no open order {order_id or client_id}",
                "unknown_order",
                reason="order_not_found",
            )
        if not t.open:  # finished already: say what it became
            ev = convert.tracked_event(self.account_id, t)
            return OrderAck(ev.order_id, ev.client_id, ev.status, ev.filled, ev.avg_price, ev.is_conditional)
        await self.session.wait_ready()
        fut: asyncio.Future[OrderEvent] = asyncio.get_running_loop().create_future()
        self._cancels[t.org_server_id] = fut
        try:
            await self.session.send(
                wire.remove(
                    org_server_id=t.org_server_id, acc_number=self.acc_number, source=source_for(t.client_id)
                )
            )
            ev = await asyncio.wait_for(asyncio.shield(fut), self.request_timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            raise BrokerError(
                "unknown_outcome", f"Volumetrica did not confirm the cancel of {t.client_id}"
            ) from exc
        finally:
            self._cancels.pop(t.org_server_id, None)
        if ev.status.is_open:
            raise BrokerError(
                "rejected",
                f"Volumetrica did not cancel {t.client_id}: {ev.reject_reason or 'still open'}",
                reason=errors.cancel_reason(ev.reject_reason),
            )
        return OrderAck(
            ev.order_id,
            ev.client_id,
            ev.status,
            ev.filled,
            ev.avg_price,
            ev.is_conditional,
            ev.update_time_ms,
        )

    async def modify(
        self, symbol: str, order_id: str, *, quantity: Decimal, price: Decimal, side: Side
    ) -> OrderAck:
        t = self._find(order_id, None)
        if t is None or not t.open:
            raise BrokerError("rejected", f"Volumetrica has no open order {order_id}", "unknown_order")
        if t.type is OrderType.MARKET:
            raise BrokerError("invalid", "a market order cannot be modified")
        qty = self._whole(quantity)
        seq = self.ids.fresh()
        frame = wire.modify(
            contract_id=t.contract_id,
            org_server_id=t.org_server_id,
            new_seq_client_id=seq,
            quantity=qty * side.sign,
            price=price,
            acc_number=self.acc_number,
            source=source_for(t.client_id),
            limit_price=t.price if t.type is OrderType.STOP_LIMIT else None,
        )
        await self.session.wait_ready()
        fut: asyncio.Future[OrderEvent] = asyncio.get_running_loop().create_future()
        self._acks[seq] = fut
        try:
            await self.session.send(frame)
            ev = await asyncio.wait_for(asyncio.shield(fut), self.request_timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            raise BrokerError(
                "unknown_outcome", f"Volumetrica did not confirm the change of {t.client_id}"
            ) from exc
        finally:
            self._acks.pop(seq, None)
        if ev.reject_reason and ev.status.is_open:
            raise BrokerError(
                "rejected", f"Volumetrica refused the change: {ev.reject_reason}", "modify_error"
            )
        return OrderAck(
            ev.order_id,
            ev.client_id,
            ev.status,
            ev.filled,
            ev.avg_price,
            ev.is_conditional,
            ev.update_time_ms,
        )

    async def cancel_all(self, symbol: str | None = None) -> int:
        ids = [] if symbol is None else [self._contract_for(symbol).contract_id]
        ans: pb.CancelFlatRespMsg = await self.session.request(
            "cancel_flat",
            lambda rid: wire.cancel_flat(
                request_id=rid,
                acc_number=self.acc_number,
                action=pb.CancelFlatReqMsg.CANCEL,
                source=pb.SOURCE_MANUAL,
                contract_ids=ids,
            ),
        )
        if ans.errors:
            raise BrokerError(
                "rejected", "Volumetrica could not cancel: " + "; ".join(e.error for e in ans.errors)
            )
        return sum(1 for i in ans.items if not i.is_position)

    async def lookup(self, symbol: str, client_id: str, *, conditional: bool = False) -> OrderEvent | None:
        """The order with this client id: tracked from its updates, listed by a fresh snapshot
        (working orders), or, on v5.1, found in the session's history (finished orders: one that
        filled while its reply was lost). None only when Volumetrica was asked and lists none; a
        lookup that cannot ask raises, so it is tried again, never taken for "not found". One
        list holds orders and stops; a stop comes back conditional. A whole close's closing
        order is claimed for the intent wherever it is found."""
        t = self.tracker.by_client_id(client_id)
        if t is None:
            if not self.session.ready.is_set():
                raise BrokerError(
                    "not_connected", f"not logged in to Volumetrica: cannot look up order {client_id} yet"
                )
            await self.snapshot()  # raises BrokerError if Volumetrica does not answer
            t = self.tracker.by_client_id(client_id)
        if t is None and self.session.dialect is not V5:
            await self._history()
            t = self.tracker.by_client_id(client_id)
        if t is None:  # a close that never happened claims nothing later
            for cid, flat in list(self._flattening.items()):
                if flat.client_id == client_id:
                    del self._flattening[cid]
            return None
        return convert.tracked_event(self.account_id, t)

    async def _history(self) -> None:
        """The account's orders of the current session (AccountHistoricalSessionReq, Orders),
        into the tracker. Their fills are in the positions already: none is emitted."""
        ans: pb.AccountHistoricalSessionRespMsg = await self.session.request(
            "history", lambda rid: wire.history_request(rid, [self.acc_number])
        )
        now = now_ms()
        for line in ans.orders:
            if line.acc_number not in (0, self.acc_number) or line.snap_type == pb.OrderInfoMsg.HIST_POS:
                continue
            if line.contract_id not in self._contracts and line.contract_id > 0:
                await self._contract(contract_id=line.contract_id)
            if line.org_server_id in self.tracker.orders:
                continue  # known from its updates, which are newer than a cache
            line = pb.OrderInfoMsg.FromString(line.SerializeToString())
            line.snap_type = pb.OrderInfoMsg.HISTORICAL  # read as a snapshot line: no fill
            self.tracker.apply(line, self._contracts.get(line.contract_id), self._order_client_id(line), now)

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        raise BrokerError(
            "invalid", "Volumetrica accounts have no per-symbol leverage: margin is set by the firm"
        )

    async def subscribe_quotes(self, symbols: list[str]) -> None:
        # The trading socket has no market data (dxFeed is a separate service): marks come from
        # the server's valuation of open positions and last prices from fills.
        return None

    # -- events -----------------------------------------------------------------------------------
    def _emit(self, ev: BrokerEvent) -> None:
        safe_emit(self._sink, ev)

    def _emit_log(self, text: str) -> None:
        self._emit(NoticeEvent(self.account_id, f"Volumetrica: {text}", ts_ms=now_ms()))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _mine(self, acc_number: int) -> bool:
        return acc_number in (0, self.acc_number)

    def _on_frame(self, msg: pb.ServerResponseMsg) -> None:
        now = now_ms()
        if msg.HasField("log_msg") and self._mine(msg.log_msg.acc_number):
            self._emit_log(msg.log_msg.msg)
        for bal in msg.balance_info:
            if bal.acc_number == self.acc_number:
                self._emit(convert.balance_event(self.account_id, bal, self.currency, now))
        for info in msg.order_info:
            if self._mine(info.acc_number) and info.snap_type != pb.OrderInfoMsg.HIST_POS:
                self._on_order(info, now)
        for pos in msg.position_info:
            if self._mine(pos.acc_number):
                self._on_position(pos, now)
        if msg.HasField("logged_off"):
            self._emit(
                ConnectionEvent(
                    self.account_id,
                    ConnectionState.RECONNECTING,
                    detail=f"logged off by Volumetrica: {msg.logged_off.reason}",
                    ts_ms=now,
                )
            )

    def _on_order(self, info: pb.OrderInfoMsg, now: int) -> None:
        c = self._contracts.get(info.contract_id)
        if c is None and info.contract_id > 0:
            self._later(info.contract_id, lambda: self._on_order(info, now_ms()))
            return
        ev, fill = self.tracker.apply(info, c, self._order_client_id(info), now)
        if ev is None:
            return
        self._emit(ev)
        if fill is not None:
            self._fill_ms[fill.symbol] = max(self._fill_ms.get(fill.symbol, 0), fill.ts_ms)
            self._emit(fill)
            self._positions[fill.symbol] = (
                self._positions.get(fill.symbol, ZERO) + fill.quantity * fill.side.sign
            )
            self._emit(QuoteEvent(fill.symbol, last=fill.price, ts_ms=fill.ts_ms, account_id=self.account_id))
        for key in (info.org_client_id, info.seq_client_id):
            fut = self._acks.get(key)
            if fut is not None and not fut.done():
                fut.set_result(ev)
        flat = self._flat_acks.get(ev.client_id)
        if flat is not None and not flat.done():
            flat.set_result(ev)
        fut = self._cancels.get(info.org_server_id)
        if fut is not None and not fut.done() and (not ev.status.is_open or ev.reject_reason):
            fut.set_result(ev)
        self.tracker.forget_closed()
        for oid in [o for o in self._claimed if o not in self.tracker.orders]:
            del self._claimed[oid]  # forgotten with its order

    def _on_position(self, info: pb.PositionInfoMsg, now: int) -> None:
        c = self._contracts.get(info.contract_id)
        if c is None:
            if info.contract_id > 0:
                self._later(info.contract_id, lambda: self._on_position(info, now_ms()))
            return
        ev = convert.position_event(self.account_id, info, c, now)
        if not info.utc:  # dated by its arrival (v5): it holds every fill that arrived before it
            ev = replace(ev, ts_ms=max(ev.ts_ms, self._fill_ms.get(c.symbol, 0)))
        self._positions[c.symbol] = ev.quantity
        self._emit(ev)
        if ev.mark_price is not None:
            self._emit(QuoteEvent(c.symbol, mark=ev.mark_price, ts_ms=now, account_id=self.account_id))

    def _later(self, contract_id: int, then: Any) -> None:
        """An update for a contract we have not met: look it up, then handle the update."""

        async def go() -> None:
            try:
                if contract_id not in self._contracts:
                    await self._contract(contract_id=contract_id)
            except BrokerError as exc:
                log.warning("volumetrica contract %s lookup failed: %s", contract_id, exc.message)
            finally:
                self._resolving.discard(contract_id)
            if contract_id in self._contracts:
                then()
            else:
                log.warning("volumetrica update for unknown contract %s dropped", contract_id)

        self._resolving.add(contract_id)
        self._spawn(go())

    def _on_logged_in(self) -> None:
        spoken = self.session.dialect
        self.ids.set_narrow(spoken is V5)  # v5 keeps client ids in an int32
        if spoken is V5 and self.keep_other_sessions:
            text = (
                "Volumetrica: this server speaks protocol v5, which cannot keep other sessions open: "
                "any other platform logged in with this user has been logged off"
            )
            self._emit(NoticeEvent(self.account_id, text, level="warning", ts_ms=now_ms()))
        st = self.session.ws.status
        self._emit(
            ConnectionEvent(
                self.account_id,
                ConnectionState.CONNECTED,
                attempt=st.attempt,
                detail="volumetrica: logged in",
                ts_ms=now_ms(),
            )
        )

    def _on_status(self, status: WsStatus) -> None:
        state = WS_STATES.get(status.state, ConnectionState.DISCONNECTED)
        if state is ConnectionState.CONNECTED and not self.session.ready.is_set():
            return  # the socket is open; "connected" is reported once the login succeeds
        refusal = self.session.refusal
        if refusal is not None:  # our refusal of the server's protocol, not a refused key
            if status.state == "auth_failed":
                self._emit(
                    ConnectionEvent(
                        self.account_id, ConnectionState.DISCONNECTED, detail=refusal, ts_ms=now_ms()
                    )
                )
            return
        self._emit(
            ConnectionEvent(
                self.account_id,
                state,
                attempt=status.attempt,
                detail=f"{status.name}: {status.last_error or status.reason or status.state}",
                next_retry_s=status.next_retry_s,
                ts_ms=now_ms(),
            )
        )


__all__ = ["CAPABILITIES", "VolumetricaBroker"]
