"""The journal as the services use it: a write that fails is told to the trader, never raised
into a broker's event stream; `soon` writes are committed together at the end of the loop's
current burst (one transaction for many exchange events, none on an ack's path). An intent is
written ahead (on disk in the write-ahead file before its frame leaves) and folded into SQLite
with the next commit: normally its outcome's, so an order costs one transaction."""

from __future__ import annotations

import asyncio

from sidedesk.app.notices import Notices
from sidedesk.store.journal import Journal, JournalError

AHEAD_FOLD_S = 0.5  # an intent written ahead is in SQLite this long after at the latest


class Recorder:
    def __init__(self, journal: Journal, notices: Notices) -> None:
        self.journal = journal
        self._notices = notices
        self._armed = False
        self._fold_timer: asyncio.TimerHandle | None = None

    def now(self, kind: str, data: object, account: str | None, client_id: str | None) -> bool:
        """Commit one record (and the queue before it) before returning; False (and the trader
        told) if it could not be."""
        try:
            self.journal.append(kind, data, account=account, client_id=client_id)
        except JournalError as exc:
            self._notices.tell("error", str(exc))
            return False
        return True

    def ahead(self, kind: str, data: object, account: str | None, client_id: str) -> bool:
        """Put one record on disk before returning, in the write-ahead file (~1 µs; an intent on
        the order's path). It is committed to SQLite with the next commit: its outcome's (one
        transaction per order, as before the intent was written ahead), a burst of exchange
        events', or at the latest AHEAD_FOLD_S later (a reply that never comes). False (and the
        trader told) if it could not be written."""
        try:
            self.journal.write_ahead(kind, data, account=account, client_id=client_id)
        except JournalError as exc:
            self._notices.tell("error", str(exc))
            return False
        if self._fold_timer is None:
            self._fold_timer = asyncio.get_running_loop().call_later(AHEAD_FOLD_S, self._fold_due)
        return True

    def _fold_due(self) -> None:
        self._fold_timer = None
        self.flush()

    def soon(self, kind: str, data: object, account: str | None, client_id: str | None) -> None:
        self.journal.append_soon(kind, data, account=account, client_id=client_id)
        self._arm()

    def _arm(self) -> None:
        if not self._armed:
            self._armed = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._armed = False
        try:
            self.journal.flush()
        except JournalError as exc:
            self._notices.tell("error", str(exc))

    def close(self) -> None:
        if self._fold_timer is not None:
            self._fold_timer.cancel()
            self._fold_timer = None
        self.flush()
        self.journal.close()
