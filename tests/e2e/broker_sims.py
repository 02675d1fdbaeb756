"""The Tradovate, Volumetrica and Alpaca simulators for the panel tests (no tests here).

All three serve from one event loop in a daemon thread, each on its own 127.0.0.1 port; the
browser's host reaches them through the `simulators` setting. Tests drive them as any other
client would, over HTTP on their control planes (`/_sim/...`). Prices start calm (no random
walk), so the P&L a test expects is the P&L the panel must show.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
import urllib.request
from decimal import Decimal
from typing import Any

from sidedesk_sim.alpaca import BUILTIN_KEY_ID, BUILTIN_SECRET, AlpacaSim
from sidedesk_sim.tradovate import BUILTIN_USER, TradovateSim
from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim

START_TIMEOUT_S = 20.0
BROKERS = ("tradovate", "volumetrica", "alpaca")

# Vault entries for each simulator's built-in test user (public test credentials).
VAULT_ENTRIES: dict[str, dict[str, Any]] = {
    "tradovate": {
        "broker": "tradovate",
        "name": "Tradovate sim",
        "environment": "simulator",
        "username": BUILTIN_USER["name"],
        "password": BUILTIN_USER["password"],
        "cid": int(BUILTIN_USER["cid"]),
        "sec": BUILTIN_USER["sec"],
        "app_id": "Sidedesk",
    },
    "volumetrica": {
        "broker": "volumetrica",
        "name": "Volumetrica sim",
        "environment": "simulator",
        "platform_key": BUILTIN_PLATFORM_KEY,
        "login": BUILTIN_LOGIN,
        "password": BUILTIN_PASSWORD,
    },
    "alpaca": {
        "broker": "alpaca",
        "name": "Alpaca sim",
        "environment": "simulator",
        "key_id": BUILTIN_KEY_ID,
        "secret_key": BUILTIN_SECRET,
    },
}


class BrokerSims:
    """`with BrokerSims() as sims:` the three simulators, started and calm."""

    def __init__(self, seed: int = 7) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="broker-sims", daemon=True)
        self.tradovate = TradovateSim(seed=seed)
        self.volumetrica = VolumetricaSim(seed=seed)
        self.alpaca = AlpacaSim(seed=seed)

    def __enter__(self) -> BrokerSims:
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(START_TIMEOUT_S)
        except BaseException:
            self.__exit__()
            raise
        return self

    async def _start(self) -> None:
        for sim in (self.tradovate, self.volumetrica, self.alpaca):
            await sim.start()
            for symbol in list(sim.engine.instruments):
                sim.engine.set_volatility(symbol, Decimal(0))

    async def _stop(self) -> None:
        for sim in (self.tradovate, self.volumetrica, self.alpaca):
            await sim.stop()

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(START_TIMEOUT_S)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(START_TIMEOUT_S)
        if not self._thread.is_alive():
            self.loop.close()

    def base_urls(self) -> dict[str, str]:
        """The host's `simulators` setting: broker -> REST base URL."""
        return {
            "tradovate": self.tradovate.base_url,
            "volumetrica": self.volumetrica.base_url,
            "alpaca": self.alpaca.base_url,
        }

    def control(self, broker: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control-plane request (`/_sim<path>`); a GET sends `body` as the query string."""
        url = f"{self.base_urls()[broker]}/_sim{path}"
        data = None
        if method == "GET":
            if body:
                url += "?" + urllib.parse.urlencode(body)
        else:
            data = json.dumps(body or {}).encode()
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
