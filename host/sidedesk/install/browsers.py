"""Where each Chromium-family browser looks for native-messaging host manifests.

One pure table drives install, uninstall and doctor (the shape KeePassXC's installer uses).
Sources: the Chrome dossier (research/chrome.md §2.2). Rows marked "traced" come from
third-party studies, not from the browser's own source; "assumed" cells are our choice where the
dossier has no answer (the Chromium default a fork inherits), so a wrong guess only costs an
unused file.

Linux/macOS user folders are relative to the browser's config root (`$XDG_CONFIG_HOME`,
`~/Library/Application Support`); Windows keys are relative to `HKCU\\Software` (or HKLM).
Append `NativeMessagingHosts\\<name>` to every key and `NativeMessagingHosts/<name>.json` to every
user folder; system folders are given in full.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

System = Literal["linux", "darwin", "windows"]
Scope = Literal["user", "system"]

CHROME_LINUX_SYSTEM = "/etc/opt/chrome/native-messaging-hosts"
CHROME_MAC_SYSTEM = "/Library/Google/Chrome/NativeMessagingHosts"
CHROME_KEY = "Google\\Chrome"


@dataclass(frozen=True)
class Browser:
    name: str  # what `--browser` takes
    label: str
    linux_user: tuple[str, ...]
    linux_system: tuple[str, ...]
    mac_user: tuple[str, ...]
    mac_system: tuple[str, ...]
    windows_keys: tuple[str, ...]  # its own key first, then the Chrome key it falls back to
    # detection and diagnostics
    linux_binaries: tuple[str, ...] = ()
    mac_apps: tuple[str, ...] = ()
    flatpak_ids: tuple[str, ...] = ()
    snap_names: tuple[str, ...] = ()
    linux_policy_dirs: tuple[str, ...] = ()
    mac_policy_domains: tuple[str, ...] = ()
    windows_policy_keys: tuple[str, ...] = ()  # relative to Software\Policies
    # Brave reads its own user folder even with --user-data-dir (traced)
    follows_user_data_dir: bool = True
    # the browser's own profile root when it differs from its first manifest folder (Opera)
    linux_profile: str | None = None
    mac_profile: str | None = None
    windows_profile: str | None = None  # under %LOCALAPPDATA%
    notes: tuple[str, ...] = field(default=())


BROWSERS: tuple[Browser, ...] = (
    Browser(
        name="chrome",
        label="Google Chrome",
        linux_user=("google-chrome",),
        linux_system=(CHROME_LINUX_SYSTEM,),
        mac_user=("Google/Chrome",),
        mac_system=(CHROME_MAC_SYSTEM,),
        windows_keys=(CHROME_KEY,),
        linux_binaries=("google-chrome", "google-chrome-stable"),
        mac_apps=("Google Chrome.app",),
        flatpak_ids=("com.google.Chrome",),
        linux_policy_dirs=("/etc/opt/chrome/policies/managed",),
        mac_policy_domains=("com.google.Chrome",),
        windows_policy_keys=("Google\\Chrome",),
        windows_profile="Google\\Chrome\\User Data",
    ),
    Browser(
        name="chrome-beta",
        label="Google Chrome Beta",
        linux_user=("google-chrome-beta",),
        linux_system=(CHROME_LINUX_SYSTEM,),
        mac_user=("Google/Chrome Beta",),
        mac_system=(CHROME_MAC_SYSTEM,),
        windows_keys=(CHROME_KEY,),  # every Windows channel reads the one Chrome key
        linux_binaries=("google-chrome-beta",),
        mac_apps=("Google Chrome Beta.app",),
        linux_policy_dirs=("/etc/opt/chrome/policies/managed",),
        mac_policy_domains=("com.google.Chrome.beta",),
        windows_policy_keys=("Google\\Chrome",),
        windows_profile="Google\\Chrome Beta\\User Data",
    ),
    Browser(
        name="chrome-unstable",
        label="Google Chrome Dev (unstable)",
        linux_user=("google-chrome-unstable",),
        linux_system=(CHROME_LINUX_SYSTEM,),
        mac_user=("Google/Chrome Dev",),
        mac_system=(CHROME_MAC_SYSTEM,),
        windows_keys=(CHROME_KEY,),
        linux_binaries=("google-chrome-unstable",),
        mac_apps=("Google Chrome Dev.app",),
        linux_policy_dirs=("/etc/opt/chrome/policies/managed",),
        mac_policy_domains=("com.google.Chrome.dev",),
        windows_policy_keys=("Google\\Chrome",),
        windows_profile="Google\\Chrome Dev\\User Data",
    ),
    Browser(
        name="chromium",
        label="Chromium",
        linux_user=("chromium",),
        linux_system=("/etc/chromium/native-messaging-hosts",),
        mac_user=("Chromium",),
        mac_system=("/Library/Application Support/Chromium/NativeMessagingHosts",),
        windows_keys=("Chromium",),  # Chromium itself falls back to the Chrome key [SRC]
        linux_binaries=("chromium", "chromium-browser"),
        mac_apps=("Chromium.app",),
        flatpak_ids=("org.chromium.Chromium",),
        snap_names=("chromium",),
        linux_policy_dirs=("/etc/chromium/policies/managed", "/etc/chromium-browser/policies/managed"),
        mac_policy_domains=("org.chromium.Chromium",),
        windows_policy_keys=("Chromium",),
        windows_profile="Chromium\\User Data",
    ),
    Browser(
        name="edge",
        label="Microsoft Edge",
        linux_user=("microsoft-edge",),
        linux_system=("/etc/opt/edge/native-messaging-hosts",),
        mac_user=("Microsoft Edge",),
        mac_system=("/Library/Microsoft/Edge/NativeMessagingHosts",),
        windows_keys=("Microsoft\\Edge",),
        linux_binaries=("microsoft-edge", "microsoft-edge-stable"),
        mac_apps=("Microsoft Edge.app",),
        flatpak_ids=("com.microsoft.Edge",),
        linux_policy_dirs=("/etc/opt/edge/policies/managed",),
        mac_policy_domains=("com.microsoft.Edge",),
        windows_policy_keys=("Microsoft\\Edge",),
        windows_profile="Microsoft\\Edge\\User Data",
    ),
    Browser(
        name="brave",
        label="Brave",
        linux_user=("BraveSoftware/Brave-Browser",),
        linux_system=(CHROME_LINUX_SYSTEM,),  # traced: Brave reads only Chrome's system folder
        mac_user=("BraveSoftware/Brave-Browser",),
        mac_system=(CHROME_MAC_SYSTEM,),  # assumed: the dossier has no answer
        windows_keys=("BraveSoftware\\Brave-Browser", CHROME_KEY),
        linux_binaries=("brave-browser", "brave"),
        mac_apps=("Brave Browser.app",),
        flatpak_ids=("com.brave.Browser",),
        snap_names=("brave",),
        linux_policy_dirs=("/etc/brave/policies/managed",),
        mac_policy_domains=("com.brave.Browser",),
        windows_policy_keys=("BraveSoftware\\Brave",),
        follows_user_data_dir=False,
        notes=("Brave reads its own folder even when started with --user-data-dir.",),
        windows_profile="BraveSoftware\\Brave-Browser\\User Data",
    ),
    Browser(
        name="vivaldi",
        label="Vivaldi",
        linux_user=("vivaldi",),
        linux_system=(CHROME_LINUX_SYSTEM,),  # traced
        mac_user=("Vivaldi",),
        mac_system=(CHROME_MAC_SYSTEM,),  # assumed
        windows_keys=("Vivaldi", CHROME_KEY),
        linux_binaries=("vivaldi", "vivaldi-stable"),
        mac_apps=("Vivaldi.app",),
        flatpak_ids=("com.vivaldi.Vivaldi",),
        windows_profile="Vivaldi\\User Data",
    ),
    Browser(
        name="opera",
        label="Opera",
        linux_user=("google-chrome",),  # traced: Opera reads Chrome's user folder
        linux_system=(CHROME_LINUX_SYSTEM,),
        mac_user=("Google/Chrome", "com.operasoftware.Opera"),
        mac_system=(CHROME_MAC_SYSTEM,),  # assumed
        windows_keys=(CHROME_KEY,),
        linux_binaries=("opera",),
        mac_apps=("Opera.app",),
        flatpak_ids=("com.opera.Opera",),
        snap_names=("opera",),
        linux_profile="opera",
        mac_profile="com.operasoftware.Opera",
        notes=("Opera has no folder of its own: it reads Google Chrome's.",),
    ),
)

BY_NAME: dict[str, Browser] = {b.name: b for b in BROWSERS}
NAMES: tuple[str, ...] = tuple(BY_NAME)


class UnknownBrowser(ValueError):
    pass


def lookup(names: list[str] | tuple[str, ...]) -> tuple[Browser, ...]:
    """Browsers by name, in table order, `all` meaning every one; unknown names are an error."""
    wanted = {n.strip().lower() for n in names}
    if "all" in wanted:
        return BROWSERS
    unknown = sorted(wanted - set(BY_NAME))
    if unknown:
        raise UnknownBrowser(f"unknown browser {', '.join(unknown)}; choose from: {', '.join(NAMES)}, all")
    return tuple(b for b in BROWSERS if b.name in wanted)


@dataclass(frozen=True)
class Platform:
    """The facts of one machine that decide where files go; tests build their own."""

    system: System
    home: Path
    config_home: Path  # Linux: $XDG_CONFIG_HOME or ~/.config
    root: Path = Path("/")  # prefix for system folders (tests point it at a temporary folder)
    local_app_data: Path | None = None  # Windows
    program_data: Path | None = None  # Windows

    @classmethod
    def current(cls, env: dict[str, str] | None = None) -> Platform:
        env = dict(os.environ if env is None else env)
        system: System
        if os.name == "nt":
            system = "windows"
        elif os.uname().sysname == "Darwin":
            system = "darwin"
        else:
            system = "linux"
        home = Path(env.get("HOME") or Path.home())
        xdg = env.get("XDG_CONFIG_HOME")
        config_home = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
        lad = env.get("LOCALAPPDATA")
        pd = env.get("PROGRAMDATA")
        return cls(system, home, config_home, Path("/"), Path(lad) if lad else None, Path(pd) if pd else None)

    def system_path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    @property
    def app_support(self) -> Path:
        return self.home / "Library" / "Application Support"


HOSTS_DIR = "NativeMessagingHosts"


def manifest_dirs(browser: Browser, platform: Platform, scope: Scope) -> tuple[Path, ...]:
    """Folders that get `<name>.json` on Linux/macOS; empty on Windows (registry instead)."""
    if platform.system == "linux":
        if scope == "user":
            return tuple(platform.config_home / d / HOSTS_DIR for d in browser.linux_user)
        return tuple(platform.system_path(d) for d in browser.linux_system)
    if platform.system == "darwin":
        if scope == "user":
            return tuple(platform.app_support / d / HOSTS_DIR for d in browser.mac_user)
        return tuple(platform.system_path(d) for d in browser.mac_system)
    return ()


def user_data_dir_manifest_dir(user_data_dir: Path) -> Path:
    """Chromium on Linux/macOS reads `<user-data-dir>/NativeMessagingHosts/` (per profile root)."""
    return user_data_dir / HOSTS_DIR


def registry_key(browser_key: str, host_name: str) -> str:
    return f"Software\\{browser_key}\\{HOSTS_DIR}\\{host_name}"


def profile_dir(browser: Browser, platform: Platform) -> Path | None:
    """The browser's own profile root; its existence is a sign the browser is used here."""
    if platform.system == "linux":
        return platform.config_home / (browser.linux_profile or browser.linux_user[0])
    if platform.system == "darwin":
        return platform.app_support / (browser.mac_profile or browser.mac_user[0])
    if browser.windows_profile and platform.local_app_data is not None:
        return platform.local_app_data.joinpath(*browser.windows_profile.split("\\"))
    return None
