"""Enterprise policies that stop a browser from starting native-messaging hosts.

`NativeMessagingBlocklist` ("*" or our name) blocks the host unless `NativeMessagingAllowlist`
names it; `NativeMessagingUserLevelHosts: false` makes the browser ignore user-level manifests
(and HKCU keys), leaving only system ones. Chrome merges several policy files; we read them all.
Where each browser keeps them: Linux JSON files in `/etc/.../policies/managed/`, macOS managed
preferences plists, Windows `Software\\Policies\\...` in HKLM and HKCU.
"""

from __future__ import annotations

import json
import plistlib
from dataclasses import dataclass
from typing import Any

from sidedesk.install.browsers import Browser, Platform
from sidedesk.install.registry import Hive, RegistryBackend

BLOCKLIST = "NativeMessagingBlocklist"
ALLOWLIST = "NativeMessagingAllowlist"
USER_LEVEL = "NativeMessagingUserLevelHosts"
POLICY_NAMES = (BLOCKLIST, ALLOWLIST, USER_LEVEL)


@dataclass(frozen=True)
class PolicyFinding:
    browser: str
    source: str  # the file or registry key it came from
    level: str  # "error" | "warn"
    message: str


def _names(value: object) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):  # Windows lists are keys with values "1", "2", ...
        return [v for v in value.values() if isinstance(v, str)]
    return []


def evaluate(
    policy: dict[str, Any], host_name: str, *, user_level_in_use: bool, browser: str, source: str
) -> list[PolicyFinding]:
    """What the merged policy of one browser means for our host (pure)."""
    findings: list[PolicyFinding] = []
    blocked = _names(policy.get(BLOCKLIST))
    allowed = _names(policy.get(ALLOWLIST))
    if ("*" in blocked or host_name in blocked) and host_name not in allowed:
        what = "every native host" if "*" in blocked else host_name
        findings.append(
            PolicyFinding(
                browser,
                source,
                "error",
                f"policy {BLOCKLIST} blocks {what}: ask your administrator to add {host_name} to {ALLOWLIST}",
            )
        )
    user_level = policy.get(USER_LEVEL)
    if user_level is False or user_level == 0:
        findings.append(
            PolicyFinding(
                browser,
                source,
                "error" if user_level_in_use else "warn",
                f"policy {USER_LEVEL} is off: the browser ignores per-user registrations; "
                "run `sudo sidedesk install --system` (Windows: as Administrator)",
            )
        )
    return findings


def read_linux(browser: Browser, platform: Platform) -> tuple[dict[str, Any], list[str], list[str]]:
    """Merged policies from every JSON file; returns (policy, sources, unreadable files)."""
    merged: dict[str, Any] = {}
    sources: list[str] = []
    bad: list[str] = []
    for d in browser.linux_policy_dirs:
        folder = platform.system_path(d)
        if not folder.is_dir():
            continue
        for f in sorted(folder.glob("*.json")):
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                bad.append(str(f))
                continue
            if isinstance(data, dict):
                picked = {k: v for k, v in data.items() if k in POLICY_NAMES}
                if picked:
                    merged.update(picked)
                    sources.append(str(f))
    return merged, sources, bad


def read_mac(browser: Browser, platform: Platform, user: str) -> tuple[dict[str, Any], list[str], list[str]]:
    merged: dict[str, Any] = {}
    sources: list[str] = []
    bad: list[str] = []
    base = platform.system_path("/Library/Managed Preferences")
    for domain in browser.mac_policy_domains:
        for f in (base / f"{domain}.plist", base / user / f"{domain}.plist"):
            if not f.is_file():
                continue
            try:
                data = plistlib.loads(f.read_bytes())
            except (OSError, plistlib.InvalidFileException, ValueError):
                bad.append(str(f))
                continue
            if isinstance(data, dict):
                picked = {k: v for k, v in data.items() if k in POLICY_NAMES}
                if picked:
                    merged.update(picked)
                    sources.append(str(f))
    return merged, sources, bad


def read_windows(browser: Browser, registry: RegistryBackend) -> tuple[dict[str, Any], list[str], list[str]]:
    merged: dict[str, Any] = {}
    sources: list[str] = []
    hives: tuple[Hive, ...] = ("HKCU", "HKLM")  # HKLM (machine) wins over HKCU: read it last
    for hive in hives:
        for rel in browser.windows_policy_keys:
            key = f"Software\\Policies\\{rel}"
            values = registry.read_values(hive, "64", key)
            picked: dict[str, Any] = {}
            if values and USER_LEVEL in values:
                picked[USER_LEVEL] = values[USER_LEVEL]
            for name in (BLOCKLIST, ALLOWLIST):
                listed = registry.read_values(hive, "64", f"{key}\\{name}")
                if listed:
                    picked[name] = listed
            if picked:
                merged.update(picked)
                sources.append(f"{hive}\\{key}")
    return merged, sources, []
