"""Named vault items (where the local stream keeps its token records) beside the entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sidedesk.vault.kdf import KdfParams
from sidedesk.vault.service import VaultIsLocked, VaultService

PW = "correct horse battery staple 9"


def vault(path: Path) -> VaultService:
    return VaultService(path, kdf=KdfParams.argon2id(64, 1, 1))


async def test_items_survive_lock_password_change_and_entry_updates(tmp_path: Path) -> None:
    v = vault(tmp_path / "v.sdv")
    await v.create(PW)
    assert v.item("x") is None
    await v.put_item("x", [{"digest": "ab"}])
    await v.put(
        {"broker": "alpaca", "name": "a", "environment": "demo", "key_id": "K" * 16, "secret_key": "S" * 20}
    )
    v.lock()
    with pytest.raises(VaultIsLocked):
        v.item("x")
    await v.unlock(PW)
    assert v.item("x") == [{"digest": "ab"}] and len(v.entries()) == 1
    await v.change_password(PW, PW + " 2")
    v2 = vault(tmp_path / "v.sdv")
    await v2.unlock(PW + " 2")
    assert v2.item("x") == [{"digest": "ab"}]
    await v2.put_item("x", None)
    assert v2.item("x") is None and len(v2.entries()) == 1


async def test_a_vault_without_items_still_opens_and_bad_items_are_damage(tmp_path: Path) -> None:
    v = vault(tmp_path / "v.sdv")
    await v.create(PW)
    v.lock()
    await v.unlock(PW)  # written without an "items" key (none stored): reads as before
    assert v.item("anything") is None
    # an authenticated body whose items are not an object is reported as unreadable, not crashed on
    opened = v._open
    assert opened is not None
    from sidedesk.vault import format as fmt

    body = json.dumps({"v": 1, "entries": [], "items": []}).encode()
    data = fmt.encode(
        opened.params, opened.salt, bytes(opened.data_key), opened.slots, body, b"\x00" * fmt.NONCE_LEN
    )
    (tmp_path / "v.sdv").write_bytes(data)
    with pytest.raises(fmt.VaultDamaged):
        await vault(tmp_path / "v.sdv").unlock(PW)
