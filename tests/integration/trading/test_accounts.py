"""Broker accounts through the real host: listing (vault must be unlocked; rows show a masked key,
never a secret), activation against the simulator, bad ids, a simulator account on a host with no
simulator configured, refused credentials, and deactivation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.trading.conftest import PASSWORD, Desk, Sim, eventually, start_desk, write_config

WRONG_SECRET = "f" * 64


@pytest.fixture(scope="module")
def bare(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A host whose vault holds the simulator account, not yet activated."""
    d = start_desk(tmp_path_factory.mktemp("home"), None)
    try:
        d.account_id = d.put_account(sim.key(), name="sim main")
        yield d
        d.assert_no_secret(sim.key()["secret"])
        d.assert_no_secret(WRONG_SECRET)
    finally:
        d.stop()


def test_rows_show_a_masked_key_hint_and_never_a_secret(sim: Sim, bare: Desk) -> None:
    key = sim.key()
    out = bare.call("accounts.list")
    assert out["active_id"] is None
    (row,) = out["accounts"]
    assert row["id"] == bare.account_id
    assert (row["name"], row["broker"], row["environment"]) == ("sim main", "binance", "simulator")
    assert row["key_hint"] == f"{key['apiKey'][:4]}…{key['apiKey'][-4:]}"
    assert (row["state"], row["active"], row["attempt"]) == ("disconnected", False, 0)
    reply = bare.raw[-1].decode()
    assert key["secret"] not in reply and key["apiKey"] not in reply


def test_listing_and_activating_need_an_unlocked_vault(bare: Desk) -> None:
    bare.call("vault.lock")
    try:
        err = bare.error("accounts.list")
        assert err.code == "locked" and "unlock" in err.message
        err = bare.error("accounts.activate", {"account_id": bare.account_id})
        assert err.code == "locked"
    finally:
        bare.call("vault.unlock", {"password": PASSWORD})
    assert len(bare.call("accounts.list")["accounts"]) == 1


def test_a_simulator_account_without_a_simulator_configured_is_invalid(bare: Desk) -> None:
    err = bare.error("accounts.activate", {"account_id": bare.account_id})
    assert err.code == "invalid"
    assert "no simulator is configured" in err.message and "sidedesk sim binance" in err.message
    (row,) = bare.call("accounts.list")["accounts"]
    assert (row["state"], row["active"]) == ("disconnected", False)
    err = bare.error("market.symbols")
    assert err.code == "not_connected" and "Setup" in err.message


def test_activate_list_and_deactivate_against_the_simulator(sim: Sim, tmp_path: Path) -> None:
    with _desk(tmp_path, sim) as desk:
        account_id = desk.put_account(sim.key())
        err = desk.error("accounts.activate", {"account_id": "nope"})
        assert err.code == "invalid" and "'nope'" in err.message
        assert desk.error("accounts.activate", {"account_id": ""}).code == "invalid"

        row = desk.activate(account_id)
        assert (row["id"], row["state"], row["active"]) == (account_id, "live", True)
        # the market-data socket opens just after the reply (see the report: the row shows
        # "connecting" for a moment), so poll the listing until every socket is up
        listed = eventually(
            lambda: (out := desk.call("accounts.list"))["accounts"][0]["state"] == "live" and out,
            5,
            "the account listed as live",
        )
        assert listed["active_id"] == account_id
        assert [(r["id"], r["state"], r["active"]) for r in listed["accounts"]] == [
            (account_id, "live", True)
        ]
        (broker,) = desk.subscribe("status")["status"]["brokers"]
        assert (broker["account_id"], broker["state"], broker["active"]) == (account_id, "live", True)
        assert desk.call("market.symbols")["symbols"]
        # activating the active account again is harmless
        assert desk.activate(account_id)["state"] == "live"

        assert desk.call("accounts.deactivate") == {}
        listed = desk.call("accounts.list")
        assert listed["active_id"] is None
        assert [(r["state"], r["active"]) for r in listed["accounts"]] == [("disconnected", False)]
        assert desk.subscribe("status")["status"]["brokers"] == []
        assert desk.error("market.symbols").code == "not_connected"
        err = desk.error("order.place", {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "notional": "200"}})
        assert err.code == "not_connected"
        desk.assert_no_secret(sim.key()["secret"])


def test_quotes_flow_on_a_new_link_after_the_account_is_activated_again(sim: Sim, tmp_path: Path) -> None:
    """The symbols a link streams quotes for belong to that link: the account activated again (a
    new link, a new adapter) subscribes them anew. The host kept one set for every link, so the new
    link never asked for what the old one had watched and its marks stopped moving."""
    with _desk(tmp_path, sim) as desk:
        account_id = desk.put_account(sim.key())
        desk.subscribe("quotes")
        desk.activate(account_id)
        assert "ETHUSDT" in desk.call("market.watch", {"symbols": ["ETHUSDT"]})["symbols"]
        sim.price("ETHUSDT", "3010.5", mark="3010.5")
        desk.wait_mark("ETHUSDT", "3010.5")
        assert desk.call("accounts.deactivate") == {}
        desk.activate(account_id)
        assert "ETHUSDT" in desk.call("market.watch", {"symbols": ["ETHUSDT"]})["symbols"]
        sim.price("ETHUSDT", "3020.5", mark="3020.5")
        desk.wait_mark("ETHUSDT", "3020.5")


def test_refused_credentials_say_so_without_the_secret(sim: Sim, tmp_path: Path) -> None:
    with _desk(tmp_path, sim) as desk:
        key = {"apiKey": sim.key()["apiKey"], "secret": WRONG_SECRET}
        account_id = desk.put_account(key, name="wrong")
        err = desk.error("accounts.activate", {"account_id": account_id})
        assert err.code == "auth"
        assert err.message and WRONG_SECRET not in err.message
        (row,) = desk.call("accounts.list")["accounts"]
        assert row["active"] is False
        desk.assert_no_secret(WRONG_SECRET)


@contextmanager
def _desk(home: Path, sim: Sim) -> Iterator[Desk]:
    """A host with a vault and the simulator configured, no account yet (stopped on exit)."""
    home.mkdir(parents=True, exist_ok=True)
    write_config(home, sim.url)
    desk = Desk(home)
    try:
        desk.create_vault()
        yield desk
    finally:
        desk.stop()
