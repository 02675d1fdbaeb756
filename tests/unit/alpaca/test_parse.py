"""Alpaca replies and stream messages → normalised events, with the dossier's vectors (brokers.md §3)."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from sidedesk.brokers.alpaca.protocol import parse
from sidedesk.domain import OrderStatus, OrderType, Side, TimeInForce

# brokers.md §3.2, verbatim
FILL = json.loads("""{"stream":"trade_updates","data":{
  "event":"fill","execution_id":"5f0c7d0e-6b0a-4c5e-9c8e-1f2a3b4c5d6e",
  "timestamp":"2026-01-15T14:30:00.123456Z","price":"179.08","qty":"100","position_qty":"100",
  "order":{"id":"61e69015-8549-4bfd-b9c3-01e75843f47d","client_order_id":"eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4",
    "created_at":"2026-01-15T14:29:59.9Z","updated_at":"2026-01-15T14:30:00.13Z","submitted_at":"2026-01-15T14:29:59.95Z",
    "filled_at":"2026-01-15T14:30:00.12Z","expired_at":null,"canceled_at":null,"failed_at":null,"replaced_at":null,
    "replaced_by":null,"replaces":null,"asset_id":"b0b6dd9d-8b9b-48a9-ba46-b9d54906e415","symbol":"AAPL",
    "asset_class":"us_equity","notional":null,"qty":"100","filled_qty":"100","filled_avg_price":"179.08",
    "order_class":"simple","order_type":"market","type":"market","side":"buy","time_in_force":"day",
    "limit_price":null,"stop_price":null,"status":"filled","extended_hours":false,"legs":null,
    "trail_percent":null,"trail_price":null,"hwm":null,"position_intent":"buy_to_open"}}}""")


def test_the_dossier_fill_becomes_an_order_event_and_a_fill() -> None:
    tu = parse.trade_update(FILL["data"], "acc")
    assert tu.event == "fill"
    o = tu.order
    assert (o.symbol, o.side, o.type, o.status) == ("AAPL", Side.BUY, OrderType.MARKET, OrderStatus.FILLED)
    assert (o.quantity, o.filled, o.avg_price) == (D(100), D(100), D("179.08"))
    assert o.order_id == "61e69015-8549-4bfd-b9c3-01e75843f47d"
    assert o.client_id == "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4"
    assert o.time_in_force is TimeInForce.DAY
    assert o.update_time_ms == 1768487400130
    assert tu.fill is not None
    assert tu.fill.trade_id == "5f0c7d0e-6b0a-4c5e-9c8e-1f2a3b4c5d6e"
    assert (tu.fill.quantity, tu.fill.price, tu.fill.fee, tu.fill.fee_asset) == (
        D(100),
        D("179.08"),
        0,
        "USD",
    )
    assert tu.fill.ts_ms == 1768487400123
    assert tu.position_qty == D(100)


def test_binary_frames_carry_the_same_json() -> None:
    text = json.dumps(FILL)
    assert parse.trading_frame(text.encode()) == parse.trading_frame(text) == FILL


@pytest.mark.parametrize(
    ("raw", "filled", "expected"),
    [
        ("new", "0", OrderStatus.NEW),
        ("accepted", "0", OrderStatus.NEW),
        ("pending_new", "0", OrderStatus.NEW),
        ("held", "0", OrderStatus.NEW),
        ("partially_filled", "3", OrderStatus.PARTIALLY_FILLED),
        ("pending_cancel", "3", OrderStatus.PARTIALLY_FILLED),
        ("filled", "10", OrderStatus.FILLED),
        ("canceled", "0", OrderStatus.CANCELED),
        ("replaced", "0", OrderStatus.CANCELED),
        ("expired", "0", OrderStatus.EXPIRED),
        ("rejected", "0", OrderStatus.REJECTED),
    ],
)
def test_status_mapping(raw: str, filled: str, expected: OrderStatus) -> None:
    assert parse.status(raw, D(filled)) is expected


def test_a_stop_order_is_conditional_whatever_its_status() -> None:
    raw = dict(FILL["data"]["order"], type="stop", stop_price="170", status="new", filled_qty="0")
    ev = parse.order(raw, "acc")
    assert ev.type is OrderType.STOP_MARKET and ev.is_conditional and ev.stop_price == D(170)
    filled = parse.order(dict(raw, status="filled", filled_qty="100"), "acc")
    assert filled.is_conditional  # the book keys orders on it: it must not change


def test_trailing_percent_is_the_callback() -> None:
    raw = dict(FILL["data"]["order"], type="trailing_stop", trail_percent="1.5", status="new", filled_qty="0")
    ev = parse.order(raw, "acc")
    assert ev.type is OrderType.TRAILING_STOP_MARKET and ev.callback_rate_pct == D("1.5")


def test_a_notional_order_has_its_size_once_filled() -> None:
    raw = dict(FILL["data"]["order"], qty=None, notional="500", filled_qty="2.631578947")
    assert parse.order(raw, "acc").quantity == D("2.631578947")


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "weird"},
        {"side": "hold"},
        {"filled_qty": "abc"},
        {"symbol": None},
        {"id": ""},
        {"status": None},
    ],
)
def test_malformed_orders_raise_malformed(bad: dict[str, object]) -> None:
    with pytest.raises(parse.Malformed):
        parse.order(dict(FILL["data"]["order"], **bad), "acc")


def test_malformed_frames_raise_malformed() -> None:
    with pytest.raises(parse.Malformed):
        parse.trading_frame(b"\xff\x00")
    with pytest.raises(parse.Malformed):
        parse.trading_frame("[1, 2]")
    with pytest.raises(parse.Malformed):
        parse.trade_update({"event": "fill", "order": FILL["data"]["order"]}, "acc")  # no qty/price
    with pytest.raises(parse.Malformed):
        parse.data_frame("not json")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2026-01-15T14:30:00Z", 1768487400000),
        ("2026-01-15T14:30:00.123456789Z", 1768487400123),
        ("2026-01-15T09:30:00.5-05:00", 1768487400500),
        (None, 0),
    ],
)
def test_timestamps(text: str | None, ms: int) -> None:
    assert parse.ts_ms(text) == ms


def test_bad_timestamp_is_malformed() -> None:
    with pytest.raises(parse.Malformed):
        parse.ts_ms("yesterday")


def test_positions_are_signed_and_balance_wallet_excludes_unrealized() -> None:
    row = {"symbol": "TSLA", "qty": "5", "side": "short", "avg_entry_price": "180", "unrealized_pl": "-10",
           "current_price": "182"}  # fmt: skip
    p = parse.position(row, "acc")
    assert p.quantity == D(-5) and p.entry_price == D(180) and p.mark_price == D(182)
    acct = {"equity": "99990", "buying_power": "199000", "initial_margin": "450", "currency": "USD"}
    b = parse.balance(acct, [p], "acc")
    assert (b.wallet_balance, b.equity, b.available, b.asset) == (D(100000), D(99990), D(199000), "USD")


def test_clock_open_and_closed() -> None:
    c = parse.clock({"timestamp": "2026-01-15T14:30:00Z", "is_open": True,
                     "next_open": "2026-01-16T14:30:00Z", "next_close": "2026-01-15T21:00:00Z"})  # fmt: skip
    assert c.open_at(parse.ts_ms("2026-01-15T20:59:59Z"))
    assert not c.open_at(parse.ts_ms("2026-01-15T21:00:00Z"))
    closed = parse.clock(
        {"timestamp": "2026-01-15T22:00:00Z", "is_open": False,
         "next_open": "2026-01-16T14:30:00Z", "next_close": "2026-01-16T21:00:00Z"}
    )  # fmt: skip
    assert not closed.open_at(parse.ts_ms("2026-01-16T14:29:00Z"))
    assert closed.open_at(parse.ts_ms("2026-01-16T14:30:00Z"))
    with pytest.raises(parse.Malformed):
        parse.clock({"is_open": "yes"})


def test_market_data_messages() -> None:
    # brokers.md §3.3 shapes
    frame = json.dumps([
        {"T": "q", "S": "AAPL", "bx": "V", "bp": 179.05, "bs": 2, "ax": "V", "ap": 179.08, "as": 3,
         "c": ["R"], "z": "C", "t": "2026-01-15T14:30:00.123456789Z"},
        {"T": "t", "S": "AAPL", "i": 52983525029461, "x": "V", "p": 179.08, "s": 100, "c": ["@"], "z": "C",
         "t": "2026-01-15T14:30:00.2Z"},
        "ignored",
    ])  # fmt: skip
    items = parse.data_frame(frame)
    assert len(items) == 2
    q = parse.quote(items[0])
    assert (q.bid, q.ask, q.mark, q.ts_ms) == (D("179.05"), D("179.08"), D("179.065"), 1768487400123)
    t = parse.trade(items[1])
    assert (t.last, t.mark) == (D("179.08"), D("179.08"))


def test_assets_become_rules() -> None:
    asset = {
        "class": "us_equity",
        "symbol": "AAPL",
        "status": "active",
        "tradable": True,
        "fractionable": True,
    }
    r = parse.asset_rules(asset)
    assert (
        r is not None and r.step_size == D("0.000000001") and r.quote_asset == "USD" and r.min_notional == 1
    )
    whole = parse.asset_rules(dict(asset, fractionable=False))
    assert whole is not None and whole.step_size == 1
    assert parse.asset_rules(dict(asset, tradable=False)) is None
    assert parse.asset_rules(dict(asset, **{"class": "crypto"})) is None


def test_error_bodies() -> None:
    assert parse.error_message({"code": 40310000, "message": "insufficient buying power"}) == (
        40310000,
        "insufficient buying power",
    )
    assert parse.error_message({"message": "unauthorized."}) == (None, "unauthorized.")
    assert parse.error_message("<html>") == (None, "")
