"""Every account's last known state read back from a real journal (app/last_known.py): one source
for the panel's last known rows and for Unprotected, replacing the old `held.json`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sidedesk.app import last_known
from sidedesk.app.books import Books
from sidedesk.app.last_known import restore_all_last_known, restore_last_known
from sidedesk.app.notices import Notices
from sidedesk.app.recorder import Recorder
from sidedesk.domain import (
    AccountSnapshot,
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    Side,
)
from sidedesk.store.journal import Journal


def snapshot(account: str, qty: str, symbol: str = "SOLUSDT") -> dict[str, Any]:
    pos = PositionEvent(account, symbol, PositionSide.BOTH, Decimal(qty), Decimal("150"))
    return {"reason": "connected", "snapshot": AccountSnapshot(account, (), (pos,), ())}


def position(account: str, qty: str, symbol: str = "SOLUSDT") -> dict[str, Any]:
    return {
        "kind": "PositionEvent",
        "event": PositionEvent(account, symbol, PositionSide.BOTH, Decimal(qty), Decimal("150")),
    }


def order(account: str) -> OrderEvent:
    return OrderEvent(account, "SOLUSDT", "7", "sda-1", Side.SELL, OrderType.STOP_MARKET, OrderStatus.NEW,
                      Decimal(1), Decimal(0), stop_price=Decimal(140), update_time_ms=9)  # fmt: skip


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


def books_on(journal: Journal) -> Books:
    def publish(topic: str, payload: Any) -> None:
        return None

    notices = Notices(publish)
    return Books(publish, Recorder(journal, notices), notices)


def held(books: Books, account: str) -> list[tuple[str, Decimal]]:
    return [(p.symbol, p.quantity) for p in books.known_positions(account)]


def test_a_field_of_the_wrong_type_costs_that_event_never_the_start(journal: Journal) -> None:
    # regression: `update_time_ms: "x"` decoded unchecked, and the books raised TypeError out of
    # the service's start (a crash loop on every locked start)
    journal.append("correction", snapshot("a", "1"), account="a")
    bad = order("a")
    journal.append("event", {"kind": "OrderEvent", "event": bad}, account="a")
    row = journal.records(kind="event")[-1]
    broken = dict(row.data)
    broken["event"] = {**broken["event"], "update_time_ms": "x", "symbol": ["x"]}
    journal.append("event", broken, account="a")
    journal.append("event", position("a", "2"), account="a")
    books = books_on(journal)
    assert restore_last_known(books, journal, "a") is True
    assert held(books, "a") == [("SOLUSDT", Decimal(2))]
    assert [o["order_id"] for o in books.orders_view(every=True)["orders"]] == ["7"]


def test_every_account_is_restored_and_a_broken_one_is_skipped(journal: Journal) -> None:
    journal.append("correction", snapshot("bin", "1"), account="bin")
    journal.append("correction", snapshot("tv:A1", "2", "MESZ6"), account="tv:A1")
    journal.append("correction", snapshot("tv:A2", "3", "MESZ6"), account="tv:A2")
    journal.append("correction", snapshot("other:B1", "4", "NQZ6"), account="other:B1")
    broken = snapshot("bad", "1")
    journal.append("correction", broken, account="bad")
    data = journal.records(kind="correction")[-1].data
    data["snapshot"]["ts_ms"] = "x"
    journal.append("correction", data, account="bad")
    books = books_on(journal)
    assert restore_all_last_known(books, journal) == ["bin", "other:B1", "tv:A1", "tv:A2"]
    assert held(books, "tv:A2") == [("MESZ6", Decimal(3))] and held(books, "other:B1") == [
        ("NQZ6", Decimal(4))
    ]
    assert "bad" not in books.last_known


def test_an_entry_id_alone_is_replaced_by_its_accounts(journal: Journal) -> None:
    """A Tradovate entry journaled as `tv` by a build before accounts could be picked, then as
    `tv:A1`: only the newer rows are shown. Restored alone, `tv` goes when `tv:A1`'s snapshot lands."""
    journal.append("correction", snapshot("tv", "1", "MESZ6"), account="tv")
    journal.append("correction", snapshot("tv:A1", "2", "MESZ6"), account="tv:A1")
    assert restore_all_last_known(books_on(journal), journal) == ["tv:A1"]
    books = books_on(journal)
    assert restore_last_known(books, journal, "tv") and restore_last_known(books, journal, "tv:A2") is False
    assert books.holds_last_known("tv")
    snap = snapshot("tv:A1", "2", "MESZ6")["snapshot"]
    books.apply_snapshot("tv:A1", snap, "connected")
    assert "tv" not in books.last_known and held(books, "tv") == []


def test_past_the_bound_the_newest_events_are_read(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    # regression: the oldest events after the snapshot were kept, so a long-lived account showed a
    # position long gone
    monkeypatch.setattr(last_known, "MAX_EVENTS", 3)
    journal.append("correction", snapshot("a", "1"), account="a")
    for qty in ("2", "3", "4", "5", "6"):
        journal.append("event", position("a", qty), account="a")
    books = books_on(journal)
    assert restore_last_known(books, journal, "a")
    assert held(books, "a") == [("SOLUSDT", Decimal(6))]
