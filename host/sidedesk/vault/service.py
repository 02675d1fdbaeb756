"""`VaultService`: the vault's state machine (absent / locked / unlocked) and its operations.

The slow parts (the KDF, fsync) run in worker threads so the host's loop keeps serving; one
asyncio lock serialises the operations of this process, the store's lock file those of other
processes. While unlocked the service holds the derived keys (in a bytearray, wiped on lock) and
the parsed entries; every secret is registered with the log redactor and forgotten on lock.
Python cannot promise that no copy of a str survives in freed memory (pyca/cryptography #4409),
so locking drops every reference we own and nothing more is claimed.

Wrong passwords: every attempt (unlock, change password) first asks the counter on disk, under
the writer lock, whether a password may be tried now (`throttle.begin`), and is counted there
before the key derivation runs; during the wait it is refused with the time left, before the KDF
and without looking at the password. The counter is never cached here, so other hosts and
restarts see and extend the same one; only the right password (after the wait) resets it.

Unattended unlock (opt-in): a second key slot wraps the data key with a random key kept in the
OS keychain (vault/keychain.py), so a service restarted after a crash or at login opens the
vault without a password (`unlock_unattended`). It is not a password attempt: it neither counts
nor waits. Changing the password rewraps only the password slot, so it keeps working.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from sidedesk import logs
from sidedesk.vault import format as fmt
from sidedesk.vault import strength, throttle
from sidedesk.vault.entries import (
    AnyEntry,
    EntryInvalid,
    EntrySummary,
    merge_update,
    parse_entry,
    secret_values,
    summarize,
    to_storage,
)
from sidedesk.vault.kdf import KdfParams, default_params, derive, password_bytes
from sidedesk.vault.keychain import Keychain, KeychainError
from sidedesk.vault.store import VaultBusy, VaultStore, digest
from sidedesk.vault.throttle import Throttle

log = logging.getLogger(__name__)

State = Literal["absent", "locked", "unlocked"]
DEFAULT_AUTOLOCK_S = 15 * 60.0
BODY_VERSION = 1
UNATTENDED_OFF = "unattended unlock is off"
T = TypeVar("T")


class VaultError(Exception):
    pass


class VaultAbsent(VaultError):
    def __init__(self) -> None:
        super().__init__("there is no vault yet: create one first")


class VaultIsLocked(VaultError):
    def __init__(self) -> None:
        super().__init__("the vault is locked: unlock it first")


class TooManyAttempts(VaultError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many wrong passwords; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class WeakPassword(VaultError):
    pass


class UnattendedUnavailable(VaultError):
    """The OS keychain cannot hold the key (missing, locked, refused): nothing was changed."""


class EntryNotFound(VaultError):
    def __init__(self, entry_id: str) -> None:
        super().__init__(f"no vault entry with id {entry_id!r}")


@dataclass
class _Open:
    """What an unlocked vault holds."""

    params: KdfParams
    salt: bytes
    data_key: bytearray  # what the body is encrypted under (format.split_key)
    slots: fmt.Slots  # each wraps `data_key`: the password's, and the keychain's when on
    digest: bytes  # of the file as last read or written here
    entries: dict[str, AnyEntry]
    # Named records that are not broker accounts (e.g. "localstream.tokens"): JSON values stored
    # beside the entries in the same encrypted body, never listed as accounts.
    items: dict[str, Any] = field(default_factory=dict)

    def split(self) -> fmt.Keys:
        return fmt.split_key(bytes(self.data_key))


def _ceil(seconds: float) -> int:
    return max(1, math.ceil(seconds)) if seconds > 0 else 0


class VaultService:
    def __init__(
        self,
        path: Path,
        *,
        kdf: KdfParams | None = None,
        autolock_s: float = DEFAULT_AUTOLOCK_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        lock_timeout_s: float = 2.0,
        keychain: Keychain | None = None,
    ) -> None:
        self.store = VaultStore(path, lock_timeout_s)
        self.keychain = keychain
        self.kdf = kdf or default_params()
        self.kdf.check()
        self.autolock_s = autolock_s
        self.clock = clock
        self.wall = wall
        self._open: _Open | None = None
        self._mutex = asyncio.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._registered: set[str] = set()
        self._last_activity = clock()
        self._timer: asyncio.TimerHandle | None = None
        # The counter lives in the store's file; this is only the state this process could not
        # write there (a read-only folder), so that the delay still holds within this process.
        self._unsaved: Throttle | None = None
        # Why the last unattended unlock failed while it is on (shown in Setup), else None.
        self.unattended_error: str | None = None

    # -- state -----------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def state(self) -> State:
        if self._open is not None:
            return "unlocked"
        return "locked" if self.store.exists() else "absent"

    def add_listener(self, fn: Callable[[], None]) -> None:
        """`fn()` after every state change (unlock, lock, auto-lock, entries changed)."""
        self._listeners.append(fn)

    def _changed(self) -> None:
        for fn in self._listeners:
            try:
                fn()
            except Exception:
                log.exception("vault listener failed")

    def retry_after(self) -> int:
        """Seconds before a password may be tried, as the counter on disk says now."""
        return _ceil(self._throttle_state(self.store.load_throttle()).retry_after(self.wall()))

    def summary(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "path": str(self.path),
            "autolock_s": self.autolock_s,
            "entries": len(self._open.entries) if self._open else None,
            "kdf": self._open.params.describe() if self._open else None,
            "backup": self.store.backup.exists(),
            "retry_after_s": self.retry_after(),
            "unattended": self.unattended,
            "unattended_error": self.unattended_error,
        }

    @property
    def unattended(self) -> bool:
        """Whether the vault has a keychain slot (unattended unlock is on). Readable while locked:
        the slot flag is in the header."""
        if self._open is not None:
            return self._open.slots.keychain is not None
        data = self.store.read()
        if data is None:
            return False
        try:
            slots = fmt.decode_header(data).slots
        except fmt.VaultFormatError:
            return False
        return slots is not None and slots.keychain is not None

    # -- activity and auto-lock ------------------------------------------------------------------
    def touch(self) -> None:
        """User activity: pushes the auto-lock back."""
        self._last_activity = self.clock()
        self._arm()

    def note_activity(self) -> None:
        """Activity on a hot path (an order): no timer re-armed now; the auto-lock's timer, when
        it fires, finds the later activity and waits again."""
        self._last_activity = self.clock()

    def idle_remaining(self) -> float:
        return max(0.0, self._last_activity + self.autolock_s - self.clock())

    def check_idle(self) -> bool:
        """Lock if idle for `autolock_s`; True if it locked now."""
        if self._open is not None and self.idle_remaining() <= 0:
            log.info("vault auto-locked after %.0f s idle", self.autolock_s)
            self.lock()
            return True
        self._arm()
        return False

    def set_autolock(self, seconds: float) -> None:
        self.autolock_s = seconds
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._open is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (CLI): no timer, the process is short-lived
            return
        self._timer = loop.call_later(self.idle_remaining() + 0.01, self.check_idle)

    # -- password operations ---------------------------------------------------------------------
    async def create(self, password: str) -> None:
        async with self._mutex:
            if self.store.exists():
                raise VaultError(f"a vault already exists at {self.path}; unlock it instead")
            self._require_strong(password)
            salt = os.urandom(fmt.SALT_LEN)
            master = await self._derive(self.kdf, salt, password)
            data_key = os.urandom(fmt.KEY_LEN)
            slots = fmt.Slots(fmt.password_slot(master, data_key))
            opened = _Open(self.kdf, salt, bytearray(data_key), slots, b"", {})
            opened.digest = await self._persist(opened, {}, expect=None)
            self._set_open(opened)
            log.info("vault created (%s)", self.kdf.describe())

    async def unlock(self, password: str) -> None:
        async with self._mutex:
            data, header, counted = await self._begin_attempt()
            master, data_key = await self._check_password(header, password, counted)
            entries, items = self._open_body(header, data_key, data)
            if header.slots is None:  # version 1: written as version 2, under a new data key, next time
                data_key = os.urandom(fmt.KEY_LEN)
                slots = fmt.Slots(fmt.password_slot(master, data_key))
            else:
                slots = header.slots
            opened = _Open(header.params, header.salt, bytearray(data_key), slots, fmt_digest(data), entries)
            opened.items = items
            self._set_open(opened)
            log.info("vault unlocked (%d entries)", len(entries))

    def lock(self) -> None:
        if self._open is None:
            return
        self._wipe(self._open)
        self._open = None
        self._sync_redaction({})
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        log.info("vault locked")
        self._changed()

    async def change_password(self, old: str, new: str) -> None:
        async with self._mutex:
            data, header, counted = await self._begin_attempt()
            _, data_key = await self._check_password(header, old, counted)
            entries, items = self._open_body(header, data_key, data)
            self._require_strong(new)
            if new == old:
                raise WeakPassword("the new password is the same as the old one")
            salt = os.urandom(fmt.SALT_LEN)
            new_master = await self._derive(self.kdf, salt, new)
            # Only the password slot changes: the data key, and so the keychain slot, stay valid.
            # A version 1 file had the old password's key as its data key: it gets a new one.
            keychain = header.slots.keychain if header.slots is not None else None
            if header.slots is None:
                data_key = os.urandom(fmt.KEY_LEN)
            slots = fmt.Slots(fmt.password_slot(new_master, data_key), keychain)
            opened = _Open(self.kdf, salt, bytearray(data_key), slots, fmt_digest(data), entries, items)
            opened.digest = await self._persist(opened, entries, expect=fmt_digest(data))
            self._set_open(opened)
            log.info("vault password changed (%s)", self.kdf.describe())

    # -- unattended unlock (the keychain slot) ----------------------------------------------------
    def _need_keychain(self) -> Keychain:
        if self.keychain is None:
            raise UnattendedUnavailable("unattended unlock is not available in this process")
        return self.keychain

    async def enable_unattended(self) -> None:
        """Add (or renew) the keychain slot: a fresh random key, stored in the OS keychain first,
        then the vault rewritten with the slot. Needs the vault unlocked. If either step fails,
        the other is undone and the vault on disk keeps what it had."""
        async with self._mutex:
            opened = self._need_open()
            keychain = self._need_keychain()
            key = os.urandom(fmt.KEY_LEN)
            slots = fmt.Slots(
                opened.slots.password, fmt.wrap(key, bytes(opened.data_key), fmt.KEYCHAIN_LABEL)
            )
            try:
                await asyncio.to_thread(keychain.save, key)
            except KeychainError as exc:
                raise UnattendedUnavailable(f"unattended unlock stays off: {exc}") from None
            try:
                opened.digest = await self._persist(opened, opened.entries, expect=opened.digest, slots=slots)
            except BaseException:
                try:
                    await asyncio.to_thread(keychain.delete)
                except KeychainError as exc:
                    log.warning("could not take the unused key back out of the OS keychain: %s", exc)
                raise
            opened.slots = slots
            self.unattended_error = None
            log.info("unattended unlock on (key kept in %s)", keychain.describe())
            self._changed()

    async def disable_unattended(self) -> str | None:
        """Remove the keychain slot from the vault, then the item from the OS keychain. Needs the
        vault unlocked. Returns a warning if the item could not be deleted (the slot is gone
        anyway, so the item opens nothing written from now on)."""
        async with self._mutex:
            opened = self._need_open()
            keychain = self._need_keychain()
            if opened.slots.keychain is not None:
                slots = fmt.Slots(opened.slots.password)
                opened.digest = await self._persist(opened, opened.entries, expect=opened.digest, slots=slots)
                opened.slots = slots
            warning = None
            try:
                await asyncio.to_thread(keychain.delete)
            except KeychainError as exc:
                warning = f"the key slot is removed, but the OS keychain item was not deleted: {exc}"
                log.warning("%s", warning)
            self.unattended_error = None
            log.info("unattended unlock off")
            self._changed()
            return warning

    async def unlock_unattended(self) -> str | None:
        """Open the vault with the key in the OS keychain, as a service does when it starts.
        Returns None once the vault is open, otherwise why it stays locked (the password still
        opens it). Never raises: a missing, damaged or unreachable keychain is only a reason."""
        reason = await self._unlock_unattended()
        failed = reason is not None and reason != UNATTENDED_OFF and self.store.exists()
        previous, self.unattended_error = self.unattended_error, reason if failed else None
        if failed and reason != previous:  # a service retrying says each reason once
            log.warning("unattended unlock failed: %s", reason)
            self._changed()
        return reason

    async def _unlock_unattended(self) -> str | None:
        async with self._mutex:
            if self._open is not None:
                return None
            try:
                data = await asyncio.to_thread(self.store.read)
                if data is None:
                    return "there is no vault yet"
                header = fmt.decode_header(data)
                if header.slots is None or header.slots.keychain is None:
                    return UNATTENDED_OFF
                if self.keychain is None:
                    return "unattended unlock is not available in this process"
                key = await asyncio.to_thread(self.keychain.load)
                if key is None:
                    return (
                        "unattended unlock is on, but its key is missing from the OS keychain: "
                        "unlock with the password, then turn unattended unlock off and on again"
                    )
                data_key = fmt.data_key_from_keychain(header, key)
                entries, items = self._open_body(header, data_key, data)
            except fmt.SlotMismatch:
                return (
                    "the key in the OS keychain does not open this vault (it belongs to an older copy): "
                    "unlock with the password, then turn unattended unlock off and on again"
                )
            except KeychainError as exc:
                return str(exc)
            except (fmt.VaultFormatError, OSError) as exc:
                return f"the vault cannot be read: {exc}"
            opened = _Open(
                header.params, header.salt, bytearray(data_key), header.slots, fmt_digest(data), entries
            )
            opened.items = items
            self._set_open(opened)
            log.info("vault unlocked with the key in the OS keychain (unattended unlock)")
            return None

    # -- entries ---------------------------------------------------------------------------------
    def entries(self) -> list[EntrySummary]:
        opened = self._need_open()
        return [
            summarize(e) for e in sorted(opened.entries.values(), key=lambda e: (e.broker, e.name.lower()))
        ]

    def get_entry(self, entry_id: str) -> AnyEntry:
        """The full entry, secrets included, for broker adapters inside the host. Never reply with it."""
        opened = self._need_open()
        entry = opened.entries.get(entry_id)
        if entry is None:
            raise EntryNotFound(entry_id)
        return entry

    async def put(self, data: Mapping[str, Any]) -> EntrySummary:
        """Add an entry, or update the one with `data["id"]` (omitted secrets keep their stored value)."""
        async with self._mutex:
            opened = self._need_open()
            existing = opened.entries.get(str(data.get("id"))) if data.get("id") is not None else None
            entry = merge_update(existing, data)
            taken = {e.name.lower() for e in opened.entries.values() if e.id != entry.id}
            if entry.name.lower() in taken:
                raise EntryInvalid([{"field": "name", "problem": "another entry already has this name"}])
            entries = {**opened.entries, entry.id: entry}
            opened.digest = await self._persist(opened, entries, expect=opened.digest)
            opened.entries = entries
            self._sync_redaction(entries)
            log.info("vault entry %s saved (%s)", entry.id, entry.broker)
            self._changed()
            return summarize(entry)

    async def remove(self, entry_id: str) -> None:
        async with self._mutex:
            opened = self._need_open()
            if entry_id not in opened.entries:
                raise EntryNotFound(entry_id)
            entries = {k: v for k, v in opened.entries.items() if k != entry_id}
            opened.digest = await self._persist(opened, entries, expect=opened.digest)
            opened.entries = entries
            self._sync_redaction(entries)
            log.info("vault entry %s removed", entry_id)
            self._changed()

    # -- named items (records that are not broker accounts) ---------------------------------------
    def item(self, name: str) -> Any:
        """The stored JSON value of item `name`, or None. Needs the vault unlocked."""
        return self._need_open().items.get(name)

    async def put_item(self, name: str, value: Any) -> None:
        """Store (or, with None, delete) item `name`. The value must be JSON-serialisable; its
        owner decides what it may hold (the local stream keeps token digests, never tokens)."""
        async with self._mutex:
            opened = self._need_open()
            items = {k: v for k, v in opened.items.items() if k != name}
            if value is not None:
                items[name] = value
            opened.digest = await self._persist(opened, opened.entries, expect=opened.digest, items=items)
            opened.items = items
            log.info("vault item %s saved", name)
            self._changed()

    async def restore_backup(self) -> None:
        """Replace a damaged vault with `.bak` (checked first); the damaged file is kept aside."""
        async with self._mutex:
            if self._open is not None:
                raise VaultError("the vault is open and readable; there is nothing to restore")
            backup = self.store.read_backup()
            if backup is None:
                raise VaultError(f"there is no backup ({self.store.backup.name}) to restore")
            fmt.decode_header(backup)  # a damaged backup is refused, not installed
            await asyncio.to_thread(self.store.restore_backup)
            log.warning("vault restored from backup")
            self._changed()

    # -- internals -------------------------------------------------------------------------------
    def _need_open(self) -> _Open:
        if self._open is None:
            if not self.store.exists():
                raise VaultAbsent()
            raise VaultIsLocked()
        return self._open

    def _require_strong(self, password: str) -> None:
        reason = strength.problem(password)
        if reason is not None:
            raise WeakPassword(f"password too weak: {reason}")

    async def _derive(self, params: KdfParams, salt: bytes, password: str) -> bytes:
        """The KDF output (it opens the password slot)."""
        pw = password_bytes(password)
        return await asyncio.get_running_loop().run_in_executor(None, derive, params, salt, pw)

    # -- the wrong-password counter (decisions in `throttle`, I/O in the store) ------------------
    def _throttle_state(self, stored: Throttle) -> Throttle:
        return stored if self._unsaved is None else throttle.later(stored, self._unsaved)

    async def _update_throttle(self, step: Callable[[Throttle, float], tuple[Throttle, T]]) -> T:
        """Apply `step(state, now)` to the counter on disk, under the writer lock, `now` read there."""

        def locked(stored: Throttle) -> tuple[Throttle, T]:
            return step(self._throttle_state(stored), self.wall())

        new, result, saved = await asyncio.to_thread(self.store.update_throttle, locked)
        self._unsaved = None if saved or new.failures == 0 else new
        return result

    async def _begin_attempt(self) -> tuple[bytes, fmt.Header, Throttle]:
        """Read the vault, then count this attempt, or refuse it during the wait (before the KDF
        runs, without looking at the password). Returns the counter as it now stands."""
        data = await asyncio.to_thread(self.store.read)
        if data is None:
            raise VaultAbsent()
        header = fmt.decode_header(data)  # a damaged file is not a password attempt

        def step(state: Throttle, now: float) -> tuple[Throttle, throttle.Decision]:
            decision = throttle.begin(state, now)
            return decision.state, decision

        decision = await self._update_throttle(step)
        if not decision.allowed:
            raise TooManyAttempts(_ceil(decision.wait_s))
        return data, header, decision.state

    async def _check_password(
        self, header: fmt.Header, password: str, counted: Throttle
    ) -> tuple[bytes, bytes]:
        """The KDF output and the data key if `password` is the vault's; the counted attempt is
        then reset or kept."""
        master = await self._derive(header.params, header.salt, password)
        try:
            data_key = fmt.data_key_from_password(header, master)
        except fmt.WrongPassword:
            raise fmt.WrongPassword(await self._bad_password(counted)) from None
        await self._good_password()
        return master, data_key

    async def _bad_password(self, counted: Throttle) -> int:
        """The wait starts now; returns it in whole seconds."""

        def step(state: Throttle, now: float) -> tuple[Throttle, tuple[int, float]]:
            new = throttle.failed(state, now)
            return new, (new.failures, new.retry_after(now))

        try:
            failures, wait = await self._update_throttle(step)
        except VaultBusy:  # the attempt is counted already (`counted`), from its start
            failures, wait = counted.failures, counted.retry_after(self.wall())
        log.warning("wrong vault password (%d in a row)", failures)
        self._changed()
        return _ceil(wait)

    async def _good_password(self) -> None:
        try:
            await self._update_throttle(lambda state, now: (throttle.succeeded(), None))
        except VaultBusy:  # the right password opens anyway; the counter keeps one attempt more
            log.warning("could not reset the wrong-password counter: the vault lock is busy")

    def _open_body(
        self, header: fmt.Header, data_key: bytes, data: bytes
    ) -> tuple[dict[str, AnyEntry], dict[str, Any]]:
        plain = fmt.decrypt(
            header, fmt.split_key(data_key), data
        )  # the key was checked: only damage can fail here
        try:
            body = json.loads(plain)
            if not isinstance(body, dict) or body.get("v") != BODY_VERSION:
                raise ValueError("unexpected body")
            items = body.get("items", {})  # absent in vaults written before items existed
            if not isinstance(items, dict):
                raise ValueError("unexpected items")
            return {e.id: e for e in (parse_entry(item) for item in body["entries"])}, items
        except (ValueError, KeyError, TypeError, EntryInvalid):
            # Authenticated but unparseable: written by a buggy or newer build. Never echo it.
            raise fmt.VaultDamaged(
                "the vault decrypted but its contents are not readable by this Sidedesk"
            ) from None

    async def _persist(
        self,
        opened: _Open,
        entries: Mapping[str, AnyEntry],
        expect: bytes | None,
        items: Mapping[str, Any] | None = None,
        slots: fmt.Slots | None = None,
    ) -> bytes:
        body: dict[str, Any] = {"v": BODY_VERSION, "entries": [to_storage(e) for e in entries.values()]}
        items = opened.items if items is None else items
        if items:  # only written when there are some, so a vault without items reads as before
            body["items"] = dict(items)
        plain = json.dumps(body, separators=(",", ":")).encode("utf-8")
        slots = opened.slots if slots is None else slots
        data_key = bytes(opened.data_key)
        data = fmt.encode(opened.params, opened.salt, data_key, slots, plain, os.urandom(fmt.NONCE_LEN))
        return await asyncio.to_thread(self.store.write, data, expect)

    @staticmethod
    def _wipe(opened: _Open) -> None:
        for i in range(len(opened.data_key)):  # best effort: the bytes we own are zeroed
            opened.data_key[i] = 0
        opened.entries.clear()
        opened.items.clear()

    def _set_open(self, opened: _Open) -> None:
        if self._open is not None and self._open is not opened:
            self._wipe(self._open)
        self._open = opened
        self._sync_redaction(opened.entries)
        self.touch()
        self._changed()

    def _sync_redaction(self, entries: Mapping[str, AnyEntry]) -> None:
        """The log redactor knows exactly the secrets of the entries currently held."""
        wanted = {s for e in entries.values() for s in secret_values(e)}
        for gone in self._registered - wanted:
            logs.forget_secret(gone)
        for new in wanted - self._registered:
            logs.register_secret(new)
        self._registered = wanted


def fmt_digest(data: bytes) -> bytes:
    d = digest(data)
    assert d is not None
    return d
