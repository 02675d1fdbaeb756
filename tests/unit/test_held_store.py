"""The positions a service last saw, on disk for a restart that stays locked (store/held.py)."""

from __future__ import annotations

import stat
from pathlib import Path

from sidedesk.store.held import load_held, save_held

ROW = {"account_id": "a1", "symbol": "SOLUSDT", "position_side": "BOTH", "quantity": "1.5"}


def test_round_trip_private_and_missing_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "held.json"
    assert load_held(path) == []
    assert save_held(path, [ROW])
    assert load_held(path) == [ROW]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_damaged_or_foreign_content_reads_as_nothing_or_the_good_rows(tmp_path: Path) -> None:
    path = tmp_path / "held.json"
    for junk in ("{", "[]", '{"positions": 3}', "\\u0000"):
        path.write_text(junk)
        assert load_held(path) == []
    path.write_text('{"positions": [{"account_id": 1}, "x", ' + __import__("json").dumps(ROW) + "]}")
    assert load_held(path) == [ROW]


def test_a_folder_that_refuses_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert save_held(blocker / "held.json", [ROW]) is False
