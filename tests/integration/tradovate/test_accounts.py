"""A Tradovate login with several accounts, adapter against the simulator: every account listed
after login, the named one (by id or accountSpec) traded with its accountId on every order, the
other accounts' entities kept out, and a name the login lacks refused (never another account)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk.domain import BrokerError, OrderRequest, OrderType, PositionEvent, Side
from sidedesk_sim.tradovate import TradovateSim
from sidedesk_sim.tradovate import control as sim_control
from tests.integration.tradovate.conftest import MES, Connect, config_for, eventually

USER = {"username": "prop.trader", "password": "prop-password", "cid": 77, "sec": "prop-secret-0001"}
CREDS = {"name": USER["username"], "password": USER["password"], "cid": USER["cid"], "sec": USER["sec"]}


def _login(sim: TradovateSim, accounts: int = 3) -> list[tuple[int, str]]:
    user = sim.add_user(USER["username"], USER["password"], int(USER["cid"]), USER["sec"], accounts)
    return [(a.id, a.name) for a in user.accounts]


def _buy(cid: str) -> OrderRequest:
    return OrderRequest(MES, Side.BUY, OrderType.MARKET, Decimal(1), cid)


async def test_every_account_listed_and_the_default_is_the_lowest_id(
    sim: TradovateSim, connect: Connect
) -> None:
    accounts = _login(sim)
    s = await connect(config_for(sim, **CREDS))
    assert [(a.id, a.name) for a in s.broker.accounts()] == [(str(i), n) for i, n in accounts]
    chosen = s.broker.trading_account()
    assert chosen is not None and chosen.id == str(accounts[0][0])


@pytest.mark.parametrize("by", ["id", "name"])
async def test_orders_go_to_the_named_account_only(sim: TradovateSim, connect: Connect, by: str) -> None:
    accounts = _login(sim)
    second_id, second_name = accounts[1]
    spec = str(second_id) if by == "id" else second_name
    s = await connect(config_for(sim, **CREDS), account_spec=spec)
    assert s.broker.trading_account() is not None
    assert s.broker.trading_account().name == second_name  # type: ignore[union-attr]
    await s.broker.place(_buy(f"sd-acc-{by}"))
    placed = await eventually(
        lambda: [o for o in sim_control.orders(sim, {}) if o["text"] == f"sd-acc-{by}"], "the order"
    )
    # the simulator's own state: the order and the position are the second account's
    assert [o["account"] for o in placed] == [second_name]
    held = {
        a.name: [p for p in sim.book.position_rows([a.id]) if p["netPos"]]
        for a in sim.auth.users[USER["username"]].accounts
    }
    assert [n for n, rows in held.items() if rows] == [second_name]
    await eventually(lambda: [e for e in s.log.of(PositionEvent) if e.quantity == 1], "the position event")


async def test_another_accounts_fill_stays_out_of_this_accounts_events(
    sim: TradovateSim, connect: Connect
) -> None:
    accounts = _login(sim, 2)
    first = await connect(config_for(sim, **CREDS), account_spec=str(accounts[0][0]))
    second = await connect(config_for(sim, **CREDS), account_spec=str(accounts[1][0]))
    await second.broker.place(_buy("sd-acc-other"))
    await eventually(lambda: [e for e in second.log.of(PositionEvent) if e.quantity == 1], "its position")
    snap = await first.broker.snapshot()
    assert snap.positions == () or all(p.quantity == 0 for p in snap.positions)
    assert not [e for e in first.log.of(PositionEvent) if e.quantity]
    assert (await second.broker.snapshot()).positions[0].quantity == 1


async def test_an_account_the_login_lacks_is_refused(sim: TradovateSim, connect: Connect) -> None:
    accounts = _login(sim, 2)
    with pytest.raises(BrokerError) as err:
        await connect(config_for(sim, **CREDS), account_spec="APEX-9999")
    assert err.value.code == "invalid"
    assert "no account APEX-9999" in err.value.message
    assert accounts[0][1] in err.value.message and accounts[1][1] in err.value.message
    assert not sim_control.orders(sim, {})
