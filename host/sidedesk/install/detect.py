"""Which browsers are present on this machine, and which of them are sandboxed (Snap/Flatpak).

Only looks: binaries on PATH, app bundles, profile folders, Snap and Flatpak install folders.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sidedesk.install.browsers import BROWSERS, Browser, Platform, profile_dir

Which = Callable[[str], str | None]


@dataclass(frozen=True)
class Presence:
    browser: Browser
    evidence: tuple[str, ...]  # why we think it is installed; empty when not found
    snap: tuple[str, ...]  # Snap installs found (cannot run native hosts)
    flatpak: tuple[str, ...]  # Flatpak installs found (see only their sandbox)

    @property
    def installed(self) -> bool:
        return bool(self.evidence or self.snap or self.flatpak)


def _snap_paths(platform: Platform, name: str) -> list[Path]:
    return [platform.system_path(f"/snap/bin/{name}"), platform.system_path(f"/snap/{name}/current")]


def _flatpak_paths(platform: Platform, app_id: str) -> list[Path]:
    return [
        platform.home / ".var" / "app" / app_id,
        platform.home / ".local" / "share" / "flatpak" / "app" / app_id,
        platform.system_path(f"/var/lib/flatpak/app/{app_id}"),
    ]


def detect(browser: Browser, platform: Platform, which: Which = shutil.which) -> Presence:
    evidence: list[str] = []
    snaps: list[str] = []
    flatpaks: list[str] = []
    if platform.system == "linux":
        for name in browser.linux_binaries:
            found = which(name)
            if found is None:
                continue
            if "/snap/" in str(Path(found).resolve()) or found.startswith("/snap/"):
                snaps.append(found)
            else:
                evidence.append(f"{name} on PATH ({found})")
        for snap in browser.snap_names:
            for p in _snap_paths(platform, snap):
                if p.exists() and str(p) not in snaps:
                    snaps.append(str(p))
        for app_id in browser.flatpak_ids:
            for p in _flatpak_paths(platform, app_id):
                if p.exists():
                    flatpaks.append(str(p))
    elif platform.system == "darwin":
        for app in browser.mac_apps:
            for base in (platform.system_path("/Applications"), platform.home / "Applications"):
                if (base / app).exists():
                    evidence.append(str(base / app))
    profile = profile_dir(browser, platform)
    # "Local State" is written by the browser itself; the folder alone may be ours (install creates it)
    if profile is not None and (profile / "Local State").is_file():
        evidence.append(f"profile folder {profile}")
    return Presence(browser, tuple(evidence), tuple(dict.fromkeys(snaps)), tuple(dict.fromkeys(flatpaks)))


def detect_all(platform: Platform, which: Which = shutil.which) -> list[Presence]:
    return [detect(b, platform, which) for b in BROWSERS]


SNAP_GUIDANCE = (
    "Snap browsers cannot start native-messaging hosts (a Snap confinement limit): install the "
    "browser's .deb/.rpm or official build instead."
)


def flatpak_guidance(browser: Browser) -> str:
    return (
        f"Flatpak {browser.label} only reads manifests inside its sandbox "
        "(~/.var/app/<app-id>/config/...) and can only run programs visible there, so it cannot "
        "start the Sidedesk host: install the browser's .deb/.rpm or official build instead."
    )
