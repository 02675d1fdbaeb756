"""The journal's write-ahead file: an order's intent is appended here, one JSON line, before its
frame leaves, and folded into the SQLite journal a moment later (off the order's path).

The file is mapped into memory: a record copied into the mapping is in the page cache at once, so
it survives the host being killed, as a commit with `synchronous=NORMAL` does (neither survives
an OS crash), at the cost of a memory copy, no system call, instead of a ~20 µs SQLite commit.
The file has a fixed size (the cap: a full file refuses the order); once folded, what was used
is zeroed (when past 64 KiB, and at start and close). At start the journal folds what a killed
host left here; a torn last line (a kill in the middle of a copy) or any other unreadable line is
skipped with a log line.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

log = logging.getLogger(__name__)

LIMIT_BYTES = 1024 * 1024  # ~2 500 intents: far beyond any burst between two folds
KEEP_BYTES = 64 * 1024  # emptied after the fold that takes it past this (~150 intents)


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


def line(
    ts_ms: int,
    kind: str,
    account: str | None,
    client_id: str,
    data: object,
    default: Callable[[object], object] | None = None,
) -> bytes:
    """One record as a JSON array line, in one orjson call (`default` for what it does not know)."""
    row = [ts_ms, kind, account, client_id, data]
    try:
        return orjson.dumps(row, default=default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # what orjson refuses (e.g. an int beyond 64 bits)
        text = json.dumps(row, default=default, separators=(",", ":"), ensure_ascii=False)
        return text.encode() + b"\n"


class AheadFile:
    """A fixed-size file mapped into memory: a record is one copy into the mapping, no system
    call, and the page is in the page cache at once (a kill cannot lose it). Unused bytes are
    zero; emptying zeroes what was used."""

    def __init__(self, path: Path, limit: int = LIMIT_BYTES, keep: int = KEEP_BYTES) -> None:
        self.path = path
        self.limit = limit
        self.keep = min(keep, limit // 2)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # one left by an older umask is tightened too
            os.ftruncate(fd, 0)  # the caller folded what was in it
            os.ftruncate(fd, limit)  # sparse: only the pages written take space
            self._mm = mmap.mmap(fd, limit)
        finally:
            os.close(fd)  # the mapping keeps the file
        self.size = 0

    def write(self, data: bytes) -> None:
        end = self.size + len(data)
        if end > self.limit:
            raise AheadFull(f"write-ahead file {self.path.name} full: the journal is not being written")
        self._mm[self.size : end] = data
        self.size = end

    def folded(self) -> None:
        """Everything in it is in the journal now: empty it once it has grown past `keep` (not
        after every fold: the pages stay warm; a restart adds nothing already folded twice)."""
        if self.size > self.keep:
            self.empty()

    def empty(self) -> None:
        if self.size:
            self._mm[: self.size] = bytes(self.size)
            self.size = 0

    def close(self) -> None:
        self._mm.close()


def read(path: Path, limit: int = LIMIT_BYTES) -> list[AheadRecord]:
    """The records a host left in its write-ahead file, in the order written; unreadable lines
    (a torn last one, or damage) are logged and skipped, never raised."""
    try:
        with path.open("rb") as f:
            raw = f.read(2 * limit).rstrip(b"\0")  # the unused rest of the file is zero
    except FileNotFoundError:
        return []
    lines = raw.replace(b"\0", b"\n").split(b"\n")  # zeros inside: emptied while a kill came
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
