"""Engine values → Binance JSON (binance.md §2.5, §4.3–4.6, §5.2–5.4, §7.1; market streams per the
docs pages named in marketdata.py). Pure.

Numbers travel as strings at the symbol's precision, as Binance prints them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sidedesk_sim.binance.marketdata import Candle, Rolling
from sidedesk_sim.engine import (
    AccountSummary,
    AccountUpdate,
    AggTrade,
    AlgoOrder,
    AlgoUpdate,
    BalanceView,
    BookTickerUpdate,
    ConfigUpdate,
    ExecType,
    Instrument,
    MarketSnapshot,
    Order,
    OrderType,
    OrderUpdate,
    PositionView,
    TimeInForce,
)

ZERO = Decimal(0)
STP_DEFAULT = "EXPIRE_MAKER"  # observed default (binance.md §6.2, §11 #7)


def fmt(value: Decimal, min_dp: int, max_dp: int = 8) -> str:
    """At least `min_dp` decimals, at most `max_dp`, no exponent (Binance never sends `1E+3`)."""
    q = value.quantize(Decimal(1).scaleb(-max_dp), rounding=ROUND_HALF_UP)
    text = f"{q:f}"
    if "." in text:
        head, tail = text.split(".")
        tail = tail.rstrip("0")
        if len(tail) < min_dp:
            tail = tail + "0" * (min_dp - len(tail))
        text = f"{head}.{tail}" if tail else head
    elif min_dp > 0:
        text = f"{text}.{'0' * min_dp}"
    return text


def px(inst: Instrument, value: Decimal) -> str:
    return fmt(value, inst.price_precision)


def qty(inst: Instrument, value: Decimal) -> str:
    return fmt(value, inst.quantity_precision)


def ev_num(value: Decimal | None) -> str:
    """User-stream style: plain decimal, `"0"` for zero (as in the docs' examples)."""
    if value is None or value == ZERO:
        return "0"
    return fmt(value, 0)


def usd(value: Decimal) -> str:
    return fmt(value, 8, 8)


def _tif(order_tif: TimeInForce) -> str:
    return order_tif.value


def order_result(
    order: Order, inst: Instrument, *, variant: str = "rest", modify_id: int | None = None
) -> dict[str, Any]:
    """A regular order as order.place/cancel/modify/status and the REST order endpoints return it.

    `variant`: "ws_place" drops avgPrice/cumQuote (SDK 13/14, 2026-07), "ws_cancel" drops cumQuote,
    "status" adds `time`, "rest" keeps every field.
    """
    out: dict[str, Any] = {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": order.status.value,
        "clientOrderId": order.client_id,
        "price": px(inst, order.price),
        "avgPrice": fmt(order.avg_price, inst.price_precision),
        "origQty": qty(inst, order.quantity),
        "executedQty": qty(inst, order.executed_qty),
        "cumQty": qty(inst, order.executed_qty),
        "cumQuote": fmt(order.cum_quote, 5),
        "timeInForce": _tif(order.time_in_force),
        "type": order.type.value,
        "reduceOnly": order.reduce_only,
        "closePosition": order.close_position,
        "side": order.side.value,
        "positionSide": order.position_side.value,
        "stopPrice": px(inst, order.stop_price),
        "workingType": order.working_type.value,
        "priceProtect": order.price_protect,
        "origType": order.orig_type.value,
        "priceMatch": "NONE",
        "selfTradePreventionMode": STP_DEFAULT,
        "goodTillDate": 0,
        "updateTime": order.update_ms,
    }
    if variant == "ws_place":
        del out["avgPrice"], out["cumQuote"]
    elif variant == "ws_cancel":
        del out["cumQuote"]
    if variant in ("ws_cancel", "rest_cancel") and order.orig_type is OrderType.TRAILING_STOP_MARKET:
        out["activatePrice"] = px(inst, order.activation_price or ZERO)
        out["priceRate"] = ev_num(order.callback_rate)
    if variant == "status":
        out["time"] = order.create_ms
    if modify_id is not None:
        out["modifyId"] = modify_id
    return out


def algo_result(algo: AlgoOrder, inst: Instrument, *, rest: bool = False) -> dict[str, Any]:
    """algoOrder.place / GET /fapi/v1/algoOrder shape (binance.md §2.5)."""
    out: dict[str, Any] = {
        "algoId": algo.algo_id,
        "clientAlgoId": algo.client_id,
        "algoType": "CONDITIONAL",
        "orderType": algo.type.value,
        "symbol": algo.symbol,
        "side": algo.side.value,
        "positionSide": algo.position_side.value,
        "timeInForce": algo.time_in_force.value,
        "quantity": qty(inst, algo.quantity),
        "algoStatus": algo.status.value,
        "triggerPrice": px(inst, algo.trigger_price),
        "price": px(inst, algo.price),
        "icebergQuantity": None,
        "selfTradePreventionMode": STP_DEFAULT,
        "workingType": algo.working_type.value,
        "priceMatch": "NONE",
        "closePosition": algo.close_position,
        "priceProtect": algo.price_protect,
        "reduceOnly": algo.reduce_only,
        "createTime": algo.create_ms,
        "updateTime": algo.update_ms,
        "triggerTime": algo.trigger_ms,
        "goodTillDate": 0,
    }
    if rest or algo.type is OrderType.TRAILING_STOP_MARKET:
        trailing = algo.type is OrderType.TRAILING_STOP_MARKET
        out["activatePrice"] = px(inst, algo.activation_price) if trailing and algo.activation_price else ""
        out["callbackRate"] = ev_num(algo.callback_rate) if trailing else ""
    if algo.order_id is not None:
        out["actualOrderId"] = str(algo.order_id)
        out["actualPrice"] = fmt(algo.avg_price, 0)
    return out


# ---- user-data events ------------------------------------------------------------------------


def order_trade_update(ev: OrderUpdate, inst: Instrument, event_ms: int) -> dict[str, Any]:
    o = ev.order
    f = ev.fill
    body: dict[str, Any] = {
        "s": o.symbol,
        "c": o.client_id,
        "S": o.side.value,
        "o": o.type.value,
        "f": o.time_in_force.value,
        "q": ev_num(o.quantity),
        "p": ev_num(o.price),
        "ap": ev_num(o.avg_price),
        "sp": ev_num(o.stop_price),
        "x": ev.exec_type.value,
        "X": o.status.value,
        "i": o.order_id,
        "l": ev_num(f.qty) if f else "0",
        "z": ev_num(o.executed_qty),
        "L": ev_num(f.price) if f else "0",
        "T": ev.time_ms,
        "t": f.trade_id if f else 0,
        "b": "0",
        "a": "0",
        "m": f.maker if f else False,
        "R": o.reduce_only,
        "wt": o.working_type.value,
        "ot": o.orig_type.value,
        "ps": o.position_side.value,
        "cp": o.close_position,
        "rp": ev_num(f.realized_pnl) if f else "0",
        "pP": o.price_protect,
        "si": 0,
        "ss": 0,
        "V": STP_DEFAULT,
        "pm": "NONE",
        "gtd": 0,
        "er": str(int(o.expire_reason)),
    }
    if f is not None and f.commission != ZERO:
        body["N"] = f.commission_asset
        body["n"] = ev_num(f.commission)
    if o.orig_type is OrderType.TRAILING_STOP_MARKET:
        body["AP"] = ev_num(o.activation_price)
        body["cr"] = ev_num(o.callback_rate)
    return {"e": "ORDER_TRADE_UPDATE", "E": event_ms, "T": ev.time_ms, "o": body}


def trade_lite(ev: OrderUpdate, event_ms: int) -> dict[str, Any]:
    o, f = ev.order, ev.fill
    assert f is not None
    return {
        "e": "TRADE_LITE",
        "E": event_ms,
        "T": ev.time_ms,
        "s": o.symbol,
        "q": ev_num(o.quantity),
        "p": ev_num(o.price),
        "m": f.maker,
        "c": o.client_id,
        "S": o.side.value,
        "L": ev_num(f.price),
        "l": ev_num(f.qty),
        "t": f.trade_id,
        "i": o.order_id,
    }


def account_update(ev: AccountUpdate, event_ms: int) -> dict[str, Any]:
    return {
        "e": "ACCOUNT_UPDATE",
        "E": event_ms,
        "T": ev.time_ms,
        "a": {
            "m": ev.reason.value,
            "B": [
                {"a": b.asset, "wb": ev_num(b.wallet_balance), "cw": ev_num(b.cross_wallet_balance),
                 "bc": ev_num(b.balance_change)}
                for b in ev.balances
            ],
            "P": [
                {"s": p.symbol, "pa": ev_num(p.amount), "ep": ev_num(p.entry_price),
                 "bep": ev_num(p.break_even_price), "cr": ev_num(p.realized_pnl),
                 "up": ev_num(p.unrealized_pnl), "mt": p.margin_type, "iw": "0",
                 "ps": p.position_side.value, "ma": p.margin_asset}
                for p in ev.positions
            ],
        },
    }  # fmt: skip


def algo_update(ev: AlgoUpdate, inst: Instrument, event_ms: int) -> dict[str, Any]:
    a = ev.algo
    body: dict[str, Any] = {
        "caid": a.client_id,
        "aid": a.algo_id,
        "at": "CONDITIONAL",
        "o": a.type.value,
        "s": a.symbol,
        "S": a.side.value,
        "ps": a.position_side.value,
        "f": a.time_in_force.value,
        "q": ev_num(a.quantity),
        "X": a.status.value,
        "ai": str(a.order_id) if a.order_id is not None else "",
        "ap": fmt(a.avg_price, 5),
        "aq": fmt(a.executed_qty, 5),
        "act": a.actual_type.value if a.actual_type is not None else "0",
        "tp": ev_num(
            a.trigger_price if a.type is not OrderType.TRAILING_STOP_MARKET else a.trailing_stop_price
        ),
        "p": ev_num(a.price),
        "V": STP_DEFAULT,
        "wt": a.working_type.value,
        "pm": "NONE",
        "cp": a.close_position,
        "pP": a.price_protect,
        "R": a.reduce_only,
        "tt": a.trigger_ms,
        "gtd": 0,
        "rm": a.reason,
    }
    if a.type is OrderType.TRAILING_STOP_MARKET:
        body["ia"] = a.activated
        body["AP"] = ev_num(a.activation_price)
        body["cr"] = ev_num(a.callback_rate)
    return {"e": "ALGO_UPDATE", "T": ev.time_ms, "E": event_ms, "o": body}


def config_update(ev: ConfigUpdate, event_ms: int) -> dict[str, Any]:
    return {
        "e": "ACCOUNT_CONFIG_UPDATE",
        "E": event_ms,
        "T": ev.time_ms,
        "ac": {"s": ev.symbol, "l": ev.leverage},
    }


def listen_key_expired(key: str, event_ms: int) -> dict[str, Any]:
    return {"e": "listenKeyExpired", "E": event_ms, "listenKey": key}


# ---- market streams --------------------------------------------------------------------------


def mark_price_update(m: MarketSnapshot, inst: Instrument, event_ms: int) -> dict[str, Any]:
    dp = max(inst.price_precision, 8)
    return {
        "e": "markPriceUpdate",
        "E": event_ms,
        "s": m.symbol,
        "p": fmt(m.mark_price, dp),
        "ap": fmt(m.mark_price, dp),
        "i": fmt(m.index_price, dp),
        "P": fmt(m.index_price, dp),
        "r": fmt(m.funding_rate, 8),
        "T": m.next_funding_ms,
    }


def book_ticker(b: BookTickerUpdate, inst: Instrument, event_ms: int) -> dict[str, Any]:
    return {
        "e": "bookTicker",
        "u": b.update_id,
        "E": event_ms,
        "T": b.time_ms,
        "s": b.symbol,
        "b": px(inst, b.bid),
        "B": qty(inst, b.bid_qty),
        "a": px(inst, b.ask),
        "A": qty(inst, b.ask_qty),
    }


def agg_trade(t: AggTrade, inst: Instrument, event_ms: int) -> dict[str, Any]:
    return {
        "e": "aggTrade",
        "E": event_ms,
        "s": t.symbol,
        "a": t.agg_id,
        "p": px(inst, t.price),
        "q": qty(inst, t.qty),
        "nq": qty(inst, t.qty),
        "f": t.first_trade_id,
        "l": t.last_trade_id,
        "T": t.time_ms,
        "m": t.buyer_is_maker,
    }


def trade(t: AggTrade, inst: Instrument, event_ms: int) -> dict[str, Any]:
    """`<symbol>@trade`: not in the USDⓈ-M docs but served (on `/public`, binance.md §5.1); the frame
    as observed (JKorf/Binance.Net#1218, ccxt/ccxt#20137). Each engine trade is one trade id."""
    return {
        "e": "trade",
        "E": event_ms,
        "T": t.time_ms,
        "s": t.symbol,
        "t": t.first_trade_id,
        "p": px(inst, t.price),
        "q": qty(inst, t.qty),
        "X": "MARKET",
        "m": t.buyer_is_maker,
    }


def _fixed(value: Decimal, dp: int) -> str:
    return fmt(value, dp, dp)


def ticker_24h(r: Rolling, inst: Instrument, event_ms: int) -> dict[str, Any]:
    """`<symbol>@ticker` / `!ticker@arr` (`24hrTicker`); the percentage has 3 decimals as in the
    REST `/fapi/v1/ticker/24hr` example ("-95.960")."""
    pp = inst.price_precision
    return {
        "e": "24hrTicker",
        "E": event_ms,
        "s": r.symbol,
        "p": _fixed(r.change, pp),
        "P": _fixed(r.change_percent, 3),
        "w": _fixed(r.weighted_avg, pp),
        "c": px(inst, r.last),
        "Q": qty(inst, r.last_qty),
        "o": px(inst, r.open),
        "h": px(inst, r.high),
        "l": px(inst, r.low),
        "v": qty(inst, r.volume),
        "q": _fixed(r.quote_volume, 2),
        "O": r.open_ms,
        "C": r.close_ms,
        "F": r.first_id,
        "L": r.last_id,
        "n": r.count,
    }


def mini_ticker(r: Rolling, inst: Instrument, event_ms: int) -> dict[str, Any]:
    """`<symbol>@miniTicker` / `!miniTicker@arr` (`24hrMiniTicker`)."""
    return {
        "e": "24hrMiniTicker",
        "E": event_ms,
        "s": r.symbol,
        "c": px(inst, r.last),
        "o": px(inst, r.open),
        "h": px(inst, r.high),
        "l": px(inst, r.low),
        "v": qty(inst, r.volume),
        "q": _fixed(r.quote_volume, 2),
    }


def kline(
    c: Candle, symbol: str, interval: str, inst: Instrument, event_ms: int, closed: bool
) -> dict[str, Any]:
    """`<symbol>@kline_<interval>`; `x` is true on the kline's final update."""
    return {
        "e": "kline",
        "E": event_ms,
        "s": symbol,
        "k": {
            "t": c.open_ms,
            "T": c.close_ms,
            "s": symbol,
            "i": interval,
            "f": c.first_id,
            "L": c.last_id,
            "o": px(inst, c.open),
            "c": px(inst, c.close),
            "h": px(inst, c.high),
            "l": px(inst, c.low),
            "v": qty(inst, c.volume),
            "n": c.count,
            "x": closed,
            "q": _fixed(c.quote_volume, 4),
            "V": qty(inst, c.taker_buy_volume),
            "Q": _fixed(c.taker_buy_quote, 4),
            "B": "0",
        },
    }


# ---- account snapshots -------------------------------------------------------------------------


def position_v2(p: PositionView, inst: Instrument) -> dict[str, Any]:
    """/fapi/v3/positionRisk and v2/account.position row."""
    return {
        "symbol": p.symbol,
        "positionSide": p.position_side.value,
        "positionAmt": qty(inst, p.amount),
        "entryPrice": fmt(p.entry_price, 1),
        "breakEvenPrice": fmt(p.break_even_price, 1),
        "markPrice": fmt(p.mark_price, 8),
        "unRealizedProfit": usd(p.unrealized_pnl),
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": usd(p.notional),
        "marginAsset": p.margin_asset,
        "isolatedWallet": "0",
        "initialMargin": usd(p.initial_margin),
        "maintMargin": usd(p.maint_margin),
        "positionInitialMargin": usd(p.initial_margin),
        "openOrderInitialMargin": usd(p.open_order_initial_margin),
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": p.update_ms,
    }


def position_v1(p: PositionView, inst: Instrument) -> dict[str, Any]:
    """/fapi/v2/positionRisk and account.position (v1) row: adds leverage and margin type."""
    return {
        "symbol": p.symbol,
        "positionAmt": qty(inst, p.amount),
        "entryPrice": fmt(p.entry_price, 1),
        "breakEvenPrice": fmt(p.break_even_price, 1),
        "markPrice": fmt(p.mark_price, 8),
        "unRealizedProfit": usd(p.unrealized_pnl),
        "liquidationPrice": "0",
        "leverage": str(p.leverage),
        "maxNotionalValue": "1000000",
        "marginType": p.margin_type,
        "isolatedMargin": "0.00000000",
        "isAutoAddMargin": "false",
        "positionSide": p.position_side.value,
        "notional": usd(p.notional),
        "isolatedWallet": "0",
        "updateTime": p.update_ms,
    }


def balance_row(b: BalanceView, account_alias: str) -> dict[str, Any]:
    return {
        "accountAlias": account_alias,
        "asset": b.asset,
        "balance": usd(b.wallet_balance),
        "crossWalletBalance": usd(b.wallet_balance),
        "crossUnPnl": usd(b.unrealized_pnl),
        "availableBalance": usd(b.available_balance),
        "maxWithdrawAmount": usd(b.max_withdraw_amount),
        "marginAvailable": True,
        "updateTime": b.update_ms,
    }


def account_asset(b: BalanceView) -> dict[str, Any]:
    return {
        "asset": b.asset,
        "walletBalance": usd(b.wallet_balance),
        "unrealizedProfit": usd(b.unrealized_pnl),
        "marginBalance": usd(b.margin_balance),
        "maintMargin": usd(b.maint_margin),
        "initialMargin": usd(b.initial_margin),
        "positionInitialMargin": usd(b.position_initial_margin),
        "openOrderInitialMargin": usd(b.open_order_initial_margin),
        "crossWalletBalance": usd(b.wallet_balance),
        "crossUnPnl": usd(b.unrealized_pnl),
        "availableBalance": usd(b.available_balance),
        "maxWithdrawAmount": usd(b.max_withdraw_amount),
        "marginAvailable": True,
        "updateTime": b.update_ms,
    }


def account_v2(s: AccountSummary, instruments: dict[str, Instrument], *, v1_extras: bool) -> dict[str, Any]:
    """/fapi/v3/account (v2/account.status); `v1_extras` adds the v2-REST / v1-WS fields."""
    positions = []
    for p in s.positions:
        inst = instruments[p.symbol]
        row: dict[str, Any] = {
            "symbol": p.symbol,
            "positionSide": p.position_side.value,
            "positionAmt": qty(inst, p.amount),
            "unrealizedProfit": usd(p.unrealized_pnl),
            "isolatedMargin": "0",
            "notional": usd(p.notional),
            "isolatedWallet": "0",
            "initialMargin": usd(p.initial_margin),
            "maintMargin": usd(p.maint_margin),
            "updateTime": p.update_ms,
        }
        if v1_extras:
            row.update(
                {
                    "leverage": str(p.leverage),
                    "isolated": False,
                    "entryPrice": fmt(p.entry_price, 1),
                    "breakEvenPrice": fmt(p.break_even_price, 1),
                    "maxNotional": "1000000",
                    "positionInitialMargin": usd(p.initial_margin),
                    "openOrderInitialMargin": usd(p.open_order_initial_margin),
                    "bidNotional": "0",
                    "askNotional": "0",
                }
            )
        positions.append(row)
    out: dict[str, Any] = {
        "totalInitialMargin": usd(s.total_initial_margin),
        "totalMaintMargin": usd(s.total_maint_margin),
        "totalWalletBalance": usd(s.total_wallet_balance),
        "totalUnrealizedProfit": usd(s.total_unrealized_pnl),
        "totalMarginBalance": usd(s.total_margin_balance),
        "totalPositionInitialMargin": usd(s.total_position_initial_margin),
        "totalOpenOrderInitialMargin": usd(s.total_open_order_initial_margin),
        "totalCrossWalletBalance": usd(s.total_wallet_balance),
        "totalCrossUnPnl": usd(s.total_unrealized_pnl),
        "availableBalance": usd(s.available_balance),
        "maxWithdrawAmount": usd(s.max_withdraw_amount),
        "assets": [account_asset(b) for b in s.assets],
        "positions": positions,
    }
    if v1_extras:
        out.update(
            {
                "feeTier": 0,
                "canTrade": True,
                "canDeposit": True,
                "canWithdraw": True,
                "feeBurn": False,
                "tradeGroupId": -1,
                "updateTime": 0,
                "multiAssetsMargin": False,
            }
        )
    return out


# ---- exchangeInfo ------------------------------------------------------------------------------


def symbol_info(inst: Instrument) -> dict[str, Any]:
    return {
        "symbol": inst.symbol,
        "pair": inst.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": inst.onboard_ms,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": inst.base_asset,
        "quoteAsset": inst.quote_asset,
        "marginAsset": inst.margin_asset,
        "pricePrecision": inst.price_precision,
        "quantityPrecision": inst.quantity_precision,
        "baseAssetPrecision": inst.base_asset_precision,
        "quotePrecision": inst.quote_precision,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": f"{inst.trigger_protect:f}",
        "liquidationFee": f"{inst.liquidation_fee:f}",
        "marketTakeBound": f"{inst.market_take_bound:f}",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": f"{inst.min_price:f}",
             "maxPrice": f"{inst.max_price:f}", "tickSize": f"{inst.tick_size:f}"},
            {"filterType": "LOT_SIZE", "minQty": f"{inst.min_qty:f}", "maxQty": f"{inst.max_qty:f}",
             "stepSize": f"{inst.step_size:f}"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": f"{inst.market_min_qty:f}",
             "maxQty": f"{inst.market_max_qty:f}", "stepSize": f"{inst.market_step_size:f}"},
            {"filterType": "MAX_NUM_ORDERS", "limit": inst.max_num_orders},
            {"filterType": "MIN_NOTIONAL", "notional": f"{inst.min_notional:f}"},
            {"filterType": "PERCENT_PRICE", "multiplierUp": f"{inst.multiplier_up:f}",
             "multiplierDown": f"{inst.multiplier_down:f}",
             "multiplierDecimal": str(inst.multiplier_decimal)},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                       "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        "permissionSets": ["GRID", "COPY"],
    }  # fmt: skip


def exchange_info(
    instruments: dict[str, Instrument], rate_limits: list[dict[str, Any]], now_ms: int
) -> dict[str, Any]:
    assets = sorted({i.margin_asset for i in instruments.values()})
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": rate_limits,
        "exchangeFilters": [],
        "assets": [{"asset": a, "marginAvailable": True, "autoAssetExchange": "-10000"} for a in assets],
        "symbols": [symbol_info(i) for i in instruments.values()],
    }


def is_trade(ev: OrderUpdate) -> bool:
    return ev.exec_type is ExecType.TRADE and ev.fill is not None
