"""The order intent's state machine (core/intent.py): every transition of its table, the lookup
back-off, and property tests — write-ahead (no Send but in reply to Journaled, and only once),
exactly one final Record on every path, and a driver against a faulty exchange (replies lost,
lookups failing, restarts) that always ends with one outcome, the exchange's."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.core.intent import (
    FAST_LOOKUPS,
    FINAL,
    NOT_FOUND,
    SLOW_LOOKUP_S,
    Acked,
    Found,
    Intent,
    IntentCommand,
    IntentEvent,
    IntentState,
    Journaled,
    Lookup,
    LookupAt,
    LookupDue,
    LookupFailed,
    Lost,
    NotFound,
    Record,
    Recovered,
    Rejected,
    Say,
    Send,
    Sent,
    lookup_delay,
    step,
)

CID = "sd-0001"
T0 = 100.0
UNKNOWN_RECORD = "unknown — reconciling"


def created() -> Intent:
    return Intent(CID)


def journaled() -> Intent:
    return step(created(), Journaled(), T0)[0]


def sent() -> Intent:
    return step(journaled(), Sent(), T0 + 0.01)[0]


def unknown() -> Intent:
    """Lost at T0 + 1: the first lookup is due at T0 + 1.5."""
    return step(sent(), Lost("timeout"), T0 + 1)[0]


def acknowledged() -> Intent:
    return step(sent(), Acked("NEW"), T0 + 0.1)[0]


def rejected() -> Intent:
    return step(sent(), Rejected("-2010", "insufficient balance"), T0 + 0.1)[0]


def reconciled() -> Intent:
    return step(unknown(), Found("FILLED"), T0 + 2)[0]


STATES: dict[str, Callable[[], Intent]] = {
    "created": created,
    "journaled": journaled,
    "sent": sent,
    "unknown": unknown,
    "acknowledged": acknowledged,
    "rejected": rejected,
    "reconciled": reconciled,
}


def test_fixtures_reach_their_states() -> None:
    for name, make in STATES.items():
        intent = make()
        assert intent.state.value == name
        assert intent.done is (intent.state in FINAL)
    assert {s.value for s in FINAL} == {"acknowledged", "rejected", "reconciled"}


# -- events that do not apply -----------------------------------------------------------------

EVERY_EVENT: list[IntentEvent] = [
    Journaled(),
    Sent(),
    Acked("NEW"),
    Rejected("-1013", "bad price"),
    Lost("timeout"),
    Recovered(),
    LookupDue(),
    Found("FILLED"),
    NotFound(),
    LookupFailed("HTTP 503"),
]


def ignored_in(state: str) -> list[IntentEvent]:
    applies: dict[str, tuple[type, ...]] = {
        "created": (Journaled, Recovered),
        "journaled": (Sent, Acked, Rejected, Lost),
        "sent": (Acked, Rejected, Lost),  # Sent again keeps SENT (checked below)
        # LookupDue at/after next_lookup_at applies; it is checked on its own below
        "unknown": (LookupDue, Found, NotFound, LookupFailed),
        "acknowledged": (),
        "rejected": (),
        "reconciled": (),
    }
    return [e for e in EVERY_EVENT if not isinstance(e, applies[state])]


@pytest.mark.parametrize(
    ("state", "event"),
    [(state, event) for state in STATES for event in ignored_in(state)],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_events_that_do_not_apply_are_ignored(state: str, event: IntentEvent) -> None:
    intent = STATES[state]()
    assert step(intent, event, T0 + 50) == (intent, [])


def test_sent_twice_changes_nothing() -> None:
    assert step(sent(), Sent(), T0 + 1) == (sent(), [])


def test_journaled_twice_sends_once() -> None:
    intent, cmds = step(created(), Journaled(), T0)
    assert cmds == [Send()]
    assert step(intent, Journaled(), T0 + 1) == (intent, [])


# -- created ----------------------------------------------------------------------------------


def test_journaled_sends() -> None:
    intent, cmds = step(created(), Journaled(), T0)
    assert cmds == [Send()]
    assert intent.state is IntentState.JOURNALED
    assert not intent.done
    assert (intent.outcome, intent.lookups, intent.next_lookup_at) == (None, 0, None)


def test_recovered_from_created_goes_unknown_and_looks_up() -> None:
    intent, cmds = step(created(), Recovered(), T0)
    assert intent.state is IntentState.UNKNOWN
    assert not intent.done
    assert intent.next_lookup_at == T0 + 0.5
    assert cmds == [Record(UNKNOWN_RECORD, {"message": "recovered after a restart"}), LookupAt(T0 + 0.5)]
    assert not any(isinstance(c, Send) for c in cmds)  # never re-sent: the exchange may hold it


# -- journaled / sent -------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["journaled", "sent"])
def test_acked_records_the_exchanges_status(state: str) -> None:
    intent, cmds = step(STATES[state](), Acked("PARTIALLY_FILLED"), T0 + 1)
    assert intent.state is IntentState.ACKNOWLEDGED
    assert intent.done
    assert intent.outcome == "PARTIALLY_FILLED"
    assert cmds == [Record("PARTIALLY_FILLED", {})]


@pytest.mark.parametrize("state", ["journaled", "sent"])
def test_rejected_records_refused_with_the_reason(state: str) -> None:
    intent, cmds = step(STATES[state](), Rejected("-2010", "insufficient balance"), T0 + 1)
    assert intent.state is IntentState.REJECTED
    assert intent.done
    assert intent.outcome == "-2010"
    assert cmds == [Record("refused", {"code": "-2010", "message": "insufficient balance"})]


@pytest.mark.parametrize("state", ["journaled", "sent"])
def test_lost_goes_unknown_and_schedules_a_lookup(state: str) -> None:
    intent, cmds = step(STATES[state](), Lost("read timeout"), T0 + 1)
    assert intent.state is IntentState.UNKNOWN
    assert not intent.done
    assert intent.outcome is None
    assert intent.next_lookup_at == T0 + 1.5
    assert cmds == [Record(UNKNOWN_RECORD, {"message": "read timeout"}), LookupAt(T0 + 1.5)]


def test_sent_is_remembered() -> None:
    intent, cmds = step(journaled(), Sent(), T0 + 1)
    assert intent.state is IntentState.SENT
    assert cmds == []


# -- unknown ----------------------------------------------------------------------------------


def test_lookup_is_made_when_due_and_not_before() -> None:
    intent = unknown()
    assert intent.next_lookup_at == T0 + 1.5
    for early in (T0 + 1, T0 + 1.49):
        assert step(intent, LookupDue(), early) == (intent, [])
    for due in (T0 + 1.5, T0 + 99):
        after, cmds = step(intent, LookupDue(), due)
        assert cmds == [Lookup()]
        assert after.state is IntentState.UNKNOWN
        assert after.next_lookup_at is None
        # one lookup at a time: a second LookupDue while it runs does nothing
        assert step(after, LookupDue(), due + 100) == (after, [])


def test_found_reconciles_with_the_exchanges_status() -> None:
    intent, cmds = step(unknown(), Found("FILLED"), T0 + 2)
    assert intent.state is IntentState.RECONCILED
    assert intent.done
    assert (intent.outcome, intent.next_lookup_at) == ("FILLED", None)
    assert cmds[0] == Record("FILLED", {"reconciled": True})
    assert len(cmds) == 2
    say = cmds[1]
    assert isinstance(say, Say)
    assert say.level == "info"
    assert CID in say.message
    assert "FILLED" in say.message


def test_not_found_reconciles_as_never_received() -> None:
    intent, cmds = step(unknown(), NotFound(), T0 + 2)
    assert intent.state is IntentState.RECONCILED
    assert intent.done
    assert (intent.outcome, intent.next_lookup_at) == (NOT_FOUND, None)
    assert cmds[0] == Record(NOT_FOUND, {"reconciled": True})
    assert len(cmds) == 2
    say = cmds[1]
    assert isinstance(say, Say)
    assert say.level == "info"
    assert CID in say.message


def test_lookup_failed_schedules_the_next_lookup() -> None:
    intent, _ = step(unknown(), LookupDue(), T0 + 1.5)
    after, cmds = step(intent, LookupFailed("HTTP 503"), T0 + 2)
    assert after.state is IntentState.UNKNOWN
    assert after.lookups == 1
    assert after.next_lookup_at == T0 + 2 + lookup_delay(1)
    assert cmds == [LookupAt(T0 + 3.0)]


def test_lookup_delays() -> None:
    assert [lookup_delay(n) for n in range(8)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        5.0,
        SLOW_LOOKUP_S,
        SLOW_LOOKUP_S,
        30.0,
    ]
    assert FAST_LOOKUPS == 5


def test_failing_lookups_back_off_then_go_slow_and_say_so_once() -> None:
    intent, cmds = step(sent(), Lost("timeout"), 0.0)
    waits: list[float] = []
    says: list[tuple[int, Say]] = []
    now = 0.0
    for failures in range(1, 10):
        (lookup_at,) = [c for c in cmds if isinstance(c, LookupAt)]
        waits.append(lookup_at.at - now)
        now = lookup_at.at
        intent, lookup = step(intent, LookupDue(), now)
        assert lookup == [Lookup()]
        now += 0.25
        intent, cmds = step(intent, LookupFailed("HTTP 503"), now)
        assert intent.lookups == failures
        says += [(failures, c) for c in cmds if isinstance(c, Say)]
        assert not any(isinstance(c, Send | Record) for c in cmds)
    assert waits == [0.5, 1.0, 2.0, 4.0, 5.0, 30.0, 30.0, 30.0, 30.0]
    assert len(says) == 1
    (at_failure, say) = says[0]
    assert at_failure == FAST_LOOKUPS
    assert say.level == "error"
    assert CID in say.message
    assert "HTTP 503" in say.message
    # and it ends the first time a lookup answers
    intent, _ = step(intent, LookupDue(), now + SLOW_LOOKUP_S)
    intent, cmds = step(intent, NotFound(), now + SLOW_LOOKUP_S + 0.1)
    assert intent.done
    assert intent.outcome == NOT_FOUND
    assert [c for c in cmds if isinstance(c, Record)] == [Record(NOT_FOUND, {"reconciled": True})]


# -- property: random event sequences ---------------------------------------------------------

statuses = st.sampled_from(["NEW", "FILLED", "PARTIALLY_FILLED", "CANCELED"])
intent_events: st.SearchStrategy[IntentEvent] = st.one_of(
    st.just(Journaled()),
    st.just(Sent()),
    st.builds(Acked, statuses),
    st.builds(Rejected, st.sampled_from(["-2010", "-1013", "40310000"]), st.just("no")),
    st.builds(Lost, st.sampled_from(["timeout", "connection reset"])),
    st.just(Recovered()),
    st.just(LookupDue()),
    st.just(LookupDue()),
    st.builds(Found, statuses),
    st.just(NotFound()),
    st.builds(LookupFailed, st.just("HTTP 503")),
)
intent_steps = st.lists(
    st.tuples(intent_events, st.sampled_from([0.0, 0.5]) | st.floats(0.0, 60.0)), max_size=50
)


def is_final(record: Record) -> bool:
    return record.status != UNKNOWN_RECORD


@settings(max_examples=300, deadline=None)
@given(steps=intent_steps)
def test_random_event_sequences_keep_write_ahead_and_one_outcome(
    steps: list[tuple[IntentEvent, float]],
) -> None:
    intent = Intent(CID)
    now = 0.0
    journaled_seen = False
    sends = 0
    finals: list[Record] = []
    intermediates: list[Record] = []
    error_says = 0
    for event, dt in steps:
        now += dt
        before = intent
        intent, cmds = step(intent, event, now)
        if before.done:
            assert (intent, cmds) == (before, [])  # a final intent never moves again
        if isinstance(event, Journaled):
            journaled_seen = True
        for c in cmds:
            if isinstance(c, Send):
                # write-ahead: Send answers the Journaled event, and nothing else
                assert isinstance(event, Journaled)
                assert journaled_seen
                sends += 1
            elif isinstance(c, Record):
                (finals if is_final(c) else intermediates).append(c)
            elif isinstance(c, Lookup):
                assert isinstance(event, LookupDue)
                assert before.next_lookup_at is not None
                assert now >= before.next_lookup_at
            elif isinstance(c, LookupAt):
                assert c.at > now
                assert intent.next_lookup_at == c.at
            elif isinstance(c, Say) and c.level == "error":
                error_says += 1
        assert sends <= 1
        assert len(intermediates) <= 1
        assert len(finals) <= 1
        assert error_says <= 1
        assert intent.done is (len(finals) == 1)
        if intent.state is IntentState.UNKNOWN:
            assert len(intermediates) == 1  # the panel was told it is being reconciled
    if intent.done:
        (final,) = finals
        if intent.state is IntentState.REJECTED:
            assert final.status == "refused"
            assert final.detail["code"] == intent.outcome
        else:
            assert final.status == intent.outcome
        assert intent.next_lookup_at is None
    assert error_says == (1 if intent.lookups >= FAST_LOOKUPS else 0)


# -- property: a driver against a faulty exchange ---------------------------------------------


@dataclass
class Exchange:
    """What the exchange really did with the order."""

    holds: bool = False
    status: str | None = None  # the status it would report on a lookup


@dataclass
class IntentDriver:
    rnd: random.Random
    p_request_lost: float  # the order never reaches the exchange
    p_reply_lost: float  # it does, but the reply does not come back
    p_reject: float
    p_sent_event: float
    lookup_fails: list[bool]  # the first lookups fail as listed; later ones succeed
    crash: str  # "no" | "before-send" | "after-send": restart with the intent on disk
    now: float = 0.0
    heap: list[tuple[float, int, str]] = field(default_factory=list)
    seq: int = 0
    intent: Intent = field(default_factory=lambda: Intent(CID))
    exchange: Exchange = field(default_factory=Exchange)
    lookups_made: int = 0
    log: list[tuple[float, IntentEvent, list[IntentCommand]]] = field(default_factory=list)

    def at(self, when: float, kind: str) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, kind))

    def feed(self, event: IntentEvent) -> None:
        self.intent, cmds = step(self.intent, event, self.now)
        self.log.append((self.now, event, cmds))
        for c in cmds:
            if isinstance(c, Send):
                self.send()
            elif isinstance(c, LookupAt):
                self.at(c.at, "lookup-due")
                if self.rnd.random() < 0.3:  # a timer that fires early must not look up early
                    self.at(self.now + self.rnd.uniform(0.0, c.at - self.now), "lookup-due")
            elif isinstance(c, Lookup):
                self.lookups_made += 1
                self.at(self.now + self.rnd.uniform(0.01, 2.0), "lookup-reply")

    def send(self) -> None:
        if self.crash == "before-send":
            return  # the process dies with the intent journaled, the order never sent
        rnd = self.rnd
        if rnd.random() >= self.p_request_lost:
            self.exchange.holds = True
            rejected = rnd.random() < self.p_reject
            self.exchange.status = "REJECTED" if rejected else rnd.choice(["NEW", "FILLED"])
        if self.crash == "after-send":
            return
        if rnd.random() < self.p_sent_event:
            self.at(self.now + 0.001, "sent")
        if self.exchange.holds and rnd.random() >= self.p_reply_lost:
            self.at(self.now + rnd.uniform(0.01, 1.0), "reply")
            if rnd.random() < 0.2:  # the shell gives up just as the reply arrives
                self.at(self.now + rnd.uniform(0.5, 1.5), "lost")
        else:
            self.at(self.now + 1.0, "lost")  # the shell's timeout
            if self.exchange.holds and rnd.random() < 0.3:
                self.at(self.now + rnd.uniform(1.0, 5.0), "reply")  # a late reply

    def deliver(self, kind: str) -> None:
        ex = self.exchange
        if kind == "sent":
            self.feed(Sent())
        elif kind == "reply":
            if ex.status == "REJECTED":
                self.feed(Rejected("-2010", "insufficient balance"))
            else:
                assert ex.status is not None
                self.feed(Acked(ex.status))
        elif kind == "lost":
            self.feed(Lost("timeout"))
        elif kind == "lookup-due":
            self.feed(LookupDue())
        elif kind == "lookup-reply":
            n = self.lookups_made - 1
            if n < len(self.lookup_fails) and self.lookup_fails[n]:
                self.feed(LookupFailed("HTTP 503"))
            elif ex.holds and ex.status != "REJECTED":
                self.feed(Found(ex.status or "NEW"))
            else:
                self.feed(NotFound())  # never received, or refused and so never held

    def run(self) -> None:
        self.feed(Journaled())  # the shell: the intent's commit returned
        if self.crash != "no":
            # restart: the journal holds an intent with no outcome
            self.heap.clear()
            self.now += 5.0
            self.intent = Intent(CID)
            self.feed(Recovered())
        for _ in range(10_000):
            if not self.heap:
                return
            self.now, _, kind = heapq.heappop(self.heap)
            self.deliver(kind)
        raise AssertionError(f"no end: {self.intent}")


@settings(max_examples=300, deadline=None)
@given(
    rnd=st.randoms(use_true_random=False),
    p_request_lost=st.sampled_from([0.0, 0.3, 1.0]),
    p_reply_lost=st.sampled_from([0.0, 0.5, 1.0]),
    p_reject=st.sampled_from([0.0, 0.3]),
    p_sent_event=st.sampled_from([0.0, 0.5, 1.0]),
    lookup_fails=st.lists(st.booleans(), max_size=12),
    crash=st.sampled_from(["no", "no", "before-send", "after-send"]),
)
def test_driven_intent_always_ends_with_one_outcome(
    rnd: random.Random,
    p_request_lost: float,
    p_reply_lost: float,
    p_reject: float,
    p_sent_event: float,
    lookup_fails: list[bool],
    crash: str,
) -> None:
    d = IntentDriver(rnd, p_request_lost, p_reply_lost, p_reject, p_sent_event, lookup_fails, crash)
    d.run()
    intent = d.intent
    assert intent.done

    cmds = [c for _, _, out in d.log for c in out]
    sends = [c for c in cmds if isinstance(c, Send)]
    records = [c for c in cmds if isinstance(c, Record)]
    finals = [r for r in records if is_final(r)]
    assert len(sends) == 1  # exactly once, across the restart too
    assert len(finals) == 1
    (final,) = finals
    assert records[-1] == final  # the final record is the last
    assert len(records) - len(finals) == (1 if intent.state is IntentState.RECONCILED else 0)
    # Send only ever answered Journaled
    for _, event, out in d.log:
        if any(isinstance(c, Send) for c in out):
            assert isinstance(event, Journaled)

    ex = d.exchange
    if intent.state is IntentState.ACKNOWLEDGED:
        assert final == Record(ex.status or "", {})
    elif intent.state is IntentState.REJECTED:
        assert ex.status == "REJECTED"
        assert final.status == "refused"
    else:
        truth = ex.status if ex.holds and ex.status != "REJECTED" else NOT_FOUND
        assert final == Record(truth or "", {"reconciled": True})
        assert intent.outcome == truth
        # the lookups: one per LookupAt, the waits as lookup_delay says
        waits = [c.at - t for t, _, out in d.log for c in out if isinstance(c, LookupAt)]
        assert waits == pytest.approx([lookup_delay(n) for n in range(len(waits))])
        failed = intent.lookups
        assert d.lookups_made == failed + 1
        errors = [c for c in cmds if isinstance(c, Say) and c.level == "error"]
        assert len(errors) == (1 if failed >= FAST_LOOKUPS else 0)
