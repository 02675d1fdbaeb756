"""What `install` writes and `uninstall` removes, as plain values (no I/O).

Several browsers share a location (Opera and Chrome the same folder; Brave, Vivaldi and Opera the
Chrome registry key; every Windows key the same manifest file), so removing one browser must not
remove what another still uses. `install` therefore records every write as a *claim* (owner,
scope, target) in a receipt, and `uninstall` removes a target only when no claim outside its
selection remains. Without a receipt, uninstall still removes every location the table names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sidedesk.install.browsers import (
    Browser,
    Platform,
    Scope,
    manifest_dirs,
    registry_key,
    user_data_dir_manifest_dir,
)
from sidedesk.install.registry import VIEWS_TO_DELETE, Hive, View, views_to_write

Kind = Literal["file", "registry"]
USER_DATA_DIR = "user-data-dir"  # owner of a `--user-data-dir` install
RECEIPT_VERSION = 1


@dataclass(frozen=True)
class Target:
    kind: Kind
    location: str  # absolute file path, or registry key under the hive
    hive: Hive | None = None
    view: View | None = None

    @property
    def identity(self) -> tuple[str, str, str, str]:
        # HKCU\Software is one key for both views, and registry keys ignore case.
        if self.kind == "registry":
            view = "" if self.hive == "HKCU" else str(self.view)
            return ("registry", str(self.hive), view, self.location.lower())
        return ("file", "", "", self.location)

    def describe(self) -> str:
        if self.kind == "registry":
            return f"{self.hive}\\{self.location} ({self.view}-bit view)"
        return self.location


@dataclass(frozen=True)
class Claim:
    owner: str  # a browser name, or USER_DATA_DIR
    scope: Scope
    target: Target


def manifest_file_name(host_name: str) -> str:
    return f"{host_name}.json"


def windows_manifest_path(platform: Platform, scope: Scope, user_dir: Path, host_name: str) -> Path:
    """Windows has no per-browser folder: one manifest file that every registry key points at."""
    if scope == "system":
        base = platform.program_data or platform.root / "ProgramData"
        return base / "sidedesk" / "NativeMessagingHosts" / manifest_file_name(host_name)
    return user_dir / "NativeMessagingHosts" / manifest_file_name(host_name)


def browser_claims(
    browsers: Iterable[Browser],
    platform: Platform,
    scope: Scope,
    host_name: str,
    windows_manifest: Path | None,
    *,
    for_removal: bool = False,
) -> list[Claim]:
    """Every location the given browsers read, for one scope.

    For removal, registry keys are listed in both views so a key left by an older 32-bit
    installer goes too.
    """
    claims: list[Claim] = []
    hive: Hive = "HKCU" if scope == "user" else "HKLM"
    for b in browsers:
        if platform.system == "windows":
            if windows_manifest is None:
                raise ValueError("a Windows install needs the manifest file's path")
            claims.append(Claim(b.name, scope, Target("file", str(windows_manifest))))
            views = VIEWS_TO_DELETE if for_removal else views_to_write(hive)
            for key in b.windows_keys:
                for view in views:
                    claims.append(
                        Claim(b.name, scope, Target("registry", registry_key(key, host_name), hive, view))
                    )
        else:
            for d in manifest_dirs(b, platform, scope):
                claims.append(Claim(b.name, scope, Target("file", str(d / manifest_file_name(host_name)))))
    return claims


def user_data_dir_claim(user_data_dir: Path, host_name: str) -> Claim:
    path = user_data_dir_manifest_dir(user_data_dir) / manifest_file_name(host_name)
    return Claim(USER_DATA_DIR, "user", Target("file", str(path)))


def unique_targets(claims: Iterable[Claim]) -> list[Target]:
    seen: dict[tuple[str, str, str, str], Target] = {}
    for c in claims:
        seen.setdefault(c.target.identity, c.target)
    return list(seen.values())


# -- receipt ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    claims: tuple[Claim, ...] = ()
    launchers: tuple[str, ...] = ()  # launcher scripts written for source installs
    config_ids: tuple[str, ...] = field(default=())  # extension ids install added to the config

    def merged(
        self, claims: Iterable[Claim], launcher: str | None, config_ids: Iterable[str] = ()
    ) -> Receipt:
        known = {(c.owner, c.scope, c.target.identity) for c in self.claims}
        added = [c for c in claims if (c.owner, c.scope, c.target.identity) not in known]
        launchers = self.launchers + ((launcher,) if launcher and launcher not in self.launchers else ())
        ids = tuple(dict.fromkeys((*self.config_ids, *config_ids)))
        return Receipt(self.claims + tuple(added), launchers, ids)


def receipt_to_json(receipt: Receipt) -> dict[str, Any]:
    return {
        "version": RECEIPT_VERSION,
        "claims": [
            {
                "owner": c.owner,
                "scope": c.scope,
                "kind": c.target.kind,
                "location": c.target.location,
                "hive": c.target.hive,
                "view": c.target.view,
            }
            for c in receipt.claims
        ],
        "launchers": list(receipt.launchers),
        "config_ids": list(receipt.config_ids),
    }


class BadReceipt(ValueError):
    pass


def receipt_from_json(data: object) -> Receipt:
    if not isinstance(data, dict) or data.get("version") != RECEIPT_VERSION:
        raise BadReceipt("not a version-1 install receipt")
    claims: list[Claim] = []
    for raw in data.get("claims", []):
        if not isinstance(raw, dict):
            raise BadReceipt("a claim is not an object")
        kind, scope, hive, view = raw.get("kind"), raw.get("scope"), raw.get("hive"), raw.get("view")
        owner, location = raw.get("owner"), raw.get("location")
        if kind not in ("file", "registry") or scope not in ("user", "system"):
            raise BadReceipt(f"claim has kind {kind!r} / scope {scope!r}")
        if not isinstance(owner, str) or not isinstance(location, str):
            raise BadReceipt("claim owner/location must be strings")
        if kind == "registry" and (hive not in ("HKCU", "HKLM") or view not in ("32", "64")):
            raise BadReceipt(f"registry claim has hive {hive!r} / view {view!r}")
        target = Target(kind, location, hive, view) if kind == "registry" else Target("file", location)
        claims.append(Claim(owner, scope, target))
    launchers = data.get("launchers", [])
    ids = data.get("config_ids", [])
    if not all(isinstance(x, str) for x in [*launchers, *ids]):
        raise BadReceipt("launchers/config_ids must be strings")
    return Receipt(tuple(claims), tuple(launchers), tuple(ids))


# -- uninstall ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Removal:
    targets: tuple[Target, ...]
    launchers: tuple[str, ...]
    receipt: Receipt  # what remains installed afterwards
    kept: tuple[Target, ...]  # table locations left because another browser still uses them


def plan_uninstall(candidates: list[Claim], receipt: Receipt, selected: Callable[[Claim], bool]) -> Removal:
    """Remove what the selection claims, except targets an unselected claim still needs."""
    remaining = tuple(c for c in receipt.claims if not selected(c))
    still_needed = {c.target.identity for c in remaining}
    leaving = [*candidates, *(c for c in receipt.claims if selected(c))]
    targets = [t for t in unique_targets(leaving) if t.identity not in still_needed]
    kept = [t for t in unique_targets(leaving) if t.identity in still_needed]
    launchers = () if remaining else receipt.launchers
    new_receipt = Receipt(remaining, receipt.launchers if remaining else (), receipt.config_ids)
    return Removal(tuple(targets), launchers, new_receipt, tuple(kept))
