"""What the demo needs from this machine, and what to do when something is missing.

Each check returns the thing found or raises `DemoProblem` with a fix a person can carry out.
The lookups take their inputs (environment, candidate paths) as arguments so tests can vary them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser")
INSTALL_CHROMIUM = "sudo apt-get install chromium"


class DemoProblem(Exception):
    """Something the demo cannot work around; `fix` says what to install or change."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}: {fix}")
        self.problem = problem
        self.fix = fix


def find_chromium(
    env: Mapping[str, str],
    candidates: tuple[str, ...] = CHROMIUM_CANDIDATES,
    which: Callable[[str], str | None] = shutil.which,
) -> str:
    """`SIDEDESK_CHROMIUM`, else Debian's chromium. Snap builds cannot start native hosts."""
    explicit = env.get("SIDEDESK_CHROMIUM")
    if explicit:
        path = Path(explicit)
        if not path.is_file() or not os.access(path, os.X_OK):
            raise DemoProblem(
                f"SIDEDESK_CHROMIUM={explicit} is not an executable file",
                "point it at a Chromium-family browser binary, or unset it to use Debian's chromium",
            )
        found = str(path)
    else:
        found = next((c for c in candidates if Path(c).is_file()), None) or which("chromium") or ""
        if not found:
            raise DemoProblem(
                "Chromium not found",
                f"{INSTALL_CHROMIUM} (or set SIDEDESK_CHROMIUM to a Chromium-family browser)",
            )
    if "/snap/" in str(Path(found).resolve()):
        raise DemoProblem(
            f"{found} is a Snap build, which cannot start native-messaging hosts",
            "install the .deb (Debian: sudo apt-get install chromium) or set SIDEDESK_CHROMIUM",
        )
    return found


def find_extension(explicit: Path | None, package_dir: Path, executable: Path) -> Path:
    """The unpacked extension: --extension, the source tree's `extension/`, or the release archive's."""
    candidates = (
        [explicit]
        if explicit is not None
        else [package_dir.parent.parent / "extension", executable.parent / "extension"]
    )
    for c in candidates:
        if (c / "manifest.json").is_file():
            return c.resolve()
    where = ", ".join(str(c) for c in candidates)
    raise DemoProblem(
        f"the unpacked extension was not found (looked in {where})",
        "run the demo from a source checkout or a release archive, or pass --extension DIR",
    )


def require_playwright(find_spec: Callable[[str], object] = importlib.util.find_spec) -> None:
    """The headless demo drives the panel with Playwright (a development dependency)."""
    if find_spec("playwright") is None:
        raise DemoProblem(
            "the headless demo needs Playwright (Python)",
            "pip install playwright (or `pip install -e '.[dev]'`); no browser download is needed, "
            "the demo uses your chromium",
        )


def require_display(env: Mapping[str, str], platform: str = sys.platform) -> None:
    """A visible browser on Linux needs an X11 or Wayland display."""
    if platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        raise DemoProblem(
            "no display to show the browser on (DISPLAY is not set)",
            "run it in a desktop session, or use `sidedesk demo --headless --out DIR`, "
            "or `xvfb-run -a sidedesk demo`",
        )


def running_as_root() -> bool:
    geteuid = getattr(os, "geteuid", None)  # absent on Windows
    return geteuid is not None and geteuid() == 0
