"""What the manifest's `path` points at.

A frozen build (PyInstaller) is its own host: the manifest points at `sidedesk-native`, the small
executable beside `sidedesk` that proxies to the service (and runs `sidedesk` when the host must
serve in-process), so the browser's every connect starts only the proxy's bundle. A source install
has no single executable, so `install` writes a small launcher that runs this very interpreter with
`-m sidedesk.cli native`; the absolute interpreter path matters because the browser's PATH is not
the shell's, and `SIDEDESK_HOME` is baked in when it was set, because the browser does not inherit
it either.
"""

from __future__ import annotations

import os
import shlex
import site
import sys
from dataclasses import dataclass
from pathlib import Path

import sidedesk
from sidedesk.native.launch import NATIVE_EXE_STEM

LAUNCHER_STEM = "sidedesk-host"


@dataclass(frozen=True)
class HostCommand:
    path: Path  # what goes into the manifest
    script: str | None  # launcher text to write at `path`, None for a frozen executable


class UnsafeLauncherPath(ValueError):
    pass


def posix_launcher(python: str, sidedesk_home: str | None, pythonpath: str | None) -> str:
    lines = [
        "#!/bin/sh",
        "# Written by `sidedesk install`: the browser runs this with the extension origin as $1.",
        "# `sidedesk uninstall` removes it.",
    ]
    if sidedesk_home:
        lines.append(f"SIDEDESK_HOME={shlex.quote(sidedesk_home)}")
        lines.append("export SIDEDESK_HOME")
    if pythonpath:
        lines.append(f"PYTHONPATH={shlex.quote(pythonpath)}")
        lines.append("export PYTHONPATH")
    lines.append(f'exec {shlex.quote(python)} -m sidedesk.cli native "$@"')
    return "\n".join(lines) + "\n"


def _bat_value(value: str) -> str:
    # Inside `set "X=..."` and a quoted command, only `"` cannot be expressed; `%` must be doubled.
    if '"' in value or "\n" in value or "\r" in value:
        raise UnsafeLauncherPath(f"{value!r} cannot be written into a batch file")
    return value.replace("%", "%%")


def windows_launcher(python: str, sidedesk_home: str | None, pythonpath: str | None) -> str:
    # `@echo off` first: Chrome reads the host's stdout as frames, an echoed command would corrupt it.
    lines = [
        "@echo off",
        "rem Written by `sidedesk install`: the browser runs this with the extension origin first.",
        "rem `sidedesk uninstall` removes it.",
    ]
    if sidedesk_home:
        lines.append(f'set "SIDEDESK_HOME={_bat_value(sidedesk_home)}"')
    if pythonpath:
        lines.append(f'set "PYTHONPATH={_bat_value(pythonpath)}"')
    lines.append(f'"{_bat_value(python)}" -m sidedesk.cli native %*')
    return "\r\n".join(lines) + "\r\n"


def launcher_name(system: str) -> str:
    return LAUNCHER_STEM + (".bat" if system == "windows" else "")


def package_parent() -> Path:
    return Path(sidedesk.__file__).resolve().parent.parent


def needs_pythonpath(parent: Path) -> bool:
    """True when the interpreter would not find `sidedesk` without help (a bare source checkout)."""
    known = [*site.getsitepackages(), site.getusersitepackages()]
    resolved = {Path(p).resolve() for p in known if p}
    if parent in resolved:
        return False
    # an editable install puts the source folder on sys.path through a .pth file
    for p in resolved:
        if p.is_dir():
            for pth in p.glob("*.pth"):
                try:
                    if str(parent) in pth.read_text(encoding="utf-8", errors="replace"):
                        return False
                except OSError:
                    continue
    return True


def frozen_host(exe: Path) -> Path:
    """`sidedesk-native` beside the frozen `sidedesk`; the executable itself in a build without
    it (it, too, runs as the host when its first argument is an origin)."""
    native = exe.with_name(NATIVE_EXE_STEM + exe.suffix)
    return native if native.is_file() else exe


def host_command(system: str, bin_dir: Path, env: dict[str, str] | None = None) -> HostCommand:
    """The command the manifest should name for the running sidedesk (frozen or from source)."""
    env = dict(os.environ if env is None else env)
    if getattr(sys, "frozen", False):
        return HostCommand(frozen_host(Path(sys.executable).resolve()), None)
    parent = package_parent()
    pythonpath = str(parent) if needs_pythonpath(parent) else None
    python = str(Path(sys.executable).absolute())
    home = env.get("SIDEDESK_HOME") or None
    if home:
        home = str(Path(home).expanduser().resolve())
    make = windows_launcher if system == "windows" else posix_launcher
    return HostCommand(bin_dir / launcher_name(system), make(python, home, pythonpath))
