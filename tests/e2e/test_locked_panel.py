"""Locked, not blind (issue #20), in a real Chromium with the real host and the Binance simulator:
the vault locked with an open position leaves the Trade tab listing it with "Locked — unlock to
trade", BUY refused with that sentence and Close working; a host restarted without the password
shows the journal's last known position as Unprotected, and one Unlock brings the Trade tab back
with the active account, with no Reload."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SidedeskBrowser, snapshot
from tests.e2e.test_trading_support import VAULT_PASSWORD, SimThread, host_request, trading_browser

pytestmark = [pytest.mark.e2e]

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread(seed=3).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def browser(tmp_path: Path, sim: SimThread) -> Iterator[SidedeskBrowser]:
    with trading_browser(tmp_path, sim) as b:
        yield b


def open_btc(browser: SidedeskBrowser) -> Page:
    """The simulator account active, a BTCUSDT long with its ASL stop, and the panel on Trade."""
    accounts = host_request(browser, "accounts.list", {})["ok"]["accounts"]
    assert host_request(browser, "accounts.activate", {"account_id": accounts[0]["id"]}).get("ok"), accounts
    placed = host_request(
        browser,
        "order.place",
        {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.010", "asl": True}},
    )
    assert placed.get("ok", {}).get("status") == "placed", placed
    panel = browser.open_panel("?tab=trade")
    row = panel.locator('#trade-positions tbody.pos[data-symbol="BTCUSDT"]')
    expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    expect(row.locator(".asl-level")).to_have_text("hard stop", timeout=TIMEOUT_MS)
    return panel


def test_locked_with_a_position_lists_it_refuses_buy_and_closes(
    browser: SidedeskBrowser, sim: SimThread, artifacts: Path
) -> None:
    panel = open_btc(browser)
    panel.get_by_role("tab", name="Setup").click()
    panel.get_by_role("button", name="Lock now").click()
    expect(panel.get_by_label("Vault password")).to_be_visible(timeout=TIMEOUT_MS)
    panel.get_by_role("tab", name="Trade").click()
    locked = panel.locator("#trade-locked")
    expect(locked).to_be_visible(timeout=TIMEOUT_MS)
    expect(panel.locator("#trade-locked-text")).to_have_text("Locked — unlock to trade")
    expect(panel.locator("#trade-empty")).to_be_hidden()
    row = panel.locator('#trade-positions tbody.pos[data-symbol="BTCUSDT"]')
    expect(row).to_have_count(1)
    expect(row.locator(".asl-level")).to_have_text("hard stop")  # ASL still runs
    expect(panel.locator('#orders-body tr[data-conditional="true"]')).to_contain_text("STOP")
    expect(panel.locator("#trade-live")).to_have_attribute("data-tone", "live")
    expect(panel.locator("#trade-unprotected")).to_be_hidden()
    # BUY is refused with the sentence; nothing reaches the exchange
    expect(panel.locator('#trade-ticket input[name="symbol"]')).to_have_value("BTCUSDT", timeout=TIMEOUT_MS)
    panel.locator('#trade-ticket input[name="notional"]').fill("300")
    before = len(sim.control("GET", "/order-log", {"account": "main"}))
    panel.locator("#ticket-buy").click()
    expect(panel.locator("#ticket-result")).to_contain_text("Locked — unlock to trade", timeout=TIMEOUT_MS)
    assert len(sim.control("GET", "/order-log", {"account": "main"})) == before
    snapshot(panel, artifacts, "locked-trade")
    # Close 100 % works while locked
    row.get_by_role("button", name="Close 100 % of BTCUSDT").click()
    expect(row).to_have_count(0, timeout=TIMEOUT_MS)
    expect(panel.locator("#positions-result")).to_contain_text("Close 100 % BTCUSDT", timeout=TIMEOUT_MS)
    log = sim.control("GET", "/order-log", {"account": "main"})
    closes = [e for e in log if e["kind"] == "order" and e["type"] == "MARKET" and e["status"] == "FILLED"]
    assert closes and closes[-1]["side"] == "SELL", log[-3:]
    assert browser.page_errors == []


def test_a_host_restarted_without_the_password_comes_back_with_one_unlock(
    browser: SidedeskBrowser, artifacts: Path
) -> None:
    panel = open_btc(browser)
    pid = browser.service_worker.evaluate("() => globalThis.sidedesk.native.status.pid")
    os.kill(int(pid), signal.SIGKILL)  # the host crashes; the worker starts a new one by itself
    expect(panel.locator("#trade-locked-text")).to_have_text(
        "Locked — unlock to resume protection", timeout=TIMEOUT_MS
    )
    row = panel.locator('#trade-positions tbody.pos[data-symbol="BTCUSDT"]')
    expect(row).to_have_attribute("data-last-known", "true", timeout=TIMEOUT_MS)
    banner = panel.locator("#trade-unprotected")
    expect(banner).to_contain_text("unlock to resume protection", timeout=TIMEOUT_MS)
    snapshot(panel, artifacts, "locked-last-known")
    banner.get_by_role("button", name="Unlock").click()  # the one action that fixes it
    password = panel.get_by_label("Vault password")
    expect(password).to_be_focused(timeout=TIMEOUT_MS)
    password.fill(VAULT_PASSWORD)
    password.press("Enter")
    panel.get_by_role("tab", name="Trade").click()
    # no Reload: the active account reconnects and the exchange's own state replaces the journal's
    expect(panel.locator("#trade-live")).to_have_attribute("data-tone", "live", timeout=TIMEOUT_MS)
    expect(row).to_have_attribute("data-last-known", "false", timeout=TIMEOUT_MS)
    expect(panel.locator("#trade-locked")).to_be_hidden()
    expect(banner).to_be_hidden(timeout=TIMEOUT_MS)  # ASL took its stop back
    expect(panel.locator('#trade-ticket input[name="symbol"]')).to_have_value("BTCUSDT", timeout=TIMEOUT_MS)
    panel.get_by_role("button", name="Flatten all").click()
    expect(row).to_have_count(0, timeout=TIMEOUT_MS)
