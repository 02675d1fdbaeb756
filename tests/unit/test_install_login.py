"""The files that start the service at login, checked field by field (and by systemd itself
where it is installed)."""

from __future__ import annotations

import configparser
import plistlib
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from sidedesk.install.login import LABEL, TASK_NS, login_start

ARGV = ["/opt/py dir/bin/python3", "-m", "sidedesk.cli", "service", "--foreground"]
ENV = {"SIDEDESK_HOME": "/home/t/sd home", "PYTHONPATH": "/src/host"}


def make(system: str, tmp: Path) -> tuple[Path, str]:
    item = login_start(system, tmp, tmp / ".config", tmp / "data", tmp / "logs", ARGV, ENV, "trader")
    return item.path, item.content


def test_systemd_user_unit(tmp_path: Path) -> None:
    path, text = make("linux", tmp_path)
    assert path == tmp_path / ".config" / "systemd" / "user" / "sidedesk.service"
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(text)
    assert unit["Service"]["ExecStart"] == "'/opt/py dir/bin/python3' -m sidedesk.cli service --foreground"
    assert unit["Service"]["Restart"] == "on-failure" and unit["Service"]["Type"] == "simple"
    assert unit["Install"]["WantedBy"] == "default.target"
    env_lines = [ln for ln in text.splitlines() if ln.startswith("Environment=")]
    assert env_lines == ["Environment=PYTHONPATH=/src/host", "Environment='SIDEDESK_HOME=/home/t/sd home'"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    item = login_start(
        "linux", tmp_path, tmp_path / ".config", tmp_path, tmp_path, ["/bin/true", "service"], {}, "t"
    )
    item.path.parent.mkdir(parents=True)
    item.path.write_text(item.content)
    out = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(item.path)], capture_output=True, text=True, timeout=60
    )
    problems = [ln for ln in out.stderr.splitlines() if "sidedesk.service" in ln and "/bin/true" not in ln]
    assert not problems, out.stderr


def test_launch_agent(tmp_path: Path) -> None:
    path, text = make("darwin", tmp_path)
    assert path == tmp_path / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    plist = plistlib.loads(text.encode())
    assert plist["Label"] == LABEL and plist["ProgramArguments"] == ARGV
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["EnvironmentVariables"] == ENV
    assert plist["StandardErrorPath"] == str(tmp_path / "logs" / "service.stderr.log")


def test_windows_logon_task(tmp_path: Path) -> None:
    path, text = make("windows", tmp_path)
    assert path == tmp_path / "data" / "sidedesk-logon-task.xml"
    root = ET.fromstring(text.split("\n", 1)[1])
    ns = {"t": TASK_NS}
    assert root.find("t:Triggers/t:LogonTrigger/t:UserId", ns).text == "trader"  # type: ignore[union-attr]
    principal = root.find("t:Principals/t:Principal", ns)
    assert principal is not None
    assert principal.find("t:RunLevel", ns).text == "LeastPrivilege"  # type: ignore[union-attr]
    assert principal.find("t:LogonType", ns).text == "InteractiveToken"  # type: ignore[union-attr]
    assert root.find("t:Settings/t:ExecutionTimeLimit", ns).text == "PT0S"  # type: ignore[union-attr]
    exec_ = root.find("t:Actions/t:Exec", ns)
    assert exec_ is not None
    assert exec_.find("t:Command", ns).text == ARGV[0]  # type: ignore[union-attr]
    assert exec_.find("t:Arguments", ns).text == "-m sidedesk.cli service --foreground"  # type: ignore[union-attr]


def test_install_and_uninstall_write_and_remove_the_unit(tmp_path: Path) -> None:
    import os
    import sys

    env = dict(
        os.environ,
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        SIDEDESK_HOME=str(tmp_path / "sd"),
    )
    udd = tmp_path / "profile"
    udd.mkdir()
    cmd = [sys.executable, "-m", "sidedesk.cli"]
    out = subprocess.run(
        [*cmd, "install", "--user-data-dir", str(udd), "--service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    unit = tmp_path / "cfg" / "systemd" / "user" / "sidedesk.service"
    assert unit.exists() and "service --foreground" in unit.read_text()
    assert "systemctl --user enable --now sidedesk.service" in out.stdout
    out = subprocess.run(
        [*cmd, "uninstall", "--user-data-dir", str(udd), "--service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert not unit.exists()
