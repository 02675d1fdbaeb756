"""Helpers shared by the trading e2e tests (no tests here): the Binance simulator in a thread, its
control plane, and a vault with the simulator's HMAC test key created through the host API.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sidedesk.demo.simthread import SimThread  # the demo's simulator thread, shared
from tests.e2e.conftest import SidedeskBrowser, launch_sidedesk

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
