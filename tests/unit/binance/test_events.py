"""Stream events and replies → normalised events (binance.md §4, §5, §2.5)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from sidedesk.brokers.binance.protocol import replies
from sidedesk.brokers.binance.protocol.events import (
    FillDeduper,
    LeverageChanged,
    ListenKeyExpired,
    parse_stream_frame,
)
from sidedesk.brokers.binance.protocol.fields import MalformedMessage, ParseError
from sidedesk.domain import (
    BalanceEvent,
    FillEvent,
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    QuoteEvent,
    Side,
    TimeInForce,
)

D = Decimal

TRAILING_NEW = {
    "e": "ORDER_TRADE_UPDATE",
    "E": 1568879465651,
    "T": 1568879465650,
    "o": {
        "s": "BTCUSDT",
        "c": "TEST",
        "S": "SELL",
        "o": "TRAILING_STOP_MARKET",
        "f": "GTC",
        "q": "0.001",
        "p": "0",
        "ap": "0",
        "sp": "7103.04",
        "x": "NEW",
        "X": "NEW",
        "i": 8886774,
        "l": "0",
        "z": "0",
        "L": "0",
        "N": "USDT",
        "n": "0",
        "T": 1568879465650,
        "t": 0,
        "b": "0",
        "a": "9.91",
        "m": False,
        "R": False,
        "wt": "CONTRACT_PRICE",
        "ot": "TRAILING_STOP_MARKET",
        "ps": "LONG",
        "cp": False,
        "AP": "7476.89",
        "cr": "5.0",
        "pP": False,
        "si": 0,
        "ss": 0,
        "rp": "0",
        "V": "EXPIRE_TAKER",
        "pm": "OPPONENT",
        "gtd": 0,
        "er": "0",
    },
}
FILL = {
    "e": "ORDER_TRADE_UPDATE",
    "E": 1757660000123,
    "T": 1757660000120,
    "o": {
        "s": "BTCUSDT",
        "c": "sim-entry-1",
        "S": "BUY",
        "o": "MARKET",
        "f": "GTC",
        "q": "0.0007",
        "p": "0",
        "ap": "77290.7",
        "sp": "0",
        "x": "TRADE",
        "X": "FILLED",
        "i": 28581489905,
        "l": "0.0007",
        "z": "0.0007",
        "L": "77290.7",
        "N": "USDT",
        "n": "0.02164139",
        "T": 1757660000120,
        "t": 536962673,
        "b": "0",
        "a": "0",
        "m": False,
        "R": False,
        "wt": "CONTRACT_PRICE",
        "ot": "MARKET",
        "ps": "BOTH",
        "cp": False,
        "rp": "0",
        "pP": False,
        "si": 0,
        "ss": 0,
        "V": "EXPIRE_MAKER",
        "pm": "NONE",
        "gtd": 0,
        "er": "0",
        "new": "ignored",
    },
}


def one(frame: object) -> tuple[object, ...]:
    out = parse_stream_frame(json.dumps(frame), "acc")
    assert not isinstance(out, ParseError), out
    return out


def test_order_trade_update_new_trailing() -> None:
    (ev,) = one(TRAILING_NEW)
    assert isinstance(ev, OrderEvent)
    assert (ev.order_id, ev.client_id, ev.side, ev.type, ev.status) == (
        "8886774",
        "TEST",
        Side.SELL,
        OrderType.TRAILING_STOP_MARKET,
        OrderStatus.NEW,
    )
    assert ev.position_side is PositionSide.LONG and ev.callback_rate_pct == D("5.0")
    assert ev.activation_price == D("7476.89") and ev.price is None and ev.time_in_force is TimeInForce.GTC
    assert ev.account_id == "acc" and ev.event_time_ms == 1568879465651 and not ev.is_conditional


def test_order_trade_update_fill_gives_fill_then_order() -> None:
    fill, order = one(FILL)
    assert isinstance(fill, FillEvent) and isinstance(order, OrderEvent)
    assert (fill.trade_id, fill.quantity, fill.price, fill.fee, fill.fee_asset) == (
        "536962673",
        D("0.0007"),
        D("77290.7"),
        D("0.02164139"),
        "USDT",
    )
    assert fill.realized_pnl == 0 and order.status is OrderStatus.FILLED and order.avg_price == D("77290.7")


def test_combined_stream_wrapping_and_expiry_reason() -> None:
    o = dict(FILL["o"], x="EXPIRED", X="EXPIRED", er="9")  # type: ignore[arg-type]
    (ev,) = one({"stream": "x", "data": dict(FILL, o=o)})
    assert (
        isinstance(ev, OrderEvent)
        and ev.status is OrderStatus.EXPIRED
        and "remainder" in (ev.reject_reason or "")
    )


def test_stp_expired_in_match_maps_to_expired() -> None:
    (ev,) = one(dict(FILL, o=dict(FILL["o"], x="EXPIRED", X="EXPIRED_IN_MATCH", er="1")))  # type: ignore[arg-type]
    assert isinstance(ev, OrderEvent) and ev.status is OrderStatus.EXPIRED


def test_trade_lite_and_dedup_with_order_trade_update() -> None:
    (lite,) = one(
        {
            "e": "TRADE_LITE",
            "E": 1,
            "T": 2,
            "s": "BTCUSDT",
            "q": "0.001",
            "p": "0",
            "m": False,
            "c": "z8",
            "S": "BUY",
            "L": "64089.20",
            "l": "0.040",
            "t": 109100866,
            "i": 8886774,
        }
    )
    assert isinstance(lite, FillEvent) and lite.quantity == D("0.040") and lite.fee == 0 and lite.ts_ms == 2
    dedup = FillDeduper(capacity=2)
    fill_ = one(dict(FILL, o=dict(FILL["o"], i=8886774, t=109100866)))[0]  # type: ignore[arg-type]
    assert isinstance(fill_, FillEvent)
    assert dedup.first_time(lite) and not dedup.first_time(fill_)
    # bounded memory: the oldest key is forgotten
    for t in ("a", "b"):
        assert dedup.first_time(FillEvent("acc", "X", "1", "", t, Side.BUY, D(1), D(1), D(0), ""))
    assert dedup.first_time(lite)


def test_account_update() -> None:
    evs = one(
        {
            "e": "ACCOUNT_UPDATE",
            "E": 1564745798939,
            "T": 1564745798938,
            "a": {
                "m": "ORDER",
                "B": [{"a": "USDT", "wb": "122624.12345678", "cw": "100.12345678", "bc": "50"}],
                "P": [
                    {
                        "s": "BTCUSDT",
                        "pa": "-20",
                        "ep": "6563.66500",
                        "bep": "0",
                        "cr": "0",
                        "up": "2850.21200",
                        "mt": "isolated",
                        "iw": "13200.70726908",
                        "ps": "SHORT",
                        "ma": "USDT",
                    }
                ],
            },
        }
    )
    bal, pos = evs
    assert (
        isinstance(bal, BalanceEvent) and bal.wallet_balance == D("122624.12345678") and bal.reason == "ORDER"
    )
    assert (
        isinstance(pos, PositionEvent) and pos.quantity == D(-20) and pos.position_side is PositionSide.SHORT
    )
    assert (
        pos.unrealized_pnl == D("2850.21200") and pos.break_even_price is None and pos.ts_ms == 1564745798938
    )


def test_funding_fee_without_positions() -> None:
    evs = one(
        {
            "e": "ACCOUNT_UPDATE",
            "E": 1,
            "T": 2,
            "a": {"m": "FUNDING_FEE", "S": "BTCUSDT", "B": [{"a": "USDT", "wb": "1", "cw": "1", "bc": "0"}]},
        }
    )
    assert len(evs) == 1


def test_algo_update_canceled_with_reason() -> None:
    (ev,) = one(
        {
            "e": "ALGO_UPDATE",
            "T": 1750515742297,
            "E": 1750515742303,
            "o": {
                "caid": "Q5x",
                "aid": 2148719,
                "at": "CONDITIONAL",
                "o": "TAKE_PROFIT",
                "s": "BNBUSDT",
                "S": "SELL",
                "ps": "BOTH",
                "f": "GTC",
                "q": "0.01",
                "X": "CANCELED",
                "ai": "",
                "ap": "0.00000",
                "aq": "0.00000",
                "act": "0",
                "tp": "750",
                "p": "750",
                "V": "EXPIRE_MAKER",
                "wt": "CONTRACT_PRICE",
                "pm": "NONE",
                "cp": False,
                "pP": False,
                "R": False,
                "tt": 0,
                "gtd": 0,
                "rm": "Reduce Only reject",
            },
        }
    )
    assert (
        isinstance(ev, OrderEvent)
        and ev.is_conditional
        and ev.order_id == "2148719"
        and ev.client_id == "Q5x"
    )
    assert ev.type is OrderType.TAKE_PROFIT_LIMIT and ev.status is OrderStatus.CANCELED
    assert (
        ev.stop_price == D(750) and ev.reject_reason == "Reduce Only reject" and ev.triggered_order_id is None
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("NEW", OrderStatus.NEW),
        ("TRIGGERING", OrderStatus.NEW),
        ("TRIGGERED", OrderStatus.TRIGGERED),
        ("FINISHED", OrderStatus.TRIGGERED),
        ("REJECTED", OrderStatus.REJECTED),
        ("EXPIRED", OrderStatus.EXPIRED),
    ],
)
def test_algo_statuses(status: str, expected: OrderStatus) -> None:
    (ev,) = one(
        {
            "e": "ALGO_UPDATE",
            "T": 1,
            "E": 2,
            "o": {
                "caid": "c",
                "aid": 1,
                "o": "STOP_MARKET",
                "s": "BTCUSDT",
                "S": "SELL",
                "q": "0",
                "X": status,
                "ai": 77,
                "cp": True,
                "f": "GTE_GTC",
                "tp": "1",
            },
        }
    )
    assert (
        isinstance(ev, OrderEvent)
        and ev.status is expected
        and ev.close_position
        and ev.time_in_force is None
    )
    assert ev.triggered_order_id == "77"


def test_listen_key_expired_and_leverage_config() -> None:
    (ev,) = one({"e": "listenKeyExpired", "E": 1736996475556, "listenKey": "WsCMN"})
    assert ev == ListenKeyExpired("WsCMN", 1736996475556)
    (lev,) = one({"e": "ACCOUNT_CONFIG_UPDATE", "E": 3, "T": 2, "ac": {"s": "BTCUSDT", "l": 25}})
    assert lev == LeverageChanged("BTCUSDT", 25, 3)
    assert one({"e": "ACCOUNT_CONFIG_UPDATE", "E": 3, "ai": {"j": True}}) == ()


def test_mark_price_and_book_ticker() -> None:
    (mp,) = one(
        {
            "e": "markPriceUpdate",
            "E": 1562305380000,
            "s": "BTCUSDT",
            "p": "11794.15000000",
            "ap": "1",
            "i": "11784.62659091",
            "P": "11784.25641265",
            "r": "0.00038167",
            "T": 1562306400000,
            "st": 1,
        }
    )
    assert mp == QuoteEvent("BTCUSDT", mark=D("11794.15000000"), ts_ms=1562305380000)
    (bt,) = one(
        {
            "stream": "bnbusdt@bookTicker",
            "data": {
                "e": "bookTicker",
                "u": 400900217,
                "E": 1568014460893,
                "T": 1568014460891,
                "s": "BNBUSDT",
                "b": "25.35190000",
                "B": "31.21000000",
                "a": "25.36520000",
                "A": "40.66000000",
            },
        }
    )
    assert bt == QuoteEvent("BNBUSDT", bid=D("25.35190000"), ask=D("25.36520000"), ts_ms=1568014460893)
    arr = one(
        [
            {"e": "markPriceUpdate", "E": 1, "s": "A", "p": "1"},
            {"e": "markPriceUpdate", "E": 1, "s": "B", "p": "2"},
        ]
    )
    assert [q.symbol for q in arr] == ["A", "B"]  # type: ignore[attr-defined]


def test_unknown_events_and_subscribe_replies_are_ignored() -> None:
    assert one({"e": "MARGIN_CALL", "E": 1}) == ()
    assert one({"result": None, "id": 1}) == ()


@pytest.mark.parametrize(
    "frame",
    [
        "garbage",
        '{"e":"ORDER_TRADE_UPDATE","E":1}',
        '{"e":"ORDER_TRADE_UPDATE","E":1,"o":[]}',
        '{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"X","i":1,"S":"UP","o":"LIMIT","X":"NEW","q":"1","z":"0"}}',
        '{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"X","i":1,"S":"BUY","o":"WEIRD","X":"NEW","q":"1","z":"0"}}',
        '{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"X","i":1,"S":"BUY","o":"LIMIT","X":"NEW","q":"abc","z":"0"}}',
        '{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"X","i":1,"S":"BUY","o":"LIMIT","X":"NEW","q":"NaN","z":"0"}}',
        '{"e":"ACCOUNT_UPDATE","E":1,"a":{"B":[{"a":"USDT"}]}}',
        '{"e":"markPriceUpdate","s":"X","p":true}',
        '{"e":"ALGO_UPDATE","o":{"aid":1,"s":"X","S":"BUY","o":"STOP_MARKET","X":"WHAT"}}',
        "[1]",
        "3",
    ],
)
def test_malformed_frames_are_parse_errors(frame: str) -> None:
    assert isinstance(parse_stream_frame(frame, "acc"), ParseError)


# -- replies --------------------------------------------------------------------------------------

PLACE_RESULT = {
    "orderId": 325078477,
    "symbol": "BTCUSDT",
    "status": "NEW",
    "clientOrderId": "iCXL1",
    "price": "43187.00",
    "avgPrice": "0.00",
    "origQty": "0.100",
    "executedQty": "0.000",
    "cumQty": "0.000",
    "cumQuote": "0.00000",
    "timeInForce": "GTC",
    "type": "LIMIT",
    "reduceOnly": False,
    "closePosition": False,
    "side": "BUY",
    "positionSide": "BOTH",
    "stopPrice": "0.00",
    "workingType": "CONTRACT_PRICE",
    "priceProtect": False,
    "origType": "LIMIT",
    "priceMatch": "NONE",
    "selfTradePreventionMode": "NONE",
    "goodTillDate": 0,
    "updateTime": 1702555534435,
}


def test_order_ack_with_and_without_avg_price() -> None:
    ack = replies.order_ack(PLACE_RESULT)
    assert (ack.order_id, ack.client_id, ack.status, ack.filled, ack.avg_price, ack.update_time_ms) == (
        "325078477",
        "iCXL1",
        OrderStatus.NEW,
        0,
        None,
        1702555534435,
    )
    slim = {k: v for k, v in PLACE_RESULT.items() if k not in ("avgPrice", "cumQuote")}
    assert replies.order_ack(slim).avg_price is None
    ev = replies.order(PLACE_RESULT, "acc")
    assert ev.price == D("43187.00") and ev.stop_price is None and ev.quantity == D("0.100")


def test_algo_ack_place_and_cancel() -> None:
    ack = replies.algo_ack(
        {
            "algoId": 3000000000003505,
            "clientAlgoId": "0Xk",
            "algoType": "CONDITIONAL",
            "orderType": "TAKE_PROFIT",
            "algoStatus": "NEW",
            "updateTime": 5,
        }
    )
    assert ack.is_conditional and ack.order_id == "3000000000003505" and ack.status is OrderStatus.NEW
    c = replies.algo_ack({"algoId": 2000000002162519, "clientAlgoId": "rDM", "code": "200", "msg": "success"})
    assert c.status is OrderStatus.CANCELED and c.client_id == "rDM"


def test_open_algo_orders_rest_shape() -> None:
    (ev,) = replies.orders(
        [
            {
                "algoId": 1,
                "clientAlgoId": "sda1",
                "algoType": "CONDITIONAL",
                "orderType": "TRAILING_STOP_MARKET",
                "symbol": "BTCUSDT",
                "side": "SELL",
                "positionSide": "LONG",
                "quantity": "0.010",
                "algoStatus": "NEW",
                "triggerPrice": "",
                "price": "0",
                "activatePrice": "61000",
                "callbackRate": "1.0",
                "workingType": "MARK_PRICE",
                "updateTime": 9,
            }
        ],
        "acc",
        algo=True,
    )
    assert ev.is_conditional and ev.callback_rate_pct == D("1.0") and ev.stop_price is None
    assert ev.activation_price == D(61000) and ev.position_side is PositionSide.LONG


def test_positions_and_balances() -> None:
    (p,) = replies.positions(
        [
            {
                "symbol": "BTCUSDT",
                "positionSide": "BOTH",
                "positionAmt": "0.010",
                "entryPrice": "60000",
                "breakEvenPrice": "60024",
                "markPrice": "61000",
                "unRealizedProfit": "10",
                "liquidationPrice": "0",
                "initialMargin": "30",
                "updateTime": 7,
            }
        ],
        "acc",
    )
    assert (
        p.quantity == D("0.010") and p.unrealized_pnl == 10 and p.liquidation_price is None and p.margin == 30
    )
    (b,) = replies.balances(
        [
            {
                "asset": "USDT",
                "walletBalance": "100",
                "unrealizedProfit": "5",
                "marginBalance": "105",
                "availableBalance": "90",
                "initialMargin": "10",
            }
        ],
        "acc",
    )
    assert (b.wallet_balance, b.equity, b.available, b.margin_used) == (100, 105, 90, 10)
    (b1,) = replies.balances(
        [{"asset": "USDT", "balance": "50", "crossUnPnl": "-1", "availableBalance": "40"}], "acc"
    )
    assert b1.wallet_balance == 50 and b1.equity == 49


@pytest.mark.parametrize(
    ("fn", "arg"),
    [
        (replies.order_ack, []),
        (replies.order_ack, {"orderId": 1, "status": "WAT"}),
        (replies.listen_key, {}),
        (replies.server_time_ms, {"serverTime": "x"}),
        (replies.algo_ack, {"clientAlgoId": "x"}),
    ],
)
def test_bad_results_raise_malformed(fn: object, arg: object) -> None:
    with pytest.raises(MalformedMessage):
        fn(arg)  # type: ignore[operator]


def test_small_results() -> None:
    assert replies.server_time_ms({"serverTime": 1499827319559}) == 1499827319559
    assert replies.listen_key({"listenKey": "pqia"}) == "pqia"
    assert replies.dual_side({"dualSidePosition": True}) is True
    with pytest.raises(MalformedMessage):
        replies.orders({}, "acc")
