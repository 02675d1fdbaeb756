"""The visible demo browser: Chromium on the demo profile with the extension and the panel open."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from sidedesk.demo.plan import interactive_args
from sidedesk.demo.prepare import DemoHome
from sidedesk.identity import DEV_EXTENSION_ID

PANEL_URL = f"chrome-extension://{DEV_EXTENSION_ID}/sidepanel/panel.html"


def launch(chromium: str, home: DemoHome, extension_dir: Path, *, as_root: bool) -> subprocess.Popen[bytes]:
    """Start Chromium with the panel page as its tab (Alt+Shift+L then opens it in the side panel)."""
    argv = interactive_args(chromium, home.profile, extension_dir, [PANEL_URL], as_root=as_root)
    env = {**os.environ, "SIDEDESK_HOME": str(home.root)}
    (home.root / "logs").mkdir(parents=True, exist_ok=True)
    log = (home.root / "logs" / "chromium.log").open("ab")
    try:
        # its own process group, so that stopping the demo stops every process Chromium started
        # (renderers, and the native host, which would otherwise keep writing to the demo folder)
        return subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=os.name == "posix",
        )
    finally:
        log.close()  # the child keeps its own descriptor


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Ask Chromium to quit (SIGTERM closes the profile cleanly), then insist; on POSIX the whole
    process group goes, so nothing Chromium started outlives the demo."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # what is left of the group: children, the host


def log_tail(home: DemoHome, lines: int = 3) -> str:
    """The last lines Chromium wrote that look like a reason (its D-Bus chatter left out)."""
    path = home.root / "logs" / "chromium.log"
    if not path.is_file():
        return ""
    text = path.read_text("utf-8", errors="replace").splitlines()
    useful = [line.strip() for line in text if line.strip() and "dbus" not in line.lower()]
    return " | ".join(useful[-lines:])
