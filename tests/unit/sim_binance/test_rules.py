"""Pure rules of the Binance front-end: params, timestamps, client ids, order parsing, filters, limits."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from sidedesk_sim.binance.errors import BinanceError
from sidedesk_sim.binance.faults import Faults
from sidedesk_sim.binance.limits import LimitConfig, RateLimiter
from sidedesk_sim.binance.listenkeys import ListenKeys
from sidedesk_sim.binance.orders import check_client_id, check_filters, parse_algo, parse_regular
from sidedesk_sim.binance.params import Params, check_timestamp
from sidedesk_sim.binance.streams import Subscriptions, delivers, parse_events, parse_stream
from sidedesk_sim.binance.wire import fmt
from sidedesk_sim.engine import OrderType, default_instruments

BTC = default_instruments()["BTCUSDT"]


def code(exc: pytest.ExceptionInfo[BinanceError]) -> int:
    return exc.value.code


def test_timestamp_window() -> None:
    now = 1_000_000
    check_timestamp(Params({"timestamp": str(now - 5000)}), now)
    check_timestamp(Params({"timestamp": str(now + 999)}), now)
    with pytest.raises(BinanceError) as e:
        check_timestamp(Params({"timestamp": str(now - 5001)}), now)
    assert code(e) == -1021 and "outside of the recvWindow" in e.value.msg
    with pytest.raises(BinanceError) as e:
        check_timestamp(Params({"timestamp": str(now + 1000)}), now)
    assert code(e) == -1021 and "1000ms ahead" in e.value.msg
    check_timestamp(Params({"timestamp": str(now - 9_000_000), "recvWindow": "9999999"}), now)
    with pytest.raises(BinanceError) as e:
        check_timestamp(Params({}), now)
    assert code(e) == -1102 and "'timestamp'" in e.value.msg


def test_form_params_duplicates_and_precedence() -> None:
    with pytest.raises(BinanceError) as e:
        Params.from_form("a=1&a=2", "")
    assert code(e) == -1101
    assert Params.from_form("a=query", "a=body").req("a") == "query"
    assert Params.from_form("symbol=%EF%BC%91", "").req("symbol") == "１"
    with pytest.raises(BinanceError) as e:
        Params({"price": "1e"}).decimal("price")
    assert code(e) == -1102


def test_client_id_rules() -> None:
    check_client_id("newClientOrderId", "a" * 36)
    check_client_id("newClientOrderId", "bot-1:entry/x_.Y")
    with pytest.raises(BinanceError) as e:
        check_client_id("newClientOrderId", "a" * 37)
    assert code(e) == -4015
    with pytest.raises(BinanceError) as e:
        check_client_id("newClientOrderId", "bad id!")
    assert code(e) == -1100 and "newClientOrderId" in e.value.msg


@pytest.mark.parametrize(
    ("params", "hedge", "expected"),
    [
        ({"type": "STOP_MARKET", "side": "SELL", "stopPrice": "1"}, False, -4120),
        ({"type": "TRAILING_STOP_MARKET"}, False, -4120),
        ({"type": "BANANA", "side": "BUY"}, False, -1116),
        ({"type": "LIMIT", "side": "UP"}, False, -1117),
        ({"type": "MARKET", "side": "BUY", "quantity": "1", "positionSide": "LONG"}, False, -4061),
        ({"type": "MARKET", "side": "BUY", "quantity": "1"}, True, -4061),
        (
            {"type": "MARKET", "side": "BUY", "quantity": "1", "positionSide": "LONG", "reduceOnly": "true"},
            True,
            -1106,
        ),
        ({"type": "LIMIT", "side": "BUY", "quantity": "1", "price": "1", "timeInForce": "GTD"}, False, -1115),
        ({"type": "LIMIT", "side": "BUY", "price": "1", "timeInForce": "GTC"}, False, -1102),
        ({"type": "MARKET", "side": "BUY", "quantity": "1", "newOrderRespType": "FULL"}, False, -1136),
        ({"type": "MARKET", "side": "BUY", "quantity": "1", "closePosition": "true"}, False, -4136),
    ],
)
def test_parse_regular_errors(params: dict[str, str], hedge: bool, expected: int) -> None:
    with pytest.raises(BinanceError) as e:
        parse_regular(Params(params), BTC, hedge)
    assert code(e) == expected


def test_parse_algo_renames_and_close_position() -> None:
    spec = parse_algo(
        Params({"algoType": "CONDITIONAL", "type": "TRAILING_STOP_MARKET", "side": "SELL",
                "quantity": "0.010", "callbackRate": "1.0", "activatePrice": "61000",
                "activationPrice": "1"}),
        BTC, False,
    )  # fmt: skip
    assert spec.activation_price == Decimal(61000) and spec.callback_rate == Decimal("1.0")
    base = {"algoType": "CONDITIONAL", "type": "STOP_MARKET", "side": "SELL", "triggerPrice": "50000"}
    with pytest.raises(BinanceError) as e:
        parse_algo(Params({**base, "closePosition": "true", "quantity": "1"}), BTC, False)
    assert code(e) == -4137
    with pytest.raises(BinanceError) as e:
        parse_algo(Params({**base, "type": "STOP", "closePosition": "true", "price": "1"}), BTC, False)
    assert code(e) == -4136
    assert parse_algo(Params({**base, "closePosition": "true"}), BTC, False).close_position
    with pytest.raises(BinanceError) as e:
        parse_algo(Params({**base, "type": "LIMIT"}), BTC, False)
    assert code(e) == -1116


@pytest.mark.parametrize(
    ("price", "qty", "expected"),
    [
        ("60000.05", "0.010", -4014),
        ("60000.123", "0.010", -1111),
        ("60000.0", "0.0105", -1111),
        ("60000.0", "0.000", -4003),
        ("60000.0", "1001", -4005),
        ("60000.0", "0.001", -4164),
        ("70000.0", "0.010", -4016),
        ("50000.0", "0.010", -4024),
        ("100.0", "0.010", -4013),
        ("900000", "0.010", -4002),
    ],
)
def test_filters(price: str, qty: str, expected: int) -> None:
    side = "SELL" if expected == -4024 else "BUY"
    spec = parse_regular(
        Params({"type": "LIMIT", "side": side, "quantity": qty, "price": price, "timeInForce": "GTC"}),
        BTC,
        False,
    )
    with pytest.raises(BinanceError) as e:
        check_filters(spec, BTC, Decimal(60000), Decimal(60000))
    assert code(e) == expected


def test_min_qty_above_one_step() -> None:
    inst = replace(BTC, min_qty=Decimal("0.002"), market_min_qty=Decimal("0.002"))
    spec = parse_regular(Params({"type": "MARKET", "side": "BUY", "quantity": "0.001"}), inst, False)
    with pytest.raises(BinanceError) as e:
        check_filters(spec, inst, Decimal(60000), Decimal(60000))
    assert code(e) == -4004


def test_reduce_only_is_exempt_from_min_notional_and_market_uses_percent_price_on_the_book() -> None:
    spec = parse_regular(
        Params({"type": "MARKET", "side": "SELL", "quantity": "0.001", "reduceOnly": "true"}), BTC, False
    )
    check_filters(spec, BTC, Decimal(60000), Decimal(60000))
    spec = parse_regular(Params({"type": "MARKET", "side": "BUY", "quantity": "0.010"}), BTC, False)
    with pytest.raises(BinanceError) as e:
        check_filters(spec, BTC, Decimal(60000), Decimal(70000))
    assert code(e) == -4131


def test_rate_limiter_429_then_418() -> None:
    lim = RateLimiter(LimitConfig(weight_per_minute=3, rejections_before_ban=2, ban_ms=1000))
    t = 60_000
    for _ in range(3):
        lim.charge_weight("ip", 1, t)
    statuses = []
    for _ in range(4):
        with pytest.raises(BinanceError) as e:
            lim.charge_weight("ip", 1, t)
        assert code(e) == -1003
        statuses.append(e.value.status)
    assert statuses == [429, 429, 418, 418]
    assert e.value.data is not None and e.value.data["retryAfter"] == t + 1000
    lim.charge_weight("ip", 1, t + 60_000)  # next window and the ban is over


def test_order_count_limit() -> None:
    lim = RateLimiter(LimitConfig(orders_per_10s=2))
    lim.charge_order("a", 0)
    lim.charge_order("a", 1)
    with pytest.raises(BinanceError) as e:
        lim.charge_order("a", 2)
    assert code(e) == -1015 and e.value.status == 429
    lim.charge_order("b", 2)
    lim.charge_order("a", 10_000)


def test_listen_keys_lifecycle() -> None:
    import random

    lk = ListenKeys(random.Random(1), ttl_ms=1000)
    k = lk.start("acct", 0)
    assert len(k) == 64 and lk.start("acct", 500) == k  # same key, extended
    assert lk.account_of(k, 1400) == "acct"
    assert lk.due(1499) == [] and lk.due(1500) == [(k, "acct")]
    with pytest.raises(BinanceError) as e:
        lk.keepalive("acct", 1600)
    assert code(e) == -1125
    assert lk.start("acct", 1600) != k


def test_stream_routing() -> None:
    mark = parse_stream("btcusdt@markPrice@1s")
    assert mark is not None and mark.every_ms == 1000 and mark.symbol == "BTCUSDT"
    book = parse_stream("btcusdt@bookTicker")
    assert book is not None
    assert delivers("market", mark) and not delivers("public", mark) and not delivers("legacy", mark)
    assert delivers("legacy", book) and delivers("public", book) and not delivers("market", book)
    subs = Subscriptions("legacy", combined=False)
    assert subs.subscribe(["btcusdt@markPrice", "btcusdt@bookTicker", "nonsense"]) == [
        "btcusdt@markPrice",
        "nonsense",
    ]
    assert [s.name for s in subs.live_streams()] == ["btcusdt@bookTicker"]
    key = "K" * 64
    priv = Subscriptions("private", combined=True)
    priv.listen_keys[key] = parse_events("ORDER_TRADE_UPDATE/ACCOUNT_UPDATE")
    assert priv.wants_user_event(key, "ACCOUNT_UPDATE") and not priv.wants_user_event(key, "listenKeyExpired")


def test_faults_validation_and_user_event_transforms() -> None:
    f = Faults()
    with pytest.raises(ValueError):
        f.arm({"kind": "explode"})
    with pytest.raises(ValueError):
        f.arm({"kind": "lose_reply", "status": 200})
    with pytest.raises(ValueError):
        f.arm({"kind": "delay", "ms": 0})
    f.arm({"kind": "duplicate_user_events", "count": 1})
    assert f.transform_user_events(["a", "b"]) == ["a", "a", "b"]
    f.arm({"kind": "reorder_user_events"})
    assert f.transform_user_events(["a", "b", "c"]) == ["b", "a", "c"]
    assert f.active == []


def test_decimal_formatting() -> None:
    assert fmt(Decimal("60000"), 2) == "60000.00"
    assert fmt(Decimal("0.123456789"), 2) == "0.12345679"
    assert fmt(Decimal("1E+3"), 0) == "1000"
    assert OrderType.STOP_MARKET.is_conditional
