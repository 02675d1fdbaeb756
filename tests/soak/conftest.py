"""The soak's scenarios start their own simulator (a thread, 127.0.0.1) and host process each; the
simulator's warnings about the faults it injects are expected, so they are kept out of the output."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def quiet_simulator() -> Iterator[None]:
    logger = logging.getLogger("sidedesk_sim.binance")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
