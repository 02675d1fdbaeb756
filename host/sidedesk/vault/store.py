"""The vault on disk: atomic replace, a backup of the previous version, one writer at a time.

Every write: take the lock file (so a second host cannot interleave), check that the file is
still the one this process last read (so a host holding a stale copy cannot overwrite another's
change), copy the current file to `.bak` (temp, fsync, rename), then write the new one the same
way and fsync the folder. A process killed after any step leaves `vault.sdv` with either the old
or the new contents; stray temp files are ignored by readers and removed by the next writer.

`after_step` is called with each step's name once it is done; the tests use it to kill a
writer process at every point.

The wrong-password counter (`vault.sdv.throttle`) is read and rewritten under the same lock at
every password attempt (`update_throttle`); the decisions themselves are in `throttle`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sidedesk.store.config import write_json_atomic
from sidedesk.store.paths import ensure_private_dir
from sidedesk.vault.throttle import Throttle as Throttle  # re-exported: the counter's state

log = logging.getLogger(__name__)
T = TypeVar("T")

STEPS = (
    "backup_write",
    "backup_fsync",
    "backup_rename",
    "temp_write",
    "temp_fsync",
    "rename",
    "dir_fsync",
)


class VaultStoreError(Exception):
    pass


class VaultBusy(VaultStoreError):
    """Another process holds the writer lock."""


class VaultChanged(VaultStoreError):
    """The file on disk is not the one this process read: another host changed it."""


class VaultExists(VaultStoreError):
    pass


class VaultWriteError(VaultStoreError):
    """The folder or disk refused the write; the vault on disk is unchanged."""


def digest(data: bytes | None) -> bytes | None:
    return None if data is None else hashlib.sha256(data).digest()


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory for fsync; rename is durable there
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(path: Path, timeout_s: float) -> Iterator[None]:
    """Exclusive lock on `path` (created 0600, never deleted: deleting lock files races)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                _try_lock(fd)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK):
                    raise
                if time.monotonic() >= deadline:
                    holder = _read_holder(path)
                    raise VaultBusy(
                        "another Sidedesk process is writing the vault"
                        + (f" (pid {holder})" if holder else "")
                        + "; nothing was changed, try again"
                    ) from None
                time.sleep(0.02)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _read_holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


if os.name == "nt":  # pragma: no cover - exercised on Windows CI
    import msvcrt

    def _try_lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]

else:
    import fcntl

    def _try_lock(fd: int) -> None:
        # flock (not lockf): it conflicts between two open files of one process too.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class VaultStore:
    def __init__(self, path: Path, lock_timeout_s: float = 2.0) -> None:
        self.path = path
        self.backup = path.with_name(path.name + ".bak")
        self.lock_path = path.with_name(path.name + ".lock")
        self.throttle_path = path.with_name(path.name + ".throttle")
        self.lock_timeout_s = lock_timeout_s
        self.after_step: Callable[[str], None] = lambda step: None

    @property
    def folder(self) -> Path:
        return self.path.parent

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def read_backup(self) -> bytes | None:
        try:
            return self.backup.read_bytes()
        except FileNotFoundError:
            return None

    # -- writing ---------------------------------------------------------------------------------
    def write(self, data: bytes, expect: bytes | None) -> bytes:
        """Replace the vault with `data` if the file is still the one whose digest is `expect`
        (None: the vault must not exist yet). Returns the new digest."""
        try:
            ensure_private_dir(self.folder)
            with file_lock(self.lock_path, self.lock_timeout_s):
                current = self.read()
                if current is not None and expect is None:
                    raise VaultExists(f"a vault already exists at {self.path}")
                if digest(current) != expect:
                    raise VaultChanged(
                        "the vault was changed by another Sidedesk process since it was unlocked here; "
                        "nothing was saved: lock it, unlock it again and repeat the change"
                    )
                if current is not None:
                    self._replace(self.backup, current, "backup_")
                self._replace(self.path, data, "")
                self._remove_strays()
        except OSError as exc:
            raise VaultWriteError(self._os_message(exc)) from None
        new = digest(data)
        assert new is not None
        return new

    def restore_backup(self) -> bytes:
        """Put `.bak` back in place; the current (damaged) file is kept as `vault.sdv.damaged-<time>`."""
        try:
            with file_lock(self.lock_path, self.lock_timeout_s):
                data = self.read_backup()
                if data is None:
                    raise VaultStoreError(f"there is no backup ({self.backup.name}) to restore")
                if self.path.exists():
                    keep = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
                    os.replace(self.path, keep)
                    log.warning("kept the damaged vault as %s", keep.name)
                self._replace(self.path, data, "")
        except OSError as exc:
            raise VaultWriteError(self._os_message(exc)) from None
        return data

    def _replace(self, target: Path, data: bytes, prefix: str) -> None:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                self.after_step(prefix + ("write" if prefix else "temp_write"))
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            self.after_step(prefix + ("fsync" if prefix else "temp_fsync"))
            os.replace(tmp, target)
            self.after_step(prefix + "rename")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.folder)
        if not prefix:
            self.after_step("dir_fsync")

    def _remove_strays(self) -> None:
        """Temp files of writers that were killed (we hold the lock, so none is in use)."""
        for stray in self.folder.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stray.unlink()

    def _os_message(self, exc: OSError) -> str:
        reason = exc.strerror or exc.__class__.__name__
        return f"cannot write the vault in {self.folder}: {reason}; the vault on disk is unchanged"

    # -- wrong-password throttle -----------------------------------------------------------------
    def update_throttle(self, step: Callable[[Throttle], tuple[Throttle, T]]) -> tuple[Throttle, T, bool]:
        """Read the wrong-password counter, apply `step` (pure: stored state -> new state and a
        result) and store the new state, all under the writer lock, so that no attempt of another
        process (or of another VaultService in this one) falls between the read and the write.

        Returns the new state, `step`'s result and whether the new state is on disk. Raises
        VaultBusy if another process holds the lock too long. If the lock file cannot be opened
        at all (a read-only folder), the step is applied without the lock, as best it can be.
        """
        done: tuple[Throttle, T, bool] | None = None
        try:
            with file_lock(self.lock_path, self.lock_timeout_s):
                done = self._step_throttle(step)
        except OSError as exc:  # VaultBusy is not an OSError: it propagates
            if done is not None:  # only releasing the lock failed
                return done
            log.warning("cannot take the vault lock to count the attempt: %s", exc.strerror)
            done = self._step_throttle(step)
        return done

    def _step_throttle(self, step: Callable[[Throttle], tuple[Throttle, T]]) -> tuple[Throttle, T, bool]:
        current = self.load_throttle()
        new, result = step(current)
        saved = True if new == current else self.save_throttle(new)
        return new, result, saved

    def load_throttle(self) -> Throttle:
        try:
            raw: Any = json.loads(self.throttle_path.read_text(encoding="utf-8"))
            return Throttle(int(raw["failures"]), float(raw["last_failure"]))
        except FileNotFoundError:
            return Throttle()
        except (OSError, ValueError, KeyError, TypeError):
            log.warning(
                "the wrong-password counter %s is unreadable; starting from zero", self.throttle_path.name
            )
            return Throttle()

    def save_throttle(self, throttle: Throttle) -> bool:
        """Store the counter (no file means zero). False, after a warning, if the folder refused."""
        try:
            if throttle.failures == 0:
                self.throttle_path.unlink(missing_ok=True)
            else:
                write_json_atomic(
                    self.throttle_path, {"failures": throttle.failures, "last_failure": throttle.last_failure}
                )
        except OSError as exc:
            log.warning("could not persist the wrong-password counter: %s", exc.strerror)
            return False
        return True
