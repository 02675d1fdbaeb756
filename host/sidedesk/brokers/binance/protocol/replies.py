"""WS API and REST results → OrderAck / OrderEvent / PositionEvent / BalanceEvent. Pure.

Readers raise `MalformedMessage`; the session turns that into a BrokerError ("internal" for reads,
"unknown_outcome" for order entry, since the exchange may have acted on the request).
Optional fields (`avgPrice`, `cumQuote` were dropped in 2026) are read only when present.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sidedesk.brokers.binance.protocol import fields as f
from sidedesk.brokers.binance.protocol.fields import MalformedMessage
from sidedesk.domain import BalanceEvent, OrderAck, OrderEvent, PositionEvent

_ZERO = Decimal(0)


def order_ack(result: Any) -> OrderAck:
    """order.place / order.cancel / order.modify / order.status result."""
    r = f.obj(result, "result")
    return OrderAck(
        order_id=f.text(r, "orderId"),
        client_id=str(r.get("clientOrderId", "")),
        status=f.order_status(r.get("status")),
        filled=f.opt_dec(r, "executedQty", zero_is_none=False) or _ZERO,
        avg_price=f.opt_dec(r, "avgPrice"),
        is_conditional=False,
        update_time_ms=f.opt_int(r, "updateTime"),
    )


def algo_ack(result: Any) -> OrderAck:
    """algoOrder.place result (algoStatus) or algoOrder.cancel result (`code`/`msg`, no status)."""
    r = f.obj(result, "result")
    status = f.algo_status(r["algoStatus"]) if "algoStatus" in r else f.order_status("CANCELED")
    return OrderAck(
        order_id=f.text(r, "algoId"),
        client_id=str(r.get("clientAlgoId", "")),
        status=status,
        is_conditional=True,
        update_time_ms=f.opt_int(r, "updateTime"),
    )


def order(r_any: Any, account_id: str) -> OrderEvent:
    """One regular order from order.status or GET /fapi/v1/openOrders."""
    r = f.obj(r_any, "order")
    return OrderEvent(
        account_id=account_id,
        symbol=f.text(r, "symbol"),
        order_id=f.text(r, "orderId"),
        client_id=str(r.get("clientOrderId", "")),
        side=f.side(r.get("side")),
        type=f.order_type(r.get("type")),
        status=f.order_status(r.get("status")),
        quantity=f.dec(r, "origQty"),
        filled=f.opt_dec(r, "executedQty", zero_is_none=False) or _ZERO,
        price=f.opt_dec(r, "price"),
        stop_price=f.opt_dec(r, "stopPrice"),
        avg_price=f.opt_dec(r, "avgPrice"),
        reduce_only=f.flag(r, "reduceOnly"),
        close_position=f.flag(r, "closePosition"),
        position_side=f.position_side(r.get("positionSide")),
        time_in_force=f.time_in_force(r.get("timeInForce")),
        working_type=f.working_type(r.get("workingType")),
        update_time_ms=f.opt_int(r, "updateTime"),
    )


def algo_order(r_any: Any, account_id: str) -> OrderEvent:
    """One algo order from GET /fapi/v1/openAlgoOrders or /fapi/v1/algoOrder."""
    r = f.obj(r_any, "algo order")
    return OrderEvent(
        account_id=account_id,
        symbol=f.text(r, "symbol"),
        order_id=f.text(r, "algoId"),
        client_id=str(r.get("clientAlgoId", "")),
        side=f.side(r.get("side")),
        type=f.order_type(r.get("orderType") or r.get("type")),
        status=f.algo_status(r.get("algoStatus")),
        quantity=f.opt_dec(r, "quantity") or _ZERO,
        filled=f.opt_dec(r, "executedQty", zero_is_none=False) or _ZERO,
        price=f.opt_dec(r, "price"),
        stop_price=f.opt_dec(r, "triggerPrice"),
        reduce_only=f.flag(r, "reduceOnly"),
        close_position=f.flag(r, "closePosition"),
        position_side=f.position_side(r.get("positionSide")),
        time_in_force=f.time_in_force(r.get("timeInForce")),
        is_conditional=True,
        callback_rate_pct=f.opt_dec(r, "callbackRate"),
        activation_price=f.opt_dec(r, "activatePrice"),
        working_type=f.working_type(r.get("workingType")),
        triggered_order_id=str(r["actualOrderId"]) if r.get("actualOrderId") not in (None, "", 0) else None,
        update_time_ms=f.opt_int(r, "updateTime"),
    )


def orders(result: Any, account_id: str, *, algo: bool = False) -> tuple[OrderEvent, ...]:
    if not isinstance(result, list):
        raise MalformedMessage("expected a list of orders")
    parse = algo_order if algo else order
    return tuple(parse(item, account_id) for item in result)


def positions(result: Any, account_id: str, ts_ms: int = 0) -> tuple[PositionEvent, ...]:
    """v2/account.position (or GET /fapi/v3/positionRisk) rows; flat rows are kept (quantity 0)."""
    if not isinstance(result, list):
        raise MalformedMessage("expected a list of positions")
    out: list[PositionEvent] = []
    for item in result:
        p: Mapping[str, Any] = f.obj(item, "position")
        lev = p.get("leverage")
        out.append(
            PositionEvent(
                account_id,
                f.text(p, "symbol"),
                f.position_side(p.get("positionSide")),
                f.dec(p, "positionAmt"),
                f.opt_dec(p, "entryPrice", zero_is_none=False) or _ZERO,
                unrealized_pnl=f.opt_dec(p, "unRealizedProfit", zero_is_none=False)
                if "unRealizedProfit" in p
                else f.opt_dec(p, "unrealizedProfit", zero_is_none=False),
                break_even_price=f.opt_dec(p, "breakEvenPrice"),
                mark_price=f.opt_dec(p, "markPrice"),
                liquidation_price=f.opt_dec(p, "liquidationPrice"),
                leverage=int(lev) if isinstance(lev, str | int) and str(lev).isdigit() else None,
                margin=f.opt_dec(p, "initialMargin") or f.opt_dec(p, "isolatedMargin"),
                ts_ms=f.opt_int(p, "updateTime") or ts_ms,
            )
        )
    return tuple(out)


def balances(result: Any, account_id: str) -> tuple[BalanceEvent, ...]:
    """v2/account.balance rows, or the `assets` of v2/account.status."""
    if not isinstance(result, list):
        raise MalformedMessage("expected a list of balances")
    out: list[BalanceEvent] = []
    for item in result:
        b = f.obj(item, "balance")
        wallet = f.dec(b, "walletBalance") if "walletBalance" in b else f.dec(b, "balance")
        upnl = f.opt_dec(b, "unrealizedProfit", zero_is_none=False)
        if upnl is None:
            upnl = f.opt_dec(b, "crossUnPnl", zero_is_none=False)
        out.append(
            BalanceEvent(
                account_id,
                f.text(b, "asset"),
                wallet,
                available=f.opt_dec(b, "availableBalance", zero_is_none=False),
                equity=f.opt_dec(b, "marginBalance", zero_is_none=False)
                or (wallet + upnl if upnl is not None else None),
                margin_used=f.opt_dec(b, "initialMargin", zero_is_none=False),
                ts_ms=f.opt_int(b, "updateTime"),
            )
        )
    return tuple(out)


def server_time_ms(result: Any) -> int:
    return f.integer(f.obj(result, "time"), "serverTime")


def listen_key(result: Any) -> str:
    return f.text(f.obj(result, "listenKey result"), "listenKey")


def leverages(result: Any) -> dict[str, int]:
    """symbolConfig rows -> {symbol: leverage}; rows without a readable leverage are skipped."""
    if not isinstance(result, list):
        raise MalformedMessage("symbolConfig: expected a list")
    out: dict[str, int] = {}
    for row in result:
        if isinstance(row, dict) and isinstance(row.get("symbol"), str):
            lev = row.get("leverage")
            if isinstance(lev, int) and not isinstance(lev, bool) and lev > 0:
                out[row["symbol"]] = lev
    return out


def dual_side(result: Any) -> bool:
    return f.flag(f.obj(result, "position mode"), "dualSidePosition")
