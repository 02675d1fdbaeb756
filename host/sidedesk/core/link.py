"""The account link as a pure state machine: one broker account's connection, as the panel shows it.

States and what moves them (events in, commands out, `now` passed in; the shell in
`app/links.py` runs the commands and feeds back what happened, in the style of h11 and
`core/asl`):

    disconnected --Start--> connecting --Connected--> syncing --Synced--> live
    connecting --ConnectFailed(transient)--> disconnected (retry_at set) --RetryDue--> connecting
    connecting --ConnectFailed(auth)--> auth_failed            (never retried in a loop)
    live/syncing --SocketDown--> degraded --SocketUp--> syncing --Synced--> live
    syncing --SyncFailed--> syncing (retry_at set) --RetryDue--> Resync
    any connected state --AuthRevoked--> auth_failed
    any --Stop--> stopped

A failed first connect is never the end: every transient failure schedules the next attempt
(exponential back-off with jitter, honouring a venue's retry-after such as a rate-limit ban), and
after `fast_attempts` failures in a row the link retries slowly (`slow_s`) and says so. Only an
auth failure waits for the user (new credentials, or Start again).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class LinkState(StrEnum):
    DISCONNECTED = "disconnected"  # not started, or waiting for the next attempt (retry_at)
    CONNECTING = "connecting"
    SYNCING = "syncing"  # connected; the books are being replaced by the exchange's snapshot
    LIVE = "live"
    DEGRADED = "degraded"  # a socket dropped; the adapter is reconnecting it
    AUTH_FAILED = "auth_failed"
    STOPPED = "stopped"


CONNECTED_STATES = frozenset({LinkState.SYNCING, LinkState.LIVE, LinkState.DEGRADED})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 1.0
    max_s: float = 30.0
    fast_attempts: int = 8  # from this many failures in a row on: a slow, visible retry
    slow_s: float = 300.0

    def delay(self, failures: int, jitter: float, retry_after_s: float | None = None) -> float:
        """Seconds before attempt `failures + 1`; `jitter` in [0, 1) spreads hosts apart."""
        if failures >= self.fast_attempts:
            base = self.slow_s
        else:
            cap = min(self.max_s, self.base_s * 2 ** max(0, failures - 1))
            base = cap / 2 + cap / 2 * jitter  # equal jitter: never zero, never above the cap
        return max(base, retry_after_s or 0.0)


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """The user (or an unlock) asks for this account to be connected."""


@dataclass(frozen=True, slots=True)
class Connected:
    pass


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    detail: str
    auth: bool = False
    retry_after_s: float | None = None
    jitter: float = 0.5


@dataclass(frozen=True, slots=True)
class RetryDue:
    pass


@dataclass(frozen=True, slots=True)
class Synced:
    pass


@dataclass(frozen=True, slots=True)
class SyncFailed:
    detail: str
    jitter: float = 0.5


@dataclass(frozen=True, slots=True)
class SocketDown:
    detail: str = ""
    attempt: int = 0
    next_retry_s: float | None = None


@dataclass(frozen=True, slots=True)
class SocketUp:
    pass


@dataclass(frozen=True, slots=True)
class AuthRevoked:
    detail: str


@dataclass(frozen=True, slots=True)
class Stop:
    pass


LinkEvent = (
    Start
    | Connected
    | ConnectFailed
    | RetryDue
    | Synced
    | SyncFailed
    | SocketDown
    | SocketUp
    | AuthRevoked
    | Stop
)

# -- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connect:
    pass


@dataclass(frozen=True, slots=True)
class Resync:
    reason: str


@dataclass(frozen=True, slots=True)
class RetryAt:
    at: float


@dataclass(frozen=True, slots=True)
class WentLive:
    """Start what needs a live account: protection, reconciling open intents, quotes."""

    first: bool  # the first time since Start (not after a reconnect)


@dataclass(frozen=True, slots=True)
class Tell:
    level: str  # info | warning | error
    message: str


LinkCommand = Connect | Resync | RetryAt | WentLive | Tell


@dataclass(frozen=True, slots=True)
class Link:
    state: LinkState = LinkState.DISCONNECTED
    failures: int = 0  # connect (or sync) attempts failed in a row
    attempt: int = 0  # the attempt under way or last made, for the panel
    retry_at: float | None = None
    detail: str = ""
    since: float = 0.0  # when `state` was entered
    was_live: bool = False  # live at least once since Start
    slow: bool = False  # past the fast attempts: retrying every `slow_s`
    ban_until: float | None = None  # a venue's retry-after: not even a Start connects before it

    def view(self, now: float) -> dict[str, object]:
        """What the panel shows: the state, why, and when the next attempt comes."""
        return {
            "state": self.state.value,
            "attempt": self.attempt,
            "detail": self.detail,
            "next_retry_s": None if self.retry_at is None else round(max(0.0, self.retry_at - now), 1),
            "slow_retry": self.slow,
        }


def _enter(link: Link, state: LinkState, now: float, **changes: object) -> Link:
    return replace(link, state=state, since=now if state is not link.state else link.since, **changes)  # type: ignore[arg-type]


def _degraded(link: Link, event: SocketDown, now: float) -> Link:
    """The adapter reconnects its socket on its own back-off; we show its attempt and timing."""
    retry_at = None if event.next_retry_s is None else now + event.next_retry_s
    detail = event.detail or link.detail or "reconnecting"
    return _enter(link, LinkState.DEGRADED, now, detail=detail, attempt=event.attempt, retry_at=retry_at)


def step(
    link: Link, event: LinkEvent, now: float, policy: RetryPolicy = RetryPolicy()
) -> tuple[Link, list[LinkCommand]]:
    """The next link and what to do about it. An event that does not apply is ignored."""
    s = link.state
    if isinstance(event, Stop):
        return _enter(link, LinkState.STOPPED, now, retry_at=None, detail="stopped", slow=False), []
    if isinstance(event, Start):
        if link.ban_until is not None and now < link.ban_until:
            return link, []  # the venue said when: asking sooner would lengthen the ban
        if s in (LinkState.DISCONNECTED, LinkState.AUTH_FAILED, LinkState.STOPPED):
            fresh = Link(since=link.since)
            return _enter(fresh, LinkState.CONNECTING, now, attempt=1, detail="connecting"), [Connect()]
        return link, []
    if isinstance(event, AuthRevoked):
        if s in (LinkState.STOPPED, LinkState.DISCONNECTED, LinkState.AUTH_FAILED):
            return link, []
        msg = (
            f"the broker refused the credentials ({event.detail}); trading stopped — update the key in Setup"
        )
        return _enter(link, LinkState.AUTH_FAILED, now, retry_at=None, detail=event.detail), [
            Tell("error", msg)
        ]
    if s is LinkState.CONNECTING:
        if isinstance(event, Connected):
            synced = _enter(link, LinkState.SYNCING, now, failures=0, retry_at=None, detail="syncing")
            return synced, [Resync("connected")]
        if isinstance(event, ConnectFailed):
            if event.auth:
                msg = f"the broker refused the credentials ({event.detail}); update the key in Setup"
                failed = _enter(
                    link, LinkState.AUTH_FAILED, now, retry_at=None, detail=event.detail, slow=False
                )
                return failed, [Tell("error", msg)]
            failures = link.failures + 1
            wait = policy.delay(failures, event.jitter, event.retry_after_s)
            slow = failures >= policy.fast_attempts
            ban = now + event.retry_after_s if event.retry_after_s else None
            waiting = _enter(
                link,
                LinkState.DISCONNECTED,
                now,
                failures=failures,
                retry_at=now + wait,
                detail=event.detail,
                slow=slow,
                ban_until=ban,
            )
            how = "retrying slowly, every" if slow else "next attempt in"
            tell = Tell(
                "error" if slow else "warning", f"could not connect ({event.detail}); {how} {wait:.0f} s"
            )
            return waiting, [RetryAt(now + wait), tell]
        return link, []
    if s is LinkState.DISCONNECTED:
        if isinstance(event, RetryDue) and link.retry_at is not None and now >= link.retry_at:
            retry = _enter(link, LinkState.CONNECTING, now, attempt=link.failures + 1, retry_at=None)
            return retry, [Connect()]
        return link, []
    if s is LinkState.SYNCING:
        if isinstance(event, Synced):
            first = not link.was_live
            live = _enter(
                link, LinkState.LIVE, now, failures=0, retry_at=None, detail="", was_live=True, slow=False
            )
            return live, [WentLive(first)]
        if isinstance(event, SyncFailed):
            failures = link.failures + 1
            wait = policy.delay(failures, event.jitter)
            slow = failures >= policy.fast_attempts
            again = replace(
                link, failures=failures, retry_at=now + wait, detail=f"sync failed: {event.detail}", slow=slow
            )
            how = "retrying slowly, every" if slow else "next attempt in"
            text = f"could not read the account ({event.detail}); {how} {wait:.1f} s"
            return again, [RetryAt(now + wait), Tell("error" if slow else "warning", text)]
        if isinstance(event, RetryDue) and link.retry_at is not None and now >= link.retry_at:
            return replace(link, retry_at=None), [Resync("retry")]
        if isinstance(event, SocketDown):
            return _degraded(link, event, now), []
        return link, []
    if s is LinkState.LIVE:
        if isinstance(event, SocketDown):
            return _degraded(link, event, now), []
        return link, []
    if s is LinkState.DEGRADED:
        if isinstance(event, SocketUp):
            return _enter(link, LinkState.SYNCING, now, detail="syncing", retry_at=None), [
                Resync("reconnected")
            ]
        if isinstance(event, SocketDown):
            return _degraded(link, event, now), []
        return link, []
    return link, []  # auth_failed / stopped wait for Start
