"""What `sidedesk doctor` says about the service: is the login start installed (and, where the
service manager can be asked, enabled and active), and is a service running (pid, version,
uptime, vault, what it protects).

The questions to the service manager go through `run` (a command -> exit code and output), so
the judgement is pure and the shell small: `systemctl --user is-enabled|is-active` on Linux,
`launchctl print gui/<uid>/<label>` on macOS, `schtasks /Query /TN Sidedesk` on Windows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sidedesk.install.login import LABEL, TASK_NAME, UNIT_NAME, login_start
from sidedesk.service import endpoint
from sidedesk.store.paths import Paths

Run = Callable[[list[str]], tuple[int, str]]
ASK_TIMEOUT_S = 5.0


@dataclass
class LoginStartState:
    kind: str  # systemd | launchd | task
    path: str
    installed: bool
    enabled: str | None = None  # the service manager's own word ("enabled", "disabled", …), if asked
    active: str | None = None
    detail: str = ""


@dataclass
class ServiceState:
    running: bool
    endpoint: str
    pid: int | None = None
    version: str | None = None
    uptime_s: float | None = None
    vault: str | None = None
    sessions: int | None = None
    protecting: int | None = None  # positions held on connected accounts
    open_orders: int | None = None
    detail: str = ""
    accounts: list[dict[str, Any]] = field(default_factory=list)


def run_command(argv: list[str]) -> tuple[int, str]:
    """Run a service manager's query; (exit code, first line of its output). 127: not there."""
    if shutil.which(argv[0]) is None:
        return 127, f"{argv[0]} not found"
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=ASK_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, f"{argv[0]} failed: {type(exc).__name__}"
    text = (out.stdout.strip() or out.stderr.strip()).splitlines()
    return out.returncode, text[0][:200] if text else ""


# the words `systemctl is-enabled` / `is-active` answer with (systemctl(1)); anything else is an
# error message (no user bus in a container, no systemd at all)
SYSTEMD_WORDS = frozenset(
    {
        "enabled",
        "enabled-runtime",
        "linked",
        "linked-runtime",
        "alias",
        "masked",
        "masked-runtime",
        "static",
        "indirect",
        "disabled",
        "generated",
        "transient",
        "bad",
        "not-found",
        "active",
        "reloading",
        "inactive",
        "failed",
        "activating",
        "deactivating",
        "maintenance",
        "refreshing",
    }
)


def _first_word(rc: int, text: str) -> str | None:
    """systemd's one-word answer (whatever the exit code), or None when it could not be asked."""
    word = text.strip()
    return word if rc != 127 and word in SYSTEMD_WORDS else None


def check_login_start(
    system: str, home: Path, config_home: Path, paths: Paths, run: Run = run_command
) -> LoginStartState:
    item = login_start(system, home, config_home, paths.data_dir, paths.log_dir, ["sidedesk"], {}, "")
    state = LoginStartState(item.kind, str(item.path), item.path.is_file())
    if not state.installed:
        state.detail = "not installed: `sidedesk install --service` writes it"
        return state
    if system == "linux":
        rc, text = run(["systemctl", "--user", "is-enabled", UNIT_NAME])
        state.enabled = _first_word(rc, text)
        rc2, text2 = run(["systemctl", "--user", "is-active", UNIT_NAME])
        state.active = _first_word(rc2, text2)
        if state.enabled is None:
            state.detail = f"installed; systemd could not be asked ({text or text2})"
        elif state.enabled != "enabled":
            state.detail = f"installed but {state.enabled}: {item.enable}"
        else:
            state.detail = f"installed, {state.enabled}, {state.active or 'state unknown'}"
    elif system == "darwin":
        rc, text = run(["launchctl", "print", f"gui/{_uid()}/{LABEL}"])
        state.enabled = "loaded" if rc == 0 else ("not loaded" if rc != 127 else None)
        state.detail = f"installed, {state.enabled}" if state.enabled else f"installed; {text}"
        if state.enabled == "not loaded":
            state.detail += f": {item.enable}"
    else:
        rc, text = run(["schtasks", "/Query", "/TN", TASK_NAME])
        state.enabled = "registered" if rc == 0 else ("not registered" if rc != 127 else None)
        state.detail = f"task definition written, {state.enabled}" if state.enabled else f"written; {text}"
        if state.enabled == "not registered":
            state.detail += f": {item.enable}"
    return state


def _uid() -> int:
    if sys.platform == "win32":
        return 0
    else:
        return os.getuid()


def check_service(paths: Paths) -> ServiceState:
    """Ask the running service (if any) for its status over its endpoint."""
    if not endpoint.supported():
        return ServiceState(
            False, "", detail="not available on this system yet (the host runs in the browser)"
        )
    path = endpoint.address(paths.data_dir)
    try:
        sock = endpoint.connect(path)
    except OSError:
        return ServiceState(False, str(path), detail="not running (the browser starts it when a panel opens)")
    try:
        try:
            endpoint.send_frame(sock, {"type": "service.status"})
            s = endpoint.recv_frame(sock)
        finally:
            sock.close()
    except (OSError, endpoint.EndpointError) as exc:
        return ServiceState(False, str(path), detail=f"the service did not answer: {exc}")
    return status_state(str(path), s)


def status_state(where: str, s: dict[str, Any]) -> ServiceState:
    """The service's `service.status` reply as the doctor's row (pure)."""

    def num(key: str) -> int | None:
        v = s.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    uptime = s.get("uptime_s")
    state = ServiceState(
        True,
        where,
        pid=num("pid"),
        version=str(s.get("version")) if s.get("version") is not None else None,
        uptime_s=float(uptime) if isinstance(uptime, int | float) else None,
        vault=str(s.get("vault")) if s.get("vault") is not None else None,
        sessions=num("sessions"),
        protecting=num("positions"),
        open_orders=num("open_orders"),
        accounts=[a for a in s.get("accounts") or [] if isinstance(a, dict)],
    )
    state.detail = (
        f"running: pid {state.pid}, version {state.version}, up {_duration(state.uptime_s)}, "
        f"vault {state.vault}, protecting {state.protecting or 0} position(s)"
        f" and {state.open_orders or 0} open order(s), {state.sessions or 0} panel(s) attached"
    )
    return state


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"
