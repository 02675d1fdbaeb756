"""Regressions the soak found (each failed before its fix)."""

from __future__ import annotations

import re
import time

import pytest

from sidedesk_sim.binance.exchange import Ctx
from sidedesk_sim.binance.params import Params
from tests.integration.resilience.conftest import MakeLive
from tests.integration.resilience.test_lost_reply import journal
from tests.soak.hostdriver import HostError
from tests.support.wait import eventually


def test_an_order_placed_elsewhere_during_listen_key_renewal_shows_up(live: MakeLive) -> None:
    """An on-purpose reconnect (listenKey renewal) was not followed by a resync, so events sent
    while the account stream was down were lost for good."""
    lv = live()
    sim = lv.st.s

    def expire_then_trade_elsewhere() -> None:
        key = sim.listen_keys.key_of(lv.account, sim.now_ms())
        assert key is not None
        sim.listen_keys.expire(key)
        sim.step()
        ident = next(i for i in sim.identities.values() if i.account_id == lv.account)
        params = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.002",
            "price": "59000",
            "timeInForce": "GTC",
            "newClientOrderId": "webui1",
        }
        sim.exchange.call(
            "order.place", Ctx(Params.from_ws(params), ident, "control", "control", sim.now_ms())
        )

    lv.st.on_loop(expire_then_trade_elsewhere)
    lv.wait_in_sync(8)


def test_a_revoked_key_stops_trading_and_is_not_retried_in_a_loop(live: MakeLive) -> None:
    lv = live()
    lv.st.revoke_key(lv.ident["apiKey"])
    with pytest.raises(HostError) as err:
        lv.desk.market("BUY", "0.002")
    assert err.value.code == "auth"
    lv.st.disconnect("*")
    state = eventually(
        lambda: (b := lv.desk.broker_state()).get("state") == "auth_failed" and b, what="auth_failed"
    )
    assert "API key" in state["detail"]
    with pytest.raises(HostError) as again:
        lv.desk.market("BUY", "0.002")
    assert again.value.code == "auth"
    attempts = len(re.findall(r"binance-user: (?:connection failed|unexpected error)", lv.desk.log_text()))
    assert attempts <= 2


def test_an_intent_without_outcome_is_reconciled_after_a_restart(live: MakeLive) -> None:
    lv = live()
    lv.st.fault("delay", "order.place", ms=1500)
    ticket = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.002"}
    lv.desk.send({"v": 1, "id": "inflight", "type": "order.place", "payload": {"ticket": ticket}})
    intent = eventually(lambda: [r for r in journal(lv.home) if r["kind"] == "intent"], what="intent")[-1]
    time.sleep(0.2)  # the frame leaves microseconds after the intent is journaled; then the crash
    lv.desk.kill9()
    cid = intent["client_id"]
    eventually(lambda: lv.orders_with(cid), what="executed")
    lv.restart()
    # first "unknown — reconciling" (the intent machine's record on recovery), then the answer
    outcome = eventually(
        lambda: [
            r
            for r in journal(lv.home, cid)
            if r["kind"] == "outcome" and r["data"]["status"] != "unknown — reconciling"
        ],
        what="outcome after restart",
    )
    assert outcome[-1]["data"]["status"] == "FILLED"
