"""Through the real host process (frames over pipes, as Chrome runs it): a Tradovate simulator
account in the vault trades MES with a contracts ticket; the fill becomes a position whose P&L
uses the value per point ($5 per point per contract), and ASL protects it with an exchange-side
stop that it moves itself (Tradovate: software trailing, `native_trailing_stop` false)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sidedesk_sim.tradovate import BUILTIN_USER, SimConfig, TradovateSim
from sidedesk_sim.tradovate.instruments import front_name
from tests.integration.asl.harness import PASSWORD, SMALL_KDF, Desk, eventually

MES = front_name("MES")


class SimThread:
    def __init__(self) -> None:
        self.sim = TradovateSim(seed=5, config=SimConfig())
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="tradovate-sim", daemon=True)

    def start(self) -> SimThread:
        self._thread.start()
        self.run(self.sim.start())
        for c in self.sim.contracts:
            self.call(lambda name=c.name: self.sim.engine.set_volatility(name, Decimal(0)))
        return self

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def call(self, fn: Any) -> Any:
        async def wrapped() -> Any:
            return fn()

        return self.run(wrapped())

    def stop(self) -> None:
        try:
            self.run(self.sim.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(15)
            self.loop.close()

    def orders(self) -> list[dict[str, Any]]:
        from sidedesk_sim.tradovate import control

        return self.call(lambda: control.orders(self.sim, {}))  # type: ignore[no-any-return]


class TvDesk(Desk):
    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.positions: list[dict[str, Any]] = []

    def _keep(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "event" and frame.get("topic") == "positions":
            self.positions = list(frame["payload"].get("positions", []))
        super()._keep(frame)

    def position(self, symbol: str) -> dict[str, Any] | None:
        self.pump()
        return next((p for p in self.positions if p.get("symbol") == symbol), None)


D = TypeVar("D", bound=Desk)


def start_tv_desk(home: Path, sim: SimThread, config: dict[str, Any], desk_cls: type[D]) -> D:
    """A host on `home` with `config` (the simulator's URL added), a vault holding the simulator's
    Tradovate login, that account active and every topic subscribed (stopped if any step fails)."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    full = {"vault_kdf": SMALL_KDF, "simulators": {"tradovate": sim.sim.base_url}, **config}
    (home / "config" / "config.json").write_text(json.dumps(full), encoding="utf-8")
    desk = desk_cls(home)
    try:
        desk.call("vault.create", {"password": PASSWORD})
        entry = {
            "broker": "tradovate",
            "name": "tv sim",
            "environment": "simulator",
            "username": BUILTIN_USER["name"],
            "password": BUILTIN_USER["password"],
            "cid": int(BUILTIN_USER["cid"]),
            "sec": BUILTIN_USER["sec"],
            "app_id": "Sidedesk",
        }
        account_id = str(desk.call("vault.put", {"entry": entry})["entry"]["id"])
        desk.call("accounts.activate", {"account_id": account_id}, timeout=30)
    except BaseException:
        desk.stop()
        raise
    return desk


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread().start()
    try:
        yield s
    finally:
        s.stop()


def test_mes_through_the_host_with_asl(sim: SimThread, tmp_path: Path) -> None:
    config = {"watchlist": [MES], "risk": {"confirm_above_notional": None, "max_orders_per_minute": 10_000}}
    desk = start_tv_desk(tmp_path, sim, config, TvDesk)
    try:
        desk.subscribe()
        try:
            desk.wait_mark(MES)
        except AssertionError as exc:  # once seen under load: say what the host's md link did
            raise AssertionError(f"{exc}\nhost log:\n{desk.log_text()[-4000:]}") from None
        desk.call(
            "order.place", {"ticket": {"symbol": MES, "side": "BUY", "type": "MARKET", "quantity": "2"}}
        )
        pos = eventually(
            lambda: (p := desk.position(MES)) and Decimal(p["quantity"]) == 2 and p, 10, "a 2-lot"
        )
        assert Decimal(pos["entry"]) == Decimal("6000.25")
        # ASL: the hard stop is a real Stop order on the simulator, automated, sized to the position
        stop = eventually(
            lambda: next(
                (o for o in sim.orders() if o["orderType"] == "Stop" and o["status"] == "Working"), None
            ),
            10,
            "the ASL stop",
        )
        assert stop["action"] == "Sell" and stop["qty"] == 2 and stop["isAutomated"] is True
        assert str(stop["text"]).startswith("sda-")
        # +20 points: P&L = 20 x $5 x 2 contracts = $200 (value per point, not the price)
        sim.call(lambda: sim.sim.set_price(MES, Decimal("6020.25")))
        eventually(
            lambda: (p := desk.position(MES)) and Decimal(p["unrealized_pnl"] or 0) == 200, 10, "$200 P&L"
        )
        # profit past the first level: ASL tightens by moving its own stop (software trailing)
        sim.call(lambda: sim.sim.set_price(MES, Decimal("6090.25")))

        def tighter() -> dict[str, Any] | None:
            working = [o for o in sim.orders() if o["orderType"] == "Stop" and o["status"] == "Working"]
            return next((o for o in working if Decimal(o["stopPrice"]) > Decimal(stop["stopPrice"])), None)

        moved = eventually(tighter, 10, "a tighter stop")
        assert Decimal(moved["stopPrice"]) < Decimal("6090.25")
        assert not [o for o in sim.orders() if o["orderType"] == "TrailingStop"]
    finally:
        desk.stop()
