"""The Trade tab against the Binance simulator, in a real Chromium with the real host.

One browser and one simulator for the module; the tests run alone and in any order, each on a new
panel with the account live and flat (`live_and_flat`): activate the account from Setup, place a
market and a limit order, cancel, see the exchange's errors, a position opened elsewhere, P&L
following the price, a dropped connection, and a reopened panel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SidedeskBrowser, snapshot
from tests.e2e.test_trading_support import (
    ACCOUNT_NAME,
    PANEL_STORAGE,
    SimThread,
    host_request,
    live_and_flat,
    trading_browser,
)

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
LIVE_MS = 1_000  # issue 6: a position opened elsewhere shows up within 1 s


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread(seed=1).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, sim: SimThread) -> Iterator[SidedeskBrowser]:
    # A confirmation threshold the tests can cross on purpose; no other limit in the way.
    risk = {"max_order_notional": None, "max_position_notional": None, "max_orders_per_minute": 1000,
            "confirm_above_notional": "20000"}  # fmt: skip
    with trading_browser(tmp_path_factory.mktemp("trading-e2e"), sim, risk=risk) as b:
        yield b


@pytest.fixture
def panel(browser: SidedeskBrowser, sim: SimThread) -> Iterator[Page]:
    """A new panel on the Trade tab, the account live and flat, no ticket saved."""
    live_and_flat(browser, sim)
    page = browser.open_panel("?tab=trade")
    try:
        expect(page.locator("#trade-live")).to_have_attribute("data-tone", "live", timeout=TIMEOUT_MS)
        expect(page.locator("#ticket-badge")).to_have_text("Live", timeout=TIMEOUT_MS)
        # the positions snapshot is in: a position opened from now on is news, announced as such
        expect(page.locator("#trade-positions .age")).to_have_text(
            re.compile(r"^updated "), timeout=TIMEOUT_MS
        )
        yield page
    finally:
        page.close()


@pytest.fixture
def first_panel(browser: SidedeskBrowser) -> Iterator[Page]:
    """A new panel with no account active yet (as after unlocking), on the Trade tab."""
    assert "ok" in host_request(browser, "accounts.deactivate", {})
    browser.service_worker.evaluate("(keys) => chrome.storage.local.remove(keys)", PANEL_STORAGE)
    browser.page_errors.clear()
    page = browser.open_panel("?tab=trade")
    try:
        yield page
    finally:
        page.close()


def position_rows(page: Page, symbol: str) -> Any:
    return page.locator(f'#trade-positions tbody.pos[data-symbol="{symbol}"]')


def test_activate_the_simulator_account_from_setup(
    browser: SidedeskBrowser, first_panel: Page, artifacts: Path
) -> None:
    panel = first_panel
    expect(panel.locator("#status-state")).to_have_text("Connected", timeout=TIMEOUT_MS)
    panel.get_by_role("tab", name="Setup").click()
    row = panel.locator("#accounts-list li.acct")
    expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    expect(row).to_contain_text(ACCOUNT_NAME)
    expect(row).to_contain_text("binance · simulator")
    panel.get_by_role("button", name=f"Use {ACCOUNT_NAME}").click()
    try:
        expect(row).to_have_attribute("data-state", "live", timeout=TIMEOUT_MS)
    except AssertionError:
        raise AssertionError(
            f"{panel.locator('#accounts-result').inner_text()}\n{browser.host_log()[-4000:]}"
        ) from None
    expect(row).to_have_attribute("data-active", "true")
    # Risk limits come from the host's settings.
    expect(panel.locator("#risk-form")).to_have_attribute("data-loaded", "true", timeout=TIMEOUT_MS)
    expect(panel.locator('#risk-form input[name="confirm_above_notional"]')).to_have_value("20000")
    expect(panel.locator("#asl-form")).to_have_attribute("data-loaded", "true", timeout=TIMEOUT_MS)
    expect(panel.locator("#asl-levels tr")).to_have_count(3)
    snapshot(panel, artifacts, "trading-setup")

    panel.get_by_role("tab", name="Trade").click()
    expect(panel.locator("#trade-live")).to_have_attribute("data-tone", "live", timeout=TIMEOUT_MS)
    expect(panel.locator("#trade-live-label")).to_have_text("live")
    expect(panel.locator("#trade-empty")).to_be_hidden()
    expect(panel.locator("#trade-ticket")).to_be_visible()
    # The symbol picker is filled from market.symbols; BTCUSDT is preselected and priced live.
    expect(panel.locator('#trade-ticket input[name="symbol"]')).to_have_value("BTCUSDT", timeout=TIMEOUT_MS)
    expect(panel.locator("#trade-ticket datalist option")).to_have_count(len(browser_symbols(browser)))
    expect(panel.locator("#ticket-quote")).to_contain_text("mark", timeout=TIMEOUT_MS)
    expect(panel.locator("#ticket-badge")).to_have_text("Live", timeout=TIMEOUT_MS)
    assert browser.page_errors == []


def browser_symbols(browser: SidedeskBrowser) -> list[str]:
    reply = host_request(browser, "market.symbols", {})
    assert "ok" in reply, reply
    return [s["symbol"] for s in reply["ok"]["symbols"]]


def test_market_order_from_the_panel_shows_the_exchange_answer(
    browser: SidedeskBrowser, panel: Page, sim: SimThread, artifacts: Path
) -> None:
    ticket = panel.locator("#trade-ticket")
    ticket.locator('input[name="notional"]').fill("300")
    ticket.locator('input[name="leverage"]').fill("5")
    panel.locator("#ticket-buy").click()
    result = panel.locator("#ticket-result")
    expect(result).to_have_attribute("data-tone", "ok", timeout=TIMEOUT_MS)
    # The line ends on what the exchange reported last: the fill, in words, on the tick.
    expect(result).to_have_text(re.compile(r"^Bought 0\.\d{3} BTC at [\d,]+\.\d USDT$"), timeout=TIMEOUT_MS)
    detail = panel.locator("#ticket-result-detail")
    expect(detail).to_contain_text(re.compile(r"^order \d+ · host \d+ µs"))
    expect(detail).to_contain_text(re.compile(r"round trip [\d.]+ ms"))
    # The simulator executed exactly that: a BUY MARKET for the floored quantity.
    log = sim.control("GET", "/order-log", {"account": "main"})
    fills = [e for e in log if e["kind"] == "order" and e["type"] == "MARKET" and e["status"] == "FILLED"]
    assert fills and fills[-1]["side"] == "BUY", log
    qty = fills[-1]["executedQty"]
    expect(result).to_contain_text(f"Bought {Decimal(qty).quantize(Decimal('0.001')):f} BTC at ")
    # ...and the position shows up with its P&L, and is the chart's position.
    row = position_rows(panel, "BTCUSDT")
    expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    expect(row.locator(".side")).to_have_text("LONG")
    expect(row.locator(".pnl")).to_have_text(re.compile(r"^[+−]?\d"))
    # ASL protects it at once: the hard stop, its price, and the lines on the chart.
    expect(row.locator(".asl-level")).to_have_text("hard stop", timeout=TIMEOUT_MS)
    expect(row.locator(".asl-toggle")).to_have_attribute("aria-pressed", "true")
    expect(row.locator(".pos-main td").nth(4)).to_contain_text(re.compile(r"stop \d[\d,]*\.\d"))
    algo = sim.control("GET", "/orders", {"account": "main"})["algoOrders"]
    assert [(a["orderType"], a["side"], a["reduceOnly"]) for a in algo] == [("STOP_MARKET", "SELL", True)], (
        algo
    )
    chart = panel.locator("#chart-box")
    expect(chart).to_have_attribute("data-symbol", "BTCUSDT", timeout=TIMEOUT_MS)
    expect(chart).to_have_attribute("data-ready", "true", timeout=TIMEOUT_MS)
    expect(chart).to_have_attribute("data-lines", re.compile(r"^entry,stop,next"), timeout=TIMEOUT_MS)
    expect(panel.locator("#chart-legend")).to_contain_text("stop (hard stop)", timeout=TIMEOUT_MS)
    # The stop is an algo order in the orders table.
    expect(panel.locator('#orders-body tr[data-conditional="true"]')).to_contain_text(
        "STOP", timeout=TIMEOUT_MS
    )
    expect(panel.locator("#account-body")).to_contain_text("Wallet balance", timeout=TIMEOUT_MS)
    # The last ticket is saved for the hotkeys.
    saved = browser.service_worker.evaluate("() => chrome.storage.local.get('sidedesk.ticket')")
    assert saved["sidedesk.ticket"]["symbol"] == "BTCUSDT"
    assert saved["sidedesk.ticket"]["notional"] == "300"
    assert saved["sidedesk.ticket"]["leverage"] == 5
    snapshot(panel, artifacts, "trading-position")
    assert browser.page_errors == []


def test_limit_order_rests_and_is_cancelled_from_the_orders_table(panel: Page, sim: SimThread) -> None:
    market = sim.control("GET", "/market", {"symbol": "BTCUSDT"})
    price = (Decimal(market["mark"]) * Decimal("0.97")).quantize(Decimal("0.1"))
    ticket = panel.locator("#trade-ticket")
    ticket.locator('input[name="notional"]').fill("300")
    ticket.get_by_role("radio", name="Limit").check()
    ticket.locator('input[name="price"]').fill(str(price))
    ticket.get_by_label("Post-only").check()
    panel.locator("#ticket-buy").click()
    result = panel.locator("#ticket-result")
    expect(result).to_have_text(
        re.compile(r"^Buy limit 0\.\d{3} BTC at [\d,]+\.\d USDT is working$"), timeout=TIMEOUT_MS
    )
    expect(panel.locator("#ticket-result-detail")).to_contain_text(re.compile(r"^order \d+"))
    open_ = sim.control("GET", "/orders", {"account": "main"})["orders"]
    assert [(o["type"], o["timeInForce"], Decimal(o["price"])) for o in open_] == [("LIMIT", "GTX", price)], (
        open_
    )

    orders = panel.locator('#orders-body tr[data-conditional="false"]')
    expect(orders).to_have_count(1, timeout=TIMEOUT_MS)
    expect(orders.first).to_contain_text("LIMIT")
    expect(orders.first).to_contain_text("post-only")
    orders.first.get_by_role("button").click()
    expect(panel.locator("#orders-result")).to_contain_text(
        re.compile(r"^Cancelled: buy limit 0\.\d{3} BTC at [\d,]+\.\d USDT$"), timeout=TIMEOUT_MS
    )
    expect(orders).to_have_count(0, timeout=TIMEOUT_MS)
    assert sim.control("GET", "/orders", {"account": "main"})["orders"] == []
    ticket.get_by_role("radio", name="Market").check()
    expect(ticket.get_by_label("Post-only")).to_be_disabled()


def test_errors_are_shown_verbatim_and_a_confirmation_is_asked(panel: Page, sim: SimThread) -> None:
    ticket = panel.locator("#trade-ticket")
    notional = ticket.locator('input[name="notional"]')
    # Client-side: nothing is sent for an empty size.
    notional.fill("")
    panel.locator("#ticket-sell").click()
    expect(panel.locator("#ticket-result")).to_have_attribute("data-tone", "error")
    expect(notional).to_have_attribute("aria-invalid", "true")
    # Host-side: below the exchange's minimum notional -> the host's message, verbatim.
    before = len(sim.control("GET", "/order-log", {"account": "main"}))
    notional.fill("1")
    panel.locator("#ticket-sell").click()
    result = panel.locator("#ticket-result")
    expect(result).to_have_attribute("data-tone", "error", timeout=TIMEOUT_MS)
    expect(result).to_contain_text(re.compile(r"^Refused: below the minimum .* — use [\d.]+ USDT$"))
    expect(panel.locator("#ticket-result-detail")).to_contain_text(re.compile(r"^(invalid|rejected) · "))
    assert len(sim.control("GET", "/order-log", {"account": "main"})) == before, (
        "nothing reached the exchange"
    )
    # Above the confirmation threshold: the host asks, the panel asks the trader, then sends.
    notional.fill("25000")
    panel.locator("#ticket-sell").click()
    confirm = panel.locator("#ticket-confirm")
    expect(confirm).to_be_visible(timeout=TIMEOUT_MS)
    panel.locator("#ticket-confirm-no").click()
    expect(confirm).to_be_hidden()
    expect(result).to_have_text("Not sent.")
    assert len(sim.control("GET", "/order-log", {"account": "main"})) == before


def test_a_position_opened_elsewhere_appears_and_pnl_follows_the_price(
    panel: Page, sim: SimThread, artifacts: Path
) -> None:
    market = sim.control("GET", "/market", {"symbol": "ETHUSDT"})
    entry = Decimal(market["mark"])
    sim.control("POST", "/positions", {"account": "main", "symbol": "ETHUSDT", "amount": "-0.5",
                                       "entry_price": f"{entry:f}"})  # fmt: skip
    row = position_rows(panel, "ETHUSDT")
    expect(row).to_have_count(1, timeout=LIVE_MS)
    expect(row.locator(".side")).to_have_text("SHORT")
    expect(panel.locator("#pnl-announce")).to_contain_text("Opened SHORT ETHUSDT", timeout=TIMEOUT_MS)

    pnl = row.locator(".pnl")
    # Freeze the random walk, then move the price: a short loses when it rises, gains when it falls
    # (within the ASL hard stop, 2 % adverse, which would close it).
    sim.control("POST", "/volatility", {"symbol": "ETHUSDT", "volatility": "0"})
    up = (entry * Decimal("1.01")).quantize(Decimal("0.01"))
    sim.control("POST", "/price", {"symbol": "ETHUSDT", "price": f"{up:f}", "mark": f"{up:f}"})
    expect(pnl).to_have_attribute("data-sign", "neg", timeout=TIMEOUT_MS)
    expected_loss = ((up - entry) * Decimal("0.5")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    expect(pnl).to_have_text(f"−{expected_loss:,f}", timeout=TIMEOUT_MS)
    expect(pnl).to_have_class(re.compile(r"shake-down"))
    down = (entry * Decimal("0.995")).quantize(Decimal("0.01"))
    sim.control("POST", "/price", {"symbol": "ETHUSDT", "price": f"{down:f}", "mark": f"{down:f}"})
    expected_gain = ((entry - down) * Decimal("0.5")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    expect(pnl).to_have_text(f"+{expected_gain:,f}", timeout=TIMEOUT_MS)
    expect(pnl).to_have_class(re.compile(r"flash-up"))
    # Select it: the chart follows, and the selection is saved for the close-half hotkey.
    row.locator(".pos-select").click()
    expect(panel.locator("#chart-box")).to_have_attribute("data-symbol", "ETHUSDT", timeout=TIMEOUT_MS)
    snapshot(panel, artifacts, "trading-two-positions")


def test_close_a_quarter_and_breakeven_from_the_positions_table(panel: Page, sim: SimThread) -> None:
    mark = sim.control("GET", "/market", {"symbol": "BTCUSDT"})["mark"]
    sim.control("POST", "/positions", {"account": "main", "symbol": "BTCUSDT", "amount": "0.008",
                                       "entry_price": mark})  # fmt: skip
    row = position_rows(panel, "BTCUSDT")
    expect(row.locator(".pos-size")).to_have_text("0.008 BTC", timeout=TIMEOUT_MS)
    size_before = Decimal(row.locator(".pos-size").get_attribute("data-size") or "0")
    before = len(sim.control("GET", "/order-log", {"account": "main"}))
    row.get_by_role("button", name="Close 25 % of BTCUSDT").click()
    result = panel.locator("#positions-result")
    expect(result).to_have_attribute("data-tone", "ok", timeout=TIMEOUT_MS)
    expect(result).to_contain_text("Close 25 % BTCUSDT: ")
    new = [e for e in sim.control("GET", "/order-log", {"account": "main"})[before:] if e["kind"] == "order"]
    assert new and (new[0]["side"], new[0]["type"]) == ("SELL", "MARKET"), new
    closed = Decimal(new[0]["qty"])
    assert 0 < closed <= size_before / 4 + Decimal("0.001"), (closed, size_before)
    expect(row.locator(".pos-size")).to_have_text(f"{size_before - closed:f} BTC", timeout=TIMEOUT_MS)
    expect(result).to_contain_text(re.compile(r"Sold 0\.\d{3} BTC at [\d,]+\.\d USDT$"), timeout=TIMEOUT_MS)
    row.get_by_role("button", name="Move the stop of BTCUSDT to breakeven").click()
    expect(result).to_contain_text("Breakeven BTCUSDT: ", timeout=TIMEOUT_MS)
    expect(result).not_to_have_attribute("data-tone", "busy", timeout=TIMEOUT_MS)


def test_asl_profile_is_checked_in_the_panel_and_saved_by_the_host(
    browser: SidedeskBrowser, panel: Page
) -> None:
    panel.get_by_role("tab", name="Setup").click()
    level3 = panel.get_by_label("Level 3 callback %")
    level3.fill("1.8")  # looser than level 2's 1.5 %: levels only tighten
    panel.locator("#asl-save").click()
    result = panel.locator("#asl-result")
    expect(result).to_have_attribute("data-tone", "error")
    expect(result).to_contain_text("must not be looser than level 2")
    expect(level3).to_have_attribute("aria-invalid", "true")
    level3.fill("0.8")
    panel.locator("#asl-save").click()
    expect(result).to_have_text("Saved.", timeout=TIMEOUT_MS)
    got = host_request(browser, "asl.get", {})
    assert [Decimal(lv["callback_pct"]) for lv in got["ok"]["profile"]["levels"]] == [
        2,
        Decimal("1.5"),
        Decimal("0.8"),
    ]
    panel.get_by_role("tab", name="Trade").click()


def test_contract_pins_are_checked_in_the_panel_and_saved_by_the_host(
    browser: SidedeskBrowser, panel: Page
) -> None:
    panel.get_by_role("tab", name="Setup").click()
    text = panel.locator("#contracts-text")
    result = panel.locator("#contracts-result")
    text.fill("/ESZ26:XCME = 4242\nMESZ26 = zero")
    panel.locator("#contracts-save").click()
    expect(result).to_have_attribute("data-tone", "error")
    expect(result).to_contain_text("line 2")
    text.fill("/ESZ26:XCME = 4242\nMESZ26 = 77")
    panel.locator("#contracts-save").click()
    expect(result).to_contain_text("Saved 2 pin(s)", timeout=TIMEOUT_MS)
    got = host_request(browser, "settings.contracts.get", {})
    assert got["ok"]["volumetrica"] == {"/ESZ26:XCME": 4242, "MESZ26": 77}
    panel.get_by_role("tab", name="Trade").click()


def test_indicator_turns_amber_then_green_when_the_simulator_drops_the_connection(
    panel: Page, sim: SimThread
) -> None:
    strip = panel.locator("#trade-live")
    expect(strip).to_have_attribute("data-tone", "live")
    panel.evaluate(
        """() => {
          const el = document.getElementById('trade-live');
          window.__tones = [];
          window.__toneObserver = new MutationObserver(() => window.__tones.push(el.dataset.tone));
          window.__toneObserver.observe(el, {attributes: true, attributeFilter: ['data-tone']});
        }"""
    )
    dropped = sim.control("POST", "/disconnect", {"target": "*"})
    assert dropped["dropped"] >= 1
    panel.wait_for_function("() => window.__tones.includes('reconnecting')", timeout=TIMEOUT_MS)
    expect(panel.locator("#trade-live-label")).to_have_text("live", timeout=TIMEOUT_MS)
    tones = panel.evaluate("() => { window.__toneObserver.disconnect(); return window.__tones; }")
    assert tones.index("reconnecting") < len(tones) - 1 and tones[-1] == "live", tones


def test_reopening_the_panel_rehydrates_at_once(
    browser: SidedeskBrowser, panel: Page, sim: SimThread, artifacts: Path
) -> None:
    # A long from the ticket (which saves it) and a short opened elsewhere...
    panel.locator('#trade-ticket input[name="notional"]').fill("300")
    panel.locator("#ticket-buy").click()
    expect(panel.locator("#ticket-result")).to_have_text(re.compile(r"^Bought "), timeout=TIMEOUT_MS)
    eth = sim.control("GET", "/market", {"symbol": "ETHUSDT"})["mark"]
    sim.control("POST", "/positions", {"account": "main", "symbol": "ETHUSDT", "amount": "-0.5",
                                       "entry_price": eth})  # fmt: skip
    expect(position_rows(panel, "ETHUSDT")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(position_rows(panel, "BTCUSDT")).to_have_count(1, timeout=TIMEOUT_MS)
    # ...then the panel closed and opened again.
    panel.close()
    page = browser.open_panel()
    # Everything comes from the host's snapshots: no new exchange event is needed.
    expect(position_rows(page, "ETHUSDT")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(position_rows(page, "BTCUSDT")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator("#trade-live")).to_have_attribute("data-tone", "live", timeout=TIMEOUT_MS)
    expect(page.locator("#account-body")).to_contain_text("Wallet balance", timeout=TIMEOUT_MS)
    expect(page.locator("#trade-positions .age")).to_have_text(re.compile(r"^updated "), timeout=TIMEOUT_MS)
    expect(page.locator('#trade-ticket input[name="notional"]')).to_have_value("300")
    snapshot(page, artifacts, "trading-panel")
    # The minimised action bar: BUY, SELL and the total P&L in 60 px.
    page.locator("#minimise-toggle").click()
    bar = page.locator("#actionbar")
    expect(bar).to_be_visible()
    expect(page.locator("#bar-pnl")).to_have_text(re.compile(r"^[+−]?[\d,]+\.\d\d USDT$"))
    box = bar.bounding_box()
    assert box is not None and round(box["height"]) == 60
    expect(page.locator("main")).to_be_hidden()
    page.screenshot(
        path=str(artifacts / "trading-minimised.png"), clip={"x": 0, "y": 0, "width": 420, "height": 120}
    )
    page.locator("#bar-restore").click()
    expect(page.locator("main")).to_be_visible()
    # The toggle_minimised command (a hotkey without a default) goes through the worker.
    view = browser.service_worker.evaluate("() => globalThis.sidedesk.runCommand('toggle_minimised')")
    assert view["level"] == "info" and "minimised" in view["message"], view
    expect(bar).to_be_visible(timeout=TIMEOUT_MS)
    browser.service_worker.evaluate("() => globalThis.sidedesk.runCommand('toggle_minimised')")
    expect(bar).to_be_hidden(timeout=TIMEOUT_MS)
    assert browser.page_errors == []
