"""The frozen host, built once per session with build/package.py (PyInstaller onedir).

Checks what a user of the release gets: the stdio smoke test (hello, exit on EOF within Chrome's
2 s), `sidedesk-native` (what the manifests name) proxying to a running service and, with the
service off, serving in-process through the main executable, self-registration from the frozen
binary, `doctor` run from it, and the release archive
(frozen host + extension + a store zip without "key") unpacked and installed with one command.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from sidedesk import __version__
from sidedesk.identity import DEV_EXTENSION_ID, NATIVE_HOST_NAME, origin_for

ROOT = Path(__file__).resolve().parents[2]
EXE_NAME = "sidedesk.exe" if os.name == "nt" else "sidedesk"
NATIVE_EXE_NAME = "sidedesk-native.exe" if os.name == "nt" else "sidedesk-native"

# the first test's setup includes the PyInstaller build (about a minute quiet, several under load):
# the per-test default would cut the build, not a hung test
pytestmark = pytest.mark.timeout(660)


@pytest.fixture(scope="session")
def build_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    res = subprocess.run(
        [sys.executable, str(ROOT / "build" / "package.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def frozen_exe(build_out: Path) -> Path:
    exe = build_out / "dist" / "sidedesk" / EXE_NAME
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe


@pytest.fixture(scope="session")
def native_exe(build_out: Path) -> Path:
    exe = build_out / "dist" / "sidedesk" / NATIVE_EXE_NAME
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe


def frame(obj: dict[str, Any]) -> bytes:
    body = json.dumps(obj).encode()
    return struct.pack("=I", len(body)) + body


def read_frame(stream: Any) -> dict[str, Any]:
    (n,) = struct.unpack("=I", stream.read(4))
    result: dict[str, Any] = json.loads(stream.read(n))
    return result


def env_with(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "SIDEDESK_HOME": str(tmp_path / "sd"), "HOME": str(tmp_path / "home")}


def chrome_session(exe: Path, env: dict[str, str]) -> Path | None:
    """Start `exe` as Chrome does, `hello` and an unknown type answered, then stdin closed: it must
    be gone within Chrome's 2 s. Returns the program the process was running once it answered
    (read from /proc; None where there is none), which tells a proxy from an in-process host."""
    proc = subprocess.Popen(
        [str(exe), origin_for(DEV_EXTENSION_ID)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=exe.parent,  # Chrome starts hosts in their own folder
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(frame({"v": 1, "id": 1, "type": "hello", "payload": {}}))
        proc.stdin.flush()
        reply = read_frame(proc.stdout)
        assert reply["id"] == 1 and reply["type"] == "hello"
        assert reply["ok"]["host_version"] == __version__
        proc.stdin.write(frame({"v": 1, "id": 2, "type": "no_such_type", "payload": {}}))
        proc.stdin.flush()
        assert read_frame(proc.stdout)["error"]["code"] == "unknown_type"
        image = Path(f"/proc/{proc.pid}/exe")
        running = image.resolve() if image.exists() else None
        proc.stdin.close()
        # Chrome SIGKILLs a host 2 s after closing its stdin: it must be gone by then
        assert proc.wait(timeout=2) == 0
        return running
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()


def test_frozen_host_answers_hello_and_exits_on_eof(frozen_exe: Path, tmp_path: Path) -> None:
    chrome_session(frozen_exe, env_with(tmp_path))


def test_native_exe_proxies_to_a_running_service(frozen_exe: Path, native_exe: Path, tmp_path: Path) -> None:
    env = env_with(tmp_path)
    res = subprocess.run(
        [str(frozen_exe), "service", "start"], env=env, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stdout + res.stderr
    try:
        running = chrome_session(native_exe, env)
        if running is not None:  # still the small executable: it forwarded, it did not exec the host
            assert running == native_exe.resolve()
        status = subprocess.run(
            [str(frozen_exe), "service", "status"], env=env, capture_output=True, text=True, timeout=60
        )
        assert status.returncode == 0 and json.loads(status.stdout)["running"] is True
    finally:
        subprocess.run([str(frozen_exe), "service", "stop"], env=env, capture_output=True, timeout=60)


def test_native_exe_serves_in_process_through_the_main_exe_with_the_service_off(
    frozen_exe: Path, native_exe: Path, tmp_path: Path
) -> None:
    env = env_with(tmp_path)
    config = tmp_path / "sd" / "config" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"service": {"enabled": False}}), encoding="utf-8")
    running = chrome_session(native_exe, env)
    if running is not None:  # the host runs in the browser's process: the main executable's
        assert running == frozen_exe.resolve()
    status = subprocess.run(
        [str(frozen_exe), "service", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 1 and json.loads(status.stdout)["running"] is False


def test_frozen_host_refuses_an_unknown_origin(frozen_exe: Path, tmp_path: Path) -> None:
    res = subprocess.run(
        [str(frozen_exe), "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"],
        input=b"",
        capture_output=True,
        env=env_with(tmp_path),
        timeout=30,
    )
    assert res.returncode == 2
    assert res.stdout == b""


def test_frozen_binary_registers_itself_and_doctor_approves(
    frozen_exe: Path, native_exe: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "profile"
    env = env_with(tmp_path)
    res = subprocess.run(
        [str(frozen_exe), "install", "--user-data-dir", str(profile)], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    manifest = json.loads((profile / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json").read_text())
    # no launcher: the small proxy executable beside the main one
    assert manifest["path"] == str(native_exe.resolve())
    assert not (tmp_path / "sd" / "data" / "bin").exists()
    res = subprocess.run(
        [str(frozen_exe), "doctor", "--json", "--user-data-dir", str(profile)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    [browser] = report["browsers"]
    assert browser["locations"][0]["host"]["ok"] is True
    res = subprocess.run(
        [str(frozen_exe), "uninstall", "--user-data-dir", str(profile)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert not (profile / "NativeMessagingHosts" / f"{NATIVE_HOST_NAME}.json").exists()


def test_release_archive_unpacks_and_installs_with_one_command(build_out: Path, tmp_path: Path) -> None:
    [archive] = [
        p for p in build_out.iterdir() if p.name.startswith("sidedesk-") and "extension" not in p.name
    ]
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp_path / "unpacked")
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(tmp_path / "unpacked", filter="tar")
    [top] = list((tmp_path / "unpacked").iterdir())
    assert top.name.startswith(f"sidedesk-{__version__}-")
    source_manifest = json.loads((ROOT / "extension" / "manifest.json").read_text())
    assert json.loads((top / "extension" / "manifest.json").read_text()) == source_manifest
    assert (top / "INSTALL.txt").is_file()
    with zipfile.ZipFile(top / f"sidedesk-extension-{__version__}.zip") as zf:
        store_manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
    assert "key" not in store_manifest
    assert store_manifest == {k: v for k, v in source_manifest.items() if k != "key"}
    assert "background/worker.js" in names or any(n.startswith("background/") for n in names)

    exe = top / "sidedesk" / EXE_NAME
    profile = tmp_path / "profile"
    env = env_with(tmp_path)
    res = subprocess.run(
        [str(exe), "install", "--user-data-dir", str(profile)], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    res = subprocess.run(
        [str(exe), "doctor", "--json", "--user-data-dir", str(profile)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["status"] == "ok"


def test_real_chromium_reaches_the_frozen_host(frozen_exe: Path, tmp_path: Path) -> None:
    """Chromium itself launches the frozen host registered with `install --user-data-dir`.

    A minimal extension carrying the project's pinned "key" (so it has the real id) asks the
    host for `hello` with sendNativeMessage; the panel's own end-to-end tests live in tests/e2e.
    """
    from playwright.sync_api import sync_playwright

    chromium = next(
        (c for c in ("/usr/bin/chromium", "/usr/lib/chromium/chromium") if Path(c).exists()), None
    )
    assert chromium is not None, "Debian chromium is required (.ci/run installs it)"
    key = json.loads((ROOT / "extension" / "manifest.json").read_text())["key"]
    ext = tmp_path / "ext"
    ext.mkdir()
    (ext / "sw.js").write_text("// the test evaluates in this worker\n")
    (ext / "manifest.json").write_text(
        json.dumps(
            {
                "manifest_version": 3,
                "name": "sidedesk frozen-host probe",
                "version": "1.0",
                "key": key,
                "permissions": ["nativeMessaging"],
                "background": {"service_worker": "sw.js"},
            }
        )
    )
    profile = tmp_path / "profile"
    env = env_with(tmp_path)
    res = subprocess.run(
        [str(frozen_exe), "install", "--user-data-dir", str(profile)], env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium,
            headless=True,
            env=env,
            args=[
                "--disable-gpu",
                "--no-first-run",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                f"--disable-extensions-except={ext}",
                f"--load-extension={ext}",
            ],
        )
        try:
            workers = context.service_workers
            worker = workers[0] if workers else context.wait_for_event("serviceworker", timeout=20_000)
            assert worker.url.startswith(f"chrome-extension://{DEV_EXTENSION_ID}/")
            reply = worker.evaluate(
                "() => chrome.runtime.sendNativeMessage('com.sidedesk.host',"
                " {v: 1, id: 7, type: 'hello', payload: {}})"
            )
        finally:
            context.close()
    assert reply["id"] == 7
    assert reply["ok"]["host_version"] == __version__
