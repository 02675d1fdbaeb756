"""The one bounded poll every test waits with: `eventually(probe)` returns the first truthy value
`probe` gives, or fails with what it was waiting for once `timeout` seconds have passed.

A wait is on an outcome, never on a time: the deadline only bounds how long a broken run hangs,
so it is generous (a loaded 2-core CI machine may take many times longer than an idle laptop);
the poll returns as soon as the outcome is there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

WAIT_S = 20.0  # the default deadline: long enough for a busy machine, short enough to fail a hang
EVERY_S = 0.02  # between two probes


def _timed_out(timeout: float, what: str, last: object) -> AssertionError:
    return AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def eventually(
    probe: Callable[[], T | None], timeout: float = WAIT_S, what: str = "condition", *, every: float = EVERY_S
) -> T:
    """Poll `probe` until it returns something truthy (returned); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what, last)
        time.sleep(every)


async def eventually_async(
    probe: Callable[[], T | None], timeout: float = WAIT_S, what: str = "condition", *, every: float = EVERY_S
) -> T:
    """`eventually` for a test running on an event loop: the loop keeps running between probes."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what, last)
        await asyncio.sleep(every)
