"""Set up the demo's own world: a folder, the host settings, a vault, and a browser profile.

Everything lives under one demo folder, so the demo never touches the user's real vault, config
or browser profile:

    <demo>/.sidedesk-demo      marker: this folder is the demo's and may be wiped
    <demo>/config|data|logs    the demo host's SIDEDESK_HOME
    <demo>/browser-profile     the dedicated Chromium profile (host manifest inside)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sidedesk.demo.hostpipe import HostPipe, HostPipeError
from sidedesk.demo.plan import demo_entry
from sidedesk.demo.preflight import DemoProblem
from sidedesk.identity import NATIVE_HOST_NAME
from sidedesk.store.config import write_json_atomic

MARKER = ".sidedesk-demo"
PID_FILE = "demo.pid"  # the running demo's process id: a second demo must not wipe its folder


@dataclass(frozen=True)
class DemoHome:
    root: Path

    @property
    def profile(self) -> Path:
        return self.root / "browser-profile"

    @property
    def config_file(self) -> Path:
        return self.root / "config" / "config.json"

    @property
    def host_log(self) -> Path:
        return self.root / "logs" / "host.log"

    @property
    def manifest(self) -> Path:
        return self.profile / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json"


def default_demo_root() -> Path:
    from sidedesk.store.paths import default_paths

    return default_paths().data_dir / "sidedesk-demo"


def fresh_home(root: Path) -> DemoHome:
    """Start from an empty demo folder; an old one is wiped only if it carries our marker."""
    root = root.expanduser().resolve()
    if root.exists():
        if not root.is_dir():
            raise DemoProblem(f"{root} exists and is not a folder", "pass another --home")
        running = running_demo(root)
        if running is not None:
            raise DemoProblem(
                f"another demo (pid {running}) is using {root}",
                "stop it first (Ctrl-C in its terminal), or pass --home with another folder",
            )
        if any(root.iterdir()):
            if not (root / MARKER).is_file():
                raise DemoProblem(
                    f"{root} is not empty and is not a Sidedesk demo folder",
                    "pass --home with an empty or new folder (the demo wipes its folder on every run)",
                )
            shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    (root / MARKER).write_text("Sidedesk demo folder: `sidedesk demo` wipes it on every run.\n", "utf-8")
    (root / PID_FILE).write_text(f"{os.getpid()}\n", "utf-8")
    return DemoHome(root)


def running_demo(root: Path) -> int | None:
    """The pid of a live demo that owns `root`, if any (a stale pid file is ignored)."""
    try:
        pid = int((root / PID_FILE).read_text("utf-8").strip())
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # exists, belongs to someone else
    return pid


def remove_home(home: DemoHome, settle_s: float = 3.0) -> bool:
    """Remove the demo folder. The browser's children (the native host among them, which logs
    here until its stdin closes) may still write for a moment after the browser stops, so the
    removal is retried until the folder is gone or `settle_s` has passed. True when removed."""
    if not (home.root / MARKER).is_file():
        return False
    deadline = time.monotonic() + settle_s
    while True:
        shutil.rmtree(home.root, ignore_errors=True)
        if not home.root.exists():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def write_config(home: DemoHome, config: dict[str, Any]) -> None:
    write_json_atomic(home.config_file, config)


def create_vault(home: DemoHome, password: str, api_key: str, secret: str) -> dict[str, Any]:
    """Create the demo vault and store the simulator's test key through the host API; locks it after.

    Returns the entry's masked summary (never the secret).
    """
    try:
        with HostPipe(home.root) as host:
            host.request("hello", {"client": "sidedesk-demo", "client_version": "1"})
            host.request("vault.create", {"password": password})
            put = host.request("vault.put", {"entry": demo_entry(api_key, secret)})
            host.request("vault.lock")
        stop_service(home)
    except HostPipeError as exc:
        text = str(exc)
        if "vault.create" in text and "[invalid]" in text:
            raise DemoProblem(
                f"the vault refused the password ({text})", "choose another --password"
            ) from None
        raise DemoProblem(
            f"the host could not create the demo vault ({text})", f"see {home.host_log}"
        ) from None
    entry = put["entry"] if isinstance(put, dict) else None
    if not isinstance(entry, dict):
        raise DemoProblem("the host answered vault.put without an entry", f"see {home.host_log}")
    return entry


def stop_service(home: DemoHome) -> None:
    """Stop the demo's service, if one runs (started by the vault step or by Chromium's proxy):
    before the browser starts (so it reads the final settings) and when the demo ends (so nothing
    of the demo outlives its folder). Its stops on the simulator stay, as a real service's would."""
    from sidedesk.native.proxy import stop_service as stop
    from sidedesk.service import endpoint

    if endpoint.supported():
        stop(endpoint.address(home.root / "data", {"SIDEDESK_HOME": str(home.root)}))


def install_host(home: DemoHome) -> str:
    """Register the host for the demo profile with the real installer; returns its output."""
    argv = (
        [sys.executable, "install"]
        if getattr(sys, "frozen", False)
        else [sys.executable, "-m", "sidedesk.cli", "install"]
    )
    argv += ["--browser", "chromium", "--user-data-dir", str(home.profile)]
    home.profile.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SIDEDESK_HOME": str(home.root)}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0 or not home.manifest.is_file():
        detail = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
        raise DemoProblem(
            f"`sidedesk install` failed for the demo profile: {detail}", "run `sidedesk doctor`"
        )
    return proc.stdout
