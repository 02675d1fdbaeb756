"""The journal as the services use it: a write that fails is told to the trader, never raised
into a broker's event stream; `soon` writes are committed together at the end of the loop's
current burst (one transaction for many exchange events, none on an ack's path), and so is an
intent written ahead (on disk in the write-ahead file before its frame leaves)."""

from __future__ import annotations

import asyncio

from sidedesk.app.notices import Notices
from sidedesk.store.journal import Journal, JournalError


class Recorder:
    def __init__(self, journal: Journal, notices: Notices) -> None:
        self.journal = journal
        self._notices = notices
        self._armed = False

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
        the order's path); it is committed to SQLite at the end of the burst. False (and the
        trader told) if it could not be written."""
        try:
            self.journal.write_ahead(kind, data, account=account, client_id=client_id)
        except JournalError as exc:
            self._notices.tell("error", str(exc))
            return False
        self._arm()
        return True

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
        self.flush()
        self.journal.close()
