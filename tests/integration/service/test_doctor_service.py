"""`sidedesk doctor` says whether the service runs (pid, version, uptime, vault, what it protects)
and whether it starts at login (the file, and systemd's own answer where it can be asked)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sidedesk import __version__
from sidedesk.install.service_state import check_login_start, status_state
from sidedesk.store.paths import Paths
from tests.hostproc import HostProcess
from tests.support.config import PASSWORD, SMALL_KDF, write_config


def env_for(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(tmp / "home"),
        "XDG_CONFIG_HOME": str(tmp / "xdg"),
        "SIDEDESK_HOME": str(tmp / "sd"),
    }


def sidedesk(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", *args],
        env=env_for(tmp),
        capture_output=True,
        text=True,
        timeout=60,
    )


def doctor(tmp: Path) -> dict[str, Any]:
    out = sidedesk(tmp, "doctor", "--json", "--user-data-dir", str(tmp / "profile"))
    return dict(json.loads(out.stdout))


def test_doctor_reports_the_running_service_and_the_login_start(tmp_path: Path) -> None:
    home = tmp_path / "sd"
    write_config(home, {"vault_kdf": SMALL_KDF, "service": {"idle_exit_s": 600}})
    before = doctor(tmp_path)
    assert before["service"]["running"] is False
    assert "not running" in before["service"]["detail"]
    unit = tmp_path / "xdg" / "systemd" / "user" / "sidedesk.service"
    assert before["login_start"] == {
        "kind": "systemd",
        "path": str(unit),
        "installed": False,
        "enabled": None,
        "active": None,
        "detail": "not installed: `sidedesk install --service` writes it",
    }

    with HostProcess(home, env={"HOME": str(tmp_path / "home")}) as panel:  # the browser's proxy
        assert panel.request("vault.create", {"password": PASSWORD})["ok"]["state"] == "unlocked"
        service = doctor(tmp_path)["service"]
        status = json.loads(sidedesk(tmp_path, "service", "status").stdout)
        assert service["running"] is True
        assert service["pid"] == status["pid"] != panel.proc.pid  # the service, not the proxy
        assert service["version"] == __version__
        assert service["vault"] == "unlocked"
        assert service["protecting"] == 0 and service["open_orders"] == 0
        assert service["sessions"] == 1 and service["uptime_s"] >= 0
        assert f"pid {status['pid']}" in service["detail"] and "vault unlocked" in service["detail"]

    res = sidedesk(tmp_path, "install", "--user-data-dir", str(tmp_path / "profile"), "--service")
    assert res.returncode == 0, res.stderr
    login = doctor(tmp_path)["login_start"]
    assert login["installed"] is True and login["path"] == str(unit) and unit.is_file()
    if shutil.which("systemctl") is None:
        assert login["enabled"] is None and "systemctl not found" in login["detail"]
    else:  # systemd's own word, or why it could not be asked (no user session bus in a container)
        assert login["enabled"] in (None, "disabled", "enabled", "linked", "static", "generated")
    table = sidedesk(tmp_path, "doctor", "--user-data-dir", str(tmp_path / "profile")).stdout
    assert f"Start at login (systemd): {unit} (installed" in table
    assert "Service: running: pid" in table

    assert (
        sidedesk(tmp_path, "uninstall", "--user-data-dir", str(tmp_path / "profile"), "--service").returncode
        == 0
    )
    assert doctor(tmp_path)["login_start"]["installed"] is False


def test_what_systemd_says_is_reported_as_it_says_it(tmp_path: Path) -> None:
    # systemd's answers as `systemctl --user is-enabled|is-active` print them (exit code, output)
    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "l")
    unit = tmp_path / "xdg" / "systemd" / "user" / "sidedesk.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Unit]\n")
    answers = {"is-enabled": (0, "enabled"), "is-active": (3, "inactive")}
    asked: list[list[str]] = []

    def ask(argv: list[str]) -> tuple[int, str]:
        asked.append(argv)
        return answers[argv[2]]

    s = check_login_start("linux", tmp_path / "home", tmp_path / "xdg", paths, ask)
    assert (s.installed, s.enabled, s.active) == (True, "enabled", "inactive")
    assert asked == [
        ["systemctl", "--user", "is-enabled", "sidedesk.service"],
        ["systemctl", "--user", "is-active", "sidedesk.service"],
    ]
    answers = {"is-enabled": (1, "disabled"), "is-active": (3, "inactive")}
    s = check_login_start("linux", tmp_path / "home", tmp_path / "xdg", paths, ask)
    assert s.detail == "installed but disabled: systemctl --user enable --now sidedesk.service"
    no_bus = (1, "Failed to connect to bus: No medium found")
    answers = {"is-enabled": no_bus, "is-active": no_bus}
    s = check_login_start("linux", tmp_path / "home", tmp_path / "xdg", paths, ask)
    assert s.enabled is None and "could not be asked (Failed to connect to bus" in s.detail


def test_a_status_reply_becomes_the_doctors_row() -> None:
    s = status_state(
        "/run/x.sock",
        {
            "pid": 42,
            "version": "1.2",
            "uptime_s": 7300.0,
            "vault": "locked",
            "sessions": 0,
            "positions": 2,
            "open_orders": 1,
            "accounts": [{"id": "a"}, "junk"],
        },
    )
    assert s.detail == (
        "running: pid 42, version 1.2, up 2 h 1 min, vault locked, protecting 2 position(s) and "
        "1 open order(s), 0 panel(s) attached"
    )
    assert s.accounts == [{"id": "a"}]
    odd = status_state("/run/x.sock", {"pid": True, "uptime_s": "soon"})
    assert odd.pid is None and odd.uptime_s is None and "pid None" in odd.detail
