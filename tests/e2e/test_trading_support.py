"""Helpers shared by the trading e2e tests (no tests here): the Binance simulator in a thread, its
control plane, and a vault with the simulator's HMAC test key created through the host API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.e2e.conftest import SidedeskBrowser, launch_sidedesk

# Small Argon2id parameters: the vault is real, the KDF just cheap (the host config allows it).
SMALL_KDF = {"memory_kib": 64, "iterations": 1, "lanes": 1}
VAULT_PASSWORD = "e2e-Trading-Panel-7391"  # a test vault in a temp folder, holding public test keys
ACCOUNT_NAME = "Sim main"


class SimThread:
    """`BinanceSim` on its own event loop in a daemon thread (the Playwright API used is sync)."""

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.info: dict[str, Any] = {}
        self.control_url = ""
        self.rest_url = ""
        self._thread = threading.Thread(target=self._run, name="binance-sim", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
        finally:
            self.loop.close()

    async def _main(self) -> None:
        from sidedesk.sim.binance.sim import BinanceSim

        self._stop = asyncio.Event()
        async with BinanceSim(seed=self.seed) as sim:
            self.info = sim.info()
            self.control_url = sim.control_url
            self.rest_url = sim.rest_url
            self._ready.set()
            await self._stop.wait()

    def start(self) -> SimThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("the Binance simulator did not start within 30 s")
        if self._error is not None:
            raise RuntimeError(f"the Binance simulator failed to start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._stop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    @property
    def hmac_key(self) -> dict[str, str]:
        return next(k for k in self.info["keys"] if k["type"] == "hmac" and k["account"] == "main")

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the control plane (`/_sim/...`); a 4xx/5xx raises with the simulator's message."""
        data = None if body is None else json.dumps(body).encode()
        url = self.control_url + path
        if method == "GET" and body:
            url += "?" + "&".join(f"{k}={v}" for k, v in body.items())
            data = None
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")


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
    key = sim.hmac_key
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
