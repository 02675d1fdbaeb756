"""When the service leaves by itself (service/lifetime.py): never while a panel is attached or,
with "keep protecting" on, while a connected account holds a position or an order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.service.lifetime import Idle, Policy, step


def test_idle_then_exit_after_the_delay() -> None:
    p = Policy(idle_exit_s=60)
    idle, leave = step(p, Idle(), sessions=0, exposure=False, now=100.0)
    assert (idle.since, leave) == (100.0, False)
    idle, leave = step(p, idle, sessions=0, exposure=False, now=159.9)
    assert not leave
    assert step(p, idle, sessions=0, exposure=False, now=160.0)[1]


def test_a_panel_or_a_position_keeps_it() -> None:
    p = Policy(idle_exit_s=0)
    assert step(p, Idle(1.0), sessions=1, exposure=False, now=999.0) == (Idle(None), False)
    assert step(p, Idle(1.0), sessions=0, exposure=True, now=999.0) == (Idle(None), False)


def test_keep_protecting_off_lets_it_go_with_a_position() -> None:
    p = Policy(keep_protecting=False, idle_exit_s=0)
    assert step(p, Idle(), sessions=0, exposure=True, now=5.0)[1]


def test_always_never_leaves() -> None:
    assert not step(Policy(always=True, idle_exit_s=0), Idle(0.0), sessions=0, exposure=False, now=1e9)[1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.floats(0, 100)), max_size=30))
def test_never_leaves_while_busy(events: list[tuple[int, bool, float]]) -> None:
    p = Policy(idle_exit_s=10)
    idle, now = Idle(), 0.0
    for sessions, exposure, dt in events:
        now += dt
        idle, leave = step(p, idle, sessions=sessions, exposure=exposure, now=now)
        if sessions or exposure:
            assert not leave and idle.since is None
        if leave:
            assert idle.since is not None and now - idle.since >= p.idle_exit_s
