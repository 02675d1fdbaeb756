"""Launcher scripts for source installs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sidedesk.install import launcher


def test_posix_launcher_bakes_interpreter_home_and_passes_arguments() -> None:
    text = launcher.posix_launcher("/opt/py env/bin/python", "/data/side desk", None)
    assert text.startswith("#!/bin/sh\n")
    assert "SIDEDESK_HOME='/data/side desk'\nexport SIDEDESK_HOME" in text
    assert text.rstrip().endswith("""exec '/opt/py env/bin/python' -m sidedesk.cli native "$@\"""")
    assert "PYTHONPATH" not in text
    assert "SIDEDESK_HOME" not in launcher.posix_launcher("/py", None, None)


def test_posix_launcher_runs_with_the_origin_argument(tmp_path: Path) -> None:
    # a fake "python" that prints its arguments and environment proves the exact command line
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "$SIDEDESK_HOME|$PYTHONPATH|$*"\n')
    fake.chmod(0o755)
    script = tmp_path / "sidedesk-host"
    script.write_text(launcher.posix_launcher(str(fake), "/h o", "/src"))
    script.chmod(0o755)
    out = subprocess.run(
        [str(script), "chrome-extension://x/", "--parent-window=0"], capture_output=True, text=True
    )
    assert out.stdout.strip() == "/h o|/src|-m sidedesk.cli native chrome-extension://x/ --parent-window=0"


def test_windows_launcher_is_quiet_and_escapes_percent() -> None:
    text = launcher.windows_launcher("C:\\Py 3\\python.exe", "C:\\Users\\a%b\\sd", "C:\\src")
    lines = text.split("\r\n")
    assert lines[0] == "@echo off"  # an echoed command would corrupt the frame stream
    assert 'set "SIDEDESK_HOME=C:\\Users\\a%%b\\sd"' in lines
    assert 'set "PYTHONPATH=C:\\src"' in lines
    assert '"C:\\Py 3\\python.exe" -m sidedesk.cli native %*' in lines


def test_windows_launcher_refuses_a_quote_in_a_path() -> None:
    with pytest.raises(launcher.UnsafeLauncherPath):
        launcher.windows_launcher('C:\\a"b\\python.exe', None, None)


def test_host_command_for_a_source_install(tmp_path: Path) -> None:
    cmd = launcher.host_command("linux", tmp_path / "bin", {"SIDEDESK_HOME": str(tmp_path / "home")})
    assert cmd.path == tmp_path / "bin" / "sidedesk-host"
    assert cmd.script is not None
    assert f"SIDEDESK_HOME={tmp_path / 'home'}" in cmd.script
    assert str(Path(sys.executable).absolute()) in cmd.script
    win = launcher.host_command("windows", tmp_path, {})
    assert win.path.name == "sidedesk-host.bat"


def test_host_command_for_a_frozen_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    exe = tmp_path / "sidedesk"
    exe.write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    # a build without the small proxy executable: the main one is its own host
    cmd = launcher.host_command("linux", tmp_path / "bin", {"SIDEDESK_HOME": "/x"})
    assert cmd == launcher.HostCommand(exe.resolve(), None)
    # the release: the manifest names `sidedesk-native`, the main executable's neighbour
    (tmp_path / "sidedesk-native").write_bytes(b"")
    cmd = launcher.host_command("linux", tmp_path / "bin", {"SIDEDESK_HOME": "/x"})
    assert cmd == launcher.HostCommand((tmp_path / "sidedesk-native").resolve(), None)


def test_frozen_host_keeps_the_windows_suffix(tmp_path: Path) -> None:
    exe = tmp_path / "sidedesk.exe"
    (tmp_path / "sidedesk-native.exe").write_bytes(b"")
    assert launcher.frozen_host(exe) == tmp_path / "sidedesk-native.exe"
