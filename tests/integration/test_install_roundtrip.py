"""`sidedesk install` / `uninstall` as a user runs them, in a temporary home."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sidedesk.identity import DEV_EXTENSION_ID, NATIVE_HOST_NAME
from sidedesk.install import manifest as mf
from sidedesk.install.apply import InstallRequest, UninstallRequest, install, uninstall
from sidedesk.install.browsers import BROWSERS, NAMES, Platform, lookup, manifest_dirs
from sidedesk.install.launcher import HostCommand
from sidedesk.store.paths import Paths

STORE_ID = "abcdefghijklmnopabcdefghijklmnop"


def sidedesk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "SIDEDESK_HOME": str(tmp_path / "sd"),
    }
    return subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


def all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def linux(tmp_path: Path) -> Platform:
    return Platform("linux", tmp_path / "home", tmp_path / "xdg")


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_for_each_browser_user_folder(tmp_path: Path, name: str) -> None:
    res = sidedesk(tmp_path, "install", "--browser", name)
    assert res.returncode == 0, res.stderr
    [browser] = lookup([name])
    expected = {d / f"{NATIVE_HOST_NAME}.json" for d in manifest_dirs(browser, linux(tmp_path), "user")}
    assert expected and all(p.is_file() for p in expected)
    for path in expected:
        data = json.loads(path.read_text())
        assert mf.validate(data, stem=NATIVE_HOST_NAME, system="linux") == []
        launcher = Path(data["path"])
        assert launcher == tmp_path / "sd" / "data" / "bin" / "sidedesk-host"
        assert os.access(launcher, os.X_OK)
        assert f"SIDEDESK_HOME={tmp_path / 'sd'}" in launcher.read_text()
        assert data["allowed_origins"] == [f"chrome-extension://{DEV_EXTENSION_ID}/"]
    res = sidedesk(tmp_path, "uninstall", "--browser", name)
    assert res.returncode == 0, res.stderr
    assert not any(p.exists() for p in expected)
    assert all_files(tmp_path / "xdg") == set()
    assert all_files(tmp_path / "sd") == set()  # launcher and receipt gone too


def test_install_all_then_uninstall_leaves_nothing(tmp_path: Path) -> None:
    assert sidedesk(tmp_path, "install", "--browser", "all").returncode == 0
    folders = {d for b in BROWSERS for d in manifest_dirs(b, linux(tmp_path), "user")}
    assert {p.parent for p in all_files(tmp_path / "xdg")} == folders
    res = sidedesk(tmp_path, "uninstall")
    assert res.returncode == 0, res.stderr
    assert all_files(tmp_path / "xdg") == set()
    assert all_files(tmp_path / "sd") == set()


def test_partial_uninstall_keeps_what_another_browser_uses(tmp_path: Path) -> None:
    assert sidedesk(tmp_path, "install", "--browser", "chrome", "--browser", "opera").returncode == 0
    chrome_file = tmp_path / "xdg/google-chrome/NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json"
    res = sidedesk(tmp_path, "uninstall", "--browser", "opera")
    assert "another browser still uses it" in res.stdout
    assert chrome_file.is_file()
    assert (tmp_path / "sd/data/bin/sidedesk-host").is_file()
    sidedesk(tmp_path, "uninstall", "--browser", "chrome")
    assert not chrome_file.exists()
    assert not (tmp_path / "sd/data/bin/sidedesk-host").exists()


def test_user_data_dir_writes_only_that_profile(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    res = sidedesk(tmp_path, "install", "--user-data-dir", str(profile))
    assert res.returncode == 0, res.stderr
    target = profile / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json"
    assert all_files(profile) == {target}
    assert all_files(tmp_path / "xdg") == set()
    assert json.loads(target.read_text())["name"] == NATIVE_HOST_NAME
    assert sidedesk(tmp_path, "uninstall", "--user-data-dir", str(profile)).returncode == 0
    assert all_files(profile) == set()
    assert all_files(tmp_path / "sd") == set()


def test_dry_run_writes_nothing_and_says_what_it_would(tmp_path: Path) -> None:
    res = sidedesk(tmp_path, "install", "--browser", "all", "--dry-run", "--extension-id", STORE_ID)
    assert res.returncode == 0, res.stderr
    assert all_files(tmp_path) == set()
    assert "would write launcher" in res.stdout
    assert f"would write {tmp_path / 'xdg/chromium/NativeMessagingHosts'}" in res.stdout
    assert f'"chrome-extension://{STORE_ID}/"' in res.stdout
    assert "nothing was written" in res.stdout
    sidedesk(tmp_path, "install", "--browser", "chromium")
    before = {p: p.read_bytes() for p in all_files(tmp_path)}
    res = sidedesk(tmp_path, "uninstall", "--dry-run")
    assert "would remove" in res.stdout
    assert {p: p.read_bytes() for p in all_files(tmp_path)} == before


def test_extension_id_is_allowed_and_made_known_to_the_host(tmp_path: Path) -> None:
    assert sidedesk(tmp_path, "install", "--browser", "chromium", "--extension-id", STORE_ID).returncode == 0
    data = json.loads(
        (tmp_path / "xdg/chromium/NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json").read_text()
    )
    assert data["allowed_origins"] == [
        f"chrome-extension://{DEV_EXTENSION_ID}/",
        f"chrome-extension://{STORE_ID}/",
    ]
    config = json.loads((tmp_path / "sd/config/config.json").read_text())
    assert config["extra_extension_ids"] == [STORE_ID]
    sidedesk(tmp_path, "uninstall")
    assert json.loads((tmp_path / "sd/config/config.json").read_text())["extra_extension_ids"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["install", "--browser", "firefox"], "unknown browser firefox"),
        (["install", "--browser", "chrome", "--extension-id", "nope"], "32 letters a-p"),
        (["install", "--system", "--user-data-dir", "x"], "do not go together"),
        (["uninstall", "--browser", "netscape"], "unknown browser netscape"),
    ],
)
def test_bad_arguments_are_refused_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    res = sidedesk(tmp_path, *args)
    assert res.returncode == 2
    assert message in res.stderr
    assert all_files(tmp_path) == set()


def test_no_browser_found_asks_for_one(tmp_path: Path) -> None:
    env_path = tmp_path / "empty-bin"
    env_path.mkdir()
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "SIDEDESK_HOME": str(tmp_path / "sd"),
        "PATH": str(env_path),
    }
    res = subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", "install"], env=env, capture_output=True, text=True
    )
    assert res.returncode == 1
    assert "no supported browser found" in res.stderr and "--browser" in res.stderr


def test_detected_browsers_are_the_default(tmp_path: Path) -> None:
    (tmp_path / "xdg/vivaldi").mkdir(parents=True)
    (tmp_path / "xdg/vivaldi/Local State").write_text("{}")
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "SIDEDESK_HOME": str(tmp_path / "sd"),
        "PATH": str(tmp_path),
    }
    res = subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", "install"], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "xdg/vivaldi/NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json").is_file()
    assert not (tmp_path / "xdg/google-chrome").exists()


@pytest.mark.parametrize("system", ["linux", "darwin"])
def test_system_round_trip_for_every_browser(tmp_path: Path, system: str) -> None:
    # system folders live under a root prefix here; `--system` uses "/"
    platform = Platform(system, tmp_path / "home", tmp_path / "xdg", root=tmp_path / "root")  # type: ignore[arg-type]
    paths = Paths(tmp_path / "sd/config", tmp_path / "sd/data", tmp_path / "sd/logs")
    exe = tmp_path / "opt/sidedesk"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    host = HostCommand(exe, None)
    install(
        InstallRequest(lookup(["all"]), "system", None, (), False), platform, paths, host, None, io.StringIO()
    )
    expected = {
        d / f"{NATIVE_HOST_NAME}.json" for b in BROWSERS for d in manifest_dirs(b, platform, "system")
    }
    assert all_files(tmp_path / "root") == expected
    for path in expected:
        assert path.stat().st_mode & 0o777 == 0o644  # readable by every user's browser
    uninstall(
        UninstallRequest(lookup(["all"]), "system", None, True, False), platform, paths, None, io.StringIO()
    )
    assert all_files(tmp_path / "root") == set()


def test_permission_denied_is_a_clear_error_and_recorded(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores file modes; make the target a file where a folder must go instead
        blocker = tmp_path / "xdg" / "chromium"
        blocker.parent.mkdir(parents=True)
        blocker.write_text("not a folder")
    else:
        (tmp_path / "xdg").mkdir()
        (tmp_path / "xdg").chmod(0o500)
    res = sidedesk(tmp_path, "install", "--browser", "chromium")
    assert res.returncode == 1
    assert "sidedesk install: cannot write" in res.stderr
    assert "Traceback" not in res.stderr
