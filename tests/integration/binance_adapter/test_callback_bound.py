"""Binance raised the maximum `callbackRate` of trailing stops from 10 to 20 on 2026-10-23
(derivatives change log, https://developers.binance.com/docs/derivatives/change-log): the
adapter sends up to 20 %, the simulator takes up to 20 % and refuses more with -1130 as Binance
does, and the ASL profile check follows the adapter's capabilities."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk.brokers.binance.adapter import CAPABILITIES
from sidedesk.brokers.binance.protocol import messages as msg
from sidedesk.core.asl import AslLevel, AslProfile, ProfileError
from sidedesk.core.orders import make_client_id
from sidedesk.domain import BrokerError, OrderRequest, OrderType, Side
from tests.integration.binance_adapter.conftest import Connect
from tests.integration.binance_adapter.simenv import Control

D = Decimal


def trailing(callback: str) -> OrderRequest:
    return OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.TRAILING_STOP_MARKET, D("0.010"), make_client_id("m"),
        reduce_only=True, callback_rate_pct=D(callback),
    )  # fmt: skip


async def test_a_15_and_a_20_percent_trailing_stop_are_placed(connect: Connect, ctl: Control) -> None:
    s = await connect()
    await s.broker.place(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, D("0.030"), make_client_id("m")))
    orders = [trailing("15"), trailing("20")]
    for o in orders:
        ack = await s.broker.place(o)
        assert ack.is_conditional
    algos = {a["clientAlgoId"]: a for a in (await ctl.open_orders())["algoOrders"]}
    assert [D(algos[o.client_id]["callbackRate"]) for o in orders] == [D(15), D(20)]


async def test_above_20_percent_is_refused_by_the_adapter_and_by_the_simulator(
    connect: Connect, ctl: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await connect()
    await s.broker.place(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, D("0.030"), make_client_id("m")))
    with pytest.raises(BrokerError) as refused:
        await s.broker.place(trailing("20.5"))
    assert refused.value.code == "invalid" and "0.1 % and 20 %" in refused.value.message
    assert (await ctl.open_orders())["algoOrders"] == []  # nothing was sent
    # past the adapter's own check, the exchange (the simulator) refuses it: -1130
    monkeypatch.setattr(msg, "MAX_CALLBACK", D(100))
    with pytest.raises(BrokerError) as exchange:
        await s.broker.place(trailing("20.5"))
    assert exchange.value.broker_code == -1130
    assert (await ctl.open_orders())["algoOrders"] == []


def test_the_asl_profile_takes_up_to_20_percent_on_binance() -> None:
    assert (CAPABILITIES.min_callback_pct, CAPABILITIES.max_callback_pct) == (D("0.1"), D(20))
    wide = AslProfile(
        levels=(AslLevel(profit_pct=D(5), callback_pct=D(15)),), hard_stop_pct=D(15), safety_stop_pct=D(30)
    )
    wide.check_broker(CAPABILITIES)
    wider = AslProfile(levels=(AslLevel(profit_pct=D(5), callback_pct=D("20.5")),), safety_stop_pct=D(30))
    with pytest.raises(ProfileError, match="above the broker maximum 20"):
        wider.check_broker(CAPABILITIES)
