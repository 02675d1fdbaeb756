"""The account of a login a vault entry trades (`account`): absent in entries saved before it
existed (they read as None: the venue's default), set and kept through an encrypted round trip,
kept when an update leaves it out, refused when it could not be a venue's account id, and shown
in the summary the panel sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sidedesk.core.link_ids import link_id, split_link_id
from sidedesk.vault.entries import (
    EntryInvalid,
    TradovateEntry,
    VolumetricaEntry,
    parse_entry,
    summarize,
    to_storage,
)
from sidedesk.vault.kdf import KdfParams
from sidedesk.vault.service import VaultService

SMALL = KdfParams.argon2id(memory_kib=64, iterations=1, lanes=1)
PW = "lemon-cactus-42"

TRADOVATE: dict[str, Any] = {
    "broker": "tradovate",
    "name": "prop login",
    "environment": "demo",
    "username": "trader",
    "password": "a password",
    "cid": 8,
    "sec": "secret-value-0001",
}
VOLUMETRICA: dict[str, Any] = {
    "broker": "volumetrica",
    "name": "vol login",
    "environment": "live",
    "platform_key": "PLATFORM-KEY-0001",
    "login": "trader",
    "password": "a password",
}


@pytest.mark.parametrize("data", [TRADOVATE, VOLUMETRICA])
def test_an_entry_saved_before_accounts_reads_as_the_default(data: dict[str, Any]) -> None:
    old = parse_entry(data)  # the stored form of an entry from before: no `account` key
    assert isinstance(old, TradovateEntry | VolumetricaEntry) and old.account is None
    assert "account" not in to_storage(old)
    assert summarize(old).account is None


async def test_the_choice_round_trips_through_the_encrypted_vault(tmp_path: Path) -> None:
    path = tmp_path / "vault.sdv"
    v = VaultService(path, kdf=SMALL)
    await v.create(PW)
    saved = await v.put(TRADOVATE)
    assert saved.account is None
    await v.put({"id": saved.id, "account": "700002"})  # what the switcher's remember does
    # an edit in Setup that leaves the account out keeps it
    await v.put({"id": saved.id, "name": "prop login (renamed)"})
    v.lock()
    again = VaultService(path, kdf=SMALL)
    await again.unlock(PW)
    entry = again.get_entry(saved.id)
    assert (
        isinstance(entry, TradovateEntry)
        and entry.account == "700002"
        and entry.name == "prop login (renamed)"
    )
    assert again.entries()[0].account == "700002"


@pytest.mark.parametrize("bad", ["a:b", "two words", "x" * 65, ""])
def test_a_value_that_is_no_account_id_is_refused(bad: str) -> None:
    with pytest.raises(EntryInvalid) as err:
        parse_entry({**VOLUMETRICA, "account": bad})
    assert err.value.errors[0]["field"] == "account"
    assert bad not in str(err.value) or bad == ""


def test_binance_and_alpaca_entries_have_no_account_to_pick() -> None:
    with pytest.raises(EntryInvalid):
        parse_entry({"broker": "alpaca", "name": "a", "environment": "demo", "key_id": "PK" + "A" * 18,
                     "secret_key": "s" * 40, "account": "1"})  # fmt: skip


def test_link_ids() -> None:
    assert link_id("abc", "700001") == "abc:700001" and split_link_id("abc:700001") == ("abc", "700001")
    assert link_id("abc", None) == "abc" and split_link_id("abc") == ("abc", None)


def test_a_volumetrica_account_is_its_number() -> None:
    assert parse_entry({**VOLUMETRICA, "account": "123457"}).account == "123457"  # type: ignore[union-attr]
    with pytest.raises(EntryInvalid) as err:
        parse_entry({**VOLUMETRICA, "account": "SIM-EVAL-1"})
    assert "number" in err.value.errors[0]["problem"]
