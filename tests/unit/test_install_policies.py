"""Enterprise policies that block native messaging: evaluation and where they are read."""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

from sidedesk.identity import NATIVE_HOST_NAME
from sidedesk.install import policies
from sidedesk.install.browsers import BY_NAME, Platform
from sidedesk.install.registry import FakeRegistry


def ev(policy: dict[str, object], user_level: bool = True) -> list[tuple[str, str]]:
    found = policies.evaluate(
        policy, NATIVE_HOST_NAME, user_level_in_use=user_level, browser="chrome", source="s"
    )
    return [(f.level, f.message) for f in found]


def test_blocklist_star_blocks_unless_allowlisted() -> None:
    [(level, message)] = ev({"NativeMessagingBlocklist": ["*"]})
    assert (
        level == "error" and "blocks every native host" in message and "NativeMessagingAllowlist" in message
    )
    assert ev({"NativeMessagingBlocklist": ["*"], "NativeMessagingAllowlist": [NATIVE_HOST_NAME]}) == []
    [(level, message)] = ev({"NativeMessagingBlocklist": [NATIVE_HOST_NAME]})
    assert f"blocks {NATIVE_HOST_NAME}" in message
    assert ev({"NativeMessagingBlocklist": ["com.other.host"]}) == []


def test_user_level_hosts_off_is_an_error_only_for_user_installs() -> None:
    [(level, message)] = ev({"NativeMessagingUserLevelHosts": False})
    assert level == "error" and "--system" in message
    [(level, _)] = ev({"NativeMessagingUserLevelHosts": 0}, user_level=False)
    assert level == "warn"
    assert ev({"NativeMessagingUserLevelHosts": True}) == []


def test_linux_policy_files_are_merged_and_broken_ones_reported(tmp_path: Path) -> None:
    platform = Platform("linux", tmp_path / "home", tmp_path / "home/.config", root=tmp_path)
    managed = tmp_path / "etc/opt/chrome/policies/managed"
    managed.mkdir(parents=True)
    (managed / "a.json").write_text(json.dumps({"NativeMessagingBlocklist": ["*"], "HomepageLocation": "x"}))
    (managed / "b.json").write_text("{broken")
    merged, sources, bad = policies.read_linux(BY_NAME["chrome"], platform)
    assert merged == {"NativeMessagingBlocklist": ["*"]}
    assert sources == [str(managed / "a.json")]
    assert bad == [str(managed / "b.json")]
    assert policies.read_linux(BY_NAME["edge"], platform) == ({}, [], [])


def test_macos_managed_preferences(tmp_path: Path) -> None:
    platform = Platform("darwin", tmp_path / "Users/u", tmp_path / "x", root=tmp_path)
    folder = tmp_path / "Library/Managed Preferences/u"
    folder.mkdir(parents=True)
    (folder / "com.google.Chrome.plist").write_bytes(plistlib.dumps({"NativeMessagingUserLevelHosts": False}))
    merged, sources, _ = policies.read_mac(BY_NAME["chrome"], platform, "u")
    assert merged == {"NativeMessagingUserLevelHosts": False}
    assert sources and sources[0].endswith("com.google.Chrome.plist")


def test_windows_policy_keys_through_the_registry_backend() -> None:
    reg = FakeRegistry()
    reg.set_value("HKLM", "64", "Software\\Policies\\Microsoft\\Edge\\NativeMessagingBlocklist", "1", "*")
    reg.set_value("HKCU", "64", "Software\\Policies\\Microsoft\\Edge", "NativeMessagingUserLevelHosts", 0)
    merged, sources, _ = policies.read_windows(BY_NAME["edge"], reg)
    assert merged == {"NativeMessagingUserLevelHosts": 0, "NativeMessagingBlocklist": {"1": "*"}}
    assert sources == [
        "HKCU\\Software\\Policies\\Microsoft\\Edge",
        "HKLM\\Software\\Policies\\Microsoft\\Edge",
    ]
    found = policies.evaluate(merged, NATIVE_HOST_NAME, user_level_in_use=True, browser="edge", source="x")
    assert [f.level for f in found] == ["error", "error"]
