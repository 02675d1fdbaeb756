"""Secrets never reach the log file, whole or in pieces, from any logger; the file is 0600."""

from __future__ import annotations

import json
import logging
import logging.handlers
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidedesk.logs import PIECE_LEN, REDACTED, forget_secret, redact, register_secret, setup_logging

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


@pytest.fixture
def secret() -> Iterator[str]:
    register_secret(KEY)
    yield KEY
    forget_secret(KEY)


def test_a_24_character_piece_is_redacted(secret: str) -> None:
    piece = secret[17:41]
    out = redact(f'> TEXT \'{{"apiKey":"{piece}...\' [75 bytes]')
    assert piece not in out
    assert REDACTED in out


def test_every_piece_of_the_minimum_length_is_caught(secret: str) -> None:
    for i in range(len(secret) - PIECE_LEN + 1):
        assert secret[i : i + PIECE_LEN] not in redact("x" + secret[i : i + PIECE_LEN] + "y")


def test_short_coincidences_and_ordinary_text_stay(secret: str) -> None:
    text = f"order {secret[: PIECE_LEN - 1]} filled at 64223.4"
    assert redact(text) == text


def test_forgotten_secrets_are_no_longer_redacted() -> None:
    register_secret(KEY)
    forget_secret(KEY)
    assert redact(KEY[5:30]) == KEY[5:30]


def test_third_party_debug_frame_dumps_in_the_file_are_redacted(tmp_path: Path, secret: str) -> None:
    log_file = tmp_path / "logs" / "host.log"
    setup_logging(log_file, level="DEBUG")
    try:
        logging.getLogger("websockets.client").debug("> TEXT '%s' [%d bytes]", secret[3:27], 24)
        logging.getLogger("sidedesk.x").info("lone \ud800 surrogate does not break the record")
        for h in logging.getLogger().handlers:
            h.flush()
        text = log_file.read_text(encoding="utf-8")
    finally:
        setup_logging(None)
    assert secret[3:27] not in text
    assert secret[3 : 3 + PIECE_LEN] not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert any(REDACTED in line["msg"] for line in lines)
    assert any("surrogate" in line["msg"] for line in lines)
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_an_old_0644_log_and_rotated_files_become_0600(tmp_path: Path) -> None:
    log_file = tmp_path / "host.log"
    log_file.write_text("")
    log_file.chmod(0o644)
    setup_logging(log_file)
    try:
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.handlers.RotatingFileHandler)
        logging.getLogger("t").info("x")
        handler.doRollover()
        logging.getLogger("t").info("y")
        handler.flush()
    finally:
        setup_logging(None)
    for path in (log_file, tmp_path / "host.log.1"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _every_window(text: str, secrets: list[str]) -> str:
    """The reference: every PIECE_LEN-character window of `text` checked against the secrets."""
    pieces = {s[i : i + PIECE_LEN] for s in secrets for i in range(len(s) - PIECE_LEN + 1)}
    covered = [False] * len(text)
    for i in range(len(text) - PIECE_LEN + 1):
        if text[i : i + PIECE_LEN] in pieces:
            covered[i : i + PIECE_LEN] = [True] * PIECE_LEN
    out, i = [], 0
    while i < len(text):
        if covered[i]:
            while i < len(text) and covered[i]:
                i += 1
            out.append(REDACTED)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


# secrets with characters a regex class must escape, and text mixing their pieces with anything
_SECRETS = [KEY, "ab]c^d-e\\f+g/h=i[j" * 3, "x" * 20]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(_SECRETS).flatmap(
                lambda s: st.tuples(st.integers(0, len(s)), st.integers(1, 24)).map(
                    lambda p: s[p[0] : p[0] + p[1]]
                )
            ),
        ),
        max_size=8,
    )
)
def test_only_runs_of_secret_characters_are_scanned_and_nothing_else_changes(parts: list[str]) -> None:
    """Scanning only inside runs of the secrets' characters redacts exactly what checking every
    window of the line would (a window with any other character cannot be a piece)."""
    raw = "".join(parts)
    for s in _SECRETS:
        register_secret(s)
    try:
        whole = raw
        for s in sorted(_SECRETS, key=len, reverse=True):  # whole secrets first, as redact does
            whole = whole.replace(s, REDACTED)
        assert redact(raw) == _every_window(whole, _SECRETS)
    finally:
        for s in _SECRETS:
            forget_secret(s)
