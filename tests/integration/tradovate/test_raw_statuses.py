"""Every raw Tradovate order status change is in the host log (#21): PendingNew, Working, Filled,
Canceled... are all "NEW" or final to the core, so the old adapter's dedup key merged them and the
log never showed PendingNew -> Working. Against the simulator over loopback."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import pytest

from sidedesk.domain import OrderEvent, OrderRequest, OrderStatus, OrderType, Side
from tests.integration.tradovate.conftest import MES, Connect, eventually

LOGGER = "sidedesk.brokers.tradovate.protocol.state"


def transitions(caplog: pytest.LogCaptureFixture, order_id: str) -> list[tuple[str, str]]:
    out = []
    for rec in caplog.records:
        if rec.name != LOGGER:
            continue
        m = re.search(rf"order {order_id} .*: (\S+(?: \S+)?) -> (\w+)", rec.getMessage())
        if m:
            out.append((m.group(1), m.group(2)))
    return out


async def test_market_order_logs_pending_new_working_filled(
    connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    s = await connect()
    ack = await s.broker.place(OrderRequest(MES, Side.BUY, OrderType.MARKET, Decimal(1), "sdm0000000raw001"))
    await eventually(
        lambda: [o for o in s.orders(ack.order_id) if o.status is OrderStatus.FILLED], "the fill"
    )
    steps = await eventually(
        lambda: (t := transitions(caplog, ack.order_id)) and t[-1][1] == "Filled" and t, "Filled logged"
    )
    assert steps == [("(new)", "PendingNew"), ("PendingNew", "Working"), ("Working", "Filled")], steps
    # the neutral events the core sees did not change: NEW (maybe), then FILLED, once each
    statuses = [o.status for o in s.orders(ack.order_id) if isinstance(o, OrderEvent)]
    assert statuses[-1] is OrderStatus.FILLED and statuses.count(OrderStatus.FILLED) == 1
    line = next(r.getMessage() for r in caplog.records if "Working -> Filled" in r.getMessage())
    assert MES in line and "Buy" in line and "sdm0000000raw001" in line


async def test_a_cancelled_limit_logs_each_step(connect: Connect, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    s = await connect()
    order = OrderRequest(
        MES, Side.BUY, OrderType.LIMIT, Decimal(1), "sdm0000000raw002", price=Decimal("5900")
    )
    ack = await s.broker.place(order)
    await eventually(lambda: ("PendingNew", "Working") in transitions(caplog, ack.order_id), "Working")
    await s.broker.cancel(MES, order_id=ack.order_id)
    await eventually(lambda: ("Working", "Canceled") in transitions(caplog, ack.order_id), "Canceled")
