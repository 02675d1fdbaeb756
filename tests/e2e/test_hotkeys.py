"""Real keystrokes: Xvfb + xdotool against a headed Chromium, the host and the Binance simulator.

CDP / Playwright key presses never reach chrome.commands (research/chrome.md §5.1), so the X server
is real: the fixture starts `Xvfb` on a free display number and Chromium draws into it. The keys
are the manifest defaults: Alt+Shift+U buy, Alt+Shift+S sell, Alt+Shift+F flatten.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SidedeskBrowser
from tests.e2e.test_trading_support import SimThread, host_request, trading_browser

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
DEFAULT_KEYS = {
    "_execute_action": "Alt+Shift+L",
    "buy": "Alt+Shift+U",
    "sell": "Alt+Shift+S",
    "flatten": "Alt+Shift+F",
}


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private X server; `-displayfd` makes Xvfb pick a free display number and report it."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.fail(
            "hotkey tests need Xvfb and xdotool (apt-get install xvfb xdotool; .ci/run installs them)"
        )
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 15)
        number = os.read(read_fd, 64).decode().strip() if ready else ""
        if not number.isdigit():
            raise RuntimeError(f"Xvfb did not report a display within 15 s (exit code {proc.poll()})")
        yield f":{number}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread(seed=2).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def browser(
    tmp_path_factory: pytest.TempPathFactory, sim: SimThread, display: str
) -> Iterator[SidedeskBrowser]:
    risk = {"max_order_notional": None, "max_position_notional": None, "max_orders_per_minute": 1000,
            "confirm_above_notional": "20000"}  # fmt: skip
    with trading_browser(
        tmp_path_factory.mktemp("hotkeys-e2e"), sim, headless=False, env={"DISPLAY": display}, risk=risk
    ) as b:
        accounts = host_request(b, "accounts.list", {})
        account_id = accounts["ok"]["accounts"][0]["id"]
        activated = host_request(b, "accounts.activate", {"account_id": account_id})
        assert "ok" in activated and activated["ok"]["state"] == "live", activated
        yield b


@pytest.fixture(scope="module")
def panel(browser: SidedeskBrowser) -> Page:
    page = browser.open_panel()
    expect(page.locator("#trade-live")).to_have_attribute("data-tone", "live", timeout=TIMEOUT_MS)
    return page


def press(display: str, keys: str, page: Page) -> None:
    """A real key press into the focused Chromium window."""
    page.bring_to_front()
    page.locator("body").click(position={"x": 5, "y": 5})  # the X input focus follows the click
    subprocess.run(
        ["xdotool", "key", "--clearmodifiers", keys],
        env={**os.environ, "DISPLAY": display},
        check=True,
        timeout=10,
    )


def order_log(sim: SimThread) -> list[dict[str, Any]]:
    return [e for e in sim.control("GET", "/order-log", {"account": "main"}) if e["kind"] == "order"]


def wait_for(predicate: Any, what: str, timeout_s: float = TIMEOUT_MS / 1000) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def badge(browser: SidedeskBrowser) -> str:
    return str(browser.service_worker.evaluate("() => chrome.action.getBadgeText({})"))


def test_the_manifest_defaults_are_bound(browser: SidedeskBrowser) -> None:
    commands = {
        c["name"]: c["shortcut"] for c in browser.service_worker.evaluate("() => chrome.commands.getAll()")
    }
    for name, keys in DEFAULT_KEYS.items():
        assert commands[name] == keys, commands
    assert commands["cancel_all"] == "" and commands["toggle_minimised"] == ""


def test_buy_hotkey_sends_the_panels_ticket(
    browser: SidedeskBrowser, panel: Page, sim: SimThread, display: str, artifacts: Path
) -> None:
    ticket = panel.locator("#trade-ticket")
    expect(ticket.locator('input[name="symbol"]')).to_have_value("BTCUSDT", timeout=TIMEOUT_MS)
    ticket.locator('input[name="notional"]').fill("400")
    wait_for(
        lambda: (browser.service_worker.evaluate("() => chrome.storage.local.get('sidedesk.ticket')")
                 .get("sidedesk.ticket") or {}).get("notional") == "400",
        "the ticket saved for hotkeys",
    )  # fmt: skip
    before = len(order_log(sim))
    press(display, "alt+shift+u", panel)
    new = wait_for(lambda: order_log(sim)[before:], "the hotkey's order on the simulator")
    first = new[0]
    assert (first["side"], first["type"], first["symbol"]) == ("BUY", "MARKET", "BTCUSDT"), new
    # Notional 400 at the simulator's price, floored to the 0.001 step.
    mark = Decimal(sim.control("GET", "/market", {"symbol": "BTCUSDT"})["mark"])
    assert abs(Decimal(first["qty"]) * mark - 400) < Decimal("0.001") * mark * 2
    # Feedback: the answer is in the open panel (and in a notification), the badge is clear.
    notice = panel.locator("#notices .notice").last
    expect(notice).to_contain_text(re.compile(r"Sidedesk — Buy: "), timeout=TIMEOUT_MS)
    wait_for(lambda: badge(browser) == "", "the badge cleared after success")
    expect(panel.locator("#trade-positions tbody.pos[data-symbol='BTCUSDT']")).to_have_count(
        1, timeout=TIMEOUT_MS
    )
    panel.screenshot(path=str(artifacts / "hotkey-buy.png"))


def test_a_refused_hotkey_says_why_on_the_badge_and_in_a_notification(
    browser: SidedeskBrowser, panel: Page, sim: SimThread, display: str
) -> None:
    ticket = panel.locator("#trade-ticket")
    # below the exchange's minimum size: refused before it is sent (#21: above the confirmation
    # threshold a hotkey now asks in the panel instead, tests/e2e/test_hotkey_confirm.py)
    ticket.locator('input[name="notional"]').fill("1")
    wait_for(
        lambda: (browser.service_worker.evaluate("() => chrome.storage.local.get('sidedesk.ticket')")
                 .get("sidedesk.ticket") or {}).get("notional") == "1",
        "the ticket saved for hotkeys",
    )  # fmt: skip
    before = len(order_log(sim))
    press(display, "alt+shift+s", panel)
    wait_for(lambda: badge(browser) == "!", "the error badge")
    notice = panel.locator("#notices .notice-error").last
    expect(notice).to_contain_text("Sell failed", timeout=TIMEOUT_MS)
    title = browser.service_worker.evaluate("() => chrome.action.getTitle({})")
    assert "Sell failed" in title
    assert browser.service_worker.evaluate("() => chrome.notifications.getAll()"), "a notification was shown"
    assert len(order_log(sim)) == before, "nothing reached the exchange"
    ticket.locator('input[name="notional"]').fill("400")


def test_flatten_hotkey_closes_everything(
    browser: SidedeskBrowser, panel: Page, sim: SimThread, display: str, artifacts: Path
) -> None:
    # A position of its own (the tests run in any order), and a resting order to cancel.
    bought = host_request(browser, "order.place", {"ticket": {
        "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "notional": "200"}})  # fmt: skip
    assert "ok" in bought, bought
    mark = Decimal(sim.control("GET", "/market", {"symbol": "BTCUSDT"})["mark"])
    placed = host_request(browser, "order.place", {"ticket": {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "notional": "200",
        "price": f"{(mark * Decimal('0.95')).quantize(Decimal('0.1')):f}"}})  # fmt: skip
    assert "ok" in placed, placed
    try:
        # The resting LIMIT (the position also has its ASL stop, a conditional order).
        expect(panel.locator('#orders-body tr[data-conditional="false"]')).to_have_count(
            1, timeout=TIMEOUT_MS
        )
    except AssertionError:
        shown = panel.locator("#orders-body").inner_text()
        raise AssertionError(
            f"panel: {shown!r}; simulator: {sim.control('GET', '/orders', {'account': 'main'})}"
        ) from None
    before = len(order_log(sim))
    press(display, "alt+shift+f", panel)
    new = wait_for(
        lambda: [e for e in order_log(sim)[before:] if e["side"] == "SELL" and e["type"] == "MARKET"],
        "flatten's closing order",
    )
    assert new[0]["symbol"] == "BTCUSDT"
    expect(panel.locator("#trade-positions tbody.pos")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(panel.locator("#orders-body tr")).to_have_count(0, timeout=TIMEOUT_MS)
    assert sim.control("GET", "/orders", {"account": "main"}) == {"orders": [], "algoOrders": []}
    expect(panel.locator("#notices .notice").last).to_contain_text("Flatten", timeout=TIMEOUT_MS)
    wait_for(lambda: badge(browser) == "", "the badge cleared after success")
    panel.screenshot(path=str(artifacts / "hotkey-flatten.png"))
