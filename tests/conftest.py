from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import services

# `tests` is a package so shared helpers (tests/support/) import as `tests.support`.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# pytest-timeout's `timeout` (pyproject.toml) bounds every test; a soak scenario runs longer.
SOAK_TIMEOUT_S = 600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The soak's tests get the soak's timeout (unless they name their own)."""
    for item in items:
        if item.get_closest_marker("soak") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SOAK_TIMEOUT_S))


@pytest.fixture(autouse=True)
def _isolated_log_secrets() -> Iterator[None]:
    """Secrets registered for redaction are process-global: each test starts and ends with none,
    so one test's secret (or a piece of it) never redacts another test's text."""
    from sidedesk import logs

    with logs._secrets_lock:
        logs._secrets.clear()
        logs._pieces.clear()
    yield
    with logs._secrets_lock:
        logs._secrets.clear()
        logs._pieces.clear()


# -- every `sidedesk service` a test starts is stopped at the end of the scope that started it ----


def pytest_configure(config: pytest.Config) -> None:
    services.mark_run()


def _reap(before: set[int], where: str) -> None:
    killed = services.reap_since(before)
    if killed:
        pytest.fail(f"{where}: sidedesk service {[s.pid for s in killed]} ignored SIGTERM and was killed")


@pytest.fixture(autouse=True, scope="session")
def _services_of_the_session() -> Iterator[None]:
    before = services.pids()
    yield
    _reap(before, "session")


@pytest.fixture(autouse=True, scope="module")
def _services_of_the_module() -> Iterator[None]:
    before = services.pids()
    yield
    _reap(before, "module")


@pytest.fixture(autouse=True, scope="class")
def _services_of_the_class() -> Iterator[None]:
    before = services.pids()
    yield
    _reap(before, "class")


@pytest.fixture(autouse=True)
def _services_of_the_test() -> Iterator[None]:
    before = services.pids()
    yield
    _reap(before, "test")


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    """After every fixture is torn down: no service this run started may still be running."""
    yield
    left = services.running()
    if left:
        services.stop(left)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        sys.stderr.write(
            f"\nFAILED: sidedesk service processes started by this test run were still running at "
            f"its end (now stopped): {[(s.pid, s.home) for s in left]}\n"
        )
