"""The journal's write-ahead file: an order's intent is appended here, one JSON line, before its
frame leaves, and folded into the SQLite journal a moment later (off the order's path).

One `os.write` on an O_APPEND descriptor is in the page cache when it returns, so it survives the
host being killed, as a commit with `synchronous=NORMAL` does, for ~1 µs instead of a ~20 µs
SQLite commit. The file holds only what is not yet folded: it is emptied after every fold and
has a hard cap. At start the journal folds what a killed host left here; a torn last line (a
kill in the middle of a write) or any other unreadable line is skipped with a log line.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import orjson

log = logging.getLogger(__name__)

LIMIT_BYTES = 4 * 1024 * 1024  # ~10 000 intents: far beyond any burst between two folds


class AheadFull(OSError):
    pass


@dataclass(frozen=True, slots=True)
class AheadRecord:
    ts_ms: int
    kind: str
    account: str | None
    client_id: str
    data: object


def path_for(journal: Path) -> Path:
    """The write-ahead file beside a journal (never moved aside with a damaged journal: its
    records are folded into the new one)."""
    return journal.with_name(journal.name + ".ahead")


def line(ts_ms: int, kind: str, account: str | None, client_id: str, data_json: str) -> bytes:
    """One record as a JSON array line; `data_json` is already encoded (it is stored as is)."""
    return orjson.dumps([ts_ms, kind, account, client_id])[:-1] + b"," + data_json.encode() + b"]\n"


class AheadFile:
    def __init__(self, path: Path, limit: int = LIMIT_BYTES) -> None:
        self.path = path
        self.limit = limit
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(self._fd, 0o600)  # one left by an older umask is tightened too
        self.size = os.fstat(self._fd).st_size

    def write(self, data: bytes) -> None:
        if self.size + len(data) > self.limit:
            raise AheadFull(f"write-ahead file {self.path.name} full: the journal is not being written")
        n = os.write(self._fd, data)
        if n != len(data):  # a short write (disk full): take it back, the record is not on disk
            os.ftruncate(self._fd, self.size)
            raise AheadFull(f"the write-ahead file {self.path.name} took {n} of {len(data)} bytes")
        self.size += n

    def empty(self) -> None:
        """Everything in it is in the journal now."""
        if self.size:
            os.ftruncate(self._fd, 0)
            self.size = 0

    def close(self) -> None:
        os.close(self._fd)


def read(path: Path, limit: int = LIMIT_BYTES) -> list[AheadRecord]:
    """The records a host left in its write-ahead file, in the order written; unreadable lines
    (a torn last one, or damage) are logged and skipped, never raised."""
    try:
        with path.open("rb") as f:
            raw = f.read(2 * limit)
    except FileNotFoundError:
        return []
    lines = raw.split(b"\n")
    tail = lines.pop()  # after the last newline: empty unless the last write was torn
    if tail:
        log.warning("write-ahead file %s: ignored a torn last record (%d bytes)", path.name, len(tail))
    out = []
    for n, raw_line in enumerate(lines, 1):
        if not raw_line:
            continue
        rec = _parse(raw_line)
        if rec is None:
            log.warning("write-ahead file %s: line %d is not a record; ignored", path.name, n)
            continue
        out.append(rec)
    return out


def _parse(raw: bytes) -> AheadRecord | None:
    try:
        value = json.loads(raw)
    except ValueError:  # includes bad UTF-8
        return None
    if not isinstance(value, list) or len(value) != 5:
        return None
    ts, kind, account, client_id, data = value
    if (
        type(ts) is not int
        or not isinstance(kind, str)
        or not (account is None or isinstance(account, str))
        or not isinstance(client_id, str)
    ):
        return None
    return AheadRecord(ts, kind, account, client_id, data)
