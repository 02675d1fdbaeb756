"""A hotkey order above the confirmation threshold is confirmed in the panel (#21): real keystrokes
(Xvfb + xdotool) into a headed Chromium, the real host, a Tradovate simulator account, and the
settings' default thresholds (no risk settings written: 150 000 USD on a futures account).

Measured before: every broker defaulted to 5 000 "USDT", so 1 MES (about 30 000 USD) always
needed a confirmation and the buy hotkey was refused outright. Now 1 MES from the hotkey goes at
once; 3 ES (about 900 000 USD) ask in the panel — in the ticket, and on the minimised bar — and
go only after Confirm; Cancel sends nothing. The ticket names the contract and its expiry.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sidedesk.brokers.tradovate.protocol.contracts import cme_expiry_ms, contract_month, expiry_date
from sidedesk_sim.tradovate.instruments import front_name
from tests.e2e.broker_sims import BROKERS, VAULT_ENTRIES, BrokerSims
from tests.e2e.conftest import SidedeskBrowser, launch_sidedesk
from tests.e2e.test_broker_panels import activate, pick_symbol
from tests.e2e.test_hotkeys import badge, display, press, wait_for
from tests.e2e.test_trading_support import SMALL_KDF, VAULT_PASSWORD, host_request

pytestmark = pytest.mark.e2e

__all__ = ["display"]  # the module-scoped Xvfb fixture, shared with test_hotkeys

TIMEOUT_MS = 15_000
MES = front_name("MES")
ES = front_name("ES")


@pytest.fixture(scope="module")
def sims() -> Iterator[BrokerSims]:
    with BrokerSims() as s:
        yield s


@pytest.fixture(scope="module")
def browser(
    tmp_path_factory: pytest.TempPathFactory, sims: BrokerSims, display: str
) -> Iterator[SidedeskBrowser]:
    root = tmp_path_factory.mktemp("hotkey-confirm")
    config: dict[str, Any] = {  # no "risk": the default thresholds are under test
        "status_interval_s": 1.0,
        "vault_kdf": SMALL_KDF,
        "simulators": sims.base_urls(),
        "asl_enabled": False,
    }
    with launch_sidedesk(
        root / "profile", root / "home", headless=False, env={"DISPLAY": display}, host_config=config
    ) as b:
        created = host_request(b, "vault.create", {"password": VAULT_PASSWORD})
        assert "ok" in created, f"vault.create failed: {created}\n{b.host_log()[-3000:]}"
        for broker in BROKERS:
            put = host_request(b, "vault.put", {"entry": VAULT_ENTRIES[broker]})
            assert "ok" in put, f"vault.put {broker} failed: {put}"
        yield b


@pytest.fixture(scope="module")
def panel(browser: SidedeskBrowser) -> Page:
    page = browser.open_panel()
    expect(page.locator("#status-state")).to_have_text("Connected", timeout=TIMEOUT_MS)
    activate(browser, page, "tradovate")
    return page


def tv_orders(sims: BrokerSims, symbol: str) -> list[dict[str, Any]]:
    return [o for o in sims.control("tradovate", "GET", "/orders") if o["symbol"] == symbol]


def ticket_saved(browser: SidedeskBrowser, symbol: str, quantity: str) -> bool:
    got = browser.service_worker.evaluate("() => chrome.storage.local.get('sidedesk.ticket')")
    t = got.get("sidedesk.ticket") or {}
    return bool(t.get("symbol") == symbol and t.get("quantity") == quantity)


def set_ticket(browser: SidedeskBrowser, panel: Page, symbol: str, quantity: str) -> None:
    ticket = pick_symbol(panel, symbol, "contracts", priced=False)
    ticket.locator('input[name="quantity"]').fill(quantity)
    wait_for(
        lambda: ticket_saved(browser, symbol, quantity), f"the ticket {quantity} {symbol} saved for hotkeys"
    )


def test_the_ticket_names_the_front_contract_and_its_expiry(panel: Page) -> None:
    pick_symbol(panel, MES, "contracts", priced=False)
    month = contract_month(MES, "MES", int(time.time() * 1000))
    assert month is not None
    expires = expiry_date(cme_expiry_ms(*month))
    expect(panel.locator("#ticket-contract")).to_have_text(f"{MES} · expires {expires}", timeout=TIMEOUT_MS)


def test_one_mes_from_the_hotkey_goes_at_once(
    browser: SidedeskBrowser, panel: Page, sims: BrokerSims, display: str
) -> None:
    set_ticket(browser, panel, MES, "1")
    before = len(tv_orders(sims, MES))
    press(display, "alt+shift+u", panel)
    new = wait_for(lambda: tv_orders(sims, MES)[before:], "the hotkey's MES order on the simulator")
    assert (new[0]["action"], new[0]["orderType"], new[0]["qty"]) == ("Buy", "Market", 1), new
    expect(panel.locator("#hotkey-confirm")).not_to_have_attribute("data-state", "asking")  # never asked
    wait_for(lambda: badge(browser) == "", "the badge clear after the fill")


def test_three_es_from_the_hotkey_are_confirmed_in_the_panel(
    browser: SidedeskBrowser, panel: Page, sims: BrokerSims, display: str, artifacts: Path
) -> None:
    set_ticket(browser, panel, ES, "3")
    before = len(tv_orders(sims, ES))
    press(display, "alt+shift+u", panel)
    confirm = panel.locator("#hotkey-confirm")
    expect(confirm).to_be_visible(timeout=TIMEOUT_MS)
    expect(confirm.locator("#hotkey-confirm-question")).to_have_text(f"Buy 3 {ES}?")
    expect(confirm).to_contain_text(
        re.compile(r"Order value [\d,]+\.\d\d USD, above your confirmation threshold")
    )
    wait_for(lambda: badge(browser) == "?", "the badge asking for a confirmation")
    assert len(tv_orders(sims, ES)) == before, "nothing is sent before the confirmation"
    panel.screenshot(path=str(artifacts / "hotkey-confirm.png"))
    confirm.locator("#hotkey-confirm-yes").click()
    new = wait_for(lambda: tv_orders(sims, ES)[before:], "the confirmed ES order on the simulator")
    assert len(new) == 1 and (new[0]["action"], new[0]["qty"]) == ("Buy", 3), new
    result = confirm.locator("#hotkey-confirm-result")
    expect(result).to_contain_text(re.compile(rf"^(Buy: )?(Bought|BUY) 3 {ES}"), timeout=TIMEOUT_MS)
    wait_for(lambda: badge(browser) == "", "the badge clear after the fill")
    assert len(tv_orders(sims, ES)) == before + 1, "sent once"


def test_the_minimised_bar_asks_too_and_cancel_sends_nothing(
    browser: SidedeskBrowser, panel: Page, sims: BrokerSims, display: str, artifacts: Path
) -> None:
    set_ticket(browser, panel, ES, "3")
    panel.locator("#minimise-toggle").click()
    expect(panel.locator("#actionbar")).to_be_visible()
    before = len(tv_orders(sims, ES))
    press(display, "alt+shift+u", panel)  # 3 more ES (a sell would only reduce the long: no ask)
    bar = panel.locator("#bar-confirm")
    expect(bar).to_be_visible(timeout=TIMEOUT_MS)
    expect(bar.locator("#bar-confirm-question")).to_have_text(f"Buy 3 {ES}?")
    expect(bar.locator("#bar-confirm-yes")).to_have_text("Confirm BUY")
    panel.screenshot(path=str(artifacts / "hotkey-confirm-bar.png"))
    bar.locator("#bar-confirm-no").click()
    expect(bar.locator("#bar-confirm-result")).to_have_text("Not sent.", timeout=TIMEOUT_MS)
    expect(panel.locator("#hotkey-confirm-yes")).to_be_hidden()
    wait_for(lambda: badge(browser) == "", "the badge clear after the cancel")
    assert browser.service_worker.evaluate("() => chrome.storage.session.get('sidedesk.confirm')") == {}
    assert len(tv_orders(sims, ES)) == before, "Cancel sends nothing"
    panel.locator("#bar-restore").click()
