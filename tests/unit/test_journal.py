from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from sidedesk.domain import OrderRequest, OrderType, Side
from sidedesk.store import ahead
from sidedesk.store.journal import Journal, JournalError


def used(ahead_file: Path) -> int:
    """Bytes of records in a write-ahead file (the rest of it is zero)."""
    return len(ahead_file.read_bytes().rstrip(b"\0"))


def test_records_round_trip_with_decimals_and_dataclasses(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    req = OrderRequest(
        "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.010"), "sdm1", price=Decimal("65000.10")
    )
    rid = j.append("intent", {"order": req}, account="acc", client_id="sdm1")
    j.append("outcome", {"status": "NEW"}, account="acc", client_id="sdm1")
    recs = j.records(client_id="sdm1")
    assert [r.kind for r in recs] == ["intent", "outcome"] and recs[0].id == rid
    assert recs[0].data["order"]["price"] == "65000.10" and recs[0].data["order"]["side"] == "BUY"
    j.close()
    assert (tmp_path / "j.sqlite3").stat().st_mode & 0o777 == 0o600


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown journal kind"):
        Journal(tmp_path / "j.sqlite3").append("gossip", {})


def test_open_intents_are_those_without_an_outcome(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    for cid in ("a", "b", "c"):
        j.append("intent", {}, client_id=cid)
    j.append("outcome", {"status": "FILLED"}, client_id="b")
    assert [r.client_id for r in j.open_intents()] == ["a", "c"]


def test_committed_records_survive_a_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from sidedesk.store.journal import Journal
        j = Journal(Path({str(path)!r}))
        for i in range(500):
            j.append("outcome", {{"n": i}}, client_id=f"c{{i}}")
        sys.stdout.write("written\\n"); sys.stdout.flush()
        os.kill(os.getpid(), {int(signal.SIGKILL)})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.stdout == b"written\n" and proc.returncode == -signal.SIGKILL
    recs = list(Journal(path).iter_all())
    assert [r.data["n"] for r in recs] == list(range(500))


def test_a_damaged_journal_is_kept_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    j = Journal(path)
    assert j.moved_aside is not None and j.moved_aside.exists()
    assert j.moved_aside.read_bytes().startswith(b"this is not a database")
    j.append("event", {"ok": True})
    assert len(list(j.iter_all())) == 1


def test_a_journal_from_a_newer_host_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='99' WHERE key='schema'")
    db.commit()
    db.close()
    j = Journal(path)
    assert j.moved_aside is not None and list(j.iter_all()) == []


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permission bits; a read-only file system is the honest equivalent
        path = Path("/proc/sidedesk-journal-test/j.sqlite3")
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        path = ro / "j.sqlite3"
    with pytest.raises((OSError, sqlite3.Error)):
        Journal(path)


def test_queued_records_are_written_in_one_transaction_and_keep_arrival_order(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    for i in range(3):
        j.append_soon("event", {"n": i}, client_id="c")
    assert j.pending == 3
    j.append("outcome", {"n": 3}, client_id="c")  # an acknowledgement flushes what came before it
    j.append_soon("event", {"n": 4}, client_id="c")
    assert [r.data["n"] for r in j.records(client_id="c")] == [0, 1, 2, 3, 4]  # reads flush too
    assert j.pending == 0
    j.append_soon("event", {"n": 5})
    j.close()
    assert [r.data["n"] for r in Journal(tmp_path / "j.sqlite3").iter_all()][-1] == 5


def test_an_intent_written_ahead_is_on_disk_at_once_and_folded_in_arrival_order(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    j = Journal(path)
    j.append_soon("event", {"e": 1}, account="a")
    j.write_ahead("intent", {"i": Decimal("1.50")}, account="a", client_id="c1")
    on_disk = ahead.read(j.ahead_path)  # what a host killed now would fold at its next start
    assert [(r.kind, r.client_id, r.data) for r in on_disk] == [("intent", "c1", {"i": "1.50"})]
    with closing(sqlite3.connect(path)) as other:
        assert other.execute("SELECT COUNT(*) FROM journal").fetchone() == (0,)  # SQLite: not yet
    assert j.pending == 2
    j.flush()
    assert [(r.kind, r.data) for r in j.records()] == [("event", {"e": 1}), ("intent", {"i": "1.50"})]
    j.write_ahead("intent", {"i": 2}, account="a", client_id="c2")
    j.append("outcome", {"o": 2}, account="a", client_id="c2")  # commits the intent with it
    assert [r.kind for r in j.records(client_id="c2")] == ["intent", "outcome"]
    assert j.pending == 0
    j.close()
    assert used(j.ahead_path) == 0  # all folded: emptied on the way out


def test_intents_written_ahead_survive_a_sigkill_and_are_folded_at_start(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from sidedesk.store.journal import Journal
        j = Journal(Path({str(path)!r}))
        j.append("outcome", {{"n": -1}}, client_id="before")
        for i in range(50):
            j.write_ahead("intent", {{"n": i}}, account="a", client_id=f"c{{i}}")
        sys.stdout.write("written\\n"); sys.stdout.flush()
        os.kill(os.getpid(), {int(signal.SIGKILL)})  # before any fold
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.stdout == b"written\n" and proc.returncode == -signal.SIGKILL
    with closing(sqlite3.connect(path)) as other:  # only in the write-ahead file so far
        assert other.execute("SELECT COUNT(*) FROM journal WHERE kind='intent'").fetchone() == (0,)
    j = Journal(path)
    assert j.recovered == 50
    assert [r.client_id for r in j.open_intents()] == [f"c{i}" for i in range(50)]
    assert [r.data["n"] for r in j.records(kind="intent")] == list(range(50))
    assert used(j.ahead_path) == 0
    j.close()
    assert Journal(path).recovered == 0


def test_records_already_folded_are_not_added_twice_after_a_kill(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    j = Journal(path)
    j.write_ahead("intent", {"n": 1}, account="a", client_id="c1")
    j.flush()  # committed; the file keeps the line until it has grown (a write after a truncation costs)
    j.write_ahead("intent", {"n": 2}, account="a", client_id="c2")  # then killed before this one's fold
    left = j.ahead_path.read_bytes()
    assert [r.client_id for r in ahead.read(j.ahead_path)] == ["c1", "c2"]
    j.close()
    j.ahead_path.write_bytes(left)  # what the kill would have left
    j = Journal(path)
    assert j.recovered == 0 and [r.client_id for r in j.records(kind="intent")] == ["c1", "c2"]
    j.close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("DELETE FROM journal WHERE client_id = 'c2'")  # as if never folded
        db.commit()
    j.ahead_path.write_bytes(left)
    j = Journal(path)
    assert j.recovered == 1 and [r.client_id for r in j.records(kind="intent")] == ["c1", "c2"]


def test_a_torn_or_damaged_write_ahead_line_is_skipped_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    good = [ahead.line(1, "intent", "a", f"c{i}", {"n": i}) for i in range(3)]
    (tmp_path / "j.sqlite3.ahead").write_bytes(
        good[0] + b"\xff\xfenot json\n" + good[1] + b'["x"]\n' + good[2] + good[0][:17] + bytes(1000)
    )  # as a kill mid-copy leaves the mapped file: a partial line, then the unused zeros
    with caplog.at_level(logging.WARNING, logger="sidedesk.store.ahead"):
        j = Journal(path)
    assert [r.client_id for r in j.open_intents()] == ["c0", "c1", "c2"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "sidedesk.store.ahead"]
    assert any("torn last record" in w for w in warnings)
    assert sum("is not a record" in w for w in warnings) == 2
    j.write_ahead("intent", {"n": 3}, account="a", client_id="c3")  # the journal works on
    assert [r.client_id for r in j.open_intents()][-1] == "c3"


def test_the_write_ahead_file_is_private_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    (tmp_path / "j.sqlite3.ahead").write_bytes(b"")
    os.chmod(tmp_path / "j.sqlite3.ahead", 0o644)
    j = Journal(path, ahead_limit=400)
    assert j.ahead_path.stat().st_mode & 0o777 == 0o600
    written = 0
    with pytest.raises(JournalError, match="full"):  # folding has not happened: refuse, never grow
        for i in range(10):
            j.write_ahead("intent", {"n": i, "pad": "x" * 60}, account="a", client_id=f"c{i}")
            written += 1
    assert j.ahead_path.stat().st_size == 400 and used(j.ahead_path) > 0  # a fixed size: the cap
    assert [r.data["n"] for r in ahead.read(j.ahead_path)] == list(range(written))  # whole lines only
    assert j.pending == written  # the refused one is not queued either
    j.flush()
    assert used(j.ahead_path) == 0  # past half the cap once folded: emptied
    j.write_ahead("intent", {"n": 10}, account="a", client_id="c10")  # room again
    assert [r.data["n"] for r in j.records(kind="intent")][-1] == 10
