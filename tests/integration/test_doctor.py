"""`sidedesk doctor` on a healthy setup and on each kind of broken one."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sidedesk.identity import DEV_EXTENSION_ID, NATIVE_HOST_NAME
from sidedesk.install.apply import InstallRequest, install
from sidedesk.install.browsers import Platform, lookup
from sidedesk.install.doctor import render_table, run_doctor
from sidedesk.install.launcher import host_command
from sidedesk.install.registry import FakeRegistry
from sidedesk.store.paths import Paths

OTHER_ID = "abcdefghijklmnopabcdefghijklmnop"


def env_for(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "SIDEDESK_HOME": str(tmp_path / "sd"),
    }


def sidedesk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", *args],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )


def doctor_json(tmp_path: Path, profile: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    res = sidedesk(tmp_path, "doctor", "--json", "--user-data-dir", str(profile), *extra)
    return res.returncode, json.loads(res.stdout)


def manifest_of(profile: Path) -> Path:
    return profile / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json"


def installed_profile(tmp_path: Path) -> Path:
    profile = tmp_path / "profile"
    res = sidedesk(tmp_path, "install", "--user-data-dir", str(profile))
    assert res.returncode == 0, res.stderr
    return profile


def edit(profile: Path, **changes: Any) -> None:
    path = manifest_of(profile)
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


def only_location(report: dict[str, Any]) -> dict[str, Any]:
    [browser] = report["browsers"]
    [loc] = browser["locations"]
    result: dict[str, Any] = loc
    return result


def test_healthy_profile(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    code, report = doctor_json(tmp_path, profile)
    assert code == 0, report["problems"]
    assert report["status"] == "ok"
    loc = only_location(report)
    assert loc["status"] == "ok"
    assert loc["host"]["ok"] is True
    assert loc["host"]["host_version"]
    assert report["vault"]["path"] == str(tmp_path / "sd/data/vault.sdv")
    assert report["logs"]["path"] == str(tmp_path / "sd/logs/host.log")
    table = sidedesk(tmp_path, "doctor", "--user-data-dir", str(profile))
    assert table.returncode == 0
    assert "answered hello" in table.stdout and "Result: OK" in table.stdout


def test_missing_manifest(tmp_path: Path) -> None:
    code, report = doctor_json(tmp_path, tmp_path / "profile")
    assert code == 1
    assert report["status"] == "error"
    assert any("no manifest: run `sidedesk install --user-data-dir" in p for p in report["problems"])


def test_origin_without_trailing_slash(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    edit(profile, allowed_origins=[f"chrome-extension://{DEV_EXTENSION_ID}"])
    code, report = doctor_json(tmp_path, profile)
    assert code == 1
    problems = only_location(report)["problems"]
    assert any("lacks the trailing slash" in p and "not found" in p for p in problems)


def test_non_executable_host_path(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    launcher = Path(json.loads(manifest_of(profile).read_text())["path"])
    launcher.chmod(0o644)
    code, report = doctor_json(tmp_path, profile)
    assert code == 1
    [problem] = only_location(report)["problems"]
    assert "is not executable" in problem and "Native host has exited" in problem
    assert only_location(report)["host"] is None  # not started


def test_missing_host_program_and_relative_path(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    edit(profile, path=str(tmp_path / "gone"))
    code, report = doctor_json(tmp_path, profile)
    assert code == 1 and "does not exist" in only_location(report)["problems"][0]
    edit(profile, path="sidedesk-host")
    code, report = doctor_json(tmp_path, profile)
    assert code == 1 and "not absolute" in only_location(report)["problems"][0]


def test_wrong_extension_id(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    edit(profile, allowed_origins=[f"chrome-extension://{OTHER_ID}/"])
    code, report = doctor_json(tmp_path, profile)
    assert code == 1
    loc = only_location(report)
    assert any(DEV_EXTENSION_ID in p and "forbidden" in p for p in loc["problems"])
    assert any(OTHER_ID in w and "refuses" in w for w in loc["warnings"])


def test_invalid_json_and_wrong_name(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    manifest_of(profile).write_text("{not json")
    code, report = doctor_json(tmp_path, profile)
    assert code == 1 and "not valid JSON" in only_location(report)["problems"][0]
    manifest_of(profile).write_text(json.dumps({"name": "com.other"}))
    code, report = doctor_json(tmp_path, profile)
    assert any("differs from the file/key name" in p for p in only_location(report)["problems"])


def test_host_that_does_not_answer(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    mute = script(tmp_path, "mute", "import sys\nsys.stdin.buffer.read()\n")
    edit(profile, path=str(mute))
    code, report = doctor_json(tmp_path, profile, "--timeout", "1")
    assert code == 1
    assert "no reply to hello within 1 s" in only_location(report)["problems"][0]


def test_host_that_exits_at_once(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    dead = script(tmp_path, "dead", "import sys\nprint('boom', file=sys.stderr)\nsys.exit(3)\n")
    edit(profile, path=str(dead))
    code, report = doctor_json(tmp_path, profile)
    assert code == 1
    problem = only_location(report)["problems"][0]
    assert "exited (code 3) without answering hello" in problem and "boom" in problem


def test_host_that_prints_to_stdout(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    chatty = script(
        tmp_path, "chatty", "print('hello there, starting up')\nimport sys\nsys.stdin.buffer.read()\n"
    )
    edit(profile, path=str(chatty))
    code, report = doctor_json(tmp_path, profile)
    assert code == 1
    assert "stray text on stdout" in only_location(report)["problems"][0]


def test_host_that_ignores_eof(tmp_path: Path) -> None:
    profile = installed_profile(tmp_path)
    body = (
        "import json, struct, sys, time\n"
        "n = struct.unpack('=I', sys.stdin.buffer.read(4))[0]\n"
        "sys.stdin.buffer.read(n)\n"
        "b = json.dumps({'v': 1, 'id': 1, 'type': 'hello', 'ok': {'host_version': 'x'}}).encode()\n"
        "sys.stdout.buffer.write(struct.pack('=I', len(b)) + b)\n"
        "sys.stdout.buffer.flush()\n"
        "time.sleep(30)\n"
    )
    edit(profile, path=str(script(tmp_path, "lingers", body)))
    code, report = doctor_json(tmp_path, profile)
    assert code == 1
    assert "did not exit within 2 s" in only_location(report)["problems"][0]


def test_host_that_refuses_the_origin(tmp_path: Path) -> None:
    # the manifest allows an id the host's settings do not know: the real host refuses to start
    profile = installed_profile(tmp_path)
    edit(
        profile,
        allowed_origins=[f"chrome-extension://{DEV_EXTENSION_ID}/", f"chrome-extension://{OTHER_ID}/"],
    )
    code, report = doctor_json(tmp_path, profile)
    assert code == 0  # the dev id still works
    assert report["status"] == "warn"
    assert any("--extension-id" in w for w in only_location(report)["warnings"])


def test_browser_folders_policies_sandboxes_and_vault(tmp_path: Path) -> None:
    home, xdg, root = tmp_path / "home", tmp_path / "xdg", tmp_path / "root"
    platform = Platform("linux", home, xdg, root=root)
    paths = Paths(tmp_path / "sd/config", tmp_path / "sd/data", tmp_path / "sd/logs")
    env = {"SIDEDESK_HOME": str(tmp_path / "sd")}
    host = host_command("linux", paths.data_dir / "bin", env)
    install(
        InstallRequest(lookup(["chrome", "edge"]), "user", None, (), False),
        platform,
        paths,
        host,
        None,
        io.StringIO(),
    )
    # Edge: a broken user manifest shadows a good system one, and the browser uses the first it finds
    edge_user = xdg / "microsoft-edge/NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json"
    edge_user.write_text("{}")
    install(
        InstallRequest(lookup(["edge"]), "system", None, (), False),
        platform,
        paths,
        host,
        None,
        io.StringIO(),
    )
    (xdg / "chromium").mkdir(parents=True)
    (xdg / "chromium/Local State").write_text("{}")
    (root / "snap/bin").mkdir(parents=True)
    (root / "snap/bin/chromium").write_text("")
    (home / ".var/app/com.brave.Browser").mkdir(parents=True)
    policy = root / "etc/opt/chrome/policies/managed"
    policy.mkdir(parents=True)
    (policy / "corp.json").write_text(json.dumps({"NativeMessagingBlocklist": ["*"]}))
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    (paths.data_dir / "vault.sdv").write_bytes(b"x")
    (paths.data_dir / "vault.sdv").chmod(0o644)

    old = os.environ.get("SIDEDESK_HOME")
    os.environ["SIDEDESK_HOME"] = str(tmp_path / "sd")  # the launcher's host reads its folders from here
    try:
        report = run_doctor(platform, paths, which=lambda _name: None, user="u")
    finally:
        if old is None:
            del os.environ["SIDEDESK_HOME"]
        else:
            os.environ["SIDEDESK_HOME"] = old
    by = {b.name: b for b in report.browsers}
    assert by["chrome"].status == "ok" and by["chrome"].effective is not None
    assert by["chrome"].effective.host is not None and by["chrome"].effective.host.ok
    assert by["edge"].status == "error" and by["edge"].effective is not None
    assert by["edge"].effective.where == str(edge_user)
    assert by["chromium"].status == "warn" and "not registered" in by["chromium"].summary
    assert any("Snap" in n for n in by["chromium"].notes)
    assert by["brave"].status == "warn" and any("Flatpak" in n for n in by["brave"].notes)
    assert by["vivaldi"].status == "absent"
    assert [p.level for p in report.policies] == ["error"]
    assert "NativeMessagingBlocklist" in report.policies[0].message
    assert report.vault.status == "warn" and "chmod 600" in report.vault.detail
    assert report.status == "error"
    table = render_table(report)
    assert "also present but not used" in table
    assert "NativeMessagingBlocklist" in table
    assert "Result: 3 problem(s)" in table or "problem(s)" in table


def test_windows_registry_lookup(tmp_path: Path) -> None:
    platform = Platform(
        "windows", tmp_path / "home", tmp_path / "cfg", root=tmp_path, local_app_data=tmp_path / "lad"
    )
    paths = Paths(tmp_path / "sd/config", tmp_path / "sd/data", tmp_path / "sd/logs")
    reg = FakeRegistry()
    host = host_command("linux", paths.data_dir / "bin", {"SIDEDESK_HOME": str(tmp_path / "sd")})
    install(
        InstallRequest(lookup(["brave"]), "user", None, (), False), platform, paths, host, reg, io.StringIO()
    )
    old = os.environ.get("SIDEDESK_HOME")
    os.environ["SIDEDESK_HOME"] = str(tmp_path / "sd")
    try:
        report = run_doctor(platform, paths, registry=reg)
    finally:
        if old is None:
            del os.environ["SIDEDESK_HOME"]
        else:
            os.environ["SIDEDESK_HOME"] = old
    by = {b.name: b for b in report.browsers}
    for name in ("brave", "chrome", "opera", "vivaldi"):  # all read the Chrome key Brave wrote
        assert by[name].effective is not None, name
    assert by["brave"].effective is not None and by["brave"].effective.where.startswith(
        "HKCU\\Software\\BraveSoftware"
    )
    assert by["brave"].status == "ok", by["brave"].summary
    assert by["edge"].effective is None
    reg.set_default(
        "HKCU", "64", f"Software\\Microsoft\\Edge\\NativeMessagingHosts\\{NATIVE_HOST_NAME}", "rel.json"
    )
    report = run_doctor(platform, paths, registry=reg)
    edge = next(b for b in report.browsers if b.name == "edge")
    assert edge.status == "error" and "absolute path" in edge.summary
