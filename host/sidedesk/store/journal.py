"""The journal: every intent, request, reply, event and outcome, in SQLite (WAL).

Durability: WAL with `synchronous=NORMAL` makes every committed record survive the host being
killed (Chrome SIGKILLs it 2 s after closing the port), at the cost of at most the last
commits on an OS crash or power loss, which no fsync-per-order budget could afford. Records
that back something the host acknowledged are committed before the acknowledgement is sent.

An order's intent is written ahead (`write_ahead`, store/ahead.py): one line in an append-only
file before its frame leaves, folded into SQLite just after, off the order's path.

A damaged journal is moved aside (never deleted) and a fresh one started, with the reason
logged, so a bad file can cost history but never the ability to trade.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import orjson

from sidedesk.store import ahead

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
KINDS = ("intent", "request", "reply", "event", "outcome", "correction", "asl", "error")

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    account TEXT,
    client_id TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_client ON journal(client_id);
CREATE INDEX IF NOT EXISTS journal_kind ON journal(kind, id);
"""


def _default(obj: object) -> object:
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, Enum):
        return obj.value
    if hasattr(obj, "__dataclass_fields__"):
        return {k: getattr(obj, k) for k in obj.__dataclass_fields__}
    raise TypeError(f"cannot journal {type(obj).__name__}")


def encode(data: object) -> str:
    try:  # dataclasses and enums natively: a few times faster than the standard encoder
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:  # what orjson refuses (e.g. an int beyond 64 bits)
        return json.dumps(data, default=_default, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class _Ahead:
    """A queued record's data that is also in the write-ahead file."""

    data: object


_INSERT = "INSERT INTO journal (ts_ms, kind, account, client_id, data) VALUES (?, ?, ?, ?, ?)"


@dataclass(frozen=True, slots=True)
class Record:
    id: int
    ts_ms: int
    kind: str
    account: str | None
    client_id: str | None
    data: dict[str, Any]


class JournalError(RuntimeError):
    pass


class Journal:
    def __init__(self, path: Path, *, ahead_limit: int = ahead.LIMIT_BYTES) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.moved_aside: Path | None = None
        self._pending: list[tuple[int, str, str | None, str | None, object]] = []
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            self.moved_aside = self._move_aside(str(exc))
            self._db = self._open()
        self.ahead_path = ahead.path_for(path)
        self.recovered = self._fold_left_ahead()
        self._ahead = ahead.AheadFile(self.ahead_path, ahead_limit)
        self._ahead.empty()

    def _fold_left_ahead(self) -> int:
        """Fold what a killed host wrote ahead but never folded; returns how many records.
        A record already folded (the file is emptied only now and then) is not added twice."""
        rows = []
        for rec in ahead.read(self.ahead_path):
            if rec.kind not in KINDS:
                log.warning("write-ahead file: unknown kind %r ignored", rec.kind)
                continue
            same = self._db.execute(
                "SELECT ts_ms, data FROM journal WHERE client_id = ? AND kind = ?", (rec.client_id, rec.kind)
            )
            if any(ts == rec.ts_ms and json.loads(d) == rec.data for ts, d in same):
                continue
            rows.append((rec.ts_ms, rec.kind, rec.account, rec.client_id, encode(rec.data)))
        if rows:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(_INSERT, rows)
            log.warning("journal: folded %d record(s) written ahead before the host stopped", len(rows))
        return len(rows)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            ok = db.execute("PRAGMA quick_check").fetchone()
            if ok is None or ok[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {ok}")
            db.executescript(_DDL)
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"journal schema {row[0]} is newer than this host ({SCHEMA_VERSION})"
                )
        except BaseException:
            db.close()
            raise
        if self.path.exists():
            self.path.chmod(0o600)
        return db

    def _move_aside(self, reason: str) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.rename(Path(str(target) + suffix))
        log.error(
            "journal %s was unreadable (%s); kept it as %s and started a new one", self.path, reason, target
        )
        return target

    def append(
        self,
        kind: str,
        data: object,
        *,
        account: str | None = None,
        client_id: str | None = None,
        ts_ms: int | None = None,
    ) -> int:
        """Commit one record (durable against a host crash once this returns), in one
        transaction with the records queued before it, so ids follow arrival order."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal kind {kind!r}")
        ts = ts_ms if ts_ms is not None else int(time.time() * 1000)
        return self._commit((ts, kind, account, client_id, data))

    def write_ahead(
        self,
        kind: str,
        data: object,
        *,
        account: str | None,
        client_id: str,
        ts_ms: int | None = None,
    ) -> None:
        """Put one record on disk now, in the write-ahead file (an order's intent, before its
        frame leaves); it is committed to SQLite with the next `flush` or `append`, in arrival
        order, and a host killed before that folds it at its next start. `data` is encoded
        again for SQLite at the fold (off the order's path): it must not change meanwhile."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal kind {kind!r}")
        ts = ts_ms if ts_ms is not None else int(time.time() * 1000)
        try:
            self._ahead.write(ahead.line(ts, kind, account, client_id, data, _default))
        except OSError as exc:
            log.exception("write-ahead failed")
            raise JournalError(f"could not write the journal: {exc}") from exc
        self._pending.append((ts, kind, account, client_id, _Ahead(data)))

    def append_soon(
        self,
        kind: str,
        data: object,
        *,
        account: str | None = None,
        client_id: str | None = None,
        ts_ms: int | None = None,
    ) -> None:
        """Queue a record for the next `flush` (one transaction for a whole burst of exchange
        events). Records that back an acknowledgement use `append`, which commits the queue with
        them, so ids stay in arrival order and nothing acknowledged waits in memory."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal kind {kind!r}")
        ts = ts_ms if ts_ms is not None else int(time.time() * 1000)
        self._pending.append((ts, kind, account, client_id, data))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        if self._pending:
            self._commit(None)

    def _commit(self, last: tuple[int, str, str | None, str | None, object] | None) -> int:
        """One transaction: the queue, then `last`; then all of the write-ahead file is in
        SQLite. Returns `last`'s id (0 without one)."""
        rows, self._pending = self._pending, []
        rowid: int | None = 0
        try:
            if not rows:
                assert last is not None
                ts, kind, acc, cid, data = last
                rowid = self._db.execute(_INSERT, (ts, kind, acc, cid, encode(data))).lastrowid
            else:
                with self._db:  # one transaction
                    self._db.execute("BEGIN")
                    self._db.executemany(
                        _INSERT,
                        [
                            (ts, kind, acc, cid, encode(data.data if type(data) is _Ahead else data))
                            for ts, kind, acc, cid, data in rows
                        ],
                    )
                    if last is not None:
                        ts, kind, acc, cid, data = last
                        rowid = self._db.execute(_INSERT, (ts, kind, acc, cid, encode(data))).lastrowid
        except sqlite3.Error as exc:
            # what was written ahead is on disk: keep it queued (and in its file) for the next try;
            # queued events are dropped, as they were not acknowledged to anyone
            self._pending = [r for r in rows if type(r[4]) is _Ahead] + self._pending
            log.exception("journal write failed (%d records)", len(rows) + (last is not None))
            raise JournalError(f"could not write the journal: {exc}") from exc
        self._ahead.folded()
        return rowid or 0

    def records(
        self,
        *,
        kind: str | None = None,
        client_id: str | None = None,
        since_id: int = 0,
        limit: int = 1000,
    ) -> list[Record]:
        self.flush()
        sql = "SELECT id, ts_ms, kind, account, client_id, data FROM journal WHERE id > ?"
        args: list[object] = [since_id]
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        if client_id is not None:
            sql += " AND client_id = ?"
            args.append(client_id)
        sql += " ORDER BY id LIMIT ?"
        args.append(limit)
        return [Record(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in self._db.execute(sql, args)]

    def last_of(self, kind: str, account: str) -> Record | None:
        """The latest record of `kind` for `account` (e.g. its last snapshot, a `correction`)."""
        self.flush()
        row = self._db.execute(
            "SELECT id, ts_ms, kind, account, client_id, data FROM journal WHERE kind = ? AND account = ? "
            "ORDER BY id DESC LIMIT 1",
            (kind, account),
        ).fetchone()
        return None if row is None else Record(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]))

    def last_of_each(self, kind: str) -> dict[str, int]:
        """Every account with a record of `kind`, and the id of its latest one."""
        self.flush()
        rows = self._db.execute(
            "SELECT account, MAX(id) FROM journal WHERE kind = ? AND account IS NOT NULL GROUP BY account",
            (kind,),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def events_since(self, account: str, since_id: int, limit: int) -> list[Record]:
        """`account`'s exchange events and outcomes after record `since_id`, oldest first: the
        newest `limit` of them (the latest state matters most when there are more)."""
        self.flush()
        rows = self._db.execute(
            "SELECT id, ts_ms, kind, account, client_id, data FROM journal "
            "WHERE kind IN ('event', 'outcome') AND account = ? AND id > ? ORDER BY id DESC LIMIT ?",
            (account, since_id, limit),
        ).fetchall()
        return [Record(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in reversed(rows)]

    def iter_all(self) -> Iterator[Record]:
        last = 0
        while batch := self.records(since_id=last, limit=500):
            yield from batch
            last = batch[-1].id

    def open_intents(self) -> list[Record]:
        """Intents with no outcome yet: after a crash these are looked up on the exchange by client id."""
        self.flush()
        sql = (
            "SELECT id, ts_ms, kind, account, client_id, data FROM journal i WHERE kind='intent' "
            "AND client_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM journal o WHERE o.kind='outcome' "
            "AND o.client_id = i.client_id) ORDER BY id"
        )
        return [Record(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in self._db.execute(sql)]

    def checkpoint(self) -> None:
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        try:
            self.flush()
            self.checkpoint()
            self._ahead.empty()  # all of it is in SQLite
        finally:
            self._ahead.close()
            self._db.close()
