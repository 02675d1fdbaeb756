"""The test harness finds the services a test run started (tests/support/services.py): by the
run's marker in their environment, with their SIDEDESK_HOME; and stops them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import services
from tests.support.config import write_config


def start(home: Path, marker: str) -> None:
    write_config(home, {"service": {"idle_exit_s": 600}})
    env = dict(os.environ, SIDEDESK_HOME=str(home), **{services.RUN_ENV: marker})
    out = subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", "service", "start"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


def test_this_runs_services_are_found_and_stopped(tmp_path: Path) -> None:
    ours, other = tmp_path / "ours", tmp_path / "other"
    start(ours, os.environ[services.RUN_ENV])
    start(other, "another-run")
    try:
        found = services.running()
        assert [s.home for s in found if s.home in (str(ours), str(other))] == [str(ours)]
        pid = services.serving_pid(ours)
        assert pid is not None and services.running("another-run")
        assert services.stop([s for s in found if s.home == str(ours)]) == []  # it took SIGTERM
        assert services.serving_pid(ours) is None
    finally:
        assert services.stop(services.running("another-run")) == []
    assert services.running("another-run") == []
