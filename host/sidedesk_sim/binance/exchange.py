"""The Binance USDⓈ-M API surface over the neutral engine, shared by REST and the WS API.

Transport code authenticates a request and then calls `Exchange.call(name, ctx)`; each endpoint
declares its weight, security and whether it counts against the ORDERS limits. Endpoint names are
the WS API method names; REST routes map onto them (see `REST_ROUTES`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sidedesk_sim.binance import wire
from sidedesk_sim.binance.auth import Identity
from sidedesk_sim.binance.errors import BinanceError, mandatory
from sidedesk_sim.binance.limits import RateLimiter
from sidedesk_sim.binance.listenkeys import ListenKeys
from sidedesk_sim.binance.orders import (
    check_client_id,
    check_filters,
    filter_error,
    parse_algo,
    parse_regular,
    reject_error,
)
from sidedesk_sim.binance.params import Params
from sidedesk_sim.engine import (
    Engine,
    EngineError,
    EngineEvent,
    Instrument,
    Order,
    OrderType,
    OrderUpdate,
    Outcome,
    Side,
)

log = logging.getLogger("sidedesk_sim.binance")

Security = Literal["NONE", "USER_STREAM", "SIGNED"]
Transport = Literal["rest", "ws", "control"]


@dataclass
class Ctx:
    """One authenticated call."""

    params: Params
    identity: Identity | None
    ip: str
    transport: Transport
    now_ms: int
    skew_ms: int = 0  # the client's clock drift (`BinanceSim.server_time_ms`)

    @property
    def server_time_ms(self) -> int:
        return self.now_ms + self.skew_ms

    @property
    def account(self) -> str:
        if self.identity is None:  # pragma: no cover - the transport enforces security first
            raise BinanceError(-2015)
        return self.identity.account_id


Handler = Callable[["Exchange", Ctx], Any]


@dataclass(frozen=True)
class Endpoint:
    fn: Handler
    weight: int | Callable[[Params], int]
    security: Security
    orders: bool = False  # counts 1 against ORDERS/10s and ORDERS/1m

    def weight_for(self, params: Params) -> int:
        return self.weight(params) if callable(self.weight) else self.weight


class Exchange:
    """Binance semantics on top of `Engine`. `publish` receives every engine event a call produced."""

    def __init__(
        self,
        engine: Engine,
        limiter: RateLimiter,
        listen_keys: ListenKeys,
        publish: Callable[[list[EngineEvent]], None],
    ) -> None:
        self.engine = engine
        self.limiter = limiter
        self.listen_keys = listen_keys
        self.publish = publish
        self._modify_ids: dict[int, int] = {}

    # ---- helpers ---------------------------------------------------------------------------------
    def instrument(self, p: Params) -> Instrument:
        symbol = p.req("symbol")
        inst = self.engine.instruments.get(symbol)
        if inst is None:
            raise BinanceError(-1121)
        return inst

    def _outcome(self, out: Outcome, *, context: str = "") -> Outcome:
        self.publish(list(out.events))
        if out.reject is not None:
            raise reject_error(out.reject.reason, detail=out.reject.detail, context=context)
        return out

    def _inst(self, symbol: str) -> Instrument:
        return self.engine.instrument(symbol)

    # ---- market data ---------------------------------------------------------------------------
    def ping(self, c: Ctx) -> dict[str, Any]:
        return {}

    def time(self, c: Ctx) -> dict[str, Any]:
        return {"serverTime": c.server_time_ms}

    def exchange_info(self, c: Ctx) -> dict[str, Any]:
        return wire.exchange_info(
            dict(self.engine.instruments), self.limiter.exchange_info_limits(), c.server_time_ms
        )

    def _symbols(self, p: Params) -> list[Instrument]:
        if p.opt("symbol") is not None:
            return [self.instrument(p)]
        return list(self.engine.instruments.values())

    def premium_index(self, c: Ctx) -> Any:
        rows = []
        for inst in self._symbols(c.params):
            m = self.engine.market(inst.symbol)
            rows.append(
                {
                    "symbol": inst.symbol,
                    "markPrice": wire.fmt(m.mark_price, 8),
                    "indexPrice": wire.fmt(m.index_price, 8),
                    "estimatedSettlePrice": wire.fmt(m.index_price, 8),
                    "lastFundingRate": wire.fmt(m.funding_rate, 8),
                    "interestRate": "0.00010000",
                    "nextFundingTime": m.next_funding_ms,
                    "time": c.now_ms,
                }
            )
        return rows[0] if c.params.opt("symbol") is not None else rows

    def ticker_book(self, c: Ctx) -> Any:
        rows = []
        for inst in self._symbols(c.params):
            m = self.engine.market(inst.symbol)
            rows.append(
                {
                    "symbol": inst.symbol,
                    "bidPrice": wire.px(inst, m.bid),
                    "bidQty": wire.qty(inst, m.bid_qty),
                    "askPrice": wire.px(inst, m.ask),
                    "askQty": wire.qty(inst, m.ask_qty),
                    "time": c.now_ms,
                    "lastUpdateId": m.book_update_id,
                }
            )
        return rows[0] if c.params.opt("symbol") is not None else rows

    def ticker_price(self, c: Ctx) -> Any:
        rows = []
        for inst in self._symbols(c.params):
            m = self.engine.market(inst.symbol)
            rows.append({"symbol": inst.symbol, "price": wire.px(inst, m.last_price), "time": c.now_ms})
        return rows[0] if c.params.opt("symbol") is not None else rows

    def depth(self, c: Ctx) -> dict[str, Any]:
        inst = self.instrument(c.params)
        bids, asks = self.engine.book(inst.symbol)
        limit = c.params.integer("limit") or 500
        m = self.engine.market(inst.symbol)
        return {
            "lastUpdateId": m.book_update_id,
            "E": c.now_ms,
            "T": c.now_ms,
            "bids": [[wire.px(inst, b.price), wire.qty(inst, b.qty)] for b in bids[:limit]],
            "asks": [[wire.px(inst, a.price), wire.qty(inst, a.qty)] for a in asks[:limit]],
        }

    # ---- account configuration -------------------------------------------------------------------
    def get_position_mode(self, c: Ctx) -> dict[str, Any]:
        return {"dualSidePosition": self.engine.hedge_mode(c.account)}

    def set_position_mode(self, c: Ctx) -> dict[str, Any]:
        enabled = c.params.boolean("dualSidePosition") if "dualSidePosition" in c.params else None
        if enabled is None:
            raise mandatory("dualSidePosition")
        self._outcome(self.engine.set_hedge_mode(c.account, enabled, c.now_ms))
        return {"code": 200, "msg": "success"}

    def set_leverage(self, c: Ctx) -> dict[str, Any]:
        inst = self.instrument(c.params)
        lev = c.params.req_int("leverage")
        out = self.engine.set_leverage(c.account, inst.symbol, lev, c.now_ms)
        self.publish(list(out.events))
        if out.reject is not None:
            raise reject_error(out.reject.reason, detail=str(lev))
        return {"leverage": lev, "maxNotionalValue": "1000000", "symbol": inst.symbol}

    def set_margin_type(self, c: Ctx) -> dict[str, Any]:
        self.instrument(c.params)
        mt = c.params.enum("marginType", ("ISOLATED", "CROSSED"))
        if mt == "CROSSED":
            raise BinanceError(-4046)
        raise BinanceError(-1000, msg="Isolated margin is not supported by the simulator.")

    def symbol_config(self, c: Ctx) -> list[dict[str, Any]]:
        return [
            {
                "symbol": i.symbol,
                "marginType": "CROSSED",
                "isAutoAddMargin": False,
                "leverage": self.engine.leverage(c.account, i.symbol),
                "maxNotionalValue": "1000000",
            }
            for i in self._symbols(c.params)
        ]

    def account_config(self, c: Ctx) -> dict[str, Any]:
        return {
            "feeTier": 0,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "dualSidePosition": self.engine.hedge_mode(c.account),
            "updateTime": 0,
            "multiAssetsMargin": False,
            "tradeGroupId": -1,
        }

    def leverage_bracket(self, c: Ctx) -> list[dict[str, Any]]:
        """One bracket per symbol (tiered maintenance margin is not modelled)."""
        return [
            {
                "symbol": i.symbol,
                "notionalCoef": 1.0,
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": i.max_leverage,
                        "notionalCap": 9223372036854775807,
                        "notionalFloor": 0,
                        "maintMarginRatio": float(i.maint_margin_rate),
                        "cum": 0.0,
                    }
                ],
            }
            for i in self._symbols(c.params)
        ]

    def rate_limit_order(self, c: Ctx) -> list[dict[str, Any]]:
        cfg = self.limiter.config
        return [
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": cfg.orders_per_10s},
            {
                "rateLimitType": "ORDERS",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": cfg.orders_per_minute,
            },
        ]

    # ---- account snapshots ---------------------------------------------------------------------
    def _instruments(self) -> dict[str, Instrument]:
        return dict(self.engine.instruments)

    def account_v3(self, c: Ctx) -> dict[str, Any]:
        """v2/account.status and GET /fapi/v3/account: only symbols with a position or open orders."""
        s = self.engine.account_summary(c.account)
        active = {o.symbol for o in self.engine.open_orders(c.account)}
        out = wire.account_v2(s, self._instruments(), v1_extras=False)
        out["positions"] = [
            row
            for row, p in zip(out["positions"], s.positions, strict=True)
            if p.amount != 0 or p.symbol in active
        ]
        return out

    def account_v2(self, c: Ctx) -> dict[str, Any]:
        """account.status (v1 WS) and GET /fapi/v2/account: every symbol, with v1 extras."""
        return wire.account_v2(self.engine.account_summary(c.account), self._instruments(), v1_extras=True)

    def balance(self, c: Ctx) -> list[dict[str, Any]]:
        alias = "SimAccount" + c.account
        return [wire.balance_row(b, alias) for b in self.engine.balances(c.account)]

    def position_v3(self, c: Ctx) -> list[dict[str, Any]]:
        """v2/account.position and GET /fapi/v3/positionRisk: open positions only (or the given symbol)."""
        symbol = c.params.opt("symbol")
        if symbol is not None:
            self.instrument(c.params)
        rows = self.engine.positions(c.account, symbol)
        return [
            wire.position_v2(p, self._inst(p.symbol)) for p in rows if p.amount != 0 or symbol is not None
        ]

    def position_v2(self, c: Ctx) -> list[dict[str, Any]]:
        """account.position (v1) and GET /fapi/v2/positionRisk: every symbol."""
        symbol = c.params.opt("symbol")
        if symbol is not None:
            self.instrument(c.params)
        return [wire.position_v1(p, self._inst(p.symbol)) for p in self.engine.positions(c.account, symbol)]

    # ---- regular orders ------------------------------------------------------------------------
    def _ack_state(self, out: Outcome) -> Order:
        assert out.order is not None
        for ev in out.events:
            if isinstance(ev, OrderUpdate) and ev.order.order_id == out.order.order_id:
                return ev.order
        return out.order

    def _may_trade(self, c: Ctx) -> None:
        # An account with trading disabled (control plane `can_trade: false`) gets NEW_ORDER_REJECTED.
        if c.identity is not None and not c.identity.can_trade:
            raise BinanceError(-2010)

    def place_order(self, c: Ctx) -> dict[str, Any]:
        self._may_trade(c)
        p = c.params
        inst = self.instrument(p)
        spec = parse_regular(p, inst, self.engine.hedge_mode(c.account))
        m = self.engine.market(inst.symbol)
        opposite = m.ask if spec.side is Side.BUY else m.bid
        check_filters(spec, inst, m.mark_price, opposite)
        out = self._outcome(self.engine.submit_order(c.account, spec, c.now_ms))
        result = p.opt("newOrderRespType") == "RESULT"
        order = out.order if result else self._ack_state(out)
        assert order is not None
        return wire.order_result(order, inst, variant="ws_place" if c.transport == "ws" else "rest")

    def _order_ref(self, p: Params, id_name: str, client_name: str) -> tuple[int | None, str | None]:
        order_id = p.integer(id_name)
        client_id = p.opt(client_name)
        if order_id is None and client_id is None:
            raise BinanceError(
                -1102, msg=f"Param '{id_name}' or '{client_name}' must be sent, but both were empty/null!"
            )
        return order_id, client_id

    def cancel_order(self, c: Ctx) -> dict[str, Any]:
        inst = self.instrument(c.params)
        order_id, client_id = self._order_ref(c.params, "orderId", "origClientOrderId")
        out = self._outcome(
            self.engine.cancel_order(
                c.account, inst.symbol, order_id=order_id, client_id=client_id, now_ms=c.now_ms
            ),
            context="cancel",
        )
        assert out.order is not None
        return wire.order_result(
            out.order, inst, variant="ws_cancel" if c.transport == "ws" else "rest_cancel"
        )

    def modify_order(self, c: Ctx) -> dict[str, Any]:
        p = c.params
        inst = self.instrument(p)
        order_id, client_id = self._order_ref(p, "orderId", "origClientOrderId")
        side = Side(p.enum("side", ("BUY", "SELL"), -1117))
        quantity = p.req_decimal("quantity")
        price = p.req_decimal("price")
        current = self.engine.order(c.account, order_id=order_id, client_id=client_id, symbol=inst.symbol)
        if current is None or not current.is_open:
            raise BinanceError(-2013)
        if current.type is not OrderType.LIMIT:
            raise BinanceError(-5025)
        if current.side is not side:
            raise BinanceError(-1130, "side")
        for fail, what in ((inst.check_price(price), "price"), (inst.check_qty(quantity), "quantity")):
            if fail is not None:
                raise filter_error(fail, what=what, inst=inst)
        m = self.engine.market(inst.symbol)
        pct = inst.check_percent_price(side, price, m.mark_price)
        if pct is not None:
            raise filter_error(pct, what="price", inst=inst)
        if inst.check_notional(price, quantity, reduce_only=current.reduce_only) is not None:
            raise BinanceError(-5029, msg=f"Order's notional must be no smaller than {inst.min_notional:f}")
        out = self._outcome(
            self.engine.modify_order(
                c.account,
                inst.symbol,
                order_id=current.order_id,
                quantity=quantity,
                price=price,
                now_ms=c.now_ms,
            )
        )
        assert out.order is not None
        modify_id = p.integer("modifyId")
        return wire.order_result(
            out.order, inst, variant="ws_place" if c.transport == "ws" else "rest", modify_id=modify_id
        )

    def order_status(self, c: Ctx) -> dict[str, Any]:
        inst = self.instrument(c.params)
        order_id, client_id = self._order_ref(c.params, "orderId", "origClientOrderId")
        order = self.engine.order(c.account, order_id=order_id, client_id=client_id, symbol=inst.symbol)
        if order is None:
            raise BinanceError(-2013)
        return wire.order_result(order, inst, variant="status")

    def open_orders(self, c: Ctx) -> list[dict[str, Any]]:
        symbol = c.params.opt("symbol")
        if symbol is not None:
            self.instrument(c.params)
        return [
            wire.order_result(o, self._inst(o.symbol), variant="status")
            for o in self.engine.open_orders(c.account, symbol)
        ]

    def open_order(self, c: Ctx) -> dict[str, Any]:
        inst = self.instrument(c.params)
        order_id, client_id = self._order_ref(c.params, "orderId", "origClientOrderId")
        order = self.engine.order(c.account, order_id=order_id, client_id=client_id, symbol=inst.symbol)
        if order is None or not order.is_open:
            raise BinanceError(-2013)
        return wire.order_result(order, inst, variant="status")

    def all_orders(self, c: Ctx) -> list[dict[str, Any]]:
        inst = self.instrument(c.params)
        return [
            wire.order_result(o, inst, variant="status")
            for o in self.engine.all_orders(c.account, inst.symbol)
        ]

    def cancel_all_orders(self, c: Ctx) -> dict[str, Any]:
        inst = self.instrument(c.params)
        self._outcome(self.engine.cancel_all(c.account, inst.symbol, c.now_ms))
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def user_trades(self, c: Ctx) -> list[dict[str, Any]]:
        inst = self.instrument(c.params)
        out = []
        for f in self.engine.trades(c.account, inst.symbol):
            out.append(
                {
                    "buyer": f.side is Side.BUY,
                    "commission": wire.fmt(f.commission, 8),
                    "commissionAsset": f.commission_asset,
                    "id": f.trade_id,
                    "maker": f.maker,
                    "orderId": f.order_id,
                    "price": wire.px(inst, f.price),
                    "qty": wire.qty(inst, f.qty),
                    "quoteQty": wire.fmt(f.quote_qty, 8),
                    "realizedPnl": wire.fmt(f.realized_pnl, 8),
                    "side": f.side.value,
                    "positionSide": f.position_side.value,
                    "symbol": f.symbol,
                    "time": f.time_ms,
                }
            )
        limit = c.params.integer("limit") or 500
        return out[-limit:]

    # ---- algo orders --------------------------------------------------------------------------
    def place_algo(self, c: Ctx) -> dict[str, Any]:
        self._may_trade(c)
        p = c.params
        inst = self.instrument(p)
        spec = parse_algo(p, inst, self.engine.hedge_mode(c.account))
        m = self.engine.market(inst.symbol)
        check_filters(spec, inst, m.mark_price, Decimal(0))
        out = self._outcome(self.engine.submit_order(c.account, spec, c.now_ms))
        assert out.algo is not None
        return wire.algo_result(out.algo, inst, rest=c.transport != "ws")

    def cancel_algo(self, c: Ctx) -> dict[str, Any]:
        algo_id, client_id = self._order_ref(c.params, "algoId", "clientAlgoId")
        out = self._outcome(
            self.engine.cancel_algo(c.account, algo_id=algo_id, client_id=client_id, now_ms=c.now_ms),
            context="cancel",
        )
        assert out.algo is not None
        return {
            "algoId": out.algo.algo_id,
            "clientAlgoId": out.algo.client_id,
            "code": "200",
            "msg": "success",
        }

    def algo_status(self, c: Ctx) -> dict[str, Any]:
        algo_id, client_id = self._order_ref(c.params, "algoId", "clientAlgoId")
        algo = self.engine.algo_order(c.account, algo_id=algo_id, client_id=client_id)
        if algo is None:
            raise BinanceError(-2013)
        return wire.algo_result(algo, self._inst(algo.symbol), rest=True)

    def open_algos(self, c: Ctx) -> list[dict[str, Any]]:
        symbol = c.params.opt("symbol")
        if symbol is not None:
            self.instrument(c.params)
        return [
            wire.algo_result(a, self._inst(a.symbol), rest=True)
            for a in self.engine.open_algo_orders(c.account, symbol)
        ]

    def all_algos(self, c: Ctx) -> list[dict[str, Any]]:
        inst = self.instrument(c.params)
        return [
            wire.algo_result(a, inst, rest=True) for a in self.engine.all_algo_orders(c.account, inst.symbol)
        ]

    def cancel_all_algos(self, c: Ctx) -> dict[str, Any]:
        inst = self.instrument(c.params)
        self._outcome(self.engine.cancel_all_algos(c.account, inst.symbol, c.now_ms))
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # ---- user data stream --------------------------------------------------------------------
    def listen_key_start(self, c: Ctx) -> dict[str, Any]:
        return {"listenKey": self.listen_keys.start(c.account, c.now_ms)}

    def listen_key_ping(self, c: Ctx) -> dict[str, Any]:
        return {"listenKey": self.listen_keys.keepalive(c.account, c.now_ms, c.params.opt("listenKey"))}

    def listen_key_stop(self, c: Ctx) -> dict[str, Any]:
        self.listen_keys.close(c.account, c.params.opt("listenKey"))
        return {}

    # ---- the key's permissions (Wallet API, served on the same port) ---------------------------
    def api_restrictions(self, c: Ctx) -> dict[str, Any]:
        """GET /sapi/v1/account/apiRestrictions, the documented response's fields
        (developers.binance.com/docs/wallet/account/api-key-permission)."""
        ident = c.identity
        if ident is None:  # pragma: no cover - the transport enforces security first
            raise BinanceError(-2015)
        return {
            "ipRestrict": ident.ip_restrict,
            "createTime": 1698645219000,
            "enableReading": True,
            "enableWithdrawals": ident.enable_withdrawals,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": ident.can_trade,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enableSpotAndMarginTrading": False,
            "enablePortfolioMarginTrading": False,
        }

    # ---- dispatch -----------------------------------------------------------------------------
    def call(self, name: str, c: Ctx) -> Any:
        ep = ENDPOINTS[name]
        try:
            return ep.fn(self, c)
        except EngineError as exc:
            raise reject_error(exc.reject.reason, detail=exc.reject.detail) from exc


def _weight_all(single: int, every: int) -> Callable[[Params], int]:
    return lambda p: single if p.opt("symbol") is not None else every


ENDPOINTS: dict[str, Endpoint] = {
    "ping": Endpoint(Exchange.ping, 1, "NONE"),
    "time": Endpoint(Exchange.time, 1, "NONE"),
    "exchangeInfo": Endpoint(Exchange.exchange_info, 1, "NONE"),
    "premiumIndex": Endpoint(Exchange.premium_index, 1, "NONE"),
    "ticker.book": Endpoint(Exchange.ticker_book, _weight_all(2, 5), "NONE"),
    "ticker.price": Endpoint(Exchange.ticker_price, _weight_all(1, 2), "NONE"),
    "depth": Endpoint(Exchange.depth, 5, "NONE"),
    "positionSide.get": Endpoint(Exchange.get_position_mode, 30, "SIGNED"),
    "positionSide.set": Endpoint(Exchange.set_position_mode, 1, "SIGNED"),
    "leverage": Endpoint(Exchange.set_leverage, 1, "SIGNED"),
    "marginType": Endpoint(Exchange.set_margin_type, 1, "SIGNED"),
    "symbolConfig": Endpoint(Exchange.symbol_config, 5, "SIGNED"),
    "accountConfig": Endpoint(Exchange.account_config, 5, "SIGNED"),
    "leverageBracket": Endpoint(Exchange.leverage_bracket, 1, "SIGNED"),
    "rateLimit.order": Endpoint(Exchange.rate_limit_order, 1, "SIGNED"),
    "account.status": Endpoint(Exchange.account_v2, 10, "SIGNED"),
    "v2/account.status": Endpoint(Exchange.account_v3, 5, "SIGNED"),
    "account.balance": Endpoint(Exchange.balance, 10, "SIGNED"),
    "v2/account.balance": Endpoint(Exchange.balance, 5, "SIGNED"),
    "account.position": Endpoint(Exchange.position_v2, 10, "SIGNED"),
    "v2/account.position": Endpoint(Exchange.position_v3, 5, "SIGNED"),
    "order.place": Endpoint(Exchange.place_order, 0, "SIGNED", orders=True),
    "order.cancel": Endpoint(Exchange.cancel_order, 1, "SIGNED"),
    "order.modify": Endpoint(Exchange.modify_order, 0, "SIGNED", orders=True),
    "order.status": Endpoint(Exchange.order_status, 1, "SIGNED"),
    "openOrders": Endpoint(Exchange.open_orders, _weight_all(1, 40), "SIGNED"),
    "openOrder": Endpoint(Exchange.open_order, 1, "SIGNED"),
    "allOrders": Endpoint(Exchange.all_orders, 5, "SIGNED"),
    "allOpenOrders.cancel": Endpoint(Exchange.cancel_all_orders, 1, "SIGNED"),
    "userTrades": Endpoint(Exchange.user_trades, 5, "SIGNED"),
    "algoOrder.place": Endpoint(Exchange.place_algo, 0, "SIGNED", orders=True),
    "algoOrder.cancel": Endpoint(Exchange.cancel_algo, 1, "SIGNED"),
    "algoOrder.status": Endpoint(Exchange.algo_status, 1, "SIGNED"),
    "openAlgoOrders": Endpoint(Exchange.open_algos, _weight_all(1, 40), "SIGNED"),
    "allAlgoOrders": Endpoint(Exchange.all_algos, 5, "SIGNED"),
    "algoOpenOrders.cancel": Endpoint(Exchange.cancel_all_algos, 1, "SIGNED"),
    "userDataStream.start": Endpoint(Exchange.listen_key_start, 1, "USER_STREAM"),
    "userDataStream.ping": Endpoint(Exchange.listen_key_ping, 1, "USER_STREAM"),
    "userDataStream.stop": Endpoint(Exchange.listen_key_stop, 1, "USER_STREAM"),
    "apiRestrictions": Endpoint(Exchange.api_restrictions, 1, "SIGNED"),
}

# (HTTP method, path) -> endpoint name
REST_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/fapi/v1/ping"): "ping",
    ("GET", "/fapi/v1/time"): "time",
    ("GET", "/fapi/v1/exchangeInfo"): "exchangeInfo",
    ("GET", "/fapi/v1/premiumIndex"): "premiumIndex",
    ("GET", "/fapi/v1/ticker/bookTicker"): "ticker.book",
    ("GET", "/fapi/v1/ticker/price"): "ticker.price",
    ("GET", "/fapi/v2/ticker/price"): "ticker.price",
    ("GET", "/fapi/v1/depth"): "depth",
    ("GET", "/fapi/v1/positionSide/dual"): "positionSide.get",
    ("POST", "/fapi/v1/positionSide/dual"): "positionSide.set",
    ("POST", "/fapi/v1/leverage"): "leverage",
    ("POST", "/fapi/v1/marginType"): "marginType",
    ("GET", "/fapi/v1/symbolConfig"): "symbolConfig",
    ("GET", "/fapi/v1/accountConfig"): "accountConfig",
    ("GET", "/fapi/v1/rateLimit/order"): "rateLimit.order",
    ("GET", "/fapi/v1/leverageBracket"): "leverageBracket",
    ("GET", "/fapi/v2/account"): "account.status",
    ("GET", "/fapi/v3/account"): "v2/account.status",
    ("GET", "/fapi/v2/balance"): "account.balance",
    ("GET", "/fapi/v3/balance"): "v2/account.balance",
    ("GET", "/fapi/v2/positionRisk"): "account.position",
    ("GET", "/fapi/v3/positionRisk"): "v2/account.position",
    ("POST", "/fapi/v1/order"): "order.place",
    ("DELETE", "/fapi/v1/order"): "order.cancel",
    ("PUT", "/fapi/v1/order"): "order.modify",
    ("GET", "/fapi/v1/order"): "order.status",
    ("GET", "/fapi/v1/openOrders"): "openOrders",
    ("GET", "/fapi/v1/openOrder"): "openOrder",
    ("GET", "/fapi/v1/allOrders"): "allOrders",
    ("DELETE", "/fapi/v1/allOpenOrders"): "allOpenOrders.cancel",
    ("GET", "/fapi/v1/userTrades"): "userTrades",
    ("POST", "/fapi/v1/algoOrder"): "algoOrder.place",
    ("DELETE", "/fapi/v1/algoOrder"): "algoOrder.cancel",
    ("GET", "/fapi/v1/algoOrder"): "algoOrder.status",
    ("GET", "/fapi/v1/openAlgoOrders"): "openAlgoOrders",
    ("GET", "/fapi/v1/allAlgoOrders"): "allAlgoOrders",
    ("DELETE", "/fapi/v1/algoOpenOrders"): "algoOpenOrders.cancel",
    ("POST", "/fapi/v1/listenKey"): "userDataStream.start",
    ("PUT", "/fapi/v1/listenKey"): "userDataStream.ping",
    ("DELETE", "/fapi/v1/listenKey"): "userDataStream.stop",
    ("GET", "/sapi/v1/account/apiRestrictions"): "apiRestrictions",
}

# Methods the WS API serves (REST-only endpoints such as leverage and exchangeInfo are absent, §2.3).
WS_METHODS: frozenset[str] = frozenset(
    {
        "order.place",
        "order.cancel",
        "order.modify",
        "order.status",
        "algoOrder.place",
        "algoOrder.cancel",
        "account.status",
        "v2/account.status",
        "account.balance",
        "v2/account.balance",
        "account.position",
        "v2/account.position",
        "userDataStream.start",
        "userDataStream.ping",
        "userDataStream.stop",
        "depth",
        "ticker.price",
        "ticker.book",
    }
)

__all__ = ["ENDPOINTS", "REST_ROUTES", "WS_METHODS", "Ctx", "Endpoint", "Exchange", "check_client_id"]
