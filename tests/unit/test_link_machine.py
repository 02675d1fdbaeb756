"""The account link's state machine (core/link.py): every transition of its table, the retry
policy, the panel's view, and two property tests — random event sequences never leave a started
link waiting for nothing, and a driver that runs the machine's own commands against a faulty
broker always ends live (or visibly auth-failed / stopped) once the faults stop."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.core.link import (
    CONNECTED_STATES,
    AuthRevoked,
    Connect,
    Connected,
    ConnectFailed,
    Link,
    LinkCommand,
    LinkEvent,
    LinkState,
    Resync,
    RetryAt,
    RetryDue,
    RetryPolicy,
    SocketDown,
    SocketUp,
    Start,
    Stop,
    Synced,
    SyncFailed,
    Tell,
    WentLive,
    step,
)

P = RetryPolicy()
T0 = 1000.0
LATER = T0 + 100.0  # after every retry_at the fixtures below set

# -- reaching each state ----------------------------------------------------------------------


def run(
    events: Iterable[tuple[LinkEvent, float]], link: Link | None = None
) -> tuple[Link, list[LinkCommand]]:
    current = Link() if link is None else link
    out: list[LinkCommand] = []
    for event, now in events:
        current, cmds = step(current, event, now, P)
        out += cmds
    return current, out


def fresh() -> Link:
    return Link()


def connecting() -> Link:
    return run([(Start(), T0)])[0]


def waiting() -> Link:
    """Disconnected after a failed first connect, retry_at set."""
    return run([(ConnectFailed("timeout", jitter=0.5), T0 + 1)], connecting())[0]


def syncing() -> Link:
    return run([(Connected(), T0 + 1)], connecting())[0]


def live() -> Link:
    return run([(Synced(), T0 + 2)], syncing())[0]


def degraded() -> Link:
    return run([(SocketDown("ws closed", attempt=2, next_retry_s=4.0), T0 + 3)], live())[0]


def auth_failed() -> Link:
    return run([(ConnectFailed("401 bad key", auth=True), T0 + 1)], connecting())[0]


def stopped() -> Link:
    return run([(Stop(), T0 + 4)], live())[0]


STATES: dict[str, Callable[[], Link]] = {
    "fresh": fresh,
    "connecting": connecting,
    "waiting": waiting,
    "syncing": syncing,
    "live": live,
    "degraded": degraded,
    "auth_failed": auth_failed,
    "stopped": stopped,
}


def test_fixtures_reach_their_states() -> None:
    expected = {
        "fresh": LinkState.DISCONNECTED,
        "connecting": LinkState.CONNECTING,
        "waiting": LinkState.DISCONNECTED,
        "syncing": LinkState.SYNCING,
        "live": LinkState.LIVE,
        "degraded": LinkState.DEGRADED,
        "auth_failed": LinkState.AUTH_FAILED,
        "stopped": LinkState.STOPPED,
    }
    for name, make in STATES.items():
        assert make().state is expected[name], name
    assert fresh().retry_at is None
    assert waiting().retry_at is not None


# -- events that do not apply -----------------------------------------------------------------

IGNORED: dict[str, list[LinkEvent]] = {
    "fresh": [
        Connected(),
        ConnectFailed("x"),
        ConnectFailed("x", auth=True),
        RetryDue(),
        Synced(),
        SyncFailed("x"),
        SocketDown("x", attempt=1, next_retry_s=1.0),
        SocketUp(),
        AuthRevoked("x"),
    ],
    "connecting": [Start(), RetryDue(), Synced(), SyncFailed("x"), SocketDown("x"), SocketUp()],
    "waiting": [
        Connected(),
        ConnectFailed("x"),
        ConnectFailed("x", auth=True),
        Synced(),
        SyncFailed("x"),
        SocketDown("x"),
        SocketUp(),
        AuthRevoked("x"),
    ],
    "syncing": [
        Start(),
        Connected(),
        ConnectFailed("x"),
        ConnectFailed("x", auth=True),
        SocketUp(),
        RetryDue(),
    ],
    "live": [
        Start(),
        Connected(),
        ConnectFailed("x"),
        ConnectFailed("x", auth=True),
        RetryDue(),
        Synced(),
        SyncFailed("x"),
        SocketUp(),
    ],
    # retry_at in degraded is the adapter's, for display: RetryDue does not act on it
    "degraded": [Start(), Connected(), ConnectFailed("x"), RetryDue(), Synced(), SyncFailed("x")],
    "auth_failed": [
        Connected(),
        ConnectFailed("x"),
        ConnectFailed("x", auth=True),
        RetryDue(),
        Synced(),
        SyncFailed("x"),
        SocketDown("x"),
        SocketUp(),
    ],
    "stopped": [
        Connected(),
        ConnectFailed("x"),
        RetryDue(),
        Synced(),
        SyncFailed("x"),
        SocketDown("x"),
        SocketUp(),
        AuthRevoked("x"),
    ],
}


@pytest.mark.parametrize(
    ("state", "event"),
    [(state, event) for state, events in IGNORED.items() for event in events],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_events_that_do_not_apply_are_ignored(state: str, event: LinkEvent) -> None:
    link = STATES[state]()
    after, cmds = step(link, event, LATER, P)
    assert after == link
    assert cmds == []


# -- Start / Stop / AuthRevoked, from everywhere ----------------------------------------------


@pytest.mark.parametrize("state", ["fresh", "waiting", "auth_failed", "stopped"])
def test_start_connects_from_scratch(state: str) -> None:
    link = STATES[state]()
    after, cmds = step(link, Start(), LATER, P)
    assert cmds == [Connect()]
    assert after.state is LinkState.CONNECTING
    assert (after.attempt, after.failures, after.retry_at) == (1, 0, None)
    assert after.detail == "connecting"
    assert after.since == LATER
    assert not after.was_live
    assert not after.slow


@pytest.mark.parametrize("state", ["connecting", "syncing", "live", "degraded"])
def test_start_while_under_way_is_ignored(state: str) -> None:
    link = STATES[state]()
    assert step(link, Start(), LATER, P) == (link, [])


@pytest.mark.parametrize("state", list(STATES))
def test_stop_stops_from_any_state(state: str) -> None:
    link = STATES[state]()
    after, cmds = step(link, Stop(), LATER, P)
    assert cmds == []
    assert after.state is LinkState.STOPPED
    assert after.retry_at is None
    assert after.detail == "stopped"
    assert after.since == (link.since if link.state is LinkState.STOPPED else LATER)


@pytest.mark.parametrize("state", ["connecting", "syncing", "live", "degraded"])
def test_auth_revoked_fails_the_link(state: str) -> None:
    after, cmds = step(STATES[state](), AuthRevoked("key revoked"), LATER, P)
    assert after.state is LinkState.AUTH_FAILED
    assert after.retry_at is None
    assert after.detail == "key revoked"
    assert after.since == LATER
    assert len(cmds) == 1
    tell = cmds[0]
    assert isinstance(tell, Tell)
    assert tell.level == "error"
    assert "key revoked" in tell.message


def test_auth_revoked_while_auth_failed_stays_auth_failed_and_never_retries() -> None:
    after, cmds = step(auth_failed(), AuthRevoked("again"), LATER, P)
    assert after.state is LinkState.AUTH_FAILED
    assert after.retry_at is None
    assert not any(isinstance(c, Connect | RetryAt | Resync) for c in cmds)


# -- connecting -------------------------------------------------------------------------------


def test_connected_starts_the_sync() -> None:
    after, cmds = step(connecting(), Connected(), LATER, P)
    assert cmds == [Resync("connected")]
    assert after.state is LinkState.SYNCING
    assert (after.failures, after.retry_at, after.detail, after.since) == (0, None, "syncing", LATER)


def test_transient_connect_failure_waits_for_a_retry() -> None:
    after, cmds = step(connecting(), ConnectFailed("timeout", jitter=0.25), LATER, P)
    wait = P.delay(1, 0.25)
    assert after.state is LinkState.DISCONNECTED
    assert after.failures == 1
    assert after.retry_at == LATER + wait
    assert after.detail == "timeout"
    assert not after.slow
    assert cmds[0] == RetryAt(LATER + wait)
    assert len(cmds) == 2
    tell = cmds[1]
    assert isinstance(tell, Tell)
    assert tell.level == "warning"
    assert "timeout" in tell.message


def test_auth_connect_failure_waits_for_the_user() -> None:
    after, cmds = step(connecting(), ConnectFailed("401 bad key", auth=True), LATER, P)
    assert after.state is LinkState.AUTH_FAILED
    assert after.retry_at is None
    assert after.detail == "401 bad key"
    assert len(cmds) == 1
    tell = cmds[0]
    assert isinstance(tell, Tell)
    assert tell.level == "error"
    assert "401 bad key" in tell.message
    # no timer fires it again, however late
    for t in (LATER, LATER + P.slow_s, LATER + 10 * P.slow_s):
        assert step(after, RetryDue(), t, P) == (after, [])


# -- disconnected (waiting) -------------------------------------------------------------------


def test_failed_first_connect_is_retried_at_retry_at_and_not_before() -> None:
    link, cmds = run([(Start(), 0.0), (ConnectFailed("connection refused", jitter=0.5), 2.0)])
    wait = P.delay(1, 0.5)
    assert link.state is LinkState.DISCONNECTED
    assert link.retry_at == 2.0 + wait
    assert RetryAt(2.0 + wait) in cmds
    assert link.view(2.0)["next_retry_s"] == round(wait, 1)

    for early in (2.0, 2.0 + wait / 2, 2.0 + wait - 1e-9):
        assert step(link, RetryDue(), early, P) == (link, [])

    for due in (2.0 + wait, 2.0 + wait + 50.0):
        after, cmds = step(link, RetryDue(), due, P)
        assert cmds == [Connect()]
        assert after.state is LinkState.CONNECTING
        assert after.attempt == 2
        assert after.failures == 1  # still counting until a connect succeeds
        assert after.retry_at is None
        assert after.since == due


def test_retry_due_on_a_never_started_link_does_nothing() -> None:
    assert step(Link(), RetryDue(), 1e9, P) == (Link(), [])


def test_a_ban_is_honoured() -> None:
    link, cmds = run(
        [(ConnectFailed("418 IP banned", retry_after_s=120.0, jitter=0.9), T0 + 1)], connecting()
    )
    assert link.retry_at == T0 + 1 + 120.0
    assert cmds[0] == RetryAt(T0 + 121.0)
    assert "120 s" in str(cmds[1])
    assert step(link, RetryDue(), T0 + 120.9, P) == (link, [])
    assert step(link, RetryDue(), T0 + 121.0, P)[1] == [Connect()]


def test_a_ban_longer_than_the_slow_delay_is_honoured_in_the_slow_phase() -> None:
    assert P.delay(P.fast_attempts + 3, 0.3, retry_after_s=900.0) == 900.0
    assert P.delay(P.fast_attempts + 3, 0.3, retry_after_s=10.0) == P.slow_s


def fail_connects(
    policy: RetryPolicy, n: int, jitter: float = 0.0
) -> list[tuple[Link, float, list[LinkCommand]]]:
    """Start, then `n` transient connect failures in a row, each retried when due. For each
    failure: the link after it, the wait it scheduled, and its commands."""
    link, _ = step(Link(), Start(), 0.0, policy)
    now = 0.0
    out: list[tuple[Link, float, list[LinkCommand]]] = []
    for _ in range(n):
        link, cmds = step(link, ConnectFailed("timeout", jitter=jitter), now, policy)
        assert link.retry_at is not None
        out.append((link, link.retry_at - now, cmds))
        now = link.retry_at
        link, again = step(link, RetryDue(), now, policy)
        assert again == [Connect()]
        now += 0.1
    return out


def tell_of(cmds: list[LinkCommand]) -> Tell:
    tells = [c for c in cmds if isinstance(c, Tell)]
    assert len(tells) == 1
    return tells[0]


def test_connect_failures_back_off_exponentially_then_slowly() -> None:
    """jitter 0: half of each cap (1, 2, 4, 8, 16, 30, 30 …)."""
    fa = P.fast_attempts
    seen = fail_connects(P, fa + 3)
    fast = seen[: fa - 1]  # failures 1 … fast_attempts-1: unambiguously fast
    assert [wait for _, wait, _ in fast] == pytest.approx([0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0])
    for n, (link, _wait, cmds) in enumerate(fast, start=1):
        assert link.failures == n
        assert not link.slow
        assert tell_of(cmds).level == "warning"
        assert "next attempt in" in tell_of(cmds).message
    for link, wait, cmds in seen[fa:]:  # failures fast_attempts+1 …
        assert wait == pytest.approx(P.slow_s)
        assert link.slow
        assert link.view(link.retry_at or 0.0)["slow_retry"] is True
        assert tell_of(cmds).level == "error"
        assert "retrying slowly" in tell_of(cmds).message


@pytest.mark.parametrize("policy", [P, RetryPolicy(base_s=0.5, max_s=4.0, fast_attempts=3, slow_s=60.0)])
def test_slow_phase_starts_after_fast_attempts_failures(policy: RetryPolicy) -> None:
    """The module docstring: "after `fast_attempts` failures in a row the link retries slowly
    (`slow_s`) and says so" — so the wait scheduled by failure number `fast_attempts` is slow_s."""
    link, wait, cmds = fail_connects(policy, policy.fast_attempts)[-1]
    assert link.failures == policy.fast_attempts
    assert (round(wait, 6), link.slow, tell_of(cmds).level) == (policy.slow_s, True, "error"), (
        f"after {policy.fast_attempts} failures in a row the link still retries fast: "
        f"wait {wait} s, slow={link.slow}, tell={tell_of(cmds).level} "
        "(RetryPolicy.delay and step use `failures > fast_attempts`)"
    )


def test_a_successful_sync_ends_the_slow_phase() -> None:
    link, _, _ = fail_connects(P, P.fast_attempts + 2)[-1]
    assert link.slow
    assert link.retry_at is not None
    link, cmds = run([(RetryDue(), link.retry_at), (Connected(), link.retry_at + 1)], link)
    assert link.state is LinkState.SYNCING
    assert link.failures == 0
    link, cmds = step(link, Synced(), link.since + 1, P)
    assert cmds == [WentLive(first=True)]
    assert not link.slow
    assert link.view(link.since)["slow_retry"] is False


@pytest.mark.parametrize("end", [ConnectFailed("401", auth=True), Stop()], ids=["auth_failed", "stopped"])
def test_a_link_that_no_longer_retries_does_not_show_a_slow_retry(end: LinkEvent) -> None:
    """`slow` means "retrying every slow_s"; an auth-failed or stopped link retries nothing."""
    link, _, _ = fail_connects(P, P.fast_attempts + 2)[-1]
    assert link.retry_at is not None
    link, _ = step(link, RetryDue(), link.retry_at, P)
    assert link.state is LinkState.CONNECTING
    after, _ = step(link, end, link.since + 1, P)
    view = after.view(after.since)
    assert view["next_retry_s"] is None
    assert view["slow_retry"] is False, (
        f"{after.state.value} link still shows slow_retry=True (the `slow` flag is not cleared)"
    )


# -- syncing ----------------------------------------------------------------------------------


def test_first_sync_goes_live_for_the_first_time() -> None:
    after, cmds = step(syncing(), Synced(), LATER, P)
    assert cmds == [WentLive(first=True)]
    assert after.state is LinkState.LIVE
    assert (after.failures, after.retry_at, after.detail, after.was_live, after.since) == (
        0,
        None,
        "",
        True,
        LATER,
    )


def test_sync_failure_retries_the_sync_when_due() -> None:
    link = syncing()
    after, cmds = step(link, SyncFailed("HTTP 503", jitter=0.5), LATER, P)
    wait = P.delay(1, 0.5)
    assert after.state is LinkState.SYNCING
    assert after.since == link.since
    assert after.failures == 1
    assert after.retry_at == LATER + wait
    assert after.detail == "sync failed: HTTP 503"
    assert cmds[0] == RetryAt(LATER + wait)
    assert tell_of(cmds).level == "warning"
    assert "HTTP 503" in tell_of(cmds).message

    assert step(after, RetryDue(), LATER + wait - 0.01, P) == (after, [])
    again, cmds = step(after, RetryDue(), LATER + wait, P)
    assert cmds == [Resync("retry")]
    assert again.state is LinkState.SYNCING
    assert again.retry_at is None
    # a second RetryDue (a stale timer) does not resync twice
    assert step(again, RetryDue(), LATER + wait + 1, P) == (again, [])
    done, cmds = step(again, Synced(), LATER + wait + 2, P)
    assert cmds == [WentLive(first=True)]
    assert done.failures == 0


def test_sync_failures_past_the_fast_attempts_retry_slowly_and_say_so() -> None:
    """Sync failures share the connect counter and RetryPolicy.delay, so past fast_attempts the
    sync is retried every slow_s; the docstring says the link then "says so", as it does when
    connecting: `slow` set, an error Tell."""
    link = syncing()
    now = LATER
    cmds: list[LinkCommand] = []
    for _ in range(P.fast_attempts + 1):
        link, cmds = step(link, SyncFailed("HTTP 503", jitter=0.5), now, P)
        assert link.retry_at is not None
        wait = link.retry_at - now
        now = link.retry_at
        link, resync = step(link, RetryDue(), now, P)
        assert resync == [Resync("retry")]
        now += 1.0
    assert link.failures == P.fast_attempts + 1
    assert wait == pytest.approx(P.slow_s)  # the machine does retry slowly …
    assert (link.slow, tell_of(cmds).level) == (True, "error"), (
        f"… but silently: slow={link.slow}, tell level {tell_of(cmds).level!r} "
        f"after {link.failures} sync failures (SyncFailed never sets `slow`)"
    )


@pytest.mark.parametrize("state", ["syncing", "live"])
def test_socket_down_degrades(state: str) -> None:
    after, cmds = step(STATES[state](), SocketDown("ws closed", attempt=3, next_retry_s=8.0), LATER, P)
    assert cmds == []
    assert after.state is LinkState.DEGRADED
    assert (after.attempt, after.retry_at, after.detail, after.since) == (3, LATER + 8.0, "ws closed", LATER)
    assert after.view(LATER + 2.0)["next_retry_s"] == 6.0


def test_socket_down_without_detail_or_timing() -> None:
    after, _ = step(live(), SocketDown(), LATER, P)
    assert after.state is LinkState.DEGRADED
    assert after.detail == "reconnecting"
    assert after.retry_at is None


# -- degraded ---------------------------------------------------------------------------------


def test_degraded_shows_the_adapters_progress() -> None:
    link = degraded()
    after, cmds = step(link, SocketDown("", attempt=3, next_retry_s=16.0), LATER, P)
    assert cmds == []
    assert after.state is LinkState.DEGRADED
    assert after.since == link.since  # still the same outage
    assert (after.attempt, after.retry_at, after.detail) == (3, LATER + 16.0, "ws closed")


def test_socket_up_resyncs_and_the_next_live_is_not_the_first() -> None:
    after, cmds = step(degraded(), SocketUp(), LATER, P)
    assert cmds == [Resync("reconnected")]
    assert after.state is LinkState.SYNCING
    assert (after.retry_at, after.detail, after.since) == (None, "syncing", LATER)
    back, cmds = step(after, Synced(), LATER + 1, P)
    assert cmds == [WentLive(first=False)]
    assert back.state is LinkState.LIVE
    assert back.was_live


@pytest.mark.parametrize("end", ["auth_failed", "stopped"])
def test_start_after_the_end_is_a_first_live_again(end: str) -> None:
    link = STATES[end]()
    link, cmds = run([(Start(), LATER), (Connected(), LATER + 1), (Synced(), LATER + 2)], link)
    assert link.state is LinkState.LIVE
    assert cmds[-1] == WentLive(first=True)


# -- the retry policy -------------------------------------------------------------------------


def test_delay_examples() -> None:
    # from fast_attempts failures in a row on, the wait is slow_s (the docstring's rule)
    assert [P.delay(n, 0.0) for n in range(0, 9)] == [0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, P.slow_s]
    assert P.delay(1, 0.999) < 1.0
    assert P.delay(6, 0.5) == 22.5
    assert P.delay(P.fast_attempts + 1, 0.0) == P.slow_s
    assert P.delay(2, 0.5, retry_after_s=60.0) == 60.0
    assert P.delay(2, 0.5, retry_after_s=0.0) == 1.5


policies = st.builds(
    RetryPolicy,
    base_s=st.floats(0.01, 10.0),
    max_s=st.floats(10.0, 120.0),
    fast_attempts=st.integers(2, 12),
    slow_s=st.floats(60.0, 900.0),
)
jitters = st.floats(0.0, 1.0, exclude_max=True)
bans = st.none() | st.floats(0.0, 3600.0)


@settings(max_examples=300, deadline=None)
@given(policy=policies, data=st.data(), jitter=jitters, retry_after=bans)
def test_delay_is_never_zero_and_capped_in_the_fast_phase(
    policy: RetryPolicy, data: st.DataObject, jitter: float, retry_after: float | None
) -> None:
    failures = data.draw(st.integers(1, policy.fast_attempts - 1), label="failures")
    wait = policy.delay(failures, jitter, retry_after)
    assert wait > 0
    assert wait <= max(policy.max_s, retry_after or 0.0)
    assert wait >= min(policy.max_s, policy.base_s * 2 ** (failures - 1)) / 2
    assert wait >= (retry_after or 0.0)
    slow = data.draw(st.integers(policy.fast_attempts, policy.fast_attempts + 50), label="slow")
    assert policy.delay(slow, jitter, retry_after) == max(policy.slow_s, retry_after or 0.0)


# -- the panel's view -------------------------------------------------------------------------


def test_view_fields() -> None:
    assert Link().view(0.0) == {
        "state": "disconnected",
        "attempt": 0,
        "detail": "",
        "next_retry_s": None,
        "slow_retry": False,
    }
    link = waiting()  # failed at T0+1, jitter 0.5: retry in 0.75 s
    assert link.retry_at == T0 + 1.75
    assert link.view(T0 + 1.0) == {
        "state": "disconnected",
        "attempt": 1,
        "detail": "timeout",
        "next_retry_s": 0.8,  # rounded to a tenth
        "slow_retry": False,
    }
    assert link.view(T0 + 1.75)["next_retry_s"] == 0.0
    assert link.view(T0 + 60.0)["next_retry_s"] == 0.0  # never negative
    assert live().view(LATER) == {
        "state": "live",
        "attempt": 1,
        "detail": "",
        "next_retry_s": None,
        "slow_retry": False,
    }
    assert degraded().view(T0 + 4.0) == {
        "state": "degraded",
        "attempt": 2,
        "detail": "ws closed",
        "next_retry_s": 3.0,
        "slow_retry": False,
    }
    assert auth_failed().view(LATER)["state"] == "auth_failed"
    assert auth_failed().view(LATER)["next_retry_s"] is None
    assert stopped().view(LATER)["detail"] == "stopped"


# -- property: random event sequences ---------------------------------------------------------

details = st.sampled_from(["timeout", "HTTP 503", "401", ""])
events: st.SearchStrategy[LinkEvent] = st.one_of(
    st.just(Start()),
    st.just(Connected()),
    st.builds(ConnectFailed, details, auth=st.booleans(), retry_after_s=bans, jitter=jitters),
    st.just(RetryDue()),
    st.just(RetryDue()),
    st.just(Synced()),
    st.builds(SyncFailed, details, jitter=jitters),
    st.builds(SocketDown, details, attempt=st.integers(0, 9), next_retry_s=st.none() | st.floats(0.0, 60.0)),
    st.just(SocketUp()),
    st.builds(AuthRevoked, details),
    st.just(Stop()),
)
steps = st.lists(st.tuples(events, st.sampled_from([0.0, 0.1, 1.0]) | st.floats(0.0, 700.0)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(steps=steps, policy=st.just(P) | policies, begin=st.booleans())
def test_random_event_sequences_keep_the_invariants(
    steps: list[tuple[LinkEvent, float]], policy: RetryPolicy, begin: bool
) -> None:
    link = Link()
    now = 0.0
    started = False
    last_retry_at: float | None = None  # the last RetryAt the shell was given
    if begin:
        steps = [(Start(), 0.0), *steps]
    for event, dt in steps:
        now += dt
        before = link
        link, cmds = step(link, event, now, policy)

        if isinstance(event, Start) and link.state is LinkState.CONNECTING and before != link:
            started = True
        for c in cmds:
            if isinstance(c, RetryAt):
                assert c.at > now  # never a zero delay
                last_retry_at = c.at
        if not cmds and link == before:
            continue  # ignored
        # commands come only from the events that may produce them
        if any(isinstance(c, Connect) for c in cmds):
            assert isinstance(event, Start | RetryDue)
        if any(isinstance(c, WentLive) for c in cmds):
            assert isinstance(event, Synced)
            assert link.state is LinkState.LIVE
        if any(isinstance(c, Resync) for c in cmds):
            assert link.state is LinkState.SYNCING
        if isinstance(event, AuthRevoked) or (isinstance(event, ConnectFailed) and event.auth):
            assert not any(isinstance(c, RetryAt | Connect | Resync) for c in cmds)
        if isinstance(event, ConnectFailed) and not event.auth:
            # the wait as scheduled (retry_at - now loses a few ulps at large `now`)
            wait = policy.delay(link.failures, event.jitter, event.retry_after_s)
            assert link.retry_at == now + wait
            assert wait >= (event.retry_after_s or 0.0)
            if link.slow:
                assert wait == max(policy.slow_s, event.retry_after_s or 0.0)
            else:
                assert 0 < wait <= max(policy.max_s, event.retry_after_s or 0.0)

        # the link is never stuck: a started link that is disconnected has a timer set
        if link.state is LinkState.DISCONNECTED and started:
            assert link.retry_at is not None
            assert link.retry_at == last_retry_at
        if link.state is LinkState.SYNCING and link.retry_at is not None:
            assert link.retry_at == last_retry_at
        if link.state in (LinkState.AUTH_FAILED, LinkState.STOPPED, LinkState.CONNECTING):
            assert link.retry_at is None
        if link.state is LinkState.LIVE:
            assert (link.failures, link.retry_at, link.was_live, link.slow) == (0, None, True, False)
        if link.state is not before.state:
            assert link.since == now
        else:
            assert link.since == before.since or isinstance(event, Start)


# -- property: a driver runs the commands against a faulty broker -----------------------------


@dataclass
class Faults:
    p_connect: float  # a Connect succeeds
    q_resync: float  # a Resync succeeds
    p_ban: float  # a failed connect carries a retry-after
    p_drop: float  # a chaos tick drops the socket
    p_auth: float  # a chaos tick revokes the key / a connect is refused for auth
    p_user: float  # a chaos tick is the user pressing Stop or Start
    until: float  # faults stop here


@dataclass
class Driver:
    """The shell's job, done deterministically: run each command, feed back what happened."""

    rnd: random.Random
    faults: Faults
    policy: RetryPolicy
    link: Link = field(default_factory=Link)
    now: float = 0.0
    heap: list[tuple[float, int, str]] = field(default_factory=list)
    seq: int = 0
    pending: Counter[str] = field(default_factory=Counter)
    timers: Counter[float] = field(default_factory=Counter)
    started: bool = False
    trace: list[tuple[float, LinkEvent, list[LinkCommand]]] = field(default_factory=list)
    max_ban: float = 600.0

    def at(self, when: float, kind: str) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, kind))
        if kind.startswith("timer:"):
            self.timers[when] += 1
        else:
            self.pending[kind] += 1

    @property
    def faulty(self) -> bool:
        return self.now < self.faults.until

    def feed(self, event: LinkEvent) -> None:
        before = self.link
        self.link, cmds = step(self.link, event, self.now, self.policy)
        if isinstance(event, Start) and self.link.state is LinkState.CONNECTING and before != self.link:
            self.started = True
        self.trace.append((self.now, event, cmds))
        for c in cmds:
            if isinstance(c, Connect):
                self.at(self.now + self.rnd.uniform(0.05, 5.0), "connect-reply")
            elif isinstance(c, Resync):
                self.at(self.now + self.rnd.uniform(0.05, 5.0), "resync-reply")
            elif isinstance(c, RetryAt):
                assert c.at > self.now
                self.at(c.at, f"timer:{c.at!r}")
        self.check_not_stuck()

    def check_not_stuck(self) -> None:
        link = self.link
        s = link.state
        if s is LinkState.DISCONNECTED and self.started:
            assert link.retry_at is not None
            assert self.timers[link.retry_at] > 0, "disconnected with no timer set"
        elif s is LinkState.CONNECTING:
            assert self.pending["connect-reply"] > 0
        elif s is LinkState.SYNCING:
            assert self.pending["resync-reply"] > 0 or (
                link.retry_at is not None and self.timers[link.retry_at] > 0
            ), "syncing with no resync under way and no timer"
        elif s is LinkState.DEGRADED:
            assert self.pending["socket-up"] > 0

    def deliver(self, kind: str) -> None:
        rnd, f = self.rnd, self.faults
        if kind.startswith("timer:"):
            self.feed(RetryDue())
        elif kind == "connect-reply":
            if self.faulty and rnd.random() < f.p_auth / 4:
                self.feed(ConnectFailed("401 bad key", auth=True))
            elif self.faulty and rnd.random() >= f.p_connect:
                ban = rnd.uniform(1.0, self.max_ban) if rnd.random() < f.p_ban else None
                self.feed(ConnectFailed("timeout", retry_after_s=ban, jitter=rnd.random()))
            else:
                self.feed(Connected())
        elif kind == "resync-reply":
            if self.faulty and rnd.random() >= f.q_resync:
                self.feed(SyncFailed("HTTP 503", jitter=rnd.random()))
            else:
                self.feed(Synced())
        elif kind == "socket-up":
            self.feed(SocketUp())
        elif kind == "chaos":
            if not self.faulty:
                return
            r = rnd.random()
            if r < f.p_drop:
                if self.link.state in CONNECTED_STATES:
                    backoff = rnd.uniform(0.1, 60.0)
                    self.at(self.now + backoff + rnd.uniform(0.0, 2.0), "socket-up")  # the adapter's
                    self.feed(SocketDown("ws closed", attempt=rnd.randint(1, 5), next_retry_s=backoff))
            elif r < f.p_drop + f.p_auth:
                self.feed(AuthRevoked("key revoked"))
            elif r < f.p_drop + f.p_auth + f.p_user:
                self.feed(Stop() if rnd.random() < 0.5 else Start())
            nxt = self.now + rnd.expovariate(1 / 30.0)
            if nxt < f.until:
                self.at(nxt, "chaos")

    def run(self, max_steps: int = 20_000) -> None:
        self.feed(Start())
        self.at(0.0, "chaos")
        for _ in range(max_steps):
            if not self.heap:
                return
            when, _, kind = heapq.heappop(self.heap)
            if kind.startswith("timer:"):
                self.timers[when] -= 1
            else:
                self.pending[kind] -= 1
            self.now = when
            self.deliver(kind)
        raise AssertionError(f"no end after {max_steps} steps: {self.link}")


probabilities = st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]) | st.floats(0.0, 1.0)


@settings(max_examples=300, deadline=None)
@given(
    rnd=st.randoms(use_true_random=False),
    p_connect=probabilities,
    q_resync=probabilities,
    p_ban=st.sampled_from([0.0, 0.1, 0.5]),
    p_drop=st.sampled_from([0.0, 0.2, 0.5]),
    p_auth=st.sampled_from([0.0, 0.0, 0.01, 0.05]),
    p_user=st.sampled_from([0.0, 0.0, 0.02, 0.1]),
    until=st.floats(0.0, 3000.0),
    policy=st.just(P) | st.just(RetryPolicy(base_s=0.5, max_s=8.0, fast_attempts=3, slow_s=60.0)),
)
def test_driven_link_always_ends_live_or_visibly_stopped(
    rnd: random.Random,
    p_connect: float,
    q_resync: float,
    p_ban: float,
    p_drop: float,
    p_auth: float,
    p_user: float,
    until: float,
    policy: RetryPolicy,
) -> None:
    faults = Faults(p_connect, q_resync, p_ban, p_drop, p_auth, p_user, until)
    d = Driver(rnd, faults, policy)
    d.run()
    link = d.link

    assert link.state in (LinkState.LIVE, LinkState.AUTH_FAILED, LinkState.STOPPED), link
    # … and it got there in bounded time once the faults stopped
    assert link.since <= until + max(policy.slow_s, d.max_ban) + 120.0
    if link.state is LinkState.LIVE:
        assert link.retry_at is None
        assert link.view(d.now)["state"] == "live"

    went_live_since_start = False
    for _now, event, cmds in d.trace:
        if isinstance(event, Start) and any(isinstance(c, Connect) for c in cmds):
            went_live_since_start = False
        for c in cmds:
            if isinstance(c, WentLive):
                assert isinstance(event, Synced)  # every WentLive answers a Synced
                assert c.first is not went_live_since_start
                went_live_since_start = True
        if isinstance(event, AuthRevoked) or (isinstance(event, ConnectFailed) and event.auth):
            assert not any(isinstance(c, RetryAt | Connect) for c in cmds)
