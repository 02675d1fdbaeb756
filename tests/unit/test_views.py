"""Topic payloads: exact strings, the row fields the panel shows, JSON all the way."""

from __future__ import annotations

import json
from decimal import Decimal

from sidedesk.core.account import Portfolio
from sidedesk.core.orders_book import OrdersBook
from sidedesk.core.views import AslInfo, account_payload, dec, orders_payload, positions_payload
from sidedesk.domain import BalanceEvent, OrderStatus, OrderType, PositionSide, Side
from tests.unit.test_orders_book import order
from tests.unit.test_positions import ACC, SYM, fill, pos_event

D = Decimal


def test_dec_is_plain_exact_and_rounds_only_when_asked() -> None:
    assert dec(None) is None
    assert dec(D("1E+2")) == "100"
    assert dec(D("0.00000001")) == "0.00000001"
    assert dec(D("12.50000")) == "12.50000"  # exchange figures go out as they came
    assert dec(D("12.50000"), 8) == "12.5"
    assert dec(D("2") / 3, 8) == "0.66666667"
    assert dec(D("0.000000005"), 8) == "0"  # half-even
    assert dec(D("0.000000015"), 8) == "0.00000002"
    assert dec(D("-0.000000001"), 8) == "0"  # never "-0"
    assert dec(D("-3.14159"), 2) == "-3.14"


def test_positions_payload_rows_and_totals() -> None:
    pf = Portfolio()
    pf.apply(pos_event("0.5", "60000", ts=1, leverage=10, liquidation_price=D("54321.1")))
    pf.apply(fill("SELL", "2", "3000", ts=2, symbol="ETHUSDT"))
    pf.on_mark(SYM, D("61000.10"), 3)
    pf.on_mark("ETHUSDT", D("2990"), 3)
    asl = {
        (ACC, SYM, PositionSide.BOTH): AslInfo(level="1", stop_price=D("59800"), next_threshold=D("61200"))
    }
    payload = positions_payload(pf.positions, asl=asl)
    json.dumps(payload)  # serialisable as is
    btc, eth = payload["positions"]
    assert btc == {
        "id": "acc1|BTCUSDT|BOTH",
        "account_id": ACC,
        "symbol": SYM,
        "position_side": "BOTH",
        "side": "LONG",
        "size": "0.5",
        "quantity": "0.5",
        "entry": "60000",
        "mark": "61000.10",
        "unrealized_pnl": "500.05",
        "roe_pct": "16.67",
        "liquidation_price": "54321.1",
        "break_even_price": None,
        "leverage": 10,
        "margin": "3050.005",
        "notional": "30500.05",
        "realized_pnl": "0",
        "settle_asset": "USDT",
        "in_sync": True,
        "updated_ms": 1,
        "asl_level": "1",
        "stop_price": "59800",
        "stop_estimated": False,
        "asl_next_threshold": "61200",
    }
    assert (eth["side"], eth["size"], eth["quantity"], eth["unrealized_pnl"]) == ("SHORT", "2", "-2", "20")
    assert eth["asl_level"] is None and eth["stop_price"] is None and eth["roe_pct"] is None
    assert payload["totals"] == [{"asset": "USDT", "unrealized_pnl": "520.05"}]


def test_stop_price_falls_back_to_the_working_stop_and_flat_positions_are_hidden() -> None:
    pf = Portfolio()
    pf.apply(fill("BUY", "1", "100", ts=1))
    pf.apply(fill("BUY", "1", "5", ts=1, symbol="XRPUSDT"))
    pf.apply(fill("SELL", "1", "5", ts=2, symbol="XRPUSDT"))
    orders = OrdersBook()
    orders.apply(order("s", side=Side.SELL, type_=OrderType.STOP_MARKET, stop="98.5", conditional=True))
    payload = positions_payload(pf.positions, orders=orders)
    assert [r["symbol"] for r in payload["positions"]] == [SYM]
    row = payload["positions"][0]
    assert row["stop_price"] == "98.5" and row["mark"] is None and row["unrealized_pnl"] is None
    assert payload["totals"] == []


def test_account_payload() -> None:
    pf = Portfolio()
    pf.apply(BalanceEvent(ACC, "USDT", D("1000.123456789"), ts_ms=1))
    pf.apply(fill("SELL", "1", "100", ts=2, fee="0.02"))
    pf.on_mark(SYM, D("99.5"), 3)
    payload = account_payload(pf, now_ms=5)
    json.dumps(payload)
    assert payload == {
        "accounts": [
            {
                "account_id": ACC,
                "asset": "USDT",
                "wallet_balance": "1000.10345679",
                "unrealized_pnl": "0.5",
                "equity": "1000.60345679",
                "margin_used": "0",
                "available": "1000.60345679",
                "realized_today": "-0.02",
                "updated_ms": 2,
            }
        ]
    }


def test_orders_payload_regular_and_conditional() -> None:
    book = OrdersBook()
    book.apply(order("1", OrderStatus.PARTIALLY_FILLED, t=2, filled="0.25", qty="1"))
    book.apply(
        order("9", t=3, side=Side.SELL, type_=OrderType.STOP_MARKET, stop="95", conditional=True, price=None)
    )
    book.apply(order("2", OrderStatus.FILLED, t=4))
    payload = orders_payload(book)
    json.dumps(payload)
    rows = payload["orders"]
    assert [r["id"] for r in rows] == ["acc1|order|1", "acc1|algo|9"]
    assert (rows[0]["status"], rows[0]["filled"], rows[0]["remaining"], rows[0]["price"]) == (
        "PARTIALLY_FILLED",
        "0.25",
        "0.75",
        "100",
    )
    assert rows[1]["conditional"] is True and rows[1]["stop_price"] == "95" and rows[1]["price"] is None
    assert rows[1]["type"] == "STOP_MARKET" and rows[1]["updated_ms"] == 3
    assert orders_payload(book, "nobody") == {"orders": []}
