"""The Volumetrica view of the shared engine (no sockets): orders by OrgServerId with signed
quantities, OrderInfo/PositionInfo/BalanceInfo messages, brackets, flatten/cancel.

Every mutating call returns `Push`es: (account number, ServerResponseMsg) to send to that
account's subscribed sessions. Engine rejections become `OrderInfo{OrderState: Error, Reason}`;
a failed modify becomes `ErrorModify` with the order unchanged (brokers.md §2.4).
"""

from __future__ import annotations

import itertools
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk_sim.engine import (
    AccountUpdate,
    AlgoStatus,
    AlgoUpdate,
    Engine,
    EngineEvent,
    ExecType,
    OrderSpec,
    OrderType,
    OrderUpdate,
    Side,
)
from sidedesk_sim.volumetrica.instruments import SimContract

ZERO = Decimal(0)
Push = tuple[int, pb.ServerResponseMsg]
_SOURCES = {pb.SOURCE_MANUAL: "Manual", pb.SOURCE_AUTOMATIC: "Automatic", pb.SOURCE_COPY: "Copy"}


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


@dataclass
class Leg:
    bracket_id: int
    is_target: bool
    quantity: int  # absolute
    mode: int
    ticks: int
    price: float
    state: int = pb.BracketInfoMsg.PENDING
    child: int = 0  # the OrgServerId of the order it became


@dataclass
class VolOrder:
    org_server_id: int
    acc: int
    contract: SimContract
    org_client_id: int
    seq_client_id: int
    seq_server_id: int
    quantity: int  # signed
    order_type: int
    price: float
    limit_price: float
    source: str
    insert_ms: int
    state: int = pb.OrderInfoMsg.SUBMITTED
    filled: int = 0  # signed, cumulative
    last_price: float = 0.0
    exec_ms: int = 0
    reason: str = ""
    engine_id: int | None = None
    algo_id: int | None = None
    legs: list[Leg] = field(default_factory=list)
    static_brackets: bool = False
    oco_group: int = 0
    oco_parent: int = 0
    # what cancelled it: the request ("OrderRemove", "CancelFlatReq FLAT_CANCEL", "CancelFlatReq
    # CANCEL") or the venue's own link ("oco": a sibling bracket leg filled). Not on the wire:
    # the simulator's record for tests, like the Tradovate simulator's
    canceled_by: str | None = None

    @property
    def pending(self) -> int:
        return self.quantity - self.filled if self.state == pb.OrderInfoMsg.SUBMITTED else 0

    @property
    def open(self) -> bool:
        return self.state == pb.OrderInfoMsg.SUBMITTED and self.pending != 0

    def info(self, snap: int = pb.OrderInfoMsg.REAL_TIME, now_ms: int = 0) -> pb.OrderInfoMsg:
        m = pb.OrderInfoMsg(
            contract_id=self.contract.contract_id,
            org_server_id=self.org_server_id,
            org_client_id=self.org_client_id,
            seq_server_id=self.seq_server_id,
            seq_client_id=self.seq_client_id,
            order_price=self.price,
            order_limit_price=self.limit_price,
            pending_qty=self.pending,
            filled_qty=self.filled,
            order_type=self.order_type,  # type: ignore[arg-type]
            order_state=self.state,  # type: ignore[arg-type]
            avg_price=self.last_price,
            snap_type=snap,  # type: ignore[arg-type]
            acc_number=self.acc,
            reason=self.reason,
            feed_symbol=self.contract.feed_symbol,
            insert_utc=self.insert_ms,
            execution_utc=self.exec_ms,
            source=self.source,
            oco_linked_group_id=self.oco_group,
            oco_parent_order_id=self.oco_parent,
            is_generated_from_bracket=bool(self.oco_parent),
            message_timestamp=now_ms,
        )
        return m


def _push(acc: int, **fields: Any) -> Push:
    return acc, pb.ServerResponseMsg(**fields)


class Exchange:
    def __init__(self, engine: Engine, contracts: tuple[SimContract, ...], asset: str = "USD") -> None:
        self.engine = engine
        self.asset = asset
        self.by_id = {c.contract_id: c for c in contracts}
        self.by_feed = {c.feed_symbol: c for c in contracts}
        self.by_symbol = {c.symbol: c for c in contracts}
        self.accounts: dict[int, str] = {}  # account number -> header
        self.modes: dict[int, int] = {}  # account number -> AccountMode
        self.orders: dict[int, VolOrder] = {}
        self._by_engine: dict[int, int] = {}
        self._by_algo: dict[int, int] = {}
        self._ids = itertools.count(9001)
        self._seq = itertools.count(1)
        self._brackets = itertools.count(500)
        self._marks: dict[tuple[int, str], Decimal] = {}

    # -- accounts ---------------------------------------------------------------------------------
    def add_account(
        self, acc: int, header: str, balance: Decimal, now_ms: int, mode: int = pb.MODE_EVALUATION
    ) -> None:
        self.engine.create_account(str(acc), {self.asset: balance}, now_ms)
        self.accounts[acc] = header
        self.modes[acc] = mode

    def balance(self, acc: int) -> pb.BalanceMsg:
        b = self.engine.balance(str(acc), self.asset)
        return pb.BalanceMsg(
            balance=float(b.wallet_balance),
            acc_number=acc,
            margin_used=float(b.initial_margin),
            margin_available=float(b.available_balance),
            equity=float(b.margin_balance),
            stop_drawdown_overall=-1,
            stop_drawdown_intraday=-1,
            profit_target=-1,
        )

    def header(self, acc: int) -> pb.AccountHeaderMsg:
        return pb.AccountHeaderMsg(
            account_number=acc,
            account_header=self.accounts[acc],
            account_description="Sidedesk simulator",
            balance=self.balance(acc),
            is_enabled=True,
            status=pb.STATUS_ENABLED,
            is_trading_enabled=True,
            currency=self.asset,
            mode=self.modes.get(acc, pb.MODE_EVALUATION),  # type: ignore[arg-type]
        )

    def positions(self, acc: int, snap: int, now_ms: int, *, flat: bool = True) -> list[pb.PositionInfoMsg]:
        out = []
        for p in self.engine.positions(str(acc)):
            if not flat and p.amount == 0:
                continue
            c = self.by_symbol[p.symbol]
            out.append(
                pb.PositionInfoMsg(
                    contract_id=c.contract_id,
                    open_quantity=int(p.amount),
                    open_price=float(p.entry_price),
                    margin_used=float(p.initial_margin),
                    has_open_pl=p.amount != 0,
                    open_pl=float(p.unrealized_pnl),
                    daily_pl=float(p.realized_pnl),
                    snap_type=snap,  # type: ignore[arg-type]
                    acc_number=acc,
                    feed_symbol=c.feed_symbol,
                    position_id=-1,
                    utc=p.update_ms or now_ms,
                )
            )
        return out

    def info(
        self, accounts: list[int], modes: AbstractSet[int], request_id: int, now_ms: int
    ) -> pb.InfoRespMsg:
        """The session's login: its accounts, and each one's orders and positions (every line
        names its AccNumber)."""
        resp = pb.InfoRespMsg(request_id=request_id)
        if pb.INFO_ACCOUNT in modes:
            resp.account_list.extend(self.header(a) for a in sorted(accounts) if a in self.accounts)
        for acc in sorted(accounts):
            self._info_of(resp, acc, modes, now_ms)
        return resp

    def _info_of(self, resp: pb.InfoRespMsg, acc: int, modes: AbstractSet[int], now_ms: int) -> None:
        if pb.INFO_ORDERS_AND_POSITIONS in modes:
            for p in self.engine.positions(str(acc)):
                if p.amount == 0:
                    continue
                c = self.by_symbol[p.symbol]
                resp.order_list.append(
                    pb.OrderInfoMsg(
                        contract_id=c.contract_id,
                        filled_qty=int(p.amount),
                        avg_price=float(p.entry_price),
                        snap_type=pb.OrderInfoMsg.HIST_POS,
                        acc_number=acc,
                        feed_symbol=c.feed_symbol,
                        execution_utc=p.update_ms,
                    )
                )
            for o in self.orders.values():
                if o.acc == acc and o.open:
                    resp.order_list.append(o.info(pb.OrderInfoMsg.HISTORICAL, now_ms))
                    resp.bracket_list.extend(self._bracket_info(o, pb.BracketInfoMsg.BRACKET_HISTORICAL))
        if pb.INFO_POSITIONS in modes:
            resp.position_list.extend(
                self.positions(acc, pb.PositionInfoMsg.POSITION_HISTORICAL, now_ms, flat=False)
            )

    # -- orders -----------------------------------------------------------------------------------
    def _error(
        self, acc: int, m: pb.OrderInsertMsg, reason: str, now_ms: int, validation: bool
    ) -> list[Push]:
        oid = next(self._ids)
        info = pb.OrderInfoMsg(
            contract_id=m.contract_id,
            org_server_id=oid,
            org_client_id=m.seq_client_id,
            seq_server_id=oid,
            seq_client_id=m.seq_client_id,
            order_price=m.price,
            pending_qty=0,
            filled_qty=0,
            order_type=m.order_type,
            order_state=pb.OrderInfoMsg.ERROR,
            snap_type=pb.OrderInfoMsg.REAL_TIME,
            acc_number=acc,
            reason=reason,
            insert_utc=now_ms,
            is_validation_error=validation,
            source=_SOURCES.get(m.source, "Unknown"),
            message_timestamp=now_ms,
        )
        return [_push(acc, order_info=[info])]

    def _on_tick(self, c: SimContract, price: float) -> bool:
        d = _dec(price)
        return d > 0 and (d - c.tick_size) % c.tick_size == 0

    def insert(
        self, acc: int, m: pb.OrderInsertMsg, now_ms: int, *, from_parent: VolOrder | None = None
    ) -> list[Push]:
        c = self.by_id.get(m.contract_id)
        if m.acc_number not in self.accounts or m.acc_number != acc:
            return self._error(acc, m, "account not found or not subscribed by this session", now_ms, True)
        if c is None:
            return self._error(acc, m, f"contract {m.contract_id} not found", now_ms, True)
        if m.quantity == 0:
            return self._error(acc, m, "quantity must not be 0", now_ms, True)
        if m.order_type not in (pb.ORDER_MARKET, pb.ORDER_LIMIT, pb.ORDER_STOP, pb.ORDER_STOP_LIMIT):
            return self._error(acc, m, "unknown order type", now_ms, True)
        if m.order_type != pb.ORDER_MARKET and not self._on_tick(c, m.price):
            return self._error(acc, m, f"price {m.price} is not on the {c.tick_size} tick", now_ms, True)
        if m.order_type == pb.ORDER_STOP_LIMIT and not self._on_tick(c, m.limit_price):
            return self._error(acc, m, f"limit price {m.limit_price} is not on the tick", now_ms, True)
        side = Side.BUY if m.quantity > 0 else Side.SELL
        oid = next(self._ids)
        o = VolOrder(
            oid,
            acc,
            c,
            m.seq_client_id,
            m.seq_client_id,
            next(self._seq),
            m.quantity,
            m.order_type,
            m.price if m.order_type != pb.ORDER_MARKET else 0.0,
            m.limit_price,
            _SOURCES.get(m.source, "Unknown"),
            now_ms,
        )
        if from_parent is not None:
            o.oco_parent, o.oco_group = from_parent.org_server_id, from_parent.org_server_id
        if m.HasField("bracket_strategy"):
            bs = m.bracket_strategy
            o.static_brackets = bs.kind in (
                pb.BracketStrategy.STOP_AND_TARGET_STATIC,
                pb.BracketStrategy.STOP_ONLY_STATIC,
                pb.BracketStrategy.TARGET_ONLY_STATIC,
            )
            for is_target, legs in ((False, bs.stops), (True, bs.targets)):
                for leg in legs:
                    o.legs.append(
                        Leg(
                            next(self._brackets),
                            is_target,
                            abs(leg.quantity),
                            leg.price_mode,
                            leg.ticks_offset,
                            leg.price,
                        )
                    )
        self.orders[oid] = o
        qty = Decimal(abs(m.quantity))
        t = m.order_type
        spec = OrderSpec(
            symbol=c.symbol,
            side=side,
            type={
                pb.ORDER_MARKET: OrderType.MARKET,
                pb.ORDER_LIMIT: OrderType.LIMIT,
                pb.ORDER_STOP: OrderType.STOP_MARKET,
                pb.ORDER_STOP_LIMIT: OrderType.STOP,
            }[t],
            quantity=qty,
            price=_dec(m.price)
            if t == pb.ORDER_LIMIT
            else _dec(m.limit_price)
            if t == pb.ORDER_STOP_LIMIT
            else None,
            stop_price=_dec(m.price) if t in (pb.ORDER_STOP, pb.ORDER_STOP_LIMIT) else None,
            client_id=f"v{oid}",
        )
        out = self.engine.submit_order(str(acc), spec, now_ms)
        if out.reject is not None:
            o.state, o.reason = pb.OrderInfoMsg.ERROR, out.reject.detail or out.reject.reason.value
            return [_push(acc, order_info=[o.info(now_ms=now_ms)])]
        if out.algo is not None:
            o.algo_id = out.algo.algo_id
            self._by_algo[out.algo.algo_id] = oid
        if out.order is not None:
            o.engine_id = out.order.order_id
            self._by_engine[out.order.order_id] = oid
        pushes = [_push(acc, order_info=[o.info(now_ms=now_ms)])]
        if o.legs:
            pushes.append(_push(acc, bracket_info=self._bracket_info(o, pb.BracketInfoMsg.BRACKET_REAL_TIME)))
        return pushes + self.absorb(out.events, now_ms)

    def _bracket_info(self, o: VolOrder, snap: int) -> list[pb.BracketInfoMsg]:
        sign = 1 if o.quantity > 0 else -1
        return [
            pb.BracketInfoMsg(
                contract_id=o.contract.contract_id,
                parent_order_id=o.org_server_id,
                oco_group_id=o.org_server_id,
                bracket_id=leg.bracket_id,
                price=leg.price,
                ticks=leg.ticks if leg.mode == pb.BracketLeg.BY_TICKS else -1,
                total_qty=-sign * leg.quantity,
                is_target=leg.is_target,
                bracket_state=leg.state,  # type: ignore[arg-type]
                snap_type=snap,  # type: ignore[arg-type]
                acc_number=o.acc,
                feed_symbol=o.contract.feed_symbol,
            )
            for leg in o.legs
        ]

    def modify(self, acc: int, m: pb.OrderModifyMsg, now_ms: int) -> list[Push]:
        o = self.orders.get(m.org_server_id)
        if o is None or o.acc != acc or not o.open:
            info = pb.OrderInfoMsg(
                org_server_id=m.org_server_id,
                seq_client_id=m.new_seq_client_id,
                acc_number=acc,
                contract_id=m.contract_id,
                order_state=pb.OrderInfoMsg.ERROR_MODIFY,
                snap_type=pb.OrderInfoMsg.REAL_TIME,
                reason="order not found or not open",
                message_timestamp=now_ms,
            )
            return [_push(acc, order_info=[info])]

        def refused(reason: str) -> list[Push]:
            o.seq_client_id = m.new_seq_client_id
            info = o.info(now_ms=now_ms)
            info.order_state = pb.OrderInfoMsg.ERROR_MODIFY
            info.reason = reason
            return [_push(acc, order_info=[info])]

        if o.order_type == pb.ORDER_MARKET:
            return refused("a market order cannot be modified")
        if not self._on_tick(o.contract, m.price) or m.quantity == 0 or (m.quantity > 0) != (o.quantity > 0):
            return refused("bad price or quantity")
        new_total = m.quantity  # the new total quantity, signed like the order
        qty = Decimal(abs(new_total))
        if o.algo_id is not None and o.engine_id is None:  # an untriggered stop: replace it in the engine
            old = o.algo_id
            out = self.engine.cancel_algo(str(acc), algo_id=old, now_ms=now_ms)
            if out.reject is not None:
                return refused(out.reject.detail)
            self._by_algo.pop(old, None)
            side = Side.BUY if o.quantity > 0 else Side.SELL
            stype = OrderType.STOP_MARKET if o.order_type == pb.ORDER_STOP else OrderType.STOP
            spec = OrderSpec(
                o.contract.symbol,
                side,
                stype,
                quantity=qty,
                stop_price=_dec(m.price),
                price=_dec(m.limit_price or o.limit_price) if stype is OrderType.STOP else None,
                client_id=f"v{o.org_server_id}",
            )
            sub = self.engine.submit_order(str(acc), spec, now_ms)
            if sub.reject is not None or sub.algo is None:
                o.state, o.reason = (
                    pb.OrderInfoMsg.CANCELED,
                    sub.reject.detail if sub.reject else "replace failed",
                )
                return [_push(acc, order_info=[o.info(now_ms=now_ms)])]
            o.algo_id = sub.algo.algo_id
            self._by_algo[o.algo_id] = o.org_server_id
            events = sub.events
        elif o.engine_id is not None and o.order_type == pb.ORDER_LIMIT:
            out = self.engine.modify_order(
                str(acc),
                o.contract.symbol,
                order_id=o.engine_id,
                quantity=qty,
                price=_dec(m.price),
                now_ms=now_ms,
            )
            if out.reject is not None:
                return refused(out.reject.detail or out.reject.reason.value)
            events = out.events
        else:
            return refused("this order can no longer be modified")
        o.quantity, o.price = new_total, m.price
        if m.limit_price:
            o.limit_price = m.limit_price
        o.seq_client_id, o.seq_server_id, o.reason = m.new_seq_client_id, next(self._seq), ""
        return [_push(acc, order_info=[o.info(now_ms=now_ms)]), *self.absorb(events, now_ms)]

    def remove(self, acc: int, m: pb.OrderRemoveMsg, now_ms: int) -> list[Push]:
        o = self.orders.get(m.org_server_id)
        if o is None or o.acc != acc or not o.open:
            info = pb.OrderInfoMsg(
                org_server_id=m.org_server_id,
                acc_number=acc,
                order_state=pb.OrderInfoMsg.ERROR_MODIFY,
                snap_type=pb.OrderInfoMsg.REAL_TIME,
                reason="order not found or not open",
                message_timestamp=now_ms,
            )
            return [_push(acc, order_info=[info])]
        return self._cancel(o, now_ms, "OrderRemove")

    def _cancel(self, o: VolOrder, now_ms: int, by: str) -> list[Push]:
        if o.canceled_by is None:
            o.canceled_by = by  # kept only if the order ends cancelled (below)
        acc = str(o.acc)
        if o.engine_id is not None:
            out = self.engine.cancel_order(acc, o.contract.symbol, order_id=o.engine_id, now_ms=now_ms)
        elif o.algo_id is not None:
            out = self.engine.cancel_algo(acc, algo_id=o.algo_id, now_ms=now_ms)
        else:
            return []
        pushes = self.absorb(out.events, now_ms)
        if o.state == pb.OrderInfoMsg.SUBMITTED and o.open:  # no engine event said so
            o.state = pb.OrderInfoMsg.CANCELED
            pushes.append(_push(o.acc, order_info=[o.info(now_ms=now_ms)]))
        if o.state != pb.OrderInfoMsg.CANCELED:
            o.canceled_by = None  # it filled or failed first
        return pushes

    def cancel_flat(self, acc: int, m: pb.CancelFlatReqMsg, now_ms: int) -> list[Push]:
        """CancelFlatReq on one account, its `contract_ids` (none: all). The vendor's proto says
        FLAT "Flat position, if any, opened", CANCEL "Cancel all orders", FLAT_CANCEL "Cancel
        orders and flat positions", and no more: not in what order, nor whether the closing
        order is placed before the working ones are gone. The conservative order is modelled:
        the contract's working orders are cancelled first, then the position is closed at
        market (an unsourced market order, SeqClientId -1), all in one venue step, so no stop
        can fire on the closing fill's way out."""
        resp = pb.CancelFlatRespMsg(request_id=m.request_id, acc_number=acc)
        by = f"CancelFlatReq {pb.CancelFlatReqMsg.Action.Name(m.action)}"
        pushes: list[Push] = []
        wanted = set(m.contract_ids)
        if m.acc_number != acc:
            resp.errors.add(contract_id=0, error="account not found")
            return [_push(acc, cancel_flat_msg=resp)]
        if m.action in (pb.CancelFlatReqMsg.CANCEL, pb.CancelFlatReqMsg.FLAT_CANCEL):
            for o in list(self.orders.values()):
                if o.acc == acc and o.open and (not wanted or o.contract.contract_id in wanted):
                    pushes += self._cancel(o, now_ms, by)
                    resp.items.add(
                        is_position=False,
                        feed_symbol=o.contract.feed_symbol,
                        contract_id=o.contract.contract_id,
                        order_id=o.org_server_id,
                    )
        if m.action in (pb.CancelFlatReqMsg.FLAT, pb.CancelFlatReqMsg.FLAT_CANCEL):
            for p in self.engine.positions(str(acc)):
                c = self.by_symbol[p.symbol]
                if p.amount == 0 or (wanted and c.contract_id not in wanted):
                    continue
                ins = pb.OrderInsertMsg(
                    contract_id=c.contract_id,
                    seq_client_id=-1,
                    quantity=-int(p.amount),
                    order_type=pb.ORDER_MARKET,
                    acc_number=acc,
                    source=m.source,
                )
                pushes += self.insert(acc, ins, now_ms)
                resp.items.add(
                    is_position=True, feed_symbol=c.feed_symbol, contract_id=c.contract_id, position_id=-1
                )
        return [*pushes, _push(acc, cancel_flat_msg=resp)]

    def history(
        self, accounts: list[int], m: pb.AccountHistoricalSessionReqMsg
    ) -> pb.AccountHistoricalSessionRespMsg:
        """AccountHistoricalSessionReq: the orders of the session (the simulator's whole life:
        it has no 16:05 CT reset), finished ones too, of the requested accounts of the login.
        Trades and fills are not modelled: only Orders (or All) is answered with anything."""
        resp = pb.AccountHistoricalSessionRespMsg(request_id=m.request_id)
        wanted = set(m.account_ids) & set(accounts) if m.account_ids else set(accounts)
        if m.entity in (pb.HISTORY_ALL, pb.HISTORY_ORDERS):
            resp.orders.extend(
                o.info(pb.OrderInfoMsg.HISTORICAL) for o in self.orders.values() if o.acc in wanted
            )
        return resp

    # -- engine events ----------------------------------------------------------------------------
    def _order_of(self, engine_id: int, algo_id: int | None) -> VolOrder | None:
        oid = self._by_engine.get(engine_id)
        if oid is None and algo_id is not None:
            oid = self._by_algo.get(algo_id)
            if oid is not None:
                self._by_engine[engine_id] = oid
                self.orders[oid].engine_id = engine_id
        return self.orders.get(oid) if oid is not None else None

    def absorb(self, events: tuple[EngineEvent, ...] | list[EngineEvent], now_ms: int) -> list[Push]:
        pushes: list[Push] = []
        touched: dict[int, set[str]] = {}
        fills: list[VolOrder] = []
        for ev in events:
            if isinstance(ev, OrderUpdate):
                o = self._order_of(ev.order.order_id, ev.order.algo_id)
                if o is None:
                    continue
                if ev.exec_type is ExecType.TRADE and ev.fill is not None:
                    sign = 1 if ev.fill.side is Side.BUY else -1
                    o.filled += sign * int(ev.fill.qty)
                    o.last_price, o.exec_ms = float(ev.fill.price), ev.fill.time_ms
                    pushes.append(_push(o.acc, order_info=[o.info(now_ms=ev.time_ms)]))
                    fills.append(o)
                elif (
                    ev.exec_type in (ExecType.CANCELED, ExecType.EXPIRED)
                    and o.state == pb.OrderInfoMsg.SUBMITTED
                ):
                    o.state = pb.OrderInfoMsg.CANCELED
                    pushes.append(_push(o.acc, order_info=[o.info(now_ms=ev.time_ms)]))
            elif isinstance(ev, AlgoUpdate):
                oid = self._by_algo.get(ev.algo.algo_id)
                o = self.orders.get(oid) if oid is not None else None
                if o is None or o.state != pb.OrderInfoMsg.SUBMITTED:
                    continue
                if ev.algo.status in (AlgoStatus.CANCELED, AlgoStatus.EXPIRED):
                    o.state = pb.OrderInfoMsg.CANCELED
                    pushes.append(_push(o.acc, order_info=[o.info(now_ms=ev.time_ms)]))
                elif ev.algo.status is AlgoStatus.REJECTED:
                    o.state, o.reason = pb.OrderInfoMsg.ERROR, ev.algo.reason or "rejected at trigger"
                    pushes.append(_push(o.acc, order_info=[o.info(now_ms=ev.time_ms)]))
            elif isinstance(ev, AccountUpdate):
                touched.setdefault(int(ev.account_id), set()).update(p.symbol for p in ev.positions)
        for acc, symbols in sorted(touched.items()):
            rows = [
                r
                for r in self.positions(acc, pb.PositionInfoMsg.POSITION_REAL_TIME, now_ms)
                if self.by_id[r.contract_id].symbol in symbols
            ]
            if rows:
                pushes.append(_push(acc, position_info=rows))
            pushes.append(_push(acc, balance_info=[self.balance(acc)]))
        for o in fills:
            pushes += self._after_fill(o, now_ms)
        return pushes

    def _after_fill(self, o: VolOrder, now_ms: int) -> list[Push]:
        pushes: list[Push] = []
        if o.pending == 0 and o.legs and all(leg.state == pb.BracketInfoMsg.PENDING for leg in o.legs):
            base = _dec(o.price) if o.static_brackets and o.price else _dec(o.last_price)
            up = 1 if o.quantity > 0 else -1
            for leg in o.legs:
                tick = o.contract.tick_size
                if leg.mode == pb.BracketLeg.BY_PRICE:
                    price = _dec(leg.price)
                else:
                    offset = tick * leg.ticks if leg.mode == pb.BracketLeg.BY_TICKS else _dec(leg.price)
                    price = base + offset * up if leg.is_target else base - offset * up
                ins = pb.OrderInsertMsg(
                    contract_id=o.contract.contract_id,
                    seq_client_id=-1,
                    quantity=-up * leg.quantity,
                    price=float(price),
                    acc_number=o.acc,
                    order_type=pb.ORDER_LIMIT if leg.is_target else pb.ORDER_STOP,
                    source=pb.SOURCE_AUTOMATIC,
                )
                before = set(self.orders)
                pushes += self.insert(o.acc, ins, now_ms, from_parent=o)
                made = [k for k in self.orders if k not in before]
                leg.child = made[0] if made else 0
                leg.state = pb.BracketInfoMsg.SUBMITTED if made else pb.BracketInfoMsg.ERROR
            pushes.append(
                _push(o.acc, bracket_info=self._bracket_info(o, pb.BracketInfoMsg.BRACKET_REAL_TIME))
            )
        if o.oco_parent and o.pending == 0:  # a bracket child filled: cancel its siblings (OCO)
            parent = self.orders.get(o.oco_parent)
            for leg in parent.legs if parent is not None else []:
                sib = self.orders.get(leg.child)
                if sib is not None and sib is not o and sib.open:
                    pushes += self._cancel(sib, now_ms, "oco")
        return pushes

    def mark_updates(self, now_ms: int) -> list[Push]:
        """PositionInfo for open positions whose valuation moved (the server pushes open P&L)."""
        pushes: list[Push] = []
        for acc in self.accounts:
            changed = []
            for p in self.engine.positions(str(acc)):
                key = (acc, p.symbol)
                if p.amount != 0 and self._marks.get(key) != p.mark_price:
                    self._marks[key] = p.mark_price
                    changed.append(p.symbol)
            if changed:
                rows = [
                    r
                    for r in self.positions(acc, pb.PositionInfoMsg.POSITION_REAL_TIME, now_ms)
                    if self.by_id[r.contract_id].symbol in changed
                ]
                pushes.append(_push(acc, position_info=rows))
        return pushes
