"""Start the service at login: one file per OS, generated here (pure) and written by
`sidedesk install --service`, removed by `sidedesk uninstall`.

- Linux: a systemd user unit, `$XDG_CONFIG_HOME/systemd/user/sidedesk.service`
  (then `systemctl --user enable --now sidedesk.service`);
- macOS: a LaunchAgent, `~/Library/LaunchAgents/org.sidedesk.service.plist`
  (then `launchctl bootstrap gui/$UID <file>`);
- Windows: a Task Scheduler definition with a logon trigger for this user only,
  `<data>\\sidedesk-logon-task.xml` (then `schtasks /Create /TN Sidedesk /XML <file>`).

Each runs `sidedesk service --foreground`: the service manager owns the process, restarts it if
it dies, and nothing of it belongs to a browser.
"""

from __future__ import annotations

import plistlib
import shlex
from dataclasses import dataclass
from pathlib import Path

LABEL = "org.sidedesk.service"
UNIT_NAME = "sidedesk.service"
TASK_NAME = "Sidedesk"


@dataclass(frozen=True, slots=True)
class LoginStart:
    kind: str  # systemd | launchd | task
    path: Path
    content: str
    enable: str  # the command that turns it on (printed for the user)


def systemd_unit(argv: list[str], env: dict[str, str]) -> str:
    lines = [
        "# Written by `sidedesk install --service`; `sidedesk uninstall --service` removes it.",
        "[Unit]",
        "Description=Sidedesk service (keeps protecting positions with the browser closed)",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={shlex.join(argv)}",
        "Restart=on-failure",
        "RestartSec=5",
    ]
    lines += [f"Environment={shlex.quote(f'{k}={v}')}" for k, v in sorted(env.items())]
    lines += ["", "[Install]", "WantedBy=default.target", ""]
    return "\n".join(lines)


def launch_agent(argv: list[str], env: dict[str, str], log_dir: Path) -> str:
    plist: dict[str, object] = {
        "Label": LABEL,
        "ProgramArguments": argv,
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},  # restart after a crash, not after `service stop`
        "ProcessType": "Background",
        "StandardErrorPath": str(log_dir / "service.stderr.log"),
    }
    if env:
        plist["EnvironmentVariables"] = dict(sorted(env.items()))
    return plistlib.dumps(plist).decode("utf-8")


TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"


def task_xml(argv: list[str], user: str) -> str:
    """A logon task for this user only, least privilege, restarted on failure, no time limit."""
    from xml.etree import ElementTree as ET

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, tag, attrs)
        el.text = text
        return el

    task = ET.Element("Task", {"version": "1.2", "xmlns": TASK_NS})
    info = sub(task, "RegistrationInfo")
    sub(info, "Description", "Sidedesk service: keeps protecting positions with the browser closed")
    trigger = sub(sub(task, "Triggers"), "LogonTrigger")
    sub(trigger, "Enabled", "true")
    sub(trigger, "UserId", user)
    principal = sub(sub(task, "Principals"), "Principal", id="Author")
    sub(principal, "UserId", user)
    sub(principal, "LogonType", "InteractiveToken")
    sub(principal, "RunLevel", "LeastPrivilege")
    settings = sub(task, "Settings")
    sub(settings, "MultipleInstancesPolicy", "IgnoreNew")
    sub(settings, "DisallowStartIfOnBatteries", "false")
    sub(settings, "StopIfGoingOnBatteries", "false")
    sub(settings, "ExecutionTimeLimit", "PT0S")
    restart = sub(settings, "RestartOnFailure")
    sub(restart, "Interval", "PT1M")
    sub(restart, "Count", "999")
    exec_ = sub(sub(task, "Actions", Context="Author"), "Exec")
    sub(exec_, "Command", argv[0])
    sub(exec_, "Arguments", " ".join(_win_quote(a) for a in argv[1:]))
    ET.indent(task)
    return '<?xml version="1.0" encoding="UTF-16"?>\n' + ET.tostring(task, encoding="unicode") + "\n"


def _win_quote(arg: str) -> str:
    return f'"{arg}"' if (" " in arg or not arg) else arg


def login_start(
    system: str,
    home: Path,
    config_home: Path,
    data_dir: Path,
    log_dir: Path,
    argv: list[str],
    env: dict[str, str],
    user: str,
) -> LoginStart:
    """The file that starts the service at login on `system` (linux, darwin, windows)."""
    if system == "linux":
        path = config_home / "systemd" / "user" / UNIT_NAME
        return LoginStart(
            "systemd", path, systemd_unit(argv, env), f"systemctl --user enable --now {UNIT_NAME}"
        )
    if system == "darwin":
        path = home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
        return LoginStart(
            "launchd", path, launch_agent(argv, env, log_dir), f"launchctl bootstrap gui/$UID {path}"
        )
    path = data_dir / "sidedesk-logon-task.xml"
    return LoginStart("task", path, task_xml(argv, user), f'schtasks /Create /TN {TASK_NAME} /XML "{path}"')


def service_argv_env(env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """How the login file runs this installation's service, and the environment it needs."""
    import sys

    from sidedesk.install.launcher import needs_pythonpath, package_parent

    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve()), "service", "--foreground"], {}
    out: dict[str, str] = {}
    parent = package_parent()
    if needs_pythonpath(parent):
        out["PYTHONPATH"] = str(parent)
    if env.get("SIDEDESK_HOME"):
        out["SIDEDESK_HOME"] = str(Path(env["SIDEDESK_HOME"]).expanduser().resolve())
    python = str(Path(sys.executable).absolute())
    return [python, "-m", "sidedesk.cli", "service", "--foreground"], out
