from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sidedesk.net.backoff import Backoff, WakeDetector


def test_ceiling_doubles_from_base_to_cap() -> None:
    b = Backoff(base_s=0.5, cap_s=30.0)
    assert [b.ceiling(n) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert b.ceiling(10_000) == 30.0


@given(st.integers(0, 200), st.floats(0, 1, exclude_max=True))
def test_full_jitter_stays_within_zero_and_the_ceiling(attempt: int, r: float) -> None:
    b = Backoff()
    assert 0 <= b.delay(attempt, r) <= b.ceiling(attempt)


def test_unlimited_by_default_and_bounded_when_asked() -> None:
    assert not Backoff().exhausted(10**9)
    assert Backoff(max_attempts=3).exhausted(3) and not Backoff(max_attempts=3).exhausted(2)


def test_wake_detector_sees_a_wall_jump_the_monotonic_clock_did_not() -> None:
    w = WakeDetector(threshold_s=5)
    assert not w.tick(1000.0, 10.0)
    assert not w.tick(1001.0, 11.0)  # both moved one second
    assert w.tick(1601.0, 12.0)  # ten minutes of wall time in one monotonic second: slept
    assert not w.tick(1602.0, 13.0)
