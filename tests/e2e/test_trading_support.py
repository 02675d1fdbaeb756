"""Helpers shared by the trading e2e tests (no tests here): the Binance simulator in a thread, its
control plane, a vault with the simulator's HMAC test key created through the host API, and the
state every trading test starts from (`live_and_flat`), whatever ran before it on the same browser.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sidedesk.demo.simthread import SimError, SimThread  # the demo's simulator thread, shared
from tests.e2e.conftest import SidedeskBrowser, launch_sidedesk
from tests.support.wait import eventually

# Small Argon2id parameters: the vault is real, the KDF just cheap (the host config allows it).
SMALL_KDF = {"memory_kib": 64, "iterations": 1, "lanes": 1}
VAULT_PASSWORD = "e2e-Trading-Panel-7391"  # a test vault in a temp folder, holding public test keys
ACCOUNT_NAME = "Sim main"


@contextlib.contextmanager
def trading_browser(
    root: Path,
    sim: SimThread,
    *,
    headless: bool = True,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    risk: dict[str, Any] | None = None,
) -> Iterator[SidedeskBrowser]:
    """Chromium + host configured for the simulator, with a vault holding the simulator's key."""
    config: dict[str, Any] = {
        "status_interval_s": 1.0,
        "vault_kdf": SMALL_KDF,
        "simulators": {"binance": sim.rest_url},
        "watchlist": ["BTCUSDT", "ETHUSDT"],
    }
    if risk is not None:
        config["risk"] = risk
    with launch_sidedesk(
        root / "profile", root / "home", host_config=config, headless=headless, extra_args=extra_args, env=env
    ) as browser:
        create_vault_account(browser, sim)
        yield browser


def host_request(
    browser: SidedeskBrowser, type_: str, payload: dict[str, Any], timeout_ms: int = 30_000
) -> Any:
    """One request to the host through the worker's native port; errors come back as {'error': …}."""
    return browser.service_worker.evaluate(
        """async ([type, payload, timeoutMs]) => {
          const n = globalThis.sidedesk.native;
          n.start();
          for (let i = 0; i < 100 && n.status.state !== 'connected'; i++) {
            await new Promise((r) => setTimeout(r, 100));
          }
          try { return {ok: await n.request(type, payload, {timeoutMs})}; }
          catch (e) { return {error: {code: e.code, message: e.message, details: e.details ?? null}}; }
        }""",
        [type_, payload, timeout_ms],
    )


def create_vault_account(browser: SidedeskBrowser, sim: SimThread) -> str:
    created = host_request(browser, "vault.create", {"password": VAULT_PASSWORD})
    assert "ok" in created, f"vault.create failed: {created}\n{browser.host_log()}"
    key = sim.hmac_key()
    entry = {
        "name": ACCOUNT_NAME,
        "broker": "binance",
        "environment": "simulator",
        "auth": "hmac",
        "api_key": key["apiKey"],
        "secret": key["secret"],
    }
    put = host_request(browser, "vault.put", {"entry": entry})
    assert "ok" in put, f"vault.put failed: {put}"
    return str(put["ok"]["entry"]["id"])


# What the panel keeps in chrome.storage.local between pages: the last ticket (the hotkeys' order),
# the selected position and the minimised bar.
PANEL_STORAGE = ["sidedesk.ticket", "sidedesk.position", "sidedesk.minimised"]


def open_orders(sim: SimThread) -> list[Any]:
    got = sim.control("GET", "/orders", {"account": "main"})
    return [*got["orders"], *got["algoOrders"]]


def live_and_flat(browser: SidedeskBrowser, sim: SimThread) -> None:
    """Where each trading test starts: the vault unlocked (a test may have killed the host), the
    simulator account active, nothing open on it, and no panel state saved by an earlier test.
    Through the host API and the simulator's control plane (no request weight: a reset per test
    must not eat the account's budget); the tests of activation and flatten use the panel."""
    status = host_request(browser, "vault.status", {})
    assert "ok" in status, status
    if status["ok"]["state"] == "locked":
        unlocked = host_request(browser, "vault.unlock", {"password": VAULT_PASSWORD})
        assert "ok" in unlocked, unlocked
    entries = host_request(browser, "vault.entries", {})["ok"]["entries"]
    account_id = next(e["id"] for e in entries if e["name"] == ACCOUNT_NAME)
    active = host_request(browser, "accounts.activate", {"account_id": account_id})
    assert "ok" in active, f"{active}\n{browser.host_log()[-3000:]}"
    eventually(lambda: close_everything(sim), what="nothing open on the simulator account")
    browser.service_worker.evaluate("(keys) => chrome.storage.local.remove(keys)", PANEL_STORAGE)
    browser.page_errors.clear()


def close_everything(sim: SimThread) -> bool:
    """Positions closed, then orders and stops cancelled, from the exchange's side (the host hears
    it on its streams: its stops then go without being replaced); True once nothing was left."""
    positions = sim.control("GET", "/positions", {"account": "main"})
    for p in positions:
        sim.control("POST", "/positions", {"account": "main", "symbol": p["symbol"], "amount": "0",
                                           "position_side": p["positionSide"]})  # fmt: skip
    book = sim.control("GET", "/orders", {"account": "main"})
    for o in book["orders"]:
        with contextlib.suppress(SimError):  # filled or cancelled meanwhile
            sim.control(
                "POST", "/cancel", {"account": "main", "symbol": o["symbol"], "orderId": o["orderId"]}
            )
    for a in book["algoOrders"]:
        with contextlib.suppress(SimError):
            sim.control("POST", "/cancel", {"account": "main", "algoId": a["algoId"]})
    return not positions and not book["orders"] and not book["algoOrders"]
