"""Fixtures: one Binance simulator and one real host process (vault unlocked, simulator account
active, subscribed to `asl`, `log`, `quotes`, `positions`) per test module. Tests of one module
share them and stay out of each other's way by trading different symbols."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.asl.harness import Desk, SimThread, start_desk


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread().start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(autouse=True)
def _simulator_back_to_normal(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test armed on the module's simulator (faults, skew, limits, a ban in force) is
    undone before the next test runs."""
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset()
    yield


@pytest.fixture(scope="module")
def desk(
    sim: SimThread, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Desk]:
    # a module may adjust the host's settings with a module-level HOST_CONFIG dict
    config = getattr(request.module, "HOST_CONFIG", {})
    d, _ = start_desk(sim, tmp_path_factory.mktemp("asl-home"), **config)
    try:
        yield d
    finally:
        d.stop()
