"""Connecting with HMAC (per-request signatures) and Ed25519 (`session.logon`) keys, and the
instruments the adapter loads from the simulator's exchangeInfo."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from sidedesk.brokers.binance.adapter import BinanceBroker
from sidedesk.domain import (
    BrokerError,
    ConnectionEvent,
    ConnectionState,
    OrderRequest,
    OrderType,
    Side,
)
from sidedesk_sim.binance import BinanceSim
from tests.integration.binance_adapter.conftest import Connect
from tests.integration.binance_adapter.simenv import Control, builtin_key, config_for
from tests.support.eventlog import EventLog

D = Decimal


@pytest.mark.parametrize("key", ["hmac", "ed25519"])
async def test_connect_and_trade(connect: Connect, ctl: Control, key: str) -> None:
    s = await connect(key)
    client = s.broker.session
    assert client.creds.signer.kind == key
    # Ed25519 logs the session on once; HMAC signs every request
    assert client._logged_on is (key == "ed25519")
    states = [e.state for e in s.of(0, ConnectionEvent)]
    assert states[0] is ConnectionState.CONNECTING and states[-1] is ConnectionState.CONNECTED
    ack = await s.broker.place(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, D("0.002"), f"sdm-{key}"))
    log = await ctl.order_log()
    assert [(e["clientOrderId"], e["status"]) for e in log if e["kind"] == "order"] == [
        (f"sdm-{key}", "NEW"),
        (f"sdm-{key}", "FILLED"),
    ]
    assert ack.order_id == str(log[0]["orderId"]) and ack.client_id == f"sdm-{key}"


async def test_connect_with_an_rsa_key_signs_every_request(connect: Connect, ctl: Control) -> None:
    ident = await ctl.account("rsa-trader", key_type="rsa")
    s = await connect(ident)
    assert s.broker.session.creds.signer.kind == "rsa" and not s.broker.session._logged_on
    order = OrderRequest("ETHUSDT", Side.SELL, OrderType.MARKET, D("0.010"), "sdm-rsa")
    await s.broker.place(order)
    assert [e["status"] for e in await ctl.order_log("rsa-trader")] == ["NEW", "FILLED"]
    assert await s.broker.cancel_all() == 0  # REST: base64 signature percent-encoded in the query


async def test_instruments_match_the_simulators_filters(connect: Connect, sim: BinanceSim) -> None:
    s = await connect()
    rules = s.broker.instruments()
    assert set(rules) == set(sim.engine.instruments)
    for symbol, inst in sim.engine.instruments.items():
        r = rules[symbol]
        assert (r.tick_size, r.step_size, r.min_qty, r.max_qty) == (
            inst.tick_size,
            inst.step_size,
            inst.min_qty,
            inst.max_qty,
        ), symbol
        assert (r.market_max_qty, r.min_notional, r.min_price, r.max_price) == (
            inst.market_max_qty,
            inst.min_notional,
            inst.min_price,
            inst.max_price,
        ), symbol
        assert (r.percent_up, r.percent_down) == (inst.multiplier_up, inst.multiplier_down), symbol
        assert r.trading


async def test_wrong_secret_is_an_auth_error_that_names_the_fix(sim: BinanceSim) -> None:
    ident = dict(builtin_key(sim, "hmac"))
    ident["secret"] = "0" * 64
    broker = BinanceBroker("acc", config_for(sim, ident), EventLog())
    with pytest.raises(BrokerError) as err:
        await broker.connect()
    assert err.value.code == "auth" and err.value.broker_code == -1022
    assert "secret" in err.value.message and "0" * 64 not in err.value.message
    await broker.close()


async def test_unknown_key_is_an_auth_error(sim: BinanceSim) -> None:
    ident = dict(builtin_key(sim, "hmac"))
    ident["apiKey"] = "A" * 64
    broker = BinanceBroker("acc", config_for(sim, ident), EventLog())
    with pytest.raises(BrokerError) as err:
        await broker.connect()
    assert err.value.code == "auth" and err.value.broker_code == -2015
    await broker.close()


async def test_a_snapshot_is_stamped_with_the_time_it_started(connect: Connect) -> None:
    # An order placed while a snapshot is being read is newer than the snapshot: stamping it with
    # the time it finished made the orders book drop such an order (found by the soak).
    s = await connect()
    # before any account event or order reply, nothing to check our clock against: the newest
    # change the snapshot holds (soak seed 9271), never later than the start of the reads
    before = s.broker.session.server_now_ms()
    first = await s.broker.snapshot()
    newest = max((b.ts_ms or 0 for b in first.balances), default=0)
    assert first.ts_ms == (newest or first.ts_ms) and first.ts_ms <= before
    # after a reply: the start of the reads, on the clock the reply and the events carry (kept
    # behind our estimate by the reply's delivery time at most: a few ms on loopback)
    await s.broker.place(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, D("0.002"), "sdm-stamp"))
    await asyncio.sleep(0.05)  # the exchange's clock moves on: the stamp must follow it
    before = s.broker.session.server_now_ms()
    snap = await s.broker.snapshot()
    after = s.broker.session.server_now_ms()
    assert before - 5 <= snap.ts_ms <= after
    assert snap.ts_ms - before <= 5  # the start, not the end, of the reads
