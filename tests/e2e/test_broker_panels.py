"""The Trade tab on Tradovate, Volumetrica and Alpaca simulator accounts, in a real Chromium with
the real host.

One browser and the three simulators for the module; the tests run in any order, each activating
its account from Setup, then trading from the panel ticket in the broker's own unit: futures in whole
contracts (MES on Tradovate, ES on Volumetrica), a stock in fractional shares (AAPL on Alpaca).
Each checks that the position shows with the P&L its contract value implies, that ASL placed an
exchange-side stop (the positions row shows its price, the simulator holds it), and that the
ticket the hotkeys use carries a contract/share quantity. For Alpaca, a market order with the
market closed shows the host's refusal verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Locator, Page, expect

from sidedesk_sim.tradovate.instruments import front_name
from sidedesk_sim.volumetrica.instruments import front_symbol
from tests.e2e.broker_sims import BROKERS, VAULT_ENTRIES, BrokerSims
from tests.e2e.conftest import SidedeskBrowser, launch_sidedesk, snapshot
from tests.e2e.test_trading_support import SMALL_KDF, VAULT_PASSWORD, host_request
from tests.support.wait import WAIT_S, eventually

pytestmark = pytest.mark.e2e

T = TypeVar("T")
TIMEOUT_MS = 15_000
# The Alpaca simulator's key once more, under another name: the market-closed test's own account.
AFTER_HOURS = {**VAULT_ENTRIES["alpaca"], "name": "Alpaca after hours"}
MES = front_name("MES")  # the simulators list the front month on their clock (sim/cme.py)
ES = front_symbol("ES")


@pytest.fixture(scope="module")
def sims() -> Iterator[BrokerSims]:
    with BrokerSims() as s:
        yield s


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, sims: BrokerSims) -> Iterator[SidedeskBrowser]:
    root = tmp_path_factory.mktemp("broker-panels")
    config: dict[str, Any] = {
        "status_interval_s": 1.0,
        "vault_kdf": SMALL_KDF,
        "simulators": sims.base_urls(),
        "asl_enabled": True,
        "risk": {"max_order_notional": None, "max_position_notional": None, "max_orders_per_minute": 1000,
                 "confirm_above_notional": None},
    }  # fmt: skip
    with launch_sidedesk(root / "profile", root / "home", host_config=config) as b:
        created = host_request(b, "vault.create", {"password": VAULT_PASSWORD})
        assert "ok" in created, f"vault.create failed: {created}\n{b.host_log()[-3000:]}"
        for entry in [*(VAULT_ENTRIES[broker] for broker in BROKERS), AFTER_HOURS]:
            put = host_request(b, "vault.put", {"entry": entry})
            assert "ok" in put, f"vault.put {entry['name']} failed: {put}"
        yield b


@pytest.fixture(scope="module")
def panel(browser: SidedeskBrowser) -> Page:
    page = browser.open_panel()
    expect(page.locator("#status-state")).to_have_text("Connected", timeout=TIMEOUT_MS)
    return page


def until(probe: Callable[[], T | None], what: str) -> T:
    """The one bounded poll (tests/support/wait.py), every 100 ms (a probe may ask the browser)."""
    return eventually(probe, WAIT_S, what, every=0.1)


def activate(browser: SidedeskBrowser, panel: Page, broker: str, name: str | None = None) -> None:
    """Make the broker's account the active one from Setup (unless it is already), then go back
    to the Trade tab. The tests run in any order: each activates the account it trades. The row is
    found by the login's name, strictly: the login is listed once throughout (its entry-alone row,
    then the account its first activation connects), or the expects fail at once."""
    name = name or VAULT_ENTRIES[broker]["name"]
    panel.get_by_role("tab", name="Setup").click()
    row = panel.locator("#accounts-list li.acct").filter(has_text=name)
    expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    expect(row).to_contain_text(f"{broker} · simulator")
    if row.get_attribute("data-active") != "true":
        panel.get_by_role("button", name=f"Use {name}").click()
    try:
        expect(row).to_have_attribute("data-active", "true", timeout=TIMEOUT_MS)
        expect(row).to_have_attribute("data-state", "live", timeout=TIMEOUT_MS)
    except AssertionError:
        raise AssertionError(
            f"{panel.locator('#accounts-result').inner_text()}\n{browser.host_log()[-4000:]}"
        ) from None
    panel.get_by_role("tab", name="Trade").click()
    expect(panel.locator("#trade-live")).to_have_attribute("data-tone", "live", timeout=TIMEOUT_MS)


def pick_symbol(
    panel: Page, symbol: str, unit: str, *, priced: bool = True, kick: Callable[[], object] | None = None
) -> Locator:
    """Type the symbol into the ticket; wait until the size box shows `unit` (and a live price).

    `kick` sets the price on the simulator, for one that sends a quote only when the price moves
    (prices are calm here): it is repeated until the watch the panel asked for is in place.
    """
    ticket = panel.locator("#trade-ticket")
    ticket.locator('input[name="symbol"]').fill(symbol)
    expect(ticket.locator("form")).to_have_attribute("data-unit", unit, timeout=TIMEOUT_MS)
    quote = panel.locator("#ticket-quote")
    if kick is not None:

        def priced_now() -> bool:
            kick()
            return "mark" in quote.inner_text()

        until(priced_now, f"a price for {symbol}")
    if priced:
        expect(quote).to_contain_text("mark", timeout=TIMEOUT_MS)
    return ticket


def position_row(panel: Page, symbol: str) -> Locator:
    return panel.locator(f'#trade-positions tbody.pos[data-symbol="{symbol}"]')


def shown_decimal(cell: Locator) -> Decimal:
    """A number as the panel prints it ("6,000.25", "+40.00", "−3.10") back to a Decimal."""
    text = cell.inner_text().strip().replace(",", "").replace("−", "-").replace("+", "")
    return Decimal(text)


def saved_ticket(browser: SidedeskBrowser) -> dict[str, Any]:
    got = browser.service_worker.evaluate("() => chrome.storage.local.get('sidedesk.ticket')")
    ticket: dict[str, Any] = got["sidedesk.ticket"]
    return ticket


def buy_and_check_position(
    panel: Page,
    symbol: str,
    quantity: str,
    *,
    expect_pnl: Callable[[Decimal], tuple[str | re.Pattern[str], Decimal]],
) -> Locator:
    """BUY `quantity` at market from the ticket; the position shows; a price move gives the P&L."""
    ticket = panel.locator("#trade-ticket")
    ticket.locator('input[name="quantity"]').fill(quantity)
    panel.locator("#ticket-buy").click()
    result = panel.locator("#ticket-result")
    expect(result).to_have_attribute("data-tone", "ok", timeout=TIMEOUT_MS)
    expect(result).to_contain_text(symbol)
    row = position_row(panel, symbol)
    expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    expect(row.locator(".side")).to_have_text("LONG")
    # The size in its unit: "2 contracts", "1 contract", "0.5 shares".
    expect(row.locator(".pos-size")).to_have_text(
        re.compile(rf"^{re.escape(quantity)} (contracts?|shares?)$"), timeout=TIMEOUT_MS
    )
    expect(row.locator(".pos-size")).to_have_attribute(
        "data-size", re.compile(rf"^{re.escape(quantity)}(\.0*)?$")
    )
    entry = shown_decimal(row.locator(".pos-main td").nth(1).locator("span").first)
    # Move the price on the exchange: the P&L follows with the contract's value per point.
    new_price_text, pnl = expect_pnl(entry)
    expect(row.locator(".pnl")).to_have_text(f"+{pnl:,.2f}", timeout=TIMEOUT_MS)
    expect(row.locator(".pnl")).to_have_attribute("data-sign", "pos")
    expect(row.locator(".pos-main td").nth(1)).to_contain_text(new_price_text)
    # ASL: the hard stop is working and its price is in the row.
    expect(row.locator(".asl-level")).to_have_text("hard stop", timeout=TIMEOUT_MS)
    expect(row.locator(".pos-main td").nth(4)).to_contain_text(
        re.compile(r"stop \d[\d,]*\.\d"), timeout=TIMEOUT_MS
    )
    return row


def stop_in_row(row: Locator) -> Decimal:
    text = row.locator(".pos-main td").nth(4).inner_text()
    m = re.search(r"stop (\d[\d,]*\.\d+)", text)
    assert m, text
    return Decimal(m.group(1).replace(",", ""))


# -- Tradovate ---------------------------------------------------------------------------------------
def test_tradovate_mes_in_contracts_with_asl(
    browser: SidedeskBrowser, panel: Page, sims: BrokerSims, artifacts: Path
) -> None:
    activate(browser, panel, "tradovate")
    ticket = pick_symbol(panel, MES, "contracts")
    # Contracts: a whole-number box labelled "contracts", no leverage, no notional, no toggle.
    qty = ticket.locator('input[name="quantity"]')
    expect(qty).to_be_visible()
    expect(qty).to_have_attribute("step", "1")
    expect(qty).to_have_attribute("min", "1")
    expect(ticket.locator(".tf-qty .unit")).to_have_text("contracts")
    expect(ticket.locator('input[name="notional"]')).to_be_hidden()
    expect(ticket.locator('input[name="leverage"]')).to_be_hidden()
    expect(ticket.locator("#ticket-size-mode")).to_be_hidden()
    # A fraction of a contract is refused in the panel: nothing reaches the exchange.
    qty.fill("1.5")
    panel.locator("#ticket-buy").click()
    expect(panel.locator("#ticket-result")).to_contain_text("whole number of contracts")
    expect(qty).to_have_attribute("aria-invalid", "true")
    assert sims.control("tradovate", "GET", "/orders") == []

    def up_4_points(entry: Decimal) -> tuple[str, Decimal]:
        price = entry + 4
        sims.control("tradovate", "POST", "/price", {"symbol": MES, "price": f"{price:f}"})
        return f"{price:,.2f}", Decimal(4 * 5 * 2)  # 4 points x $5 a point x 2 contracts

    row = buy_and_check_position(panel, MES, "2", expect_pnl=up_4_points)
    # The simulator holds the exchange-side stop: a Sell Stop for both contracts, automated.

    def working_stops() -> list[dict[str, Any]]:
        orders = sims.control("tradovate", "GET", "/orders")
        return [o for o in orders if o["orderType"] == "Stop" and o["status"] == "Working"]

    [stop] = until(working_stops, "the ASL stop on the simulator")
    assert (stop["action"], stop["qty"], stop["isAutomated"]) == ("Sell", 2, True), stop
    assert Decimal(stop["stopPrice"]) == stop_in_row(row)
    entry = [o for o in sims.control("tradovate", "GET", "/orders") if o["orderType"] == "Market"]
    assert [(o["action"], o["qty"], o["isAutomated"]) for o in entry] == [("Buy", 2, False)], entry
    # The hotkeys trade the same ticket: two contracts, no notional, no leverage.
    saved = saved_ticket(browser)
    assert (saved["symbol"], saved["quantity"]) == (MES, "2"), saved
    assert "notional" not in saved and "leverage" not in saved, saved
    snapshot(panel, artifacts, "broker-tradovate")
    # ...and they do: the sell hotkey (run by the worker as for a keypress) sells both contracts.
    view = browser.service_worker.evaluate("() => globalThis.sidedesk.runCommand('sell')")
    assert view["level"] == "info", view
    expect(position_row(panel, MES)).to_have_count(0, timeout=TIMEOUT_MS)
    sells = [
        o
        for o in sims.control("tradovate", "GET", "/orders")
        if o["orderType"] == "Market" and o["action"] == "Sell"
    ]
    assert [(o["qty"], o["filled"], o["isAutomated"]) for o in sells] == [(2, 2, False)], sells
    assert browser.page_errors == []


# -- Volumetrica -------------------------------------------------------------------------------------
def test_volumetrica_es_in_contracts_with_asl(
    browser: SidedeskBrowser, panel: Page, sims: BrokerSims, artifacts: Path
) -> None:
    activate(browser, panel, "volumetrica")
    # Volumetrica's trading socket carries no market data: the mark comes with a position.
    ticket = pick_symbol(panel, ES, "contracts", priced=False)
    expect(ticket.locator(".tf-qty .unit")).to_have_text("contracts")
    expect(ticket.locator('input[name="leverage"]')).to_be_hidden()

    def up_2_points(entry: Decimal) -> tuple[str, Decimal]:
        price = entry + 2
        sims.control("volumetrica", "POST", "/price", {"symbol": ES, "price": f"{price:f}"})
        return f"{price:,.2f}", Decimal(2 * 50 * 1)  # 2 points x $50 a point x 1 contract

    row = buy_and_check_position(panel, ES, "1", expect_pnl=up_2_points)

    def open_stops() -> list[dict[str, Any]]:
        orders = sims.control("volumetrica", "GET", "/state")["orders"]
        return [o for o in orders if o["open"] and o["type"] == "ORDER_STOP"]

    orders = until(open_stops, "the ASL stop on the simulator")
    assert [(o["symbol"], o["quantity"], o["source"]) for o in orders] == [(ES, -1, "Automatic")], orders
    assert Decimal(repr(orders[0]["price"])) == stop_in_row(row)
    state = sims.control("volumetrica", "GET", "/state")
    manual = [o for o in state["orders"] if o["source"] == "Manual"]
    assert [(o["symbol"], o["quantity"], o["filled"]) for o in manual] == [(ES, 1, 1)], manual
    saved = saved_ticket(browser)
    assert (saved["symbol"], saved["quantity"]) == (ES, "1") and "leverage" not in saved, saved
    snapshot(panel, artifacts, "broker-volumetrica")
    assert browser.page_errors == []


# -- Alpaca ------------------------------------------------------------------------------------------
def test_alpaca_market_order_with_the_market_closed_shows_the_hosts_refusal(
    browser: SidedeskBrowser, panel: Page, sims: BrokerSims, artifacts: Path
) -> None:
    # Closed before the account connects: the adapter reads the market clock when it connects, so
    # this test trades an account entry of its own, connected here for the first time.
    clock = sims.control("alpaca", "POST", "/session", {"mode": "closed"})
    assert clock["is_open"] is False
    activate(browser, panel, "alpaca", AFTER_HOURS["name"])

    def aapl_at_200() -> None:
        sims.control("alpaca", "POST", "/price", {"symbol": "AAPL", "price": "200.00"})

    ticket = pick_symbol(panel, "AAPL", "shares", kick=aapl_at_200)
    # Shares by default, fractions to the broker's step; a toggle to dollars; no leverage.
    form = ticket.locator("form")
    expect(form).to_have_attribute("data-size-mode", "quantity")
    expect(ticket.locator(".tf-qty .unit")).to_have_text("shares")
    expect(ticket.locator('input[name="quantity"]')).to_have_attribute("step", "0.000000001")
    expect(ticket.locator("#ticket-size-mode")).to_be_visible()
    expect(ticket.locator('input[name="leverage"]')).to_be_hidden()
    # Toggle to dollars: the ticket now sends a notional in USD.
    ticket.locator("#ticket-size-mode label").filter(has_text="USD").click()
    expect(form).to_have_attribute("data-size-mode", "notional")
    expect(ticket.locator('input[name="quantity"]')).to_be_hidden()
    expect(ticket.locator(".tf-size:not(.tf-qty) .unit")).to_have_text("USD")
    ticket.locator('input[name="notional"]').fill("500")
    hours = panel.locator("#ticket-hours")
    expect(hours).to_be_hidden()
    before = sims.control("alpaca", "GET", "/orders", {"account": "main"})
    panel.locator("#ticket-buy").click()
    result = panel.locator("#ticket-result")
    expect(result).to_have_attribute("data-tone", "error", timeout=TIMEOUT_MS)
    expect(hours).to_be_visible()
    # Verbatim: the same words the host gives any client for that ticket.
    same = {"symbol": "AAPL", "side": "BUY", "type": "MARKET", "notional": "500"}
    refusal = host_request(browser, "order.place", {"ticket": same})
    assert "error" in refusal and refusal["error"]["code"] == "rejected", refusal
    message = refusal["error"]["message"]
    assert "closed" in message, message
    expect(hours).to_have_text(message)
    expect(result).to_have_text(f"Refused: {message}")
    expect(panel.locator("#ticket-result-detail")).to_have_text(re.compile(r"^rejected"))
    assert sims.control("alpaca", "GET", "/orders", {"account": "main"}) == before, (
        "nothing reached the exchange"
    )
    saved = saved_ticket(browser)
    assert (saved["symbol"], saved["notional"]) == ("AAPL", "500") and "quantity" not in saved, saved
    snapshot(panel, artifacts, "broker-alpaca-closed")
    assert browser.page_errors == []


def test_alpaca_stock_in_fractional_shares_with_asl(
    browser: SidedeskBrowser, panel: Page, sims: BrokerSims, artifacts: Path
) -> None:
    sims.control("alpaca", "POST", "/session", {"mode": "open"})
    activate(browser, panel, "alpaca")

    def aapl_at_200() -> None:
        sims.control("alpaca", "POST", "/price", {"symbol": "AAPL", "price": "200.00"})

    ticket = pick_symbol(panel, "AAPL", "shares", kick=aapl_at_200)
    ticket.locator("#ticket-size-mode label").filter(has_text="shares").click()
    expect(ticket.locator("form")).to_have_attribute("data-size-mode", "quantity")

    def up_1_dollar(entry: Decimal) -> tuple[re.Pattern[str], Decimal]:
        price = entry + 1
        sims.control("alpaca", "POST", "/price", {"symbol": "AAPL", "price": f"{price:f}"})
        # The mark is the last trade or the quote's mid, whichever came last (half a cent above):
        # with half a share both give $0.50.
        marks = (f"{price:,.2f}", f"{price + Decimal('0.01'):,.2f}")
        return re.compile("|".join(re.escape(m) for m in marks)), Decimal("0.5")

    # The market is open again: the host sees it before sending (no notice any more).
    row = buy_and_check_position(panel, "AAPL", "0.5", expect_pnl=up_1_dollar)
    expect(panel.locator("#ticket-hours")).to_be_hidden()

    def open_stops() -> list[dict[str, Any]]:
        orders = sims.control("alpaca", "GET", "/orders", {"account": "main"})
        return [o for o in orders if o["type"] == "stop"]

    stops = until(open_stops, "the ASL stop on the simulator")
    assert [(o["side"], Decimal(o["qty"])) for o in stops] == [("sell", Decimal("0.5"))], stops
    assert Decimal(stops[0]["stop_price"]) == stop_in_row(row)
    saved = saved_ticket(browser)
    assert (saved["symbol"], saved["quantity"]) == ("AAPL", "0.5") and "notional" not in saved, saved
    snapshot(panel, artifacts, "broker-alpaca")
    assert browser.page_errors == []
