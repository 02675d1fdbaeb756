"""Unmodified alpaca-py (`TradingClient`, `TradingStream`, `StockDataStream`) pointed at the
simulator with its `url_override`s (brokers.md §3.5): orders of every type, replace, cancel,
positions, clock; trade updates (binary JSON frames, legacy auth) and MessagePack market data."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import msgpack
import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.live import StockDataStream
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, OrderType, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
    TrailingStopOrderRequest,
)
from alpaca.trading.stream import TradingStream
from websockets.asyncio.client import connect

from sidedesk_sim.alpaca import BUILTIN_KEY_ID as KEY
from sidedesk_sim.alpaca import BUILTIN_SECRET as SECRET
from tests.integration.alpaca.conftest import until
from tests.integration.alpaca.simthread import SimThread


@pytest.fixture(scope="module")
def st() -> Iterator[SimThread]:
    s = SimThread()
    yield s
    s.stop()


@pytest.fixture
def client(st: SimThread) -> TradingClient:
    return TradingClient(KEY, SECRET, paper=True, url_override=st.sim.base_url)


def test_account_clock_assets(client: TradingClient) -> None:
    acct = client.get_account()
    assert acct.currency == "USD" and Decimal(str(acct.buying_power)) > 0
    clock = client.get_clock()
    assert clock.is_open and clock.next_close > clock.timestamp
    assert client.get_asset("AAPL").fractionable


def test_every_order_type(client: TradingClient, st: SimThread) -> None:
    st.price("MSFT", "400")
    buy = client.submit_order(
        MarketOrderRequest(
            symbol="MSFT",
            qty=2.5,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            client_order_id="conf-mkt",
        )
    )
    assert buy.status == OrderStatus.FILLED and buy.filled_qty == "2.5"
    assert client.get_order_by_client_id("conf-mkt").id == buy.id
    lim = client.submit_order(
        LimitOrderRequest(
            symbol="MSFT", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=390
        )
    )
    assert lim.status == OrderStatus.NEW and lim.order_type == OrderType.LIMIT
    moved = client.replace_order_by_id(
        lim.id, ReplaceOrderRequest(limit_price=391, client_order_id="conf-moved")
    )
    assert moved.replaces == lim.id and moved.limit_price == "391"
    assert client.get_order_by_id(lim.id).status == OrderStatus.REPLACED
    client.cancel_order_by_id(moved.id)
    assert client.get_order_by_id(moved.id).status == OrderStatus.CANCELED
    stp = client.submit_order(
        StopOrderRequest(
            symbol="MSFT", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.DAY, stop_price=380
        )
    )
    sl = client.submit_order(
        StopLimitOrderRequest(
            symbol="MSFT",
            qty=1,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.DAY,
            stop_price=381,
            limit_price=379,
        )
    )
    with pytest.raises(APIError) as held:  # 2.5 shares: the two stops hold 2, one share is too many
        client.submit_order(
            TrailingStopOrderRequest(
                symbol="MSFT", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, trail_percent=1
            )
        )
    assert held.value.status_code == 403 and "insufficient qty" in str(held.value)
    client.cancel_order_by_id(sl.id)
    trail = client.submit_order(
        TrailingStopOrderRequest(
            symbol="MSFT", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.GTC, trail_price=5
        )
    )
    assert trail.hwm == "400" and trail.stop_price == "395"
    st.price("MSFT", "410")  # the high-water mark follows the price up
    assert client.get_order_by_id(trail.id).stop_price == "405"
    st.price("MSFT", "404")  # and the stop fires on the way down
    assert client.get_order_by_id(trail.id).status == OrderStatus.FILLED
    assert client.get_order_by_id(stp.id).status == OrderStatus.NEW
    opened = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=["MSFT"]))
    assert [o.id for o in opened] == [stp.id]
    client.cancel_orders()
    pos = client.get_open_position("MSFT")
    assert pos.qty == "1.5" and pos.side.value == "long"
    closed = client.close_position("MSFT", ClosePositionRequest(percentage="100"))
    assert closed.status == OrderStatus.FILLED
    with pytest.raises(APIError) as missing:
        client.get_open_position("MSFT")
    assert missing.value.status_code == 404


def test_validation_errors_are_api_errors(client: TradingClient) -> None:
    with pytest.raises(APIError) as info:
        client.submit_order(
            MarketOrderRequest(symbol="AAPL", qty=0.5, side=OrderSide.BUY, time_in_force=TimeInForce.GTC)
        )
    assert info.value.status_code == 422 and info.value.code == 40010001
    bad = TradingClient(KEY, "not-the-secret", paper=True, url_override=client._base_url)
    with pytest.raises(APIError) as auth:
        bad.get_account()
    assert auth.value.status_code == 401


async def test_trading_stream_receives_updates(st: SimThread, client: TradingClient) -> None:
    got: list[Any] = []

    async def on_update(data: Any) -> None:
        got.append(data)

    stream = TradingStream(KEY, SECRET, paper=True, url_override=st.sim.stream_url)
    stream.subscribe_trade_updates(on_update)
    task = asyncio.create_task(stream._run_forever())
    try:
        await until(
            lambda: any(c.kind == "trading" and c.listening for c in list(st.sim.streams)), what="listen"
        )
        order = await asyncio.to_thread(
            client.submit_order,
            MarketOrderRequest(symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY),
        )
        await until(lambda: [u for u in got if u.event == "fill"], what="fill update")
        events = [u.event for u in got if str(u.order.id) == str(order.id)]
        assert events == ["new", "fill"]
        fill = next(u for u in got if u.event == "fill")
        assert fill.qty == 1 and fill.position_qty == 1 and fill.price is not None and fill.execution_id
    finally:
        await stream.stop_ws()
        task.cancel()  # its receive loop checks the stop flag only every 5 s
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 10)
        await stream.close()


async def test_trading_stream_frames_and_auth_forms(st: SimThread) -> None:
    async with connect(st.sim.stream_url) as ws:
        await ws.send('{"action":"listen","data":{"streams":["trade_updates"]}}')
        assert b'"unauthorized"' in await ws.recv(decode=False)  # listen before auth
        await ws.send(f'{{"action":"auth","key":"{KEY}","secret":"{SECRET}"}}')
        frame = await ws.recv()
        assert isinstance(frame, bytes) and b'"authorized"' in frame  # binary frames, JSON inside
    async with connect(st.sim.stream_url) as ws:
        await ws.send('{"action":"authenticate","data":{"key_id":"PKNOPE00000000","secret_key":"x"}}')
        assert b"access key verification failed" in await ws.recv(decode=False)


async def test_stock_data_stream_gets_msgpack_quotes_and_trades(st: SimThread, client: TradingClient) -> None:
    quotes: list[Any] = []
    trades: list[Any] = []

    async def on_quote(q: Any) -> None:
        quotes.append(q)

    async def on_trade(t: Any) -> None:
        trades.append(t)

    stream = StockDataStream(KEY, SECRET, url_override=st.sim.data_url("iex"))
    stream.subscribe_quotes(on_quote, "AAPL")
    stream.subscribe_trades(on_trade, "AAPL")
    task = asyncio.create_task(stream._run_forever())
    try:
        await until(
            lambda: any(c.kind == "data" and c.subs["quotes"] for c in list(st.sim.streams)), what="sub"
        )
        await asyncio.to_thread(st.price, "AAPL", "191.50")
        await asyncio.to_thread(
            client.submit_order,
            MarketOrderRequest(symbol="AAPL", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.DAY),
        )
        await until(lambda: quotes and trades, what="quote and trade")
        q = quotes[-1]
        assert q.symbol == "AAPL" and q.bid_price <= 191.5 <= q.ask_price and q.timestamp.year >= 2024
        assert trades[-1].size == 3
    finally:
        await stream.stop_ws()
        task.cancel()  # its receive loop checks the stop flag only every 5 s
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 10)
        await stream.close()


async def test_data_stream_json_and_errors(st: SimThread) -> None:
    async with connect(st.sim.data_url("iex")) as ws:
        assert await ws.recv() == '[{"T":"success","msg":"connected"}]'
        await ws.send('{"action":"subscribe","quotes":["AAPL"]}')
        assert '"code":401' in await ws.recv()
        await ws.send(f'{{"action":"auth","key":"{KEY}","secret":"{SECRET}"}}')
        assert "authenticated" in await ws.recv()
        await ws.send('{"action":"subscribe","trades":["AAPL"],"quotes":["MSFT"]}')
        sub = await ws.recv()
        assert '"trades":["AAPL"]' in sub and '"quotes":["MSFT"]' in sub and '"corrections":["AAPL"]' in sub
        async with connect(st.sim.data_url("iex")) as second:  # one connection per key
            await second.recv()
            await second.send(f'{{"action":"auth","key":"{KEY}","secret":"{SECRET}"}}')
            assert '"code":406' in await second.recv()
    async with connect(
        st.sim.data_url("iex"), additional_headers={"Content-Type": "application/msgpack"}
    ) as ws:
        first = msgpack.unpackb(await ws.recv())
        assert first == [{"T": "success", "msg": "connected"}]
        await ws.send(msgpack.packb({"action": "auth", "key": KEY, "secret": "bad"}))
        assert msgpack.unpackb(await ws.recv())[0]["code"] == 402


@pytest.fixture(autouse=True)
async def _no_leftover_orders(st: SimThread) -> AsyncIterator[None]:
    yield

    def flatten() -> None:
        for o in st.sim.book.open_orders("main"):
            st.sim.book.cancel("main", o.id, st.sim.now_ms())
        st.sim.publish()

    st.on_loop(flatten)
