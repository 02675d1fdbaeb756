"""`core.orders.prepare` on the simulator's real filters: notional → quantity at the streamed mark
price, tick rounding, and refusals that name the rule and a corrected value the exchange accepts.
Each refusal is cross-checked: the raw order, sent without pre-flight, is refused by the simulator
for the same rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk.core.orders import PreflightError, Ticket, make_client_id, prepare
from sidedesk.domain import BrokerError, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from tests.integration.binance_adapter.conftest import Connect
from tests.integration.binance_adapter.simenv import Control, Session

D = Decimal


async def _prepare(s: Session, ticket: Ticket) -> OrderRequest:
    mark = await s.mark_price(ticket.symbol)
    return prepare(
        ticket,
        s.broker.instruments()[ticket.symbol],
        client_id=make_client_id("m"),
        mark_price=mark,
        hedge_mode=s.broker.hedge_mode,
    )


async def test_notional_becomes_a_floored_quantity_at_the_mark(connect: Connect, ctl: Control) -> None:
    await ctl.price("BTCUSDT", "61234.5", mark="61234.5")
    s = await connect()
    await ctl.price("BTCUSDT", "61234.5", mark="61234.5")  # a fresh tick for the new subscriber
    mark = await s.mark_price("BTCUSDT")
    assert mark == D("61234.5")
    order = await _prepare(s, Ticket("BTCUSDT", Side.BUY, "MARKET", notional=D(1000)))
    assert order.quantity == D("0.016")  # 1000 / 61234.5 = 0.01633… floored to the 0.001 step
    await s.broker.place(order)
    log = await ctl.order_log()
    assert log[-1]["status"] == "FILLED" and D(log[-1]["executedQty"]) == D("0.016")


@pytest.mark.parametrize(
    ("side", "typed", "rounded"),
    [(Side.BUY, "59950.07", "59950.0"), (Side.SELL, "60050.03", "60050.1")],
)
async def test_limit_price_is_rounded_to_the_tick_on_the_safe_side(
    connect: Connect, ctl: Control, side: Side, typed: str, rounded: str
) -> None:
    s = await connect()
    order = await _prepare(s, Ticket("BTCUSDT", side, "LIMIT", quantity=D("0.002"), price=D(typed)))
    assert order.price == D(rounded) and order.time_in_force is TimeInForce.GTC
    ack = await s.broker.place(order)
    assert ack.status is OrderStatus.NEW
    resting = (await ctl.open_orders())["orders"]
    assert [(o["clientOrderId"], D(o["price"])) for o in resting] == [(order.client_id, D(rounded))]


async def test_quantity_off_the_step_names_the_step_and_the_fix(connect: Connect, ctl: Control) -> None:
    s = await connect()
    with pytest.raises(PreflightError) as err:
        await _prepare(s, Ticket("ETHUSDT", Side.BUY, "MARKET", quantity=D("0.0505")))
    assert err.value.field == "quantity" and err.value.corrected == D("0.050")
    assert "step 0.001" in err.value.message and "use 0.050" in err.value.message
    # the corrected value passes pre-flight and the exchange
    fixed = await _prepare(s, Ticket("ETHUSDT", Side.BUY, "MARKET", quantity=err.value.corrected))
    await s.broker.place(fixed)
    # the raw value is refused by the simulator for the same reason
    raw = OrderRequest("ETHUSDT", Side.BUY, OrderType.MARKET, D("0.0505"), make_client_id("m"))
    with pytest.raises(BrokerError) as ex:
        await s.broker.place(raw)
    assert ex.value.code == "invalid" and ex.value.broker_code in (-1111, -4023)
    log = await ctl.order_log()
    assert [e["clientOrderId"] for e in log if e["status"] == "FILLED"] == [fixed.client_id]


async def test_min_notional_from_a_notional_ticket_gives_a_notional_that_passes(connect: Connect) -> None:
    s = await connect()
    # BTCUSDT: MIN_NOTIONAL 100 USDT at mark 60000; 60 USDT buys the minimum quantity but is too small
    for notional in (D(30), D(60), D("99.99")):
        with pytest.raises(PreflightError) as err:
            await _prepare(s, Ticket("BTCUSDT", Side.BUY, "MARKET", notional=notional))
        assert err.value.field == "notional", notional
        assert err.value.corrected is not None and "USDT" in err.value.message
        fixed = await _prepare(s, Ticket("BTCUSDT", Side.BUY, "MARKET", notional=err.value.corrected))
        assert fixed.quantity * D(60000) >= D(100)
    ack = await s.broker.place(fixed)
    assert ack.order_id


async def test_min_notional_from_a_quantity_names_the_minimum(connect: Connect) -> None:
    s = await connect()
    with pytest.raises(PreflightError) as err:
        await _prepare(s, Ticket("BTCUSDT", Side.BUY, "MARKET", quantity=D("0.001")))
    assert err.value.field == "quantity" and err.value.corrected == D("0.002")
    assert "minimum 100" in err.value.message
    # without pre-flight the simulator says -4164, and the adapter turns it into an actionable message
    raw = OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, D("0.001"), make_client_id("m"))
    with pytest.raises(BrokerError) as ex:
        await s.broker.place(raw)
    assert ex.value.code == "rejected" and ex.value.broker_code == -4164
    assert "minimum notional" in ex.value.message and "increase size" in ex.value.message


async def test_percent_price_cap_gives_the_highest_allowed_price(connect: Connect) -> None:
    s = await connect()
    with pytest.raises(PreflightError) as err:
        await _prepare(s, Ticket("BTCUSDT", Side.BUY, "LIMIT", quantity=D("0.002"), price=D(70000)))
    assert err.value.field == "price" and err.value.corrected == D("63000.0")  # 60000 × 1.05
    assert "mark" in err.value.message
    fixed = await _prepare(
        s, Ticket("BTCUSDT", Side.BUY, "LIMIT", quantity=D("0.002"), price=err.value.corrected)
    )
    ack = await s.broker.place(fixed)  # crosses the ask and fills at the book price
    assert ack.order_id
    raw = OrderRequest(
        "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.002"), make_client_id("m"), price=D(70000),
        time_in_force=TimeInForce.GTC,
    )  # fmt: skip
    with pytest.raises(BrokerError) as ex:
        await s.broker.place(raw)
    assert ex.value.broker_code == -4016 and "mark price" in ex.value.message


async def test_market_quantity_above_the_market_maximum(connect: Connect) -> None:
    s = await connect()
    with pytest.raises(PreflightError) as err:
        await _prepare(s, Ticket("BTCUSDT", Side.BUY, "MARKET", quantity=D(150)))
    assert err.value.corrected == D(120) and "maximum 120" in err.value.message
