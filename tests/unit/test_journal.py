from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from sidedesk.domain import OrderRequest, OrderType, Side
from sidedesk.store.journal import Journal


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


def test_an_intent_ahead_is_committed_alone_and_the_queued_events_follow(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3")
    j.append_soon("event", {"e": 1}, account="a")
    j.append("intent", {"i": 1}, account="a", client_id="c1", ahead=True)
    other = sqlite3.connect(tmp_path / "j.sqlite3")
    kinds = [k for (k,) in other.execute("SELECT kind FROM journal ORDER BY id")]
    assert kinds == ["intent"]  # on disk before its frame leaves; the event still queued
    assert j.pending == 1
    j.flush()
    assert [k for (k,) in other.execute("SELECT kind FROM journal ORDER BY id")] == ["intent", "event"]
    j.append("outcome", {"o": 1}, account="a", client_id="c1")  # not ahead: queued records first
    other.close()
    j.close()
