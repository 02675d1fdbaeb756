"""A Tradovate login with two prop accounts, in a real Chromium with the real host: the account is
picked in Setup, switched from the Trade tab header, and an order from the panel ticket and one
from the buy hotkey land on the switched-to account in the simulator's own order book; the vault
entry remembers the switch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.broker_sims import BrokerSims
from tests.e2e.conftest import SidedeskBrowser, launch_sidedesk, snapshot
from tests.e2e.test_broker_panels import MES, TIMEOUT_MS, pick_symbol, until
from tests.e2e.test_trading_support import SMALL_KDF, VAULT_PASSWORD, host_request

pytestmark = pytest.mark.e2e

USER = {"name": "prop.trader", "password": "prop-password", "cid": 77, "sec": "prop-secret-0001"}
ENTRY = {
    "broker": "tradovate",
    "name": "Prop login",
    "environment": "simulator",
    "username": USER["name"],
    "password": USER["password"],
    "cid": USER["cid"],
    "sec": USER["sec"],
}


@pytest.fixture(scope="module")
def sims() -> Iterator[BrokerSims]:
    with BrokerSims() as s:
        yield s


@pytest.fixture(scope="module")
def accounts(sims: BrokerSims) -> list[dict[str, Any]]:
    """The login's two accounts on the Tradovate simulator (id, name)."""
    made = sims.control("tradovate", "POST", "/users", {**USER, "accounts": 2})
    return list(made["accounts"])


@pytest.fixture(scope="module")
def browser(
    tmp_path_factory: pytest.TempPathFactory, sims: BrokerSims, accounts: list[dict[str, Any]]
) -> Iterator[SidedeskBrowser]:
    root = tmp_path_factory.mktemp("account-switch")
    config: dict[str, Any] = {
        "status_interval_s": 1.0,
        "vault_kdf": SMALL_KDF,
        "simulators": sims.base_urls(),
        "asl_enabled": True,
        "watchlist": [MES],
        "risk": {"max_orders_per_minute": 1000, "confirm_above_notional": None},
    }
    with launch_sidedesk(root / "profile", root / "home", host_config=config) as b:
        assert "ok" in host_request(b, "vault.create", {"password": VAULT_PASSWORD})
        put = host_request(b, "vault.put", {"entry": ENTRY})
        assert "ok" in put, put
        yield b


def _orders(sims: BrokerSims, account: str, order_type: str = "Market") -> list[dict[str, Any]]:
    return [
        o
        for o in sims.control("tradovate", "GET", "/orders", {"account": account})
        if o["orderType"] == order_type
    ]


def test_switch_accounts_from_the_trade_tab_and_trade_on_the_new_one(
    browser: SidedeskBrowser, sims: BrokerSims, accounts: list[dict[str, Any]], artifacts: Path
) -> None:
    first, second = accounts
    panel: Page = browser.open_panel()
    expect(panel.locator("#status-state")).to_have_text("Connected", timeout=TIMEOUT_MS)
    # Setup: the entry is used; the login's first account (the old default) is picked
    panel.get_by_role("tab", name="Setup").click()
    rows = panel.locator("#accounts-list li.acct")
    expect(rows).to_have_count(1, timeout=TIMEOUT_MS)
    panel.get_by_role("button", name="Use Prop login").click()
    active = panel.locator('#accounts-list li.acct[data-active="true"]')
    expect(active).to_contain_text(first["name"], timeout=TIMEOUT_MS)
    expect(active).to_have_attribute("data-state", "live", timeout=TIMEOUT_MS)
    # ...and the login's other account is listed once it connects
    expect(rows).to_have_count(2, timeout=TIMEOUT_MS)
    expect(rows.filter(has_text=second["name"])).to_have_attribute("data-state", "live", timeout=TIMEOUT_MS)

    # Trade tab header: the switcher lists both; switch to the second
    panel.get_by_role("tab", name="Trade").click()
    switcher = panel.locator("#trade-account-switch")
    expect(switcher).to_be_visible(timeout=TIMEOUT_MS)
    expect(switcher.locator("option")).to_have_text([first["name"], second["name"]], timeout=TIMEOUT_MS)
    expect(switcher).to_have_value(f"{_entry_id(browser)}:{first['id']}")
    switcher.select_option(label=second["name"])
    expect(switcher).to_have_value(f"{_entry_id(browser)}:{second['id']}", timeout=TIMEOUT_MS)
    expect(panel.locator("#trade-live .live-account")).to_contain_text(second["name"], timeout=TIMEOUT_MS)
    expect(panel.locator("#trade-live")).to_have_attribute("data-tone", "live", timeout=TIMEOUT_MS)
    # the vault entry remembers the switch
    entries = host_request(browser, "vault.entries", {})["ok"]["entries"]
    assert [e["account"] for e in entries] == [str(second["id"])], entries

    # an order from the ticket lands on the second account in the simulator's own order book
    ticket = pick_symbol(panel, MES, "contracts")
    ticket.locator('input[name="quantity"]').fill("1")
    panel.locator("#ticket-buy").click()
    expect(panel.locator("#ticket-result")).to_have_attribute("data-tone", "ok", timeout=TIMEOUT_MS)
    placed = until(lambda: _orders(sims, second["name"]), "the ticket's order on the second account")
    assert [(o["action"], o["qty"]) for o in placed] == [("Buy", 1)], placed
    assert _orders(sims, first["name"]) == []
    row = panel.locator(f'#trade-positions tbody.pos[data-symbol="{MES}"]')
    expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    # ...and so does the buy hotkey (run by the worker as for a keypress)
    view = browser.service_worker.evaluate("() => globalThis.sidedesk.runCommand('buy')")
    assert view["level"] == "info", view
    until(lambda: len(_orders(sims, second["name"])) == 2 or None, "the hotkey's order on the second account")
    assert _orders(sims, first["name"]) == []
    # ASL protects the new account's position with its exchange-side stop
    until(lambda: _orders(sims, second["name"], "Stop") or None, "the ASL stop on the second account")
    snapshot(panel, artifacts, "account-switch")
    assert browser.page_errors == []


def _entry_id(browser: SidedeskBrowser) -> str:
    entries = host_request(browser, "vault.entries", {})["ok"]["entries"]
    return str(entries[0]["id"])
