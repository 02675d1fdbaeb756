"""Unattended unlock against a real Secret Service (GNOME Keyring on a private D-Bus, not a fake
and not keyring's plaintext file): the keychain slot opens the vault with no password, survives
a password change, goes away with its item when turned off, and a missing, damaged, stale or
unreachable keychain only leaves the vault locked with a clear reason."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from sidedesk import logs
from sidedesk.install.doctor import unattended_state
from sidedesk.vault import format as fmt
from sidedesk.vault.kdf import KdfParams
from sidedesk.vault.keychain import PREFIX, SERVICE_NAME, OsKeychain, item_name
from sidedesk.vault.service import UnattendedUnavailable, VaultIsLocked, VaultService
from tests.support.secret_service import keychain_env

__all__ = ["keychain_env"]

PW = "correct horse battery staple 9"
SMALL = KdfParams.argon2id(64, 1, 1)
ENTRY = {
    "broker": "alpaca",
    "name": "paper",
    "environment": "demo",
    "key_id": "K" * 16,
    "secret_key": "S" * 40,
}
V1_FILE = Path(__file__).parent.parent / "unit" / "data" / "vault_v1.sdv"


def vault(path: Path) -> VaultService:
    """A fresh service on `path`, as a restarted process builds it."""
    return VaultService(path, kdf=SMALL, keychain=OsKeychain(path))


def header(path: Path) -> fmt.Header:
    return fmt.decode_header(path.read_bytes())


def item(path: Path) -> str | None:
    return keyring.get_password(SERVICE_NAME, item_name(path))


async def test_on_a_restarted_service_opens_the_vault_without_the_password(
    tmp_path: Path, keychain_env: dict[str, str]
) -> None:
    path = tmp_path / "vault.sdv"
    v = vault(path)
    await v.create(PW)
    await v.put(ENTRY)
    assert v.summary()["unattended"] is False
    assert await v.unlock_unattended() is None  # already open: nothing to do
    v.lock()
    assert await vault(path).unlock_unattended() == "unattended unlock is off"
    with pytest.raises(VaultIsLocked):  # turning it on needs the vault unlocked
        await v.enable_unattended()
    await v.unlock(PW)
    await v.enable_unattended()
    slots = header(path).slots
    assert slots is not None and slots.keychain is not None
    stored = item(path)
    assert stored is not None and stored.startswith("sidedesk-v1:")
    v.lock()
    assert v.summary()["unattended"] is True  # read from the header while locked

    again = vault(path)
    assert await again.unlock_unattended() is None
    assert again.state == "unlocked" and [e.name for e in again.entries()] == ["paper"]
    assert again.get_entry(again.entries()[0].id).secret_key.get_secret_value() == "S" * 40  # type: ignore[union-attr]
    assert again.retry_after() == 0  # not a password attempt


async def test_changing_the_password_keeps_it_working(tmp_path: Path, keychain_env: dict[str, str]) -> None:
    path = tmp_path / "vault.sdv"
    v = vault(path)
    await v.create(PW)
    await v.enable_unattended()
    key_before = item(path)
    await v.change_password(PW, PW + " new")
    assert item(path) == key_before  # the keychain item is untouched
    restarted = vault(path)
    assert await restarted.unlock_unattended() is None
    restarted.lock()
    with pytest.raises(fmt.WrongPassword):
        await vault(path).unlock(PW)
    fresh = vault(path)
    await fresh.unlock(PW + " new")
    assert fresh.unattended


async def test_turning_it_off_removes_the_slot_and_the_item(
    tmp_path: Path, keychain_env: dict[str, str]
) -> None:
    path = tmp_path / "vault.sdv"
    v = vault(path)
    await v.create(PW)
    await v.enable_unattended()
    old_key = OsKeychain(path).load()
    assert old_key is not None
    assert await v.disable_unattended() is None
    slots = header(path).slots
    assert slots is not None and slots.keychain is None
    assert item(path) is None
    assert not v.unattended and v.summary()["unattended"] is False
    v.lock()
    assert await vault(path).unlock_unattended() == "unattended unlock is off"
    with pytest.raises(fmt.SlotMismatch):  # and the old key opens nothing written since
        fmt.data_key_from_keychain(header(path), old_key)
    await v.unlock(PW)
    assert await v.disable_unattended() is None  # off again: nothing left to remove, no error


async def test_a_missing_damaged_or_stale_item_leaves_it_locked_with_the_reason(
    tmp_path: Path, keychain_env: dict[str, str]
) -> None:
    path = tmp_path / "vault.sdv"
    v = vault(path)
    await v.create(PW)
    await v.enable_unattended()
    v.lock()
    good = item(path)
    assert good is not None

    keyring.delete_password(SERVICE_NAME, item_name(path))
    reason = await vault(path).unlock_unattended()
    assert reason is not None and "missing from the OS keychain" in reason

    keyring.set_password(SERVICE_NAME, item_name(path), "not a key")
    reason = await vault(path).unlock_unattended()
    assert reason is not None and "does not hold a Sidedesk key" in reason

    other = tmp_path / "other.sdv"  # a key that belongs to another vault
    o = vault(other)
    await o.create(PW)
    await o.enable_unattended()
    keyring.set_password(SERVICE_NAME, item_name(path), item(other) or "")
    reason = await vault(path).unlock_unattended()
    assert reason is not None and "does not open this vault" in reason
    assert good not in reason and (item(other) or "x") not in reason  # never the key itself

    fallback = vault(path)  # the password always still opens it
    await fallback.unlock(PW)
    assert fallback.state == "unlocked"


async def test_an_unreachable_keychain_changes_nothing(
    tmp_path: Path, keychain_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "vault.sdv"
    v = vault(path)
    await v.create(PW)
    before = path.read_bytes()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    with pytest.raises(UnattendedUnavailable, match="stays off"):
        await v.enable_unattended()
    assert path.read_bytes() == before and not v.unattended
    v.lock()
    assert await vault(path).unlock_unattended() == "unattended unlock is off"


async def test_a_version_1_vault_gets_the_slot_and_keeps_its_password(
    tmp_path: Path, keychain_env: dict[str, str]
) -> None:
    path = tmp_path / "vault.sdv"
    shutil.copy(V1_FILE, path)
    v = vault(path)
    await v.unlock("version one vault 2026")
    assert [e.name for e in v.entries()] == ["paper"] and v.item("localstream.tokens") == [{"digest": "ab"}]
    await v.enable_unattended()
    assert header(path).version == fmt.FORMAT_VERSION
    v.lock()
    restarted = vault(path)
    assert await restarted.unlock_unattended() is None
    assert restarted.item("localstream.tokens") == [{"digest": "ab"}]
    restarted.lock()
    await restarted.unlock("version one vault 2026")
    assert [e.name for e in restarted.entries()] == ["paper"]


async def test_the_command_line_turns_it_on_and_off(tmp_path: Path, keychain_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.json").write_text(
        json.dumps({"vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1}})
    )

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SIDEDESK_HOME": str(home)}
        cmd = [sys.executable, "-m", "sidedesk.cli", "vault", *args]
        return subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False
        )

    assert cli("init", "--password-stdin", stdin=f"{PW}\n").returncode == 0
    assert "unattended unlock: off" in cli("status").stdout
    on = cli("unattended", "on", "--password-stdin", stdin=f"{PW}\n")
    assert on.returncode == 0 and "unattended unlock on" in on.stdout, on.stderr
    assert "unattended unlock: on" in cli("status").stdout
    path = home / "data" / "vault.sdv"
    assert item(path) is not None
    assert unattended_state(path).startswith("unattended unlock: on")  # what `sidedesk doctor` says
    restarted = vault(path)
    assert await restarted.unlock_unattended() is None
    off = cli("unattended", "off", "--password-stdin", stdin=f"{PW}\n")
    assert off.returncode == 0 and "unattended unlock off" in off.stdout
    assert item(path) is None and "unattended unlock: off" in cli("status").stdout
    assert unattended_state(path) == "unattended unlock: off"


async def test_the_keychain_key_is_redacted_from_the_log(
    tmp_path: Path, keychain_env: dict[str, str]
) -> None:
    """The key's text as the keychain item holds it is a secret like a broker key: a keyring
    backend's debug line or a traceback that carries it is redacted, whether this process stored
    the item (turned on) or read it (an unattended unlock after a restart)."""
    path = tmp_path / "vault.sdv"
    v = vault(path)
    await v.create(PW)
    await v.enable_unattended()
    text = item(path)
    assert text is not None and text.startswith(PREFIX)
    line = f"keyring: set_password(..., {text!r})"
    assert text[len(PREFIX) :] not in logs.redact(line)
    logs.forget_secret(text[len(PREFIX) :])  # as in a restarted process, which only reads it
    assert await vault(path).unlock_unattended() is None
    assert text[len(PREFIX) :] not in logs.redact(line)
    assert logs.redact("the format is sidedesk-v1:") == "the format is sidedesk-v1:"
