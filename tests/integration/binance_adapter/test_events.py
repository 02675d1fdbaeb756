"""Normalised events from the user-data stream: fills, positions, balances and algo updates, in
the order the core relies on, with the values the simulator's own account shows; duplicate and
reordered exchange events change nothing."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sidedesk.core.orders import make_client_id
from sidedesk.core.orders_book import OrdersBook
from sidedesk.domain import (
    BalanceEvent,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    QuoteEvent,
    Side,
)
from sidedesk_sim.binance import BinanceSim
from tests.integration.binance_adapter.conftest import Connect
from tests.integration.binance_adapter.simenv import Control, Session, wait_for

D = Decimal


def market(symbol: str, side: Side, qty: str, *, reduce_only: bool = False) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.MARKET, D(qty), make_client_id("m"), reduce_only=reduce_only)


def kinds(events: Sequence[object]) -> list[str]:
    out = []
    for e in events:
        if isinstance(e, OrderEvent):
            out.append(f"{'algo' if e.is_conditional else 'order'}:{e.status.value}")
        elif isinstance(e, FillEvent):
            out.append("fill")
        elif isinstance(e, BalanceEvent):
            out.append("balance")
        elif isinstance(e, PositionEvent):
            out.append("position")
    return out


async def _settled(s: Session, mark: int, n_positions: int = 1) -> None:
    await wait_for(lambda: len(s.of(mark, PositionEvent)) >= n_positions, what="ACCOUNT_UPDATE")


async def test_market_fill_events_in_order_with_the_simulators_figures(
    connect: Connect, sim: BinanceSim
) -> None:
    s = await connect()
    m = s.mark()
    ack = await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    await _settled(s, m)
    evs = s.since(m)
    assert kinds(evs) == ["order:NEW", "fill", "order:FILLED", "balance", "position"]
    (trade,) = sim.engine.trades("main", "BTCUSDT")
    fill = evs[1]
    assert isinstance(fill, FillEvent)
    assert (fill.order_id, fill.trade_id, fill.side) == (ack.order_id, str(trade.trade_id), Side.BUY)
    assert (fill.quantity, fill.price, fill.fee, fill.fee_asset) == (
        trade.qty,
        trade.price,
        trade.commission,
        trade.commission_asset,
    )
    assert fill.realized_pnl == trade.realized_pnl == 0 and not fill.is_maker
    filled = evs[2]
    assert isinstance(filled, OrderEvent) and filled.filled == D("0.010") and filled.avg_price == trade.price
    bal, pos = evs[3], evs[4]
    engine_bal = sim.engine.balance("main", "USDT")
    assert isinstance(bal, BalanceEvent) and bal.asset == "USDT" and bal.reason == "ORDER"
    assert bal.wallet_balance == engine_bal.wallet_balance == D(100_000) - trade.commission
    (engine_pos,) = sim.engine.positions("main", "BTCUSDT")
    assert isinstance(pos, PositionEvent)
    assert (
        (pos.quantity, pos.entry_price)
        == (engine_pos.amount, engine_pos.entry_price)
        == (D("0.010"), trade.price)
    )
    assert pos.break_even_price == engine_pos.break_even_price


async def test_closing_at_a_profit_reports_realized_pnl_and_the_new_wallet(
    connect: Connect, ctl: Control, sim: BinanceSim
) -> None:
    s = await connect()
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    await ctl.price("BTCUSDT", "61000", mark="61000")
    m = s.mark()
    await s.broker.place(market("BTCUSDT", Side.SELL, "0.010", reduce_only=True))
    await _settled(s, m)
    evs = s.since(m)
    assert kinds(evs) == ["order:NEW", "fill", "order:FILLED", "balance", "position"]
    close = sim.engine.trades("main", "BTCUSDT")[-1]
    fill = evs[1]
    assert isinstance(fill, FillEvent) and fill.realized_pnl == close.realized_pnl > 0
    bal, pos = evs[3], evs[4]
    assert (
        isinstance(bal, BalanceEvent)
        and bal.wallet_balance == sim.engine.balance("main", "USDT").wallet_balance
    )
    assert isinstance(pos, PositionEvent) and pos.quantity == 0


async def test_resting_limit_then_cancel_sends_no_account_update(connect: Connect) -> None:
    s = await connect()
    m = s.mark()
    o = OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.002"), make_client_id("m"), price=D(59000))
    ack = await s.broker.place(o)
    await s.wait_order(m, ack.order_id, "NEW")
    await s.broker.cancel("BTCUSDT", order_id=ack.order_id)
    await s.wait_order(m, ack.order_id, "CANCELED")
    assert kinds(s.since(m)) == ["order:NEW", "order:CANCELED"]


async def test_stop_market_triggers_and_the_events_follow_it(
    connect: Connect, ctl: Control, sim: BinanceSim
) -> None:
    s = await connect()
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    m = s.mark()
    stop = OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.STOP_MARKET, D("0.010"), make_client_id("a"), stop_price=D(59500),
        reduce_only=True,
    )  # fmt: skip
    ack = await s.broker.place(stop)
    placed = await s.wait_order(m, ack.order_id, "NEW")
    assert placed.is_conditional and placed.stop_price == D(59500) and placed.client_id == stop.client_id
    await ctl.price("BTCUSDT", "59400", mark="59400")
    await _settled(s, m)
    triggered = await s.wait_order(m, ack.order_id, "TRIGGERED")
    child = triggered.triggered_order_id
    assert child is not None
    await s.wait_order(m, child, "FILLED")
    seq = kinds(s.since(m))
    # algo NEW … algo TRIGGERED, then the triggered order's own life, then the account update
    assert seq[0] == "algo:NEW" and "algo:TRIGGERED" in seq
    assert seq.index("algo:TRIGGERED") < seq.index("fill") < seq.index("order:FILLED") < seq.index("position")
    (engine_algo,) = sim.engine.all_algo_orders("main")
    assert str(engine_algo.order_id) == child
    pos = s.of(m, PositionEvent)[-1]
    assert isinstance(pos, PositionEvent) and pos.quantity == 0 == sum(
        p.amount for p in sim.engine.positions("main")
    )


async def test_trailing_stop_activates_trails_and_triggers(
    connect: Connect, ctl: Control, sim: BinanceSim
) -> None:
    s = await connect()
    await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    m = s.mark()
    trail = OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.TRAILING_STOP_MARKET, D("0.010"), make_client_id("a"),
        reduce_only=True, callback_rate_pct=D("1.0"), activation_price=D(60500),
    )  # fmt: skip
    ack = await s.broker.place(trail)
    await s.wait_order(m, ack.order_id, "NEW")
    for px in ("60600", "61000", "60700"):  # activates at 60500, peaks at 61000, 0.5 % back: holds
        await ctl.price("BTCUSDT", px, mark=px)
    assert sim.engine.open_algo_orders("main")
    await ctl.price("BTCUSDT", "60380", mark="60380")  # 1.02 % below the 61000 peak: triggers
    triggered = await s.wait_order(m, ack.order_id, "TRIGGERED")
    assert triggered.triggered_order_id is not None
    await s.wait_order(m, triggered.triggered_order_id, "FILLED")
    assert sum(p.amount for p in sim.engine.positions("main")) == 0


async def test_duplicate_and_reordered_events_change_nothing(
    connect: Connect, ctl: Control, sim: BinanceSim
) -> None:
    s = await connect()
    await ctl.fault("duplicate_user_events", "user_events", count=6)
    m = s.mark()
    first = await s.broker.place(market("BTCUSDT", Side.BUY, "0.010"))
    await s.wait_order(m, first.order_id, "FILLED")
    await ctl.fault("reorder_user_events", "user_events", count=2)
    second = await s.broker.place(market("BTCUSDT", Side.BUY, "0.005"))
    await s.wait_order(m, second.order_id, "FILLED")
    await _settled(s, m, 2)
    fills = s.of(m, FillEvent)
    assert sorted((f.order_id, f.trade_id) for f in fills) == sorted(
        (str(t.order_id), str(t.trade_id)) for t in sim.engine.trades("main")
    )
    assert sum(f.quantity for f in fills) == D("0.015")
    book = OrdersBook()
    for e in s.of(m, OrderEvent):
        book.apply(e)
    assert book.open_orders() == []
    assert book.is_known_final(s.broker.account_id, first.order_id)
    assert book.is_known_final(s.broker.account_id, second.order_id)
    # and the duplicates did reach the adapter (the fault fired): some order events came twice
    keys = [e.dedup_key for e in s.of(m, OrderEvent)]
    assert len(keys) > len(set(keys))


async def test_fast_fills_use_trade_lite_once(connect: Connect, sim: BinanceSim) -> None:
    s = await connect(fast_fills=True)
    m = s.mark()
    ack = await s.broker.place(market("ETHUSDT", Side.SELL, "0.100"))
    await s.wait_order(m, ack.order_id, "FILLED")
    fills = s.of(m, FillEvent)
    (trade,) = sim.engine.trades("main", "ETHUSDT")
    assert [(f.trade_id, f.quantity, f.price) for f in fills] == [
        (str(trade.trade_id), trade.qty, trade.price)
    ]
    # TRADE_LITE arrives before the ORDER_TRADE_UPDATE that reports the order filled
    evs = s.since(m)
    assert evs.index(fills[0]) < next(
        i for i, e in enumerate(evs) if isinstance(e, OrderEvent) and e.status is OrderStatus.FILLED
    )


async def test_mark_price_and_book_ticker_quotes(connect: Connect, ctl: Control, sim: BinanceSim) -> None:
    s = await connect()
    await ctl.price("ETHUSDT", "3012.34", mark="3012.30")
    assert await s.mark_price("ETHUSDT") == D("3012.30")
    await ctl.price("ETHUSDT", "3020.00", mark="3019.95")
    await wait_for(lambda: s.broker.mark_price("ETHUSDT") == D("3019.95"), what="new mark")
    book = sim.engine.market("ETHUSDT")

    def top() -> QuoteEvent | None:
        quotes = [q for q in s.of(0, QuoteEvent) if q.symbol == "ETHUSDT" and q.bid is not None]
        return quotes[-1] if quotes and quotes[-1].bid == book.bid else None

    quote = await wait_for(top, what="book ticker")
    assert (quote.bid, quote.ask) == (book.bid, book.ask) and quote.bid < quote.ask
