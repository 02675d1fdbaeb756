"""`make demo` / `make test` set a fresh machine up by themselves (scripts/setup-machine.sh).

The script runs in a sandbox: a copy of it in a temporary checkout, and a PATH holding only the
tools it uses plus fakes of `apt-get`, `sudo`, `id`, `node` and `npm` that record their calls. A
fake `apt-get install` "installs" a package by putting its command on that PATH, as Debian would.
On today's main, only `.ci/run` installed anything: `make test` then failed in the browser tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "setup-machine.sh"
TOOLS = ("bash", "sed", "uname", "dirname", "basename", "cat", "cp", "touch", "chmod", "mkdir", "sh", "env")
PROVIDES = {  # Debian package -> the command it puts on PATH
    "chromium": "chromium",
    "xvfb": "Xvfb",
    "xdotool": "xdotool",
    "nodejs": "node",
    "npm": "npm",
    "dbus": "dbus-run-session",
    "gnome-keyring": "gnome-keyring-daemon",
    "libsecret-tools": "secret-tool",
}


def fake(path: Path, body: str) -> None:
    path.write_text("#!/bin/bash\n" + body, encoding="utf-8")
    path.chmod(0o755)


class Sandbox:
    def __init__(self, root: Path, *, uid: int = 1000, has: tuple[str, ...] = ()) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.calls = root / "calls.log"
        self.checkout = root / "checkout"
        (self.checkout / "scripts").mkdir(parents=True)
        shutil.copy(SCRIPT, self.checkout / "scripts" / SCRIPT.name)
        (self.checkout / "package.json").write_text("{}", encoding="utf-8")
        (self.checkout / "package-lock.json").write_text("{}", encoding="utf-8")
        for tool in TOOLS:
            found = shutil.which(tool)
            assert found, tool
            (self.bin / tool).symlink_to(found)
        log = f'echo "$(basename "$0") $*" >> {self.calls}\n'
        fake(self.bin / "id", f'[ "$1" = -u ] && echo {uid}\n')
        fake(self.bin / "sudo", log + 'exec "$@"\n')
        # `apt-get install PKG` copies the fake command kept aside in bin-apt/ (node, npm: working fakes).
        self.aside = root / "bin-apt"
        self.aside.mkdir()
        for cmd in PROVIDES.values():
            self.provide(cmd, where=self.aside)
        installs = "".join(
            f"    {pkg}) cp {self.aside}/{cmd} {self.bin}/{cmd};;\n" for pkg, cmd in PROVIDES.items()
        )
        fake(
            self.bin / "apt-get",
            log
            + 'if [ "$1" = install ]; then for p in "$@"; do case "$p" in\n'
            + installs
            + "  esac; done; fi\n",
        )
        fake(self.bin / "python3", 'if [ "$1" = -c ]; then exit 0; fi\n')  # has venv and ensurepip
        for cmd in has:
            self.provide(cmd)

    def provide(self, cmd: str, where: Path | None = None) -> None:
        target = (where or self.bin) / cmd
        if cmd == "node":
            fake(target, 'if [ "$1" = -p ]; then echo 20; else echo v20.0.0; fi\n')
        elif cmd == "npm":
            fake(target, f'echo "npm $*" >> {self.calls}\nmkdir -p node_modules\n')
        else:
            fake(target, "exit 0\n")

    def run(self, mode: str, os_name: str = "debian") -> subprocess.CompletedProcess[str]:
        env = {"PATH": str(self.bin), "HOME": str(self.root), "SIDEDESK_SETUP_OS": os_name}
        return subprocess.run(
            [str(self.bin / "bash"), str(self.checkout / "scripts" / SCRIPT.name), mode],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def recorded(self) -> list[str]:
        return self.calls.read_text(encoding="utf-8").splitlines() if self.calls.exists() else []


def test_make_test_on_a_fresh_debian_installs_everything_with_sudo_and_says_why(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    proc = box.run("test")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # One line about the system packages (what, how, why), one about the npm packages.
    head = (
        "make test: installing chromium xvfb xdotool nodejs npm dbus gnome-keyring libsecret-tools"
        " with sudo apt-get — needed: "
    )
    assert lines[0].startswith(head)
    for why in (
        "chromium (the browser",
        "xvfb (a virtual screen",
        "nodejs (runs the extension",
        "gnome-keyring (a real Secret Service for the keychain tests)",
    ):
        assert why in lines[0]
    assert lines[1].startswith("make test: installing the JavaScript tests' packages with npm ci")
    calls = box.recorded()
    assert calls[:2] == ["sudo apt-get update -qq", "apt-get update -qq"]
    assert (
        "sudo apt-get install -y -qq chromium xvfb xdotool nodejs npm dbus gnome-keyring libsecret-tools"
        in calls
    )
    assert calls[-1] == "npm ci --no-audit --no-fund --loglevel=error"
    # The second run finds everything: nothing installed, nothing printed.
    again = box.run("test")
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""
    assert len(box.recorded()) == len(calls)


def test_make_demo_as_root_installs_only_chromium_without_sudo(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, uid=0, has=("Xvfb",))
    proc = box.run("demo")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("make demo: installing chromium with apt-get — needed: chromium (")
    assert "sudo" not in " ".join(box.recorded())
    assert "apt-get install -y -qq chromium" in box.recorded()
    assert box.run("demo").stdout == ""


@pytest.mark.parametrize(
    ("os_name", "command"),
    [
        (
            "fedora",
            "sudo dnf install -y chromium xorg-x11-server-Xvfb xdotool nodejs npm"
            " dbus-daemon gnome-keyring libsecret",
        ),
        (
            "arch",
            "sudo pacman -S --needed chromium xorg-server-xvfb xdotool nodejs npm"
            " dbus gnome-keyring libsecret",
        ),
    ],
)
def test_other_linux_systems_get_the_exact_command_and_a_clean_stop(
    tmp_path: Path, os_name: str, command: str
) -> None:
    box = Sandbox(tmp_path)
    proc = box.run("test", os_name)
    assert proc.returncode == 1
    assert command in proc.stderr
    assert "then run make test again" in proc.stderr
    assert box.recorded() == [], "nothing was installed"


def test_macos_says_the_browser_tests_need_linux_and_the_demo_gets_brew(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    test = box.run("test", "macos")
    assert test.returncode == 1 and "Linux only" in test.stderr
    demo = box.run("demo", "macos")
    assert demo.returncode == 1
    assert "brew install --cask chromium" in demo.stderr and "SIDEDESK_CHROMIUM=" in demo.stderr


def test_without_sudo_a_non_root_user_is_told_the_root_command(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    (box.bin / "sudo").unlink()
    proc = box.run("demo")
    assert proc.returncode == 1
    assert "Run as root: apt-get install -y chromium" in proc.stderr
    assert box.recorded() == []


def test_ci_just_runs_make_test() -> None:
    body = [
        line
        for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert body[-1] == "make test"
    assert not any("apt-get" in line for line in body)
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "\ntest: setup-test " in makefile and "\ndemo: setup-demo " in makefile
    assert os.access(SCRIPT, os.X_OK)


def test_a_node_too_old_for_the_js_tests_is_named_with_what_to_do(tmp_path: Path) -> None:
    box = Sandbox(
        tmp_path,
        has=("chromium", "Xvfb", "xdotool", "npm", "dbus-run-session", "gnome-keyring-daemon", "secret-tool"),
    )
    fake(box.bin / "node", 'if [ "$1" = -p ]; then echo 12; else echo v12.22.9; fi\n')
    proc = box.run("test")
    assert proc.returncode == 1
    assert "Node.js v12.22.9 is too old" in proc.stderr and "Node 18 or newer" in proc.stderr
    assert not any(c.startswith("npm ") for c in box.recorded())
