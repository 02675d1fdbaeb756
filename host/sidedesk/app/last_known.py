"""A service started without the vault password shows what it last knew: the account's last
snapshot and the exchange events journaled after it (decoded by core/last_known.py), marked as
last known, until the account reconnects and the exchange's own snapshot replaces them."""

from __future__ import annotations

import logging

from sidedesk.app.books import Books
from sidedesk.core.last_known import Replayed, Unreadable, event_of, outcome_of, snapshot_of
from sidedesk.store.journal import Journal

log = logging.getLogger(__name__)

MAX_EVENTS = 50_000  # bounded: a snapshot is taken at every (re)connect and every silent minute


def restore_last_known(books: Books, journal: Journal, account_id: str) -> bool:
    """Fill the books with `account_id`'s last known state; False when the journal has none."""
    try:
        last = journal.last_of("correction", account_id)
        if last is None:
            return False
        snap = snapshot_of(last.data)
        records = journal.events_since(account_id, last.id, MAX_EVENTS)
    except Exception as exc:  # an unreadable journal costs the view, never the service's start
        log.warning("could not read %s's last known state from the journal: %s", account_id, exc)
        return False
    events: list[Replayed] = []
    for rec in records:
        try:
            ev = event_of(rec.data) if rec.kind == "event" else outcome_of(rec.data)
        except Unreadable as exc:
            log.warning("skipped an unreadable journaled event of %s: %s", account_id, exc)
            continue
        if ev is not None:
            events.append(ev)
    at_ms = records[-1].ts_ms if records else last.ts_ms
    try:
        books.restore(account_id, snap, events, at_ms)
    except ValueError as exc:  # the books refuse what does not add up (another account's rows)
        log.warning("could not show %s's last known state: %s", account_id, exc)
        return False
    # a panel may have subscribed before the services were built (its snapshot was empty)
    books.publish_tables()
    log.info(
        "showing %s's last known state from the journal (%d events after its last snapshot)",
        account_id,
        len(events),
    )
    return True
