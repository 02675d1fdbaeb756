"""A Volumetrica login with several accounts (an evaluation and a funded one), adapter against the
simulator: InfoResp lists both, the named account (AccNumber) is the one every order carries, the
other account's positions stay out of this account's snapshot and events, and a number the login
lacks is refused."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sidedesk.domain import BrokerError, FillEvent, OrderRequest, OrderType, PositionEvent, Side
from sidedesk_sim.volumetrica import VolumetricaSim
from sidedesk_sim.volumetrica.instruments import front_symbol
from tests.integration.volumetrica.conftest import Connect, until

ES = front_symbol("ES")


async def _funded(sim: VolumetricaSim) -> int:
    out = await sim.control("account", {"header": "APEX-1234", "mode": "funded"})
    return int(out["account"])


async def test_both_accounts_listed_and_the_default_is_the_first_enabled(
    sim: VolumetricaSim, connect: Connect
) -> None:
    funded = await _funded(sim)
    b, _ = await connect()
    listed = [(a.id, a.name, a.kind) for a in b.accounts()]
    assert listed == [("123456", "SIM-EVAL-1", "Evaluation"), (str(funded), "APEX-1234", "Funded")]
    assert b.trading_account() is not None and b.trading_account().id == "123456"  # type: ignore[union-attr]
    assert b.trading_account().label == "Evaluation — SIM-EVAL-1"  # type: ignore[union-attr]


async def test_orders_carry_the_chosen_account_and_stay_on_it(sim: VolumetricaSim, connect: Connect) -> None:
    await sim.control("price", {"symbol": ES, "price": "6000"})
    funded = await _funded(sim)
    evaluation, eval_log = await connect()
    chosen, log = await connect(account_number=funded)
    assert chosen.acc_number == funded
    await chosen.place(OrderRequest(ES, Side.BUY, OrderType.MARKET, D(2), "sdmacct0001"))
    await until(lambda: log.of(FillEvent), what="the fill")
    # the simulator's own state: the order and the position are the funded account's
    state = sim.state()
    assert [(o["account"], o["client_id"] != 0) for o in state["orders"]] == [(funded, True)]
    assert state["positions_by_account"] == {"123456": {}, str(funded): {ES: "2"}}
    snap = await chosen.snapshot()
    assert [(p.symbol, p.quantity) for p in snap.positions] == [(ES, 2)]
    # the evaluation account's adapter hears the same login's pushes but keeps none of them
    assert all(p.quantity == 0 for p in (await evaluation.snapshot()).positions)
    assert not [e for e in eval_log.of(PositionEvent) if isinstance(e, PositionEvent) and e.quantity]


async def test_a_number_the_login_lacks_is_refused(sim: VolumetricaSim, connect: Connect) -> None:
    with pytest.raises(BrokerError) as err:
        await connect(account_number=999)
    assert err.value.code == "invalid" and "numbered 999" in err.value.message
    assert sim.state()["orders"] == []


async def test_the_simulator_starts_with_several_accounts() -> None:
    from sidedesk_sim.volumetrica import SimConfig

    sim = VolumetricaSim(config=SimConfig(accounts=3))
    assert sim.users["demo"][1] == [123456, 123457, 123458]
    assert [sim.exchange.accounts[a] for a in sim.users["demo"][1]] == [
        "SIM-EVAL-1",
        "SIM-FUNDED-2",
        "SIM-FUNDED-3",
    ]


async def test_a_v5_server_lists_the_accounts_without_guessing_their_mode() -> None:
    """A v5 account header has no Mode (its zero would read "Evaluation"): the kind stays empty,
    and the named account still takes the orders."""
    from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
    from sidedesk_sim.volumetrica import SimConfig
    from tests.integration.volumetrica.conftest import config_for
    from tests.support.eventlog import EventLog
    from tests.support.simthread import calm

    async with VolumetricaSim(seed=3, config=SimConfig(accounts=2), protocol="5") as sim:
        calm(sim)
        await sim.control("price", {"symbol": ES, "price": "6000"})
        log = EventLog()
        b = VolumetricaBroker("v5", config_for(sim), log, account_number=123457)
        try:
            await b.connect()
            assert [(a.id, a.name, a.kind, a.label) for a in b.accounts()] == [
                ("123456", "SIM-EVAL-1", "", "SIM-EVAL-1"),
                ("123457", "SIM-FUNDED-2", "", "SIM-FUNDED-2"),
            ]
            await b.place(OrderRequest(ES, Side.SELL, OrderType.MARKET, D(1), "sdmv5acct01"))
            await until(lambda: log.of(FillEvent), what="the fill")
            assert sim.state()["positions_by_account"] == {"123456": {}, "123457": {ES: "-1"}}
        finally:
            await b.close()
