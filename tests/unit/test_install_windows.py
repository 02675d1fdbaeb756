"""The Windows registry writer, run against the dict-backed fake registry on any OS."""

from __future__ import annotations

import io
import json
from pathlib import Path

from sidedesk.identity import NATIVE_HOST_NAME
from sidedesk.install.apply import InstallRequest, UninstallRequest, install, uninstall
from sidedesk.install.browsers import BROWSERS, Platform, lookup, registry_key
from sidedesk.install.launcher import HostCommand
from sidedesk.install.registry import FakeRegistry
from sidedesk.store.paths import Paths


def setup(tmp_path: Path) -> tuple[Platform, Paths, HostCommand, FakeRegistry]:
    platform = Platform(
        "windows",
        tmp_path / "home",
        tmp_path / "cfg",
        root=tmp_path,
        local_app_data=tmp_path / "lad",
        program_data=tmp_path / "pd",
    )
    paths = Paths(tmp_path / "sd/config", tmp_path / "sd/data", tmp_path / "sd/logs")
    exe = tmp_path / "app" / "sidedesk.exe"
    exe.parent.mkdir()
    exe.write_bytes(b"MZ")
    return platform, paths, HostCommand(exe, None), FakeRegistry()


def key(browser_key: str) -> str:
    return registry_key(browser_key, NATIVE_HOST_NAME)


def req(names: list[str], scope: str = "user") -> InstallRequest:
    return InstallRequest(lookup(names), scope, None, (), False)  # type: ignore[arg-type]


def unreq(names: list[str], scope: str = "user", everything: bool = False) -> UninstallRequest:
    return UninstallRequest(lookup(names), scope, None, everything, False)  # type: ignore[arg-type]


def test_user_install_writes_one_manifest_and_a_hkcu_key_per_browser_key(tmp_path: Path) -> None:
    platform, paths, host, reg = setup(tmp_path)
    install(req(["all"]), platform, paths, host, reg, io.StringIO())
    manifest = paths.data_dir / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json"
    data = json.loads(manifest.read_text())
    assert data["path"] == str(host.path) and data["name"] == NATIVE_HOST_NAME
    expected = {key(k) for b in BROWSERS for k in b.windows_keys}
    assert {"Software\\BraveSoftware\\Brave-Browser", "Software\\Vivaldi", "Software\\Google\\Chrome"} <= {
        k.rsplit("\\", 2)[0] for k in expected
    }
    for k in expected:
        # HKCU is shared between views, so both lookups see it
        assert reg.get_default("HKCU", "32", k) == str(manifest)
        assert reg.get_default("HKCU", "64", k) == str(manifest)
        assert reg.get_default("HKLM", "64", k) is None
    assert len(reg.keys) == len(expected)


def test_system_install_writes_both_hklm_views(tmp_path: Path) -> None:
    platform, paths, host, reg = setup(tmp_path)
    install(req(["edge"], "system"), platform, paths, host, reg, io.StringIO())
    manifest = tmp_path / "pd" / "sidedesk" / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json"
    assert manifest.is_file()
    assert reg.get_default("HKLM", "32", key("Microsoft\\Edge")) == str(manifest)
    assert reg.get_default("HKLM", "64", key("Microsoft\\Edge")) == str(manifest)
    assert reg.get_default("HKCU", "64", key("Microsoft\\Edge")) is None


def test_uninstall_brave_keeps_the_chrome_key_chrome_still_needs(tmp_path: Path) -> None:
    platform, paths, host, reg = setup(tmp_path)
    install(req(["chrome", "brave"]), platform, paths, host, reg, io.StringIO())
    out = io.StringIO()
    uninstall(unreq(["brave"]), platform, paths, reg, out)
    assert reg.get_default("HKCU", "64", key("BraveSoftware\\Brave-Browser")) is None
    assert reg.get_default("HKCU", "64", key("Google\\Chrome")) is not None
    assert "kept" in out.getvalue()
    manifest = paths.data_dir / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json"
    assert manifest.is_file()
    uninstall(unreq(["chrome"]), platform, paths, reg, io.StringIO())
    assert reg.keys == {}
    assert not manifest.exists()


def test_uninstall_removes_keys_left_in_the_32_bit_view_too(tmp_path: Path) -> None:
    platform, paths, _host, reg = setup(tmp_path)
    reg.set_default("HKLM", "32", key("Chromium"), "C:\\old\\manifest.json")  # e.g. an old 32-bit installer
    uninstall(unreq(["all"], "system", everything=True), platform, paths, reg, io.StringIO())
    assert reg.keys == {}


def test_uninstall_everything_without_a_receipt(tmp_path: Path) -> None:
    platform, paths, host, reg = setup(tmp_path)
    install(req(["all"]), platform, paths, host, reg, io.StringIO())
    (paths.config_dir / "install-receipt.json").unlink()
    uninstall(unreq(["all"], everything=True), platform, paths, reg, io.StringIO())
    assert reg.keys == {}
    assert not (paths.data_dir / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json").exists()
