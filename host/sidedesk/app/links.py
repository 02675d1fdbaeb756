"""Account links: the shell that runs each account's link machine (`core/link.py`).

It feeds the machine what happened (a connect that returned or failed, a snapshot read or not,
the adapter's socket going down or up, a retry timer firing) and carries out its commands
(connect, resync, arm a timer, go live, tell the trader). Nothing here decides whether to retry
or what the panel shows: the machine does, so a failed first connect is retried like any other
and an auth failure is never retried in a loop.

Accounts of one login. A Tradovate or Volumetrica login holds several accounts (evaluation,
funded, one per prop firm). Each of them is an account of its own here, with its own link,
books, P&L and ASL, named `ENTRY:ACCOUNT` (core/link_ids.py). The entry remembers
the account the ticket and hotkeys trade (`account`): activating the entry connects that account
(an entry saved before accounts could be picked connects once to learn the venue's default, and
remembers it); switching to another account of the login makes that one active and remembered.
When an account goes live, every other account of its login is connected beside it, so their
positions are visible and protected too (each by its own session: a login's accounts are
independent at the venue, and a session per account keeps one account's reconnect from touching
the others).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sidedesk import logs
from sidedesk.app.books import Books
from sidedesk.app.notices import Notices
from sidedesk.app.settings import Settings
from sidedesk.core import link as lm
from sidedesk.core.link import CONNECTED_STATES, Link, LinkState, RetryPolicy
from sidedesk.core.link_ids import link_id, split_link_id
from sidedesk.core.staleness import RefreshPolicy
from sidedesk.domain import Broker, BrokerError, ConnectionEvent, ConnectionState, EventSink
from sidedesk.domain.errors import Refused
from sidedesk.vault.entries import AnyEntry, secret_values

log = logging.getLogger(__name__)

# a link in one of these states is (re)built from its vault entry when activated
_DOWN = (LinkState.AUTH_FAILED, LinkState.STOPPED, LinkState.DISCONNECTED)

REFRESH_CHECK_S = 5.0
CLOSE_TIMEOUT_S = 1.0

# (entry, sink, the venue's account id or None for its default, the host's id for the account)
BrokerFactory = Callable[[AnyEntry, EventSink, str | None, str], Broker]
EntryReader = Callable[[str], AnyEntry]
Remember = Callable[[str, str], Awaitable[None]]  # (entry id, venue account id) into the vault


def picks_account(entry: AnyEntry) -> bool:
    """Entries whose login may hold several accounts (they remember the one they trade)."""
    return "account" in type(entry).model_fields


def _discard(ev: Any) -> None:
    """The sink of a connection opened only to list a login's accounts."""


@dataclass
class AccountLink:
    """One vault account, its adapter and its link machine's current value."""

    account_id: str
    entry: AnyEntry
    broker: Broker
    venue_account: str | None = None  # the login's account it trades (None: single-account entry)
    link: Link = field(default_factory=Link)
    refresh: RefreshPolicy = field(default_factory=lambda: RefreshPolicy(0.0))
    timer: asyncio.TimerHandle | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # an attempt has an answer
    last_error: BrokerError | None = None
    syncing: asyncio.Task[None] | None = None
    sync_again: str | None = None  # a resync asked for while one was in flight
    quoted: set[str] = field(default_factory=set)  # symbols `quotes_by` streams quotes for
    quotes_by: Broker | None = None  # the adapter `quoted` is about (a retry builds a new one)

    @property
    def state(self) -> LinkState:
        return self.link.state

    @property
    def tradable(self) -> bool:
        return self.link.state in CONNECTED_STATES

    @property
    def entry_id(self) -> str:
        return self.entry.id

    def account_name(self) -> str:
        """What the venue calls the account ("Evaluation — APEX-1234"); the id until it is known."""
        try:
            acc = self.broker.trading_account()
        except Exception:  # an adapter's bug must not break the status line
            acc = None
        if acc is not None:
            return acc.label
        return self.venue_account or ""


class AccountLinks:
    def __init__(
        self,
        *,
        settings: Settings,
        entries: EntryReader,
        build: BrokerFactory,
        books: Books,
        notices: Notices,
        publish_status: Callable[[], None],
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        remember: Remember | None = None,
    ) -> None:
        self._settings = settings
        self._remember = remember
        self._entries = entries
        self._build = build
        self._books = books
        self._notices = notices
        self._publish_status = publish_status
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._rand = rand
        self.links: dict[str, AccountLink] = {}
        self.active_id: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._activating = asyncio.Lock()
        self._refresher: asyncio.Task[None] | None = None
        # told when an account goes live (protection, reconciling intents) or stops
        self.live_listeners: list[Callable[[AccountLink, bool], None]] = []
        self.down_listeners: list[Callable[[AccountLink], Awaitable[None]]] = []
        books.connection_listeners.append(self._on_connection)
        books.user_event_listeners.append(self._on_user_event)
        books.broker_of = lambda account_id: (
            link.broker.broker if (link := self.links.get(account_id)) else None
        )

    # -- queries --------------------------------------------------------------------------------
    def active(self) -> AccountLink:
        """The account orders go to; refused with the reason the panel shows when it cannot trade."""
        if self.active_id is None or self.active_id not in self.links:
            raise BrokerError("not_connected", "no broker account is active: pick one in Setup")
        link = self.links[self.active_id]
        if link.state is LinkState.AUTH_FAILED:
            raise BrokerError(
                "auth",
                f"the broker refused this account's credentials ({link.link.detail}); update them in Setup",
            )
        if not link.tradable:
            view = link.link.view(self._clock())
            when = (
                f"; next attempt in {view['next_retry_s']:.0f} s" if view["next_retry_s"] is not None else ""
            )
            raise BrokerError(
                "not_connected", f"{link.account_id} is {link.state.value} ({link.link.detail}){when}"
            )
        return link

    def brokers_status(self) -> list[dict[str, Any]]:
        now = self._clock()
        mono = time.monotonic()
        out = []
        for link in self.links.values():
            event_age, _ = self._books.staleness.ages(f"user:{link.account_id}", mono)
            _, price_age = self._books.staleness.ages(f"market:{link.broker.broker}", mono)
            view = link.link.view(now)
            out.append(
                {
                    "account_id": link.account_id,
                    "broker": link.broker.broker,
                    "entry_id": link.entry_id,
                    "venue_account": link.venue_account,
                    "account_name": link.account_name(),
                    # the other accounts of a login show how much they hold (the switcher)
                    "open_positions": len(self._books.portfolio.positions.positions(link.account_id)),
                    "active": link.account_id == self.active_id,
                    **view,
                    "last_event_age_s": None if event_age is None else round(event_age, 1),
                    "user_stream_age_s": None if event_age is None else round(event_age, 1),
                    "last_price_age_s": None if price_age is None else round(price_age, 1),
                }
            )
        return out

    def keep_redacted(self) -> None:
        """Called on every vault change. The vault's redaction follows the entries it holds (none
        once locked; not a removed entry's, nor a rotated key's old value), but a connected
        account's link keeps the keys it connected with (its stops must be signed and its
        sockets reopened): they stay redacted from every log for as long as the process may
        hold them."""
        for link in self.links.values():
            for secret in secret_values(link.entry):
                logs.register_secret(secret)

    # -- the user's choices ---------------------------------------------------------------------
    async def activate(self, account_id: str, *, wait: bool = True) -> AccountLink:
        """Connect `account_id` (if it is not already) and make it the active account.

        `account_id` is an entry's id (its remembered account, or the venue's default, learnt
        once) or `ENTRY:ACCOUNT` (one account of the login: the switcher), which the entry then
        remembers. Waits for the first attempt's answer and raises its error if it failed; a
        transient failure leaves the link retrying on its own (the panel shows when), an auth
        failure waits for new credentials."""
        async with self._activating:
            link = self.links.get(account_id)
            if link is not None and link.state not in _DOWN:
                # connected already: its entry is the link's own (the vault may be locked now)
                entry, venue = link.entry, split_link_id(account_id)[1]
            else:
                account_id, entry, venue = await self._resolve(account_id)
                link = self.links.get(account_id)
            if link is None or link.state in _DOWN:
                if link is not None:
                    await self._close(link)
                link = self._start(account_id, entry, venue)
            if self._refresher is None:
                self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())
            if wait:
                await link.settled.wait()
            if link.state is LinkState.AUTH_FAILED:
                raise link.last_error or BrokerError("auth", link.link.detail)
            if venue is not None and getattr(entry, "account", None) != venue:
                # remembered first: a panel that sees the new active account sees it remembered
                await self._remember_choice(entry, venue)
            self._make_active(account_id)
            if link.state is LinkState.DISCONNECTED and link.last_error is not None and wait:
                raise link.last_error
            return link

    async def _resolve(self, account_id: str) -> tuple[str, AnyEntry, str | None]:
        """(the link's id, its vault entry, the venue account it trades)."""
        entry_id, venue = split_link_id(account_id)
        entry = self._entries(entry_id)  # raises when the vault is locked or has no such entry
        if not picks_account(entry):
            return entry_id, entry, None
        venue = venue or getattr(entry, "account", None) or await self._discover(entry)
        return link_id(entry_id, venue), entry, venue

    async def _discover(self, entry: AnyEntry) -> str:
        """An entry saved before accounts could be picked: connect once to learn the account the
        venue's default rule trades (the account it traded before), which is then remembered."""
        broker = self._build(entry, _discard, None, entry.id)
        try:
            await broker.connect()
            chosen = broker.trading_account()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(broker.close(), CLOSE_TIMEOUT_S)
        if chosen is None:
            raise BrokerError("not_connected", "the broker lists no account for this login")
        return chosen.id

    async def _remember_choice(self, entry: AnyEntry, venue: str) -> None:
        if self._remember is None:
            return
        try:
            await self._remember(entry.id, venue)
        except Exception as exc:  # trading goes on; the choice is asked again next time
            self._notices.tell("warning", f"could not remember account {venue} for {entry.name}: {exc}")

    def _start(self, account_id: str, entry: AnyEntry, venue: str | None) -> AccountLink:
        sink = self._books.sink_for(account_id)
        link = AccountLink(account_id, entry, self._build(entry, sink, venue, account_id), venue)
        link.refresh = RefreshPolicy(link.broker.capabilities.snapshot_min_interval_s)
        self.links[account_id] = link
        self._feed(link, lm.Start())
        return link

    def _open_siblings(self, link: AccountLink) -> None:
        """Every other account of a live link's login, connected beside it (not made active) so
        that its positions are shown and protected too."""
        if link.venue_account is None:
            return
        # an entry may name its account by id or by name (Tradovate's accountSpec): either is taken
        taken = {li.venue_account for li in self.links.values() if li.entry_id == link.entry_id}
        others = [a for a in link.broker.accounts() if a.id not in taken and a.name not in taken]
        if not others:
            return
        if getattr(link.entry, "keep_other_sessions", True) is False:
            # a second session of this login would throw the first one out
            names = ", ".join(a.name for a in others)
            self._notices.tell(
                "warning",
                f"{link.entry.name}: the login's other accounts ({names}) are not watched while "
                "'keep other sessions' is off; switch it on in Setup to protect them too",
            )
            return
        for acc in others:
            self._start(link_id(link.entry_id, acc.id), link.entry, acc.id)

    def activate_soon(self, account_id: str) -> None:
        """After an unlock: bring the trader's last account back, retrying until it connects."""
        self._spawn(self._activate_quietly(account_id))

    async def _activate_quietly(self, account_id: str) -> None:
        try:
            await self.activate(account_id, wait=False)
        except Exception as exc:  # told, not raised: nobody is waiting for this reply
            self._notices.tell("warning", f"could not reconnect account {account_id}: {exc}")

    def connect_soon(self, account_id: str) -> None:
        """After an unlock: reconnect an account the last service knew (not made active), so its
        positions are watched and protected again; retried by its link until it connects."""
        self._spawn(self._connect_quietly(account_id))

    async def _connect_quietly(self, account_id: str) -> None:
        try:
            async with self._activating:
                link = self.links.get(account_id)
                if link is not None and link.state not in _DOWN:
                    return
                account_id, entry, venue = await self._resolve(account_id)
                link = self.links.get(account_id)
                if link is not None and link.state not in _DOWN:
                    return
                if getattr(entry, "keep_other_sessions", True) is False and any(
                    li.entry_id == entry.id for li in self.links.values()
                ):
                    return  # a second session of this login would throw the first one out
                if link is not None:
                    await self._close(link)
                self._start(account_id, entry, venue)
                if self._refresher is None:
                    self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())
        except Exception as exc:  # told, not raised: nobody is waiting for this reply
            self._notices.tell("warning", f"could not reconnect account {account_id}: {exc}")

    def _make_active(self, account_id: str) -> None:
        switched = self.active_id != account_id
        self.active_id = account_id
        self._books.active_id = account_id
        if switched:  # the panel's tables now show another account
            self._books.publish_tables()
        if self._settings.config.active_account != account_id:
            self._settings.update(active_account=account_id)
        self._publish_status()

    async def deactivate(self) -> None:
        """Disconnect the active account and the other accounts of its login."""
        active = self.links.get(self.active_id) if self.active_id is not None else None
        if active is not None:
            for link in [li for li in self.links.values() if li.entry_id == active.entry_id]:
                self.links.pop(link.account_id)
                self._feed(link, lm.Stop())
                await self._close(link)
        self.active_id = None
        self._books.active_id = None
        self._settings.update(active_account=None)
        self._publish_status()

    async def watch(
        self, symbols: list[str], link: AccountLink | None = None, *, quiet: bool = False
    ) -> list[str]:
        link = link or self.active()
        known = link.broker.instruments()
        unknown = sorted({s.upper() for s in symbols} - set(known))
        if unknown and not quiet:
            raise Refused(
                "invalid", f"not traded on this account: {', '.join(unknown)}", {"field": "symbols"}
            )
        wanted = [s.upper() for s in symbols if s.upper() in known]
        # per link and adapter: a new link (the account activated again, another account) or a
        # retry's fresh adapter streams nothing yet
        if link.quotes_by is not link.broker:
            link.quoted, link.quotes_by = set(), link.broker
        new = [s for s in dict.fromkeys(wanted) if s not in link.quoted]
        if new:
            await link.broker.subscribe_quotes(new)
            link.quoted.update(new)
        return sorted(link.quoted)

    def resync_soon(self, account_id: str, reason: str) -> None:
        link = self.links.get(account_id)
        if link is not None and link.tradable:
            self._resync(link, reason)

    # -- the machine's loop ---------------------------------------------------------------------
    def _feed(self, link: AccountLink, event: lm.LinkEvent) -> None:
        before = link.link
        link.link, commands = lm.step(link.link, event, self._clock(), self.policy)
        for cmd in commands:
            self._run(link, cmd)
        if link.link.state is not before.state or link.link.retry_at != before.retry_at:
            if link.link.state not in (LinkState.CONNECTING, LinkState.SYNCING):
                link.settled.set()
            else:
                link.settled.clear()
            self._publish_status()

    def _run(self, link: AccountLink, cmd: lm.LinkCommand) -> None:
        if isinstance(cmd, lm.Connect):
            self._spawn(self._connect(link))
        elif isinstance(cmd, lm.Resync):
            self._resync(link, cmd.reason)
        elif isinstance(cmd, lm.RetryAt):
            if link.timer is not None:
                link.timer.cancel()
            delay = max(0.0, cmd.at - self._clock())
            link.timer = asyncio.get_running_loop().call_later(delay, self._feed, link, lm.RetryDue())
        elif isinstance(cmd, lm.WentLive):
            self._went_live(link, cmd.first)
        elif isinstance(cmd, lm.Tell):
            self._notices.tell(cmd.level, f"{link.account_id}: {cmd.message}")

    async def _connect(self, link: AccountLink) -> None:
        if link.link.attempt > 1:  # a fresh adapter for each retry: nothing half-open is reused
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link.broker.close(), CLOSE_TIMEOUT_S)
            link.broker = self._build(
                link.entry, self._books.sink_for(link.account_id), link.venue_account, link.account_id
            )
        try:
            await link.broker.connect()
        except BrokerError as exc:
            link.last_error = exc
            if self.links.get(link.account_id) is link:
                failed = lm.ConnectFailed(exc.message, exc.code == "auth", exc.retry_after_s, self._rand())
                self._feed(link, failed)
            return
        except Exception as exc:  # a bug in an adapter: retried like a network failure, logged whole
            log.exception("connecting %s failed", link.account_id)
            link.last_error = BrokerError("not_connected", f"could not connect: {type(exc).__name__}")
            if self.links.get(link.account_id) is link:
                self._feed(
                    link, lm.ConnectFailed(f"internal error ({type(exc).__name__})", jitter=self._rand())
                )
            return
        link.last_error = None
        if self.links.get(link.account_id) is not link:  # deactivated meanwhile
            with contextlib.suppress(Exception):
                await asyncio.wait_for(link.broker.close(), CLOSE_TIMEOUT_S)
            return
        link.refresh.on_connected(time.monotonic())
        self._feed(link, lm.Connected())

    def _resync(self, link: AccountLink, reason: str) -> None:
        if link.syncing is not None and not link.syncing.done():
            # a snapshot already in flight may predate what this request is about: run once more
            link.sync_again = reason
            return
        link.syncing = asyncio.get_running_loop().create_task(self._snapshot(link, reason))

    async def _snapshot(self, link: AccountLink, reason: str) -> None:
        try:
            snap = await link.broker.snapshot()
        except BrokerError as exc:
            self._notices.tell("warning", f"{link.account_id}: resync after {reason} failed: {exc.message}")
            self._feed(link, lm.SyncFailed(exc.message, self._rand()))
            return
        except Exception as exc:
            log.exception("snapshot of %s failed", link.account_id)
            self._feed(link, lm.SyncFailed(type(exc).__name__, self._rand()))
            return
        finally:
            link.syncing = None
            again, link.sync_again = link.sync_again, None
            if again is not None and self.links.get(link.account_id) is link:
                self._resync(link, again)
        self._books.apply_snapshot(link.account_id, snap, reason)
        self._feed(link, lm.Synced())

    def _went_live(self, link: AccountLink, first: bool) -> None:
        self._books.set_rules(link.broker.instruments())
        if first or link.quotes_by is not link.broker:  # or a retry's fresh adapter
            symbols = [*self._settings.config.watchlist, *self._books.position_symbols(link.account_id)]
            self._spawn(self.watch(symbols, link, quiet=True))
            self._open_siblings(link)
        for on_live in self.live_listeners:
            try:
                on_live(link, first)
            except Exception:
                log.exception("starting services for %s failed", link.account_id)

    def _on_connection(self, account_id: str, ev: ConnectionEvent) -> None:
        link = self.links.get(account_id)
        if link is None:
            return
        if ev.state is ConnectionState.CONNECTED:
            link.refresh.on_connected(time.monotonic())
            self._feed(link, lm.SocketUp())
        elif ev.state is ConnectionState.AUTH_FAILED:
            link.refresh.on_disconnected()
            self._feed(link, lm.AuthRevoked(ev.detail))
        elif ev.state in (ConnectionState.RECONNECTING, ConnectionState.DISCONNECTED):
            link.refresh.on_disconnected()
            self._feed(link, lm.SocketDown(ev.detail, ev.attempt, ev.next_retry_s))

    def _on_user_event(self, account_id: str, mono: float) -> None:
        link = self.links.get(account_id)
        if link is not None:
            link.refresh.on_user_event(mono)

    async def _refresh_loop(self) -> None:
        """No polling: a snapshot only when a live account's user stream has been silent for 60 s,
        once per silence, spaced as the venue's limits allow (`snapshot_min_interval_s`)."""
        while True:
            await asyncio.sleep(REFRESH_CHECK_S)
            now = time.monotonic()
            for link in list(self.links.values()):
                if link.state is LinkState.LIVE and link.refresh.take(now):
                    self._resync(link, "a silent account stream (60 s)")

    # -- teardown -------------------------------------------------------------------------------
    async def _close(self, link: AccountLink) -> None:
        if link.timer is not None:
            link.timer.cancel()
            link.timer = None
        if link.syncing is not None:
            link.syncing.cancel()
        for on_down in self.down_listeners:
            with contextlib.suppress(Exception):
                await on_down(link)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(link.broker.close(), CLOSE_TIMEOUT_S)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        for task in list(self._tasks):
            task.cancel()
        for link in list(self.links.values()):
            self._feed(link, lm.Stop())
            await self._close(link)
