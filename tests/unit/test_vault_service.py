"""VaultService: create/unlock/lock/change password, entries, throttle, auto-lock, redaction."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from sidedesk import logs
from sidedesk.vault import format as fmt
from sidedesk.vault.kdf import KdfParams
from sidedesk.vault.service import (
    EntryNotFound,
    TooManyAttempts,
    VaultIsLocked,
    VaultService,
    WeakPassword,
)

SMALL = KdfParams.argon2id(memory_kib=64, iterations=1, lanes=1)
PW = "lemon-cactus-42"
SECRET = "HmacSecretValue0123456789abcdef"
API_KEY = "ApiKeyAbcdefghijklmnopqrstuv"


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def entry(**over: Any) -> dict[str, Any]:
    return {
        "broker": "binance",
        "name": "main",
        "environment": "testnet",
        "auth": "hmac",
        "api_key": API_KEY,
        "secret": SECRET,
        **over,
    }


def service(
    tmp_path: Path, clock: Clock | None = None, wall: Clock | None = None, autolock_s: float = 900
) -> VaultService:
    return VaultService(
        tmp_path / "data" / "vault.sdv",
        kdf=SMALL,
        autolock_s=autolock_s,
        clock=clock or Clock(),
        wall=wall or Clock(),
    )


async def test_lifecycle_survives_a_new_instance(tmp_path: Path) -> None:
    v = service(tmp_path)
    assert v.state == "absent"
    await v.create(PW)
    assert v.state == "unlocked"
    s = await v.put(entry())
    assert s.masked["api_key"] == "ApiK…stuv"
    v.lock()
    assert v.state == "locked"
    with pytest.raises(VaultIsLocked):
        v.entries()
    with pytest.raises(VaultIsLocked):
        v.get_entry(s.id)
    v2 = service(tmp_path)  # a host restart
    await v2.unlock(PW)
    full = v2.get_entry(s.id)
    assert full.secret is not None and full.secret.get_secret_value() == SECRET  # type: ignore[union-attr]
    assert [e.id for e in v2.entries()] == [s.id]


async def test_create_refuses_weak_password_and_existing_vault(tmp_path: Path) -> None:
    v = service(tmp_path)
    with pytest.raises(WeakPassword, match="too weak"):
        await v.create("password1")
    assert v.state == "absent" and not v.path.exists()
    await v.create(PW)
    with pytest.raises(Exception, match="already exists"):
        await v.create(PW)


async def test_wrong_password_delay_grows_and_persists(tmp_path: Path) -> None:
    wall = Clock(5000.0)
    v = service(tmp_path, wall=wall)
    await v.create(PW)
    v.lock()
    with pytest.raises(fmt.WrongPassword) as first:
        await v.unlock("not-the-password")
    assert first.value.retry_after_s == 0
    with pytest.raises(fmt.WrongPassword) as second:
        await v.unlock("not-the-password")
    assert second.value.retry_after_s == 1 and "try again in 1 s" in str(second.value)
    with pytest.raises(TooManyAttempts):  # even the right password waits
        await v.unlock(PW)
    v2 = service(tmp_path, wall=wall)  # restart: the delay is still there
    with pytest.raises(TooManyAttempts) as info:
        await v2.unlock(PW)
    assert info.value.retry_after_s == 1
    wall.t += 1
    with pytest.raises(fmt.WrongPassword) as third:
        await v2.unlock("still-not-it")
    assert third.value.retry_after_s == 2
    wall.t += 2
    await v2.unlock(PW)
    assert v2.retry_after() == 0 and not v2.store.throttle_path.exists()


async def test_change_password(tmp_path: Path) -> None:
    v = service(tmp_path)
    await v.create(PW)
    s = await v.put(entry())
    with pytest.raises(fmt.WrongPassword):
        await v.change_password("wrong-password-1", "orange-river-77")
    with pytest.raises(WeakPassword):
        await v.change_password(PW, "12345678901")
    assert v.state == "unlocked"
    await v.change_password(PW, "orange-river-77")
    v.lock()
    with pytest.raises(fmt.WrongPassword):
        await v.unlock(PW)
    await v.unlock("orange-river-77")
    assert v.get_entry(s.id).name == "main"


async def test_put_update_remove_and_errors(tmp_path: Path) -> None:
    v = service(tmp_path)
    await v.create(PW)
    s = await v.put(entry())
    await v.put({"id": s.id, "broker": "binance", "name": "renamed", "environment": "live", "auth": "hmac"})
    assert v.get_entry(s.id).name == "renamed"
    from sidedesk.vault.entries import EntryInvalid

    with pytest.raises(EntryInvalid, match="another entry already has this name"):
        await v.put(entry(name="RENAMED", api_key="OtherKeyAbcdefghijklmnop"))
    with pytest.raises(EntryInvalid):
        await v.put(entry(api_key="x"))
    await v.remove(s.id)
    with pytest.raises(EntryNotFound):
        await v.remove(s.id)
    assert v.entries() == []


async def test_a_failed_write_changes_nothing_in_memory(tmp_path: Path) -> None:
    v = service(tmp_path)
    await v.create(PW)

    def boom(step: str) -> None:
        if step == "rename":
            raise OSError(28, "No space left on device")

    v.store.after_step = boom
    from sidedesk.vault.store import VaultWriteError

    with pytest.raises(VaultWriteError):
        await v.put(entry())
    assert v.entries() == []


async def test_secrets_registered_while_unlocked_and_forgotten_on_lock(tmp_path: Path) -> None:
    v = service(tmp_path)
    await v.create(PW)
    await v.put(entry())
    assert logs.redact(f"x {SECRET} {API_KEY}") == f"x {logs.REDACTED} {logs.REDACTED}"
    v.lock()
    assert SECRET in logs.redact(SECRET)  # dropped with the vault


async def test_autolock_after_idle(tmp_path: Path) -> None:
    clock = Clock()
    v = service(tmp_path, clock=clock, autolock_s=60)
    changes: list[str] = []
    v.add_listener(lambda: changes.append(v.state))
    await v.create(PW)
    clock.t += 59
    assert not v.check_idle() and v.state == "unlocked"
    v.touch()
    clock.t += 59
    assert not v.check_idle()
    clock.t += 2
    assert v.check_idle() and v.state == "locked"
    assert changes[-1] == "locked"


async def test_copied_vault_opens_elsewhere(tmp_path: Path) -> None:
    v = service(tmp_path / "a")
    await v.create(PW)
    s = await v.put(entry())
    (tmp_path / "b" / "data").mkdir(parents=True)
    shutil.copy(v.path, tmp_path / "b" / "data" / "vault.sdv")
    w = service(tmp_path / "b")
    await w.unlock(PW)
    assert w.get_entry(s.id).name == "main"


async def test_damaged_vault_and_restore_backup(tmp_path: Path) -> None:
    v = service(tmp_path)
    await v.create(PW)
    s = await v.put(entry())
    await v.put(entry(id=s.id, name="second"))
    v.lock()
    data = bytearray(v.path.read_bytes())
    data[-5] ^= 0x40
    v.path.write_bytes(bytes(data))
    with pytest.raises(fmt.VaultDamaged):
        await v.unlock(PW)
    assert v.retry_after() == 0  # damage is not a wrong password
    await v.restore_backup()
    await v.unlock(PW)
    assert v.get_entry(s.id).name == "main"  # the previous version
    assert list(v.path.parent.glob("vault.sdv.damaged-*"))
