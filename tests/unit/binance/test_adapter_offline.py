"""Adapter and client logic that needs no connection: construction, endpoints, position-side fitting,
event routing, reply routing and rate-limit back-off from error replies."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.brokers.binance.adapter import BinanceBroker
from sidedesk.brokers.binance.config import BinanceConfig, config_from, endpoints_for
from sidedesk.brokers.binance.protocol.events import ListenKeyExpired, parse_stream_frame
from sidedesk.brokers.binance.protocol.fields import ParseError
from sidedesk.brokers.binance.protocol.messages import WsReply
from sidedesk.brokers.common import Settings
from sidedesk.domain import (
    Broker,
    BrokerError,
    FillEvent,
    OrderRequest,
    OrderType,
    PositionSide,
    QuoteEvent,
    Side,
)
from sidedesk.vault.entries import BinanceEntry
from tests.support.eventlog import EventLog

KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
SIM_URLS = {
    "rest": "http://127.0.0.1:1/",
    "ws_api": "ws://127.0.0.1:1/ws-fapi/v1",
    "stream": "ws://127.0.0.1:1",
}
D = Decimal


def config(api_key: str = KEY, secret: str = SECRET) -> BinanceConfig:
    return BinanceConfig("simulator", endpoints_for("simulator", SIM_URLS), api_key, secret)


def broker(log: EventLog | None = None, api_key: str = KEY, secret: str = SECRET, **kw: Any) -> BinanceBroker:
    return BinanceBroker("acc", config(api_key, secret), log or EventLog(), **kw)


def test_implements_the_broker_protocol() -> None:
    b = broker()
    assert isinstance(b, Broker) and b.capabilities.separate_conditional_orders and b.broker == "binance"
    assert b.session.creds.signer.kind == "hmac" and SECRET not in repr(b.session.creds)


def test_endpoints() -> None:
    assert endpoints_for("live").ws_api == "wss://ws-fapi.binance.com/ws-fapi/v1"
    assert endpoints_for("testnet").stream == "wss://fstream.binancefuture.com"
    assert endpoints_for("simulator", SIM_URLS).rest == "http://127.0.0.1:1"
    assert endpoints_for("live", {"rest": "https://x/"}).rest == "https://x"
    with pytest.raises(BrokerError, match="ws_api, stream"):
        endpoints_for("simulator", {"rest": "http://127.0.0.1:1"})
    with pytest.raises(BrokerError, match="unknown Binance environment"):
        endpoints_for("paper")


@pytest.mark.parametrize(
    ("key", "secret", "needle"),
    [
        ("", SECRET, "API key"),
        ("a b", SECRET, "API key"),
        (KEY, "", "empty"),
        (KEY, "has space", "whitespace"),
    ],
)
def test_bad_entries(key: str, secret: str, needle: str) -> None:
    with pytest.raises(BrokerError, match=needle) as e:
        broker(api_key=key, secret=secret)
    assert e.value.code == "invalid" and (not secret or secret not in e.value.message)


def test_config_from_an_entry_prefers_private_key_and_keeps_secrets_out_of_repr() -> None:
    pem = (
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n"
        "-----END PRIVATE KEY-----\n"
    )
    entry = BinanceEntry.model_validate(
        {
            "name": "Sim",
            "broker": "binance",
            "environment": "simulator",
            "auth": "ed25519",
            "api_key": KEY,
            "private_key_pem": pem,
        }
    )
    cfg = config_from(entry, Settings({"binance": "http://127.0.0.1:1"}))
    assert cfg.endpoints == endpoints_for("simulator", SIM_URLS) and cfg.environment == "simulator"
    assert KEY not in repr(cfg) and "PRIVATE" not in repr(cfg)
    b = BinanceBroker("acc", cfg, EventLog())
    assert b.session.creds.signer.kind == "ed25519" and b.environment == "simulator"


def order(**kw: object) -> OrderRequest:
    base: dict[str, object] = {
        "symbol": "BTCUSDT",
        "side": Side.SELL,
        "type": OrderType.MARKET,
        "quantity": D("0.01"),
        "client_id": "sdh1",
    }
    base.update(kw)
    return OrderRequest(**base)  # type: ignore[arg-type]


def test_position_side_fitting() -> None:
    b = broker()
    assert b._fit_position_side(order(position_side=PositionSide.LONG)).position_side is PositionSide.BOTH
    b.hedge_mode = True
    assert b._fit_position_side(order()).position_side is PositionSide.SHORT
    assert b._fit_position_side(order(reduce_only=True)).position_side is PositionSide.LONG
    stop = order(type=OrderType.STOP_MARKET, quantity=D(0), stop_price=D(1))
    assert b._fit_position_side(stop).position_side is PositionSide.LONG  # close-all SELL closes the long
    assert b._fit_position_side(order(position_side=PositionSide.SHORT)).position_side is PositionSide.SHORT


async def test_place_refuses_unexpressible_orders_before_sending() -> None:
    b = broker()
    with pytest.raises(BrokerError) as e:
        await b.place(order(type=OrderType.TRAILING_STOP_MARKET, callback_rate_pct=D(21)))
    assert e.value.code == "invalid" and "20 %" in e.value.message  # max 20 since 2026-10-23
    with pytest.raises(BrokerError) as e:
        await b.set_leverage("BTCUSDT", 0)
    assert e.value.code == "invalid"
    await b.close()


def test_stream_events_dedupe_fills_track_marks_and_renew_on_expiry() -> None:
    log = EventLog()
    b = broker(log)
    renewed: list[str] = []
    b.session.renew_user_stream = renewed.append  # type: ignore[method-assign]
    fill = FillEvent("acc", "BTCUSDT", "1", "c", "9", Side.BUY, D(1), D(2), D(0), "USDT")
    b._on_stream_event(fill)
    b._on_stream_event(fill)
    b._on_stream_event(QuoteEvent("BTCUSDT", mark=D("60000")))
    b._on_stream_event(ListenKeyExpired("k", 1))
    assert (
        log.of(FillEvent) == [fill]
        and b.mark_price("BTCUSDT") == D("60000")
        and renewed == ["listenKey expired"]
    )


async def test_replies_resolve_their_request_and_feed_the_limiter() -> None:
    b = broker()
    c = b.session
    fut: asyncio.Future[WsReply] = asyncio.get_running_loop().create_future()
    c._pending["7"] = fut
    c._on_api_message(
        json.dumps(
            {
                "id": "7",
                "status": 200,
                "result": {"ok": 1},
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 2400,
                        "count": 2300,
                    }
                ],
            }
        )
    )
    assert fut.result().result == {"ok": 1}
    assert not c.limiter.check(c.server_now_ms(), weight=1).allowed  # 2300 > 2160 effective
    c._on_api_message("not json")
    c._on_api_message(json.dumps({"id": "unknown", "status": 200, "result": {}}))
    assert c.parse_errors == 1
    await b.close()


async def test_connection_loss_fails_pending_requests() -> None:
    b = broker()
    fut: asyncio.Future[WsReply] = asyncio.get_running_loop().create_future()
    b.session._pending["1"] = fut
    b.session._on_api_close("server went away")
    with pytest.raises(ConnectionError):
        fut.result()
    await b.close()


def test_429_blocks_the_limiter_for_retry_after() -> None:
    c = broker().session
    now = c.server_now_ms()
    err = c._failure(429, -1003, "Too many requests", now + 30_000)
    assert err.code == "rate_limited" and err.retry_after_s is not None and 29 <= err.retry_after_s <= 30
    v = c.limiter.check(c.server_now_ms(), weight=1)
    assert not v.allowed and v.retry_after_ms > 25_000
    ban = c._failure(418, None, "banned", None)
    assert ban.code == "rate_limited" and ban.retry_after_s == 120.0 and "banned" in ban.message


async def test_not_connected_request_says_nothing_was_sent() -> None:
    b = broker()
    b.session.clock.add_samples([], 0)  # still stale; make it fresh so no REST sync is attempted
    b.session.clock.stale = False
    b.session._logon_done.set()
    with pytest.raises(BrokerError) as e:
        await b.cancel("BTCUSDT", order_id="1")
    assert e.value.code == "not_connected" and "nothing was sent" in e.value.message
    await b.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.floats(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "e",
                    "E",
                    "T",
                    "o",
                    "a",
                    "s",
                    "i",
                    "S",
                    "X",
                    "q",
                    "z",
                    "p",
                    "B",
                    "P",
                    "aid",
                    "caid",
                    "b",
                    "u",
                    "x",
                    "t",
                    "l",
                    "L",
                    "wb",
                    "pa",
                    "ep",
                    "ps",
                    "stream",
                    "data",
                    "result",
                    "id",
                ]
            ),
            inner,
            max_size=8,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    json_values,
    st.sampled_from(
        [
            "ORDER_TRADE_UPDATE",
            "ACCOUNT_UPDATE",
            "ALGO_UPDATE",
            "TRADE_LITE",
            "markPriceUpdate",
            "bookTicker",
            "listenKeyExpired",
        ]
    ),
)
def test_stream_parser_never_raises(value: object, kind: str) -> None:
    if isinstance(value, dict):
        value = {**value, "e": kind}
    out = parse_stream_frame(json.dumps(value), "acc")
    assert isinstance(out, ParseError | tuple)
