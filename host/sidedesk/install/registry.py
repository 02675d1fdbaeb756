"""Windows registry access behind a small backend, so tests run against a dict on any OS.

Chrome looks up `Software\\<browser>\\NativeMessagingHosts\\<name>` in HKCU (unless policy forbids
user-level hosts), then HKLM, and in each hive the 32-bit view before the 64-bit one; the first
hit wins and its default value must be the absolute path of the manifest (research/chrome.md §2.2).
HKCU\\Software is shared by both views since Windows 7, so user installs write once (64-bit
view); HKLM\\Software is redirected, so system installs write both views, which also stops a
stale 32-bit entry from shadowing ours. Uninstall deletes from both views in either hive.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Literal, Protocol

if sys.platform == "win32":
    import winreg

Hive = Literal["HKCU", "HKLM"]
View = Literal["32", "64"]
RegValue = str | int | list[str]


def views_to_write(hive: Hive) -> tuple[View, ...]:
    return ("64",) if hive == "HKCU" else ("32", "64")


VIEWS_TO_DELETE: tuple[View, ...] = ("32", "64")


class RegistryBackend(Protocol):
    def set_default(self, hive: Hive, view: View, key: str, value: str) -> None: ...

    def get_default(self, hive: Hive, view: View, key: str) -> str | None: ...

    def delete_key(self, hive: Hive, view: View, key: str) -> bool:
        """Delete a key without subkeys; False when it was not there."""
        ...

    def read_values(self, hive: Hive, view: View, key: str) -> dict[str, RegValue] | None:
        """Every named value of a key (policies), None when the key does not exist."""
        ...


@dataclass
class FakeRegistry:
    """A dict-backed registry with Windows' view semantics for HKCU/HKLM\\Software."""

    keys: dict[tuple[str, str, str], dict[str, RegValue]] = field(default_factory=dict)

    @staticmethod
    def _slot(hive: Hive, view: View, key: str) -> tuple[str, str, str]:
        # HKCU is not redirected: both views name the same key. Key names are case-insensitive.
        return (hive, "shared" if hive == "HKCU" else view, key.lower())

    def set_default(self, hive: Hive, view: View, key: str, value: str) -> None:
        self.keys.setdefault(self._slot(hive, view, key), {})[""] = value

    def set_value(self, hive: Hive, view: View, key: str, name: str, value: RegValue) -> None:
        self.keys.setdefault(self._slot(hive, view, key), {})[name] = value

    def get_default(self, hive: Hive, view: View, key: str) -> str | None:
        value = self.keys.get(self._slot(hive, view, key), {}).get("")
        return value if isinstance(value, str) else None

    def delete_key(self, hive: Hive, view: View, key: str) -> bool:
        return self.keys.pop(self._slot(hive, view, key), None) is not None

    def read_values(self, hive: Hive, view: View, key: str) -> dict[str, RegValue] | None:
        values = self.keys.get(self._slot(hive, view, key))
        return None if values is None else {k: v for k, v in values.items() if k}


_NOT_WINDOWS = "the Windows registry is only available on Windows"


class WinregBackend:
    """The real registry through `winreg` (Windows only; elsewhere every call raises OSError)."""

    def set_default(self, hive: Hive, view: View, key: str, value: str) -> None:
        if sys.platform == "win32":
            with winreg.CreateKeyEx(_root(hive), key, 0, winreg.KEY_SET_VALUE | _view_flag(view)) as k:
                winreg.SetValueEx(k, "", 0, winreg.REG_SZ, value)
            return
        raise OSError(_NOT_WINDOWS)

    def get_default(self, hive: Hive, view: View, key: str) -> str | None:
        if sys.platform == "win32":
            try:
                with winreg.OpenKeyEx(_root(hive), key, 0, winreg.KEY_READ | _view_flag(view)) as k:
                    value, kind = winreg.QueryValueEx(k, "")
            except FileNotFoundError:
                return None
            return value if kind in (winreg.REG_SZ, winreg.REG_EXPAND_SZ) and isinstance(value, str) else None
        raise OSError(_NOT_WINDOWS)

    def delete_key(self, hive: Hive, view: View, key: str) -> bool:
        if sys.platform == "win32":
            try:
                winreg.DeleteKeyEx(_root(hive), key, _view_flag(view), 0)
            except FileNotFoundError:
                return False
            return True
        raise OSError(_NOT_WINDOWS)

    def read_values(self, hive: Hive, view: View, key: str) -> dict[str, RegValue] | None:
        if sys.platform == "win32":
            try:
                k = winreg.OpenKeyEx(_root(hive), key, 0, winreg.KEY_READ | _view_flag(view))
            except FileNotFoundError:
                return None
            out: dict[str, RegValue] = {}
            with k:
                i = 0
                while True:
                    try:
                        name, value, _kind = winreg.EnumValue(k, i)
                    except OSError:
                        break
                    if name and isinstance(value, str | int | list):
                        out[name] = value
                    i += 1
            return out
        raise OSError(_NOT_WINDOWS)


if sys.platform == "win32":

    def _root(hive: Hive) -> int:
        return winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE

    def _view_flag(view: View) -> int:
        return winreg.KEY_WOW64_32KEY if view == "32" else winreg.KEY_WOW64_64KEY


def default_backend() -> RegistryBackend:
    return WinregBackend()
