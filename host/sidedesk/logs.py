"""Logging for the host: JSON lines in a rotating file, never stdout, secrets redacted.

Anything registered with `register_secret` (the vault registers every secret it decrypts) is
replaced by `[REDACTED]` in every record's message, arguments and traceback before it is
formatted, whichever logger produced it (third-party ones at DEBUG included: the filter sits on
the handlers). A secret of `PIECE_LEN` characters or more is also caught in pieces: any run of
text that shares `PIECE_LEN` consecutive characters with it is redacted, because a library's
frame dump may cut a key anywhere. Log files are created 0600.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

REDACTED = "[REDACTED]"
MIN_SECRET_LEN = 6  # shorter strings would redact ordinary words
PIECE_LEN = 12  # a shared run this long is a piece of a secret, not a coincidence

_secrets: set[str] = set()
_pieces: set[str] = set()  # every PIECE_LEN-character window of every long secret
# runs of PIECE_LEN or more characters that occur in some secret: only there can a window be a
# piece, so a log line is scanned window by window only inside them (most lines have none)
_runs: re.Pattern[str] | None = None
_secrets_lock = threading.Lock()


def _windows(text: str) -> set[str]:
    return {text[i : i + PIECE_LEN] for i in range(len(text) - PIECE_LEN + 1)}


def _rebuild_pieces() -> None:
    global _pieces
    _pieces = set().union(*(_windows(s) for s in _secrets)) if _secrets else set()
    _compile_runs()


def _compile_runs() -> None:
    global _runs
    chars = sorted(set().union(*_pieces)) if _pieces else []
    _runs = re.compile(f"[{''.join(map(re.escape, chars))}]{{{PIECE_LEN},}}") if chars else None


def register_secret(value: str | bytes) -> None:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if len(text) >= MIN_SECRET_LEN:
        with _secrets_lock:
            _secrets.add(text)
            _pieces.update(_windows(text))
            _compile_runs()


def forget_secret(value: str | bytes) -> None:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    with _secrets_lock:
        _secrets.discard(text)
        _rebuild_pieces()


def _redact_pieces(text: str, pieces: set[str], runs: re.Pattern[str]) -> str:
    """Replace every stretch of `text` covered by windows shared with a secret."""
    spans: list[list[int]] = []
    for run in runs.finditer(text):
        for i in range(run.start(), run.end() - PIECE_LEN + 1):
            if text[i : i + PIECE_LEN] in pieces:
                end = i + PIECE_LEN
                if spans and i <= spans[-1][1]:
                    spans[-1][1] = end
                else:
                    spans.append([i, end])
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out += (text[pos:start], REDACTED)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
        pieces, runs = _pieces, _runs
    for s in known:
        if s in text:
            text = text.replace(s, REDACTED)
    return _redact_pieces(text, pieces, runs) if runs is not None else text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            out.update(extra)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False, default=str)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (the first and each after a rollover) is 0600, and that
    writes any text it is given (a lone surrogate is escaped rather than failing the record)."""

    def __init__(self, filename: Path, maxBytes: int, backupCount: int) -> None:
        super().__init__(
            filename, maxBytes=maxBytes, backupCount=backupCount, encoding="utf-8", errors="backslashreplace"
        )

    def _open(self):  # type: ignore[no-untyped-def]  # typeshed declares it loosely
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with contextlib.suppress(OSError):  # a file left 0644 by an older host
            os.fchmod(fd, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def setup_logging(log_file: Path | None, level: str = "INFO", stderr: bool = False) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    for h in list(root.handlers):
        root.removeHandler(h)
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handlers.append(PrivateRotatingFileHandler(log_file, maxBytes=5 * 1024 * 1024, backupCount=5))
    if stderr:
        handlers.append(logging.StreamHandler())
    for h in handlers:
        h.addFilter(RedactingFilter())
        h.setFormatter(JsonLines())
        root.addHandler(h)
