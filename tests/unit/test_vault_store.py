"""The store: atomic replace with a backup, permissions, one writer, a refused folder."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidedesk.vault.store import (
    STEPS,
    Throttle,
    VaultBusy,
    VaultChanged,
    VaultExists,
    VaultStore,
    VaultWriteError,
    digest,
    file_lock,
)


@contextlib.contextmanager
def read_only_folder(folder: Path) -> Iterator[None]:
    """Make `folder` unwritable for this process: chmod for a user; root ignores modes, so chattr +i."""
    if os.name != "posix":
        pytest.skip("Windows has no POSIX folder modes; its ACL case is not built")
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    if (
        shutil.which("chattr") is None
        or subprocess.run(["chattr", "+i", str(folder)], check=False).returncode
    ):
        pytest.skip(
            "root ignores folder modes, and this filesystem refuses chattr +i (tmpfs, overlay): "
            "nothing else can make a folder unwritable for root"
        )
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_write_keeps_backup_and_private_modes(tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "data" / "vault.sdv")
    d1 = store.write(b"one", expect=None)
    d2 = store.write(b"two", expect=d1)
    assert store.read() == b"two" and store.read_backup() == b"one" and d2 == digest(b"two")
    if os.name == "posix":
        assert stat.S_IMODE(store.folder.stat().st_mode) == 0o700
        for f in (store.path, store.backup, store.lock_path):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert not list(store.folder.glob("*.tmp"))


def test_create_refuses_an_existing_vault(tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "vault.sdv")
    store.write(b"one", expect=None)
    with pytest.raises(VaultExists):
        store.write(b"other", expect=None)
    assert store.read() == b"one"


def test_second_writer_is_refused_while_the_lock_is_held(tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "vault.sdv", lock_timeout_s=0.1)
    d1 = store.write(b"one", expect=None)
    busy = f"another Sidedesk process is writing the vault \\(pid {os.getpid()}\\)"
    # another writer (a separate open file) holds it
    with file_lock(store.lock_path, 1.0), pytest.raises(VaultBusy, match=busy):
        store.write(b"two", expect=d1)
    assert store.read() == b"one"
    store.write(b"two", expect=d1)  # released: works again
    assert store.read() == b"two"


def test_stale_writer_is_refused(tmp_path: Path) -> None:
    a = VaultStore(tmp_path / "vault.sdv")
    b = VaultStore(tmp_path / "vault.sdv")
    base = a.write(b"one", expect=None)
    a.write(b"two-from-a", expect=base)
    with pytest.raises(VaultChanged, match="changed by another Sidedesk process"):
        b.write(b"two-from-b", expect=base)
    assert a.read() == b"two-from-a"


@pytest.mark.parametrize("step", STEPS)
def test_failure_after_each_step_leaves_old_or_new(tmp_path: Path, step: str) -> None:
    store = VaultStore(tmp_path / "vault.sdv")
    d1 = store.write(b"old", expect=None)

    def fail(at: str) -> None:
        if at == step:
            raise OSError(errno.ENOSPC, "No space left on device")

    store.after_step = fail
    with pytest.raises(VaultWriteError, match="No space left on device"):
        store.write(b"new", expect=d1)
    assert store.read() in (b"old", b"new")
    if STEPS.index(step) < STEPS.index("rename"):
        assert store.read() == b"old"
    assert not list(tmp_path.glob("*.tmp"))  # cleaned up on the error path
    store.after_step = lambda at: None
    store.write(b"newer", expect=digest(store.read()))  # the lock was released
    assert store.read() == b"newer"


def test_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    store = VaultStore(tmp_path / "data" / "vault.sdv")
    with pytest.raises(VaultWriteError, match="cannot write the vault in"):
        store.write(b"x", expect=None)


def test_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "data" / "vault.sdv")
    d1 = store.write(b"one", expect=None)
    with read_only_folder(store.folder):
        with pytest.raises(VaultWriteError, match=r"cannot write the vault in .*unchanged"):
            store.write(b"two", expect=d1)
        assert store.read() == b"one"
    store.write(b"two", expect=d1)
    assert store.read() == b"two"


def test_throttle_grows_and_persists(tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "vault.sdv")
    assert [Throttle(n, 0).delay() for n in range(7)] == [0, 0, 1, 2, 4, 8, 16]
    assert Throttle(40, 0).delay() == Throttle.MAX_DELAY_S
    store.save_throttle(Throttle(3, 1000.0))
    again = VaultStore(tmp_path / "vault.sdv").load_throttle()
    assert again == Throttle(3, 1000.0)
    assert again.retry_after(1001.0) == 1.0
    assert again.retry_after(500.0) == 2.0  # clock set back: never shorter than the delay
    store.save_throttle(Throttle())
    assert not store.throttle_path.exists()
    store.throttle_path.write_text("{broken")
    assert store.load_throttle() == Throttle()


@pytest.mark.skipif(sys.platform == "win32", reason="flock semantics")
def test_lock_file_is_never_deleted(tmp_path: Path) -> None:
    store = VaultStore(tmp_path / "vault.sdv")
    store.write(b"x", expect=None)
    assert store.lock_path.exists()
