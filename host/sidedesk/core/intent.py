"""The order intent as a pure state machine: one for all brokers.

    created --Journaled--> journaled --Sent--> sent --Acked--> acknowledged
                                              sent --Rejected--> rejected
                                 journaled/sent --Lost--> unknown --Found/NotFound--> reconciled
    (after a restart) an intent on disk with no outcome --Recovered--> unknown

Write-ahead is a property of the table: the only way to get the `Send` command is the
`Journaled` event, which the shell feeds after the intent's commit returned. Every path ends in
one recorded outcome (`Record`): acknowledged with the exchange's status, rejected with the
reason, or reconciled by client id after a lost reply. A lookup that fails is tried again with
back-off and, after `fast_lookups`, slowly but for ever (never re-sent: the exchange may hold it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class IntentState(StrEnum):
    CREATED = "created"
    JOURNALED = "journaled"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    RECONCILED = "reconciled"


FINAL = frozenset({IntentState.ACKNOWLEDGED, IntentState.REJECTED, IntentState.RECONCILED})
NOT_FOUND = "NOT_FOUND"
FAST_LOOKUPS = 5
SLOW_LOOKUP_S = 30.0


def lookup_delay(lookups: int) -> float:
    """Seconds before lookup `lookups + 1`: 0.5, 1, 2, 4, 5 … then every SLOW_LOOKUP_S."""
    return min(0.5 * 2**lookups, 5.0) if lookups < FAST_LOOKUPS else SLOW_LOOKUP_S


# -- events -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Journaled:
    pass


@dataclass(frozen=True, slots=True)
class Sent:
    pass


@dataclass(frozen=True, slots=True)
class Acked:
    status: str  # the exchange's order status (NEW, FILLED, ...)


@dataclass(frozen=True, slots=True)
class Rejected:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Lost:
    message: str


@dataclass(frozen=True, slots=True)
class Recovered:
    """Found on disk after a restart with no outcome."""


@dataclass(frozen=True, slots=True)
class LookupDue:
    pass


@dataclass(frozen=True, slots=True)
class Found:
    status: str


@dataclass(frozen=True, slots=True)
class NotFound:
    pass


@dataclass(frozen=True, slots=True)
class LookupFailed:
    detail: str


IntentEvent = (
    Journaled | Sent | Acked | Rejected | Lost | Recovered | LookupDue | Found | NotFound | LookupFailed
)

# -- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    pass


@dataclass(frozen=True, slots=True)
class Record:
    """Journal this outcome for the intent."""

    status: str
    detail: dict[str, object]


@dataclass(frozen=True, slots=True)
class Lookup:
    pass


@dataclass(frozen=True, slots=True)
class LookupAt:
    at: float


@dataclass(frozen=True, slots=True)
class Say:
    level: str
    message: str


IntentCommand = Send | Record | Lookup | LookupAt | Say


@dataclass(frozen=True, slots=True)
class Intent:
    client_id: str
    state: IntentState = IntentState.CREATED
    outcome: str | None = None
    lookups: int = 0
    next_lookup_at: float | None = None

    @property
    def done(self) -> bool:
        return self.state in FINAL


def step(intent: Intent, event: IntentEvent, now: float) -> tuple[Intent, list[IntentCommand]]:
    """The next intent and what to do. Events that do not apply change nothing."""
    s = intent.state
    cid = intent.client_id
    if s is IntentState.CREATED:
        if isinstance(event, Journaled):  # on every order's path: built directly, not by replace()
            return Intent(cid, IntentState.JOURNALED), [Send()]
        if isinstance(event, Recovered):
            return _unknown(intent, now, "recovered after a restart")
        return intent, []
    if s in (IntentState.JOURNALED, IntentState.SENT):
        if isinstance(event, Sent):
            return Intent(cid, IntentState.SENT, intent.outcome, intent.lookups, intent.next_lookup_at), []
        if isinstance(event, Acked):
            done = Intent(cid, IntentState.ACKNOWLEDGED, event.status, intent.lookups, intent.next_lookup_at)
            return done, [Record(event.status, {})]
        if isinstance(event, Rejected):
            done = replace(intent, state=IntentState.REJECTED, outcome=event.code)
            return done, [Record("refused", {"code": event.code, "message": event.message})]
        if isinstance(event, Lost):
            return _unknown(intent, now, event.message)
        return intent, []
    if s is IntentState.UNKNOWN:
        if (
            isinstance(event, LookupDue)
            and intent.next_lookup_at is not None
            and now >= intent.next_lookup_at
        ):
            return replace(intent, next_lookup_at=None), [Lookup()]
        if isinstance(event, Found):
            done = replace(intent, state=IntentState.RECONCILED, outcome=event.status, next_lookup_at=None)
            record = Record(event.status, {"reconciled": True})
            return done, [record, Say("info", f"order {cid}: outcome resolved as {event.status}")]
        if isinstance(event, NotFound):
            done = replace(intent, state=IntentState.RECONCILED, outcome=NOT_FOUND, next_lookup_at=None)
            record = Record(NOT_FOUND, {"reconciled": True})
            return done, [record, Say("info", f"order {cid}: the exchange never received it")]
        if isinstance(event, LookupFailed):
            lookups = intent.lookups + 1
            at = now + lookup_delay(lookups)
            says: list[IntentCommand] = [LookupAt(at)]
            if lookups == FAST_LOOKUPS:
                says.append(
                    Say("error", f"order {cid}: outcome still unknown ({event.detail}); check the exchange")
                )
            return replace(intent, lookups=lookups, next_lookup_at=at), says
        return intent, []
    return intent, []


def _unknown(intent: Intent, now: float, why: str) -> tuple[Intent, list[IntentCommand]]:
    at = now + lookup_delay(0)
    unknown = replace(intent, state=IntentState.UNKNOWN, next_lookup_at=at)
    return unknown, [Record("unknown — reconciling", {"message": why}), LookupAt(at)]
