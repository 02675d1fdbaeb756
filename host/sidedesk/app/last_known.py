"""A service started without the vault password shows what it last knew: every account's last
snapshot and the exchange events journaled after it (decoded by core/last_known.py), marked as
last known, until that account reconnects and the exchange's own snapshot replaces them. These
are also the positions it names as Unprotected until then (app/status.py): the journal is the one
source of what the last service saw."""

from __future__ import annotations

import logging

from sidedesk.app.books import Books
from sidedesk.core.last_known import Replayed, Unreadable, event_of, outcome_of, snapshot_of
from sidedesk.core.link_ids import split_link_id
from sidedesk.store.journal import Journal

log = logging.getLogger(__name__)

# bounded: a snapshot is taken at every (re)connect and every silent minute; past this many events
# after it, the newest are read (the latest order and position states matter most)
MAX_EVENTS = 50_000


def restore_all_last_known(books: Books, journal: Journal) -> list[str]:
    """Fill the books with the last known state of every account the journal has a snapshot of
    (each login's accounts, every login); the accounts restored. One account's unreadable records
    cost only that account's view: nothing here raises."""
    try:
        snapshots = journal.last_of_each("correction")
    except Exception as exc:  # an unreadable journal costs the view, never the service's start
        log.warning("could not list the accounts in the journal: %s", exc)
        return []
    restored: list[str] = []
    for account_id in sorted(snapshots):
        if superseded(account_id, snapshots):
            continue
        try:
            if restore_last_known(books, journal, account_id, publish=False):
                restored.append(account_id)
        except Exception:  # never raised out of the service's start
            log.exception("could not show %s's last known state", account_id)
    if restored:  # a panel may have subscribed before the services were built (its snapshot was empty)
        books.publish_tables()
    return restored


def superseded(account_id: str, snapshots: dict[str, int]) -> bool:
    """An entry's id alone (a Tradovate or Volumetrica entry saved before accounts could be picked)
    whose login has since been snapshotted as `ENTRY:ACCOUNT`: the newer rows replace it."""
    entry_id, venue = split_link_id(account_id)
    if venue is not None:
        return False
    mine = snapshots[account_id]
    return any(
        other != account_id and split_link_id(other)[0] == entry_id and last > mine
        for other, last in snapshots.items()
    )


def restore_last_known(books: Books, journal: Journal, account_id: str, *, publish: bool = True) -> bool:
    """Fill the books with `account_id`'s last known state; False when the journal has none, or
    none that reads back (then with a warning)."""
    try:
        last = journal.last_of("correction", account_id)
        if last is None:
            return False
        snap = snapshot_of(last.data)
        records = journal.events_since(account_id, last.id, MAX_EVENTS)
    except Exception as exc:  # unreadable records cost the view, never the service's start
        log.warning("could not read %s's last known state from the journal: %s", account_id, exc)
        return False
    events: list[Replayed] = []
    skipped = 0
    for rec in records:
        try:
            ev = event_of(rec.data) if rec.kind == "event" else outcome_of(rec.data)
        except Unreadable as exc:
            skipped += 1
            if skipped == 1:
                log.warning("skipped an unreadable journaled event of %s: %s", account_id, exc)
            continue
        if ev is not None:
            events.append(ev)
    if skipped > 1:
        log.warning("skipped %d unreadable journaled events of %s in all", skipped, account_id)
    at_ms = records[-1].ts_ms if records else last.ts_ms
    try:
        books.restore(account_id, snap, events, at_ms)
    except Exception as exc:  # the books refuse what does not add up (another account's rows)
        log.warning("could not show %s's last known state: %s", account_id, exc)
        books.drop_last_known(account_id)
        return False
    if publish:
        books.publish_tables()
    log.info(
        "showing %s's last known state from the journal (%d events after its last snapshot)",
        account_id,
        len(events),
    )
    return True
