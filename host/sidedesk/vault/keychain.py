"""The OS keychain item behind unattended unlock, through the `keyring` library: the Secret
Service on Linux (GNOME Keyring, KWallet, KeePassXC), the login Keychain on macOS, the Credential
Locker on Windows. It holds one random 256-bit key per OS user and vault file, which opens the
vault's keychain slot (vault/format.py); the vault's own password never goes there.

Every call is bounded: a keychain that waits for a prompt nobody sees (a locked collection on a
headless session) is reported as an error after `TIMEOUT_S`, and the service carries on locked.
The key is never logged, and no error message carries it or the item's contents.
"""

from __future__ import annotations

import base64
import binascii
import getpass
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sidedesk import logs

SERVICE_NAME = "Sidedesk vault unattended unlock"
PREFIX = "sidedesk-v1:"
KEY_LEN = 32
TIMEOUT_S = 10.0
# backends that are no keychain: nothing (fail, null) or a file in the clear (keyrings.alt)
_NOT_A_KEYCHAIN = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")
T = TypeVar("T")


class KeychainError(Exception):
    """The OS keychain refused, is missing or did not answer. The message says which, never a key."""


class Keychain(Protocol):
    """Where the unattended-unlock key of one vault lives."""

    def load(self) -> bytes | None: ...  # None: there is no item

    def save(self, key: bytes) -> None: ...

    def delete(self) -> bool: ...  # False: there was no item

    def describe(self) -> str: ...


def item_name(vault_path: Path) -> str:
    """One item per OS user and vault file (two vaults, or two users of one keychain, never share)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in the environment or the user database
        user = "unknown-user"
    return f"{user}@{vault_path.expanduser().resolve()}"


def encode_key(key: bytes) -> str:
    if len(key) != KEY_LEN:
        raise ValueError("the unattended-unlock key is 32 bytes")
    return PREFIX + base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    """The key stored in an item; KeychainError if the item holds something else."""
    bad = KeychainError(
        "the OS keychain item for this vault does not hold a Sidedesk key (it was changed or damaged): "
        "turn unattended unlock off and on again in Setup"
    )
    if not text.startswith(PREFIX):
        raise bad
    try:
        key = base64.urlsafe_b64decode(text[len(PREFIX) :].encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise bad from None
    if len(key) != KEY_LEN:
        raise bad
    return key


def _redacted(text: str) -> None:
    """The key's encoded text, as the keychain holds it, is redacted from every log (a keyring
    backend's debug line or a traceback could carry it). The prefix is left out: alone it is no
    secret, and as a redactor piece it would hide every mention of the format."""
    logs.register_secret(text.removeprefix(PREFIX))


def bounded(fn: Callable[[], T], what: str, timeout_s: float = TIMEOUT_S) -> T:
    """`fn()` in a daemon thread, waited for at most `timeout_s`; a hung keychain call is left
    behind (it cannot be cancelled) rather than holding up the caller or the process's exit."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(1)

    def run() -> None:
        try:
            box.put((True, fn()))
        except BaseException as exc:  # handed to the caller below
            box.put((False, exc))

    threading.Thread(target=run, name="keychain", daemon=True).start()
    try:
        ok, value = box.get(timeout=timeout_s)
    except queue.Empty:
        raise KeychainError(
            f"the OS keychain did not answer within {timeout_s:.0f} s ({what}); "
            "it may be locked and waiting for a password prompt"
        ) from None
    if ok:
        return value  # type: ignore[no-any-return]
    if isinstance(value, KeychainError):
        raise value
    # keyring's own errors (locked, no backend, D-Bus down) name the problem, never a secret
    detail = str(value).splitlines()[0][:200] if str(value) else ""
    raise KeychainError(
        f"the OS keychain refused to {what}: {type(value).__name__}" + (f" ({detail})" if detail else "")
    ) from None


def _usable(backend: Any) -> bool:
    inner = getattr(backend, "backends", None)  # the chainer: usable if any of its backends is
    candidates = list(inner) if inner else [backend]
    return any(not type(b).__module__.startswith(_NOT_A_KEYCHAIN) for b in candidates)


class OsKeychain:
    """The item of one vault file in the keychain `keyring` finds for this OS user."""

    def __init__(self, vault_path: Path, timeout_s: float = TIMEOUT_S) -> None:
        self.name = item_name(vault_path)
        self.timeout_s = timeout_s

    def _backend(self) -> Any:
        import keyring.core  # deferred: only unattended unlock needs it (and its D-Bus client)

        backend = keyring.get_keyring()
        if not _usable(backend):
            # keyring chooses once per process: a service started before the session bus (or the
            # keychain) was up looks again rather than keep the "none" it found then
            keyring.core.init_backend()
            backend = keyring.get_keyring()
        if not _usable(backend):
            raise KeychainError(
                "no OS keychain is available to this process (on Linux: a Secret Service such as "
                "GNOME Keyring or KWallet, reached over the session D-Bus)"
            )
        return backend

    def describe(self) -> str:
        try:
            return str(bounded(lambda: self._backend().name, "name itself", self.timeout_s))
        except KeychainError:
            return "none"

    def load(self) -> bytes | None:
        def get() -> str | None:
            value = self._backend().get_password(SERVICE_NAME, self.name)
            return None if value is None else str(value)

        text = bounded(get, "read the vault's key", self.timeout_s)
        if text is None:
            return None
        _redacted(text)
        return decode_key(text)

    def save(self, key: bytes) -> None:
        text = encode_key(key)
        _redacted(text)
        bounded(
            lambda: self._backend().set_password(SERVICE_NAME, self.name, text),
            "store the key",
            self.timeout_s,
        )

    def delete(self) -> bool:
        def remove() -> bool:
            backend = self._backend()
            if backend.get_password(SERVICE_NAME, self.name) is None:
                return False
            backend.delete_password(SERVICE_NAME, self.name)
            return True

        return bounded(remove, "delete the key", self.timeout_s)
