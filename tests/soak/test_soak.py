"""The bounded soak CI runs: a few seeded scenarios (trader + faults against the simulator and the
real host), each checked against every reliability invariant. `make soak N=…` runs more."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.soak.run import run, summarize
from tests.soak.schedule import FAULTS

pytestmark = pytest.mark.soak  # its own, longer per-test timeout (tests/conftest.py)

SEED = 20_000
SCENARIOS = 4


def test_seeded_scenarios_keep_every_invariant(tmp_path: Path) -> None:
    results, seconds = run(SCENARIOS, SEED, 2, True, 10, tmp_path, FAULTS, echo=False)
    summary = summarize(results, seconds)
    assert summary["scenarios"] == SCENARIOS
    assert summary["faults_injected"], "the schedule injected no fault"
    assert summary["acknowledged_orders"], "the trader placed nothing"
    broken = {r.seed: r.violations for r in results if r.violations}
    assert broken == {}, f"invariants broken (replay with --seed <seed> --scenarios 1): {broken}"
