from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
