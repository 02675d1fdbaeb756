"""The Binance simulator on its own event loop in a daemon thread, and a client for its control plane.

The demo's foreground (the browser, Playwright's sync API, Ctrl-C) stays in the main thread; the
simulator keeps serving until `stop()`. Prices are driven over HTTP through `/_sim/...`, exactly
as any other client would.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

START_TIMEOUT_S = 30.0


class SimError(RuntimeError):
    pass


class SimThread:
    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.info: dict[str, Any] = {}
        self.rest_url = ""
        self.control_url = ""
        self._thread = threading.Thread(target=self._run, name="sidedesk-demo-sim", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # handed to start(), which reports it
            self._error = exc
            self._ready.set()
        finally:
            self.loop.close()

    async def _main(self) -> None:
        from sidedesk_sim.binance.sim import BinanceSim

        self._stop = asyncio.Event()
        async with BinanceSim(seed=self.seed) as sim:
            self.info = sim.info()
            self.rest_url = sim.rest_url
            self.control_url = sim.control_url
            self._ready.set()
            await self._stop.wait()

    def start(self) -> SimThread:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise SimError(f"the Binance simulator did not start within {START_TIMEOUT_S:.0f} s")
        if self._error is not None:
            raise SimError(f"the Binance simulator failed to start: {self._error}")
        return self

    def stop(self) -> None:
        stop = self._stop
        if stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(stop.set)
        self._thread.join(15)

    def __enter__(self) -> SimThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hmac_key(self, account: str = "main") -> dict[str, str]:
        """The simulator's public HMAC test key for `account` (apiKey, secret)."""
        for key in self.info.get("keys", []):
            if key.get("type") == "hmac" and key.get("account") == account:
                return {"apiKey": str(key["apiKey"]), "secret": str(key["secret"])}
        raise SimError(f"the simulator has no HMAC test key for account {account!r}")

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call `/_sim/<path>`; the simulator's own message is raised on a 4xx/5xx."""
        url = self.control_url + path
        data = None
        if method == "GET" and body:
            url += "?" + urllib.parse.urlencode(body)
        elif body is not None:
            data = json.dumps(body).encode()
        if not url.startswith(("http://", "https://")):
            raise SimError(f"not a simulator URL: {url}")
        headers = {"Content-Type": "application/json"}
        req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - checked above: http(s)
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise SimError(f"simulator {method} {path}: HTTP {exc.code} {detail}") from None

    def market(self, symbol: str) -> dict[str, Any]:
        out = self.control("GET", "/market", {"symbol": symbol})
        assert isinstance(out, dict)
        return out
