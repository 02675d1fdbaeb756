"""The Tradovate, Volumetrica and Alpaca simulators for the panel tests (no tests here).

All three serve from one event loop in a daemon thread (tests/support/simthread.py), each on its
own 127.0.0.1 port; the browser's host reaches them through the `simulators` setting. Tests drive
them as any other client would, over HTTP on their control planes (`/_sim/...`). Prices start calm (no random
walk), so the P&L a test expects is the P&L the panel must show.
"""

from __future__ import annotations

from typing import Any

from sidedesk_sim.alpaca import BUILTIN_KEY_ID, BUILTIN_SECRET, AlpacaSim
from sidedesk_sim.tradovate import BUILTIN_USER, TradovateSim
from sidedesk_sim.volumetrica import BUILTIN_LOGIN, BUILTIN_PASSWORD, BUILTIN_PLATFORM_KEY, VolumetricaSim
from tests.support.simthread import START_S, LoopThread, calm, http_control

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
    """`with BrokerSims() as sims:` the three simulators, started and calm, on one loop thread."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self._thread: LoopThread | None = None
        self._sims: tuple[TradovateSim, VolumetricaSim, AlpacaSim] | None = None

    def __enter__(self) -> BrokerSims:
        self._thread = LoopThread("broker-sims")
        try:
            self._sims = self._thread.run(self._start(), START_S)
        except BaseException:
            self.__exit__()
            raise
        return self

    async def _start(self) -> tuple[TradovateSim, VolumetricaSim, AlpacaSim]:
        sims = (TradovateSim(seed=self.seed), VolumetricaSim(seed=self.seed), AlpacaSim(seed=self.seed))
        for sim in sims:
            await sim.start()
            calm(sim)
        return sims

    def __exit__(self, *exc: object) -> None:
        if self._thread is None:
            return
        try:
            if self._sims is not None:
                self._thread.run(self._stop(self._sims), START_S)
        finally:
            self._thread.close()
            self._thread = None

    @staticmethod
    async def _stop(sims: tuple[TradovateSim, VolumetricaSim, AlpacaSim]) -> None:
        for sim in sims:
            await sim.stop()

    @property
    def tradovate(self) -> TradovateSim:
        assert self._sims is not None, "simulators not started"
        return self._sims[0]

    @property
    def volumetrica(self) -> VolumetricaSim:
        assert self._sims is not None, "simulators not started"
        return self._sims[1]

    @property
    def alpaca(self) -> AlpacaSim:
        assert self._sims is not None, "simulators not started"
        return self._sims[2]

    def base_urls(self) -> dict[str, str]:
        """The host's `simulators` setting: broker -> REST base URL."""
        return {
            "tradovate": self.tradovate.base_url,
            "volumetrica": self.volumetrica.base_url,
            "alpaca": self.alpaca.base_url,
        }

    def control(self, broker: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control-plane request (`/_sim<path>`); a GET sends `body` as the query string."""
        return http_control(f"{self.base_urls()[broker]}/_sim", method, path, body)
