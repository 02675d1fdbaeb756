"""Protection outlives the browser (issue 20), in a real Chromium: open the panel, buy with ASL,
close Chromium, move the simulator's price through two ASL levels, reopen Chromium: the panel
shows the tightened stop without any click.

With the service on (the default) this is the product's own path: the browser starts the proxy,
the proxy starts the detached service, closing the browser ends only the proxy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import launch_sidedesk
from tests.e2e.test_trading_support import ACCOUNT_NAME, SimThread, trading_browser
from tests.support import services
from tests.support.wait import eventually

pytestmark = [pytest.mark.e2e]

TIMEOUT_MS = 20_000
SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread(seed=7).start()
    try:
        yield s
    finally:
        s.stop()


def algo_orders(sim: SimThread) -> list[dict[str, Any]]:
    return [
        a for a in sim.control("GET", "/orders", {"account": "main"})["algoOrders"] if a["symbol"] == SYMBOL
    ]


def at_level(sim: SimThread, level: int) -> dict[str, Any] | None:
    """The position's one working stop, once it is ASL's stop of `level`."""
    algos = algo_orders(sim)
    return algos[0] if len(algos) == 1 and f"-L{level}-" in algos[0]["clientAlgoId"] else None


def test_the_panel_shows_the_stop_tightened_while_the_browser_was_closed(
    tmp_path: Path, sim: SimThread
) -> None:
    risk = {"max_order_notional": None, "max_position_notional": None, "confirm_above_notional": None}
    sim.control("POST", "/volatility", {"symbol": SYMBOL, "volatility": "0"})  # the test moves it
    with trading_browser(tmp_path, sim, risk=risk) as browser:
        panel = browser.open_panel()
        panel.get_by_role("tab", name="Setup").click()
        expect(panel.locator("#setup-service")).to_have_attribute("data-loaded", "true", timeout=TIMEOUT_MS)
        expect(panel.locator("#service-keep")).to_be_checked()  # Setup: on by default
        row = panel.locator("#accounts-list li.acct")
        expect(row).to_have_count(1, timeout=TIMEOUT_MS)
        panel.get_by_role("button", name=f"Use {ACCOUNT_NAME}").click()
        expect(row).to_have_attribute("data-state", "live", timeout=TIMEOUT_MS)
        panel.get_by_role("tab", name="Trade").click()
        ticket = panel.locator("#trade-ticket")
        expect(panel.locator("#ticket-quote")).to_contain_text("mark", timeout=TIMEOUT_MS)
        ticket.locator('input[name="notional"]').fill("300")
        panel.locator("#ticket-buy").click()
        expect(panel.locator("#ticket-result")).to_have_attribute("data-tone", "ok", timeout=TIMEOUT_MS)
        position = panel.locator(f'#trade-positions tbody.pos[data-symbol="{SYMBOL}"]')
        expect(position.locator(".asl-level")).to_have_text("hard stop", timeout=TIMEOUT_MS)
        [service] = [s for s in services.running() if s.home == str(browser.home)]
    # Chromium is gone, and with it the proxy it started; the service carries on
    assert [s.pid for s in services.running() if s.home == str(browser.home)] == [service.pid]
    [hard] = algo_orders(sim)
    assert hard["orderType"] == "STOP_MARKET"
    log = sim.control("GET", "/order-log", {"account": "main"})
    [fill] = [e for e in log if e["kind"] == "order" and e["symbol"] == SYMBOL and e["lastQty"] != "0"]
    entry = Decimal(fill["lastPrice"])

    def move(pct: str) -> None:
        price = (entry * (1 + Decimal(pct) / 100)).quantize(Decimal("0.1"))
        sim.control("POST", "/price", {"symbol": SYMBOL, "price": f"{price:f}", "mark": f"{price:f}"})

    move("1.3")  # past level 1 (1 %)
    eventually(lambda: at_level(sim, 1), 20, "level 1's stop on the exchange, no browser open")
    move("2.4")  # past level 2 (2 %)
    second = eventually(lambda: at_level(sim, 2), 20, "level 2's stop on the exchange, no browser open")
    assert second["orderType"] == "TRAILING_STOP_MARKET"

    # the browser comes back (same profile, same host): no click anywhere, the panel shows level 2
    with launch_sidedesk(browser.profile, browser.home, install=False) as again:
        panel = again.open_panel()
        position = panel.locator(f'#trade-positions tbody.pos[data-symbol="{SYMBOL}"]')
        expect(position).to_have_count(1, timeout=TIMEOUT_MS)
        expect(position.locator(".asl-level")).to_have_text("level 2", timeout=TIMEOUT_MS)
        expect(position.locator(".side")).to_have_text("LONG")
        expect(panel.locator("#trade-live")).to_have_attribute("data-tone", "live", timeout=TIMEOUT_MS)
        assert again.page_errors == []
        assert re.search(r"panel attached", again.host_log())
    assert [s.pid for s in services.running() if s.home == str(browser.home)] == [service.pid]
