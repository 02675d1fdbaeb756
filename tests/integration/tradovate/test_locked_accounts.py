"""A locked desk lists each account of a Tradovate login once (DEMO700001, DEMO700002), through
the real host process: with the vault locked the accounts come from the connected links, one per
account, and each entry's rows were listed once per link (every account twice)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.tradovate.test_host import MES, SimThread, TvDesk, start_tv_desk
from tests.integration.tradovate.test_host_accounts import two_account_login
from tests.support.wait import eventually


@pytest.fixture
def sim() -> Iterator[SimThread]:
    yield from two_account_login()


def test_a_locked_desk_lists_each_account_of_a_login_once(sim: SimThread, tmp_path: Path) -> None:
    desk = start_tv_desk(tmp_path, sim, {"watchlist": [MES]}, TvDesk)
    try:

        def both_live() -> list[str] | None:
            rows = desk.call("accounts.list", {})["accounts"]
            return (
                [r["id"] for r in rows]
                if len(rows) == 2 and all(r["state"] == "live" for r in rows)
                else None
            )

        unlocked = eventually(both_live, 20, "both accounts of the login live")
        assert len(set(unlocked)) == 2
        desk.call("vault.lock", {})
        listed = desk.call("accounts.list", {})
        assert [r["id"] for r in listed["accounts"]] == unlocked
        assert listed["active_id"] == unlocked[0]
    finally:
        desk.stop()
