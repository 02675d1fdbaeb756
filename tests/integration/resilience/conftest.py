"""Fixtures: a Binance simulator (own thread, 127.0.0.1) per test and the real host process
connected to a fresh simulator account through its vault, as the panel would set it up."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sidedesk_sim.binance.sim import SimConfig
from tests.soak import invariants as inv
from tests.soak.hostdriver import Desk, write_config
from tests.support.simthread import BinanceSimThread as SimThread
from tests.support.wait import WAIT_S, eventually


@dataclass
class Live:
    """The host trading one simulator account."""

    st: SimThread
    desk: Desk
    home: Path
    account: str  # the simulator's account name
    account_id: str  # the vault's id for it
    ident: dict[str, str]

    def diff(self) -> list[str]:
        truth = inv.Truth.of(self.st.truth(self.account))
        return inv.state_diff(self.desk.topics("positions", "orders", "account"), truth, self.account_id)

    def wait_in_sync(self, timeout: float = WAIT_S) -> None:
        last: list[str] = []

        def equal() -> bool:
            nonlocal last
            last = self.diff()
            return not last

        try:
            eventually(equal, timeout, "the host's state to equal the exchange's", every=0.1)
        except AssertionError:
            raise AssertionError(f"still different after {timeout} s: {last}") from None

    def orders_with(self, client_id: str) -> set[int]:
        return {
            int(e["orderId"] if e["kind"] == "order" else e["algoId"])
            for e in self.st.order_log(self.account)
            if client_id in (e.get("clientOrderId"), e.get("clientAlgoId"))
        }

    def restart(self) -> Desk:
        """A new host process on the same folder (after `kill9`): unlocking reconnects the account."""
        self.desk = Desk(self.home)
        self.desk.unlock()
        self.desk.wait_connected()
        return self.desk


MakeLive = Callable[..., Live]


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(tick_ms=50)


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[SimThread]:
    with SimThread(seed=11, config=sim_config) as st:
        yield st


@pytest.fixture
def live(tmp_path: Path, sim: SimThread) -> Iterator[MakeLive]:
    """`live(asl=False, **settings)` → the host connected to a new simulator account."""
    made: list[Live] = []

    def factory(*, asl: bool = False, **settings: Any) -> Live:
        n = len(made)
        home = tmp_path / f"home{n}"
        account = f"acct{n}"
        ident = sim.new_account(account)
        write_config(home, sim.rest_url, asl_enabled=asl, **settings)
        desk = Desk(home)
        account_id = desk.create_account(ident["apiKey"], ident["secret"])
        desk.activate(account_id)
        lv = Live(sim, desk, home, account, account_id, ident)
        made.append(lv)
        return lv

    yield factory
    for lv in made:
        with contextlib.suppress(Exception):
            if lv.desk.proc.poll() is None:
                lv.desk.kill9()
