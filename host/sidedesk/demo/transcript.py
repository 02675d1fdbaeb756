"""The headless demo's record: one JSON object per line, flushed as it happens.

    {"t": "2025-01-01T12:00:00.123Z", "elapsed_s": 4.2, "step": "order.filled", "ok": true, "data": {...}}

A reader can follow the session live (`tail -f`) and a test can check it after the fact. Nothing
secret is written: the password and the key's secret are never passed in.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

TRANSCRIPT_NAME = "transcript.jsonl"


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Transcript:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._start = time.monotonic()
        self._file: TextIO = path.open("w", encoding="utf-8")
        self.records: list[dict[str, Any]] = []

    def write(self, step: str, ok: bool = True, **data: Any) -> dict[str, Any]:
        record = {
            "t": _iso_now(),
            "elapsed_s": round(time.monotonic() - self._start, 3),
            "step": step,
            "ok": ok,
            "data": data,
        }
        self._file.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
        self._file.flush()
        self.records.append(record)
        return record

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> Transcript:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """Every record of a transcript file (for tests and tools)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            if isinstance(rec, dict):
                out.append(rec)
    return out
