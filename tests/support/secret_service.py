"""A real Secret Service for the keychain tests: GNOME Keyring on a private session D-Bus.

`dbus-run-session` starts a bus of its own; inside it `gnome-keyring-daemon --unlock` creates the
login keyring of a temporary HOME (XDG folders inside the test's tmp folder) and unlocks it with a
test password read from stdin. The tests, and the Sidedesk processes they start, reach it through
the environment this yields (DBUS_SESSION_BUS_ADDRESS, HOME, XDG_*). Closing the script's stdin
ends the bus, and the keyring daemon leaves with it. `make test` installs the tools when missing
(scripts/setup-machine.sh); a machine without them fails here with what to install, not a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.wait import WAIT_S, eventually

KEYRING_PASSWORD = "test login keyring password"
TOOLS = ("dbus-run-session", "gnome-keyring-daemon")
# Run inside the private bus: print its address, start and unlock the keyring, wait for stdin to close.
INNER = """
printf 'BUS=%s\\n' "$DBUS_SESSION_BUS_ADDRESS"
printf '%s' "$SD_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
echo READY
read -r _ || true
"""


def _keyring_answers(env: dict[str, str]) -> bool:
    """One round trip through keyring's Secret Service backend, as the product makes them."""
    probe = (
        "import keyring, keyring.backends.SecretService as s\n"
        "k = s.Keyring()\n"
        "k.set_password('sidedesk-test', 'probe', 'x')\n"
        "assert k.get_password('sidedesk-test', 'probe') == 'x'\n"
        "k.delete_password('sidedesk-test', 'probe')\n"
    )
    import sys

    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, timeout=30, check=False)
    return out.returncode == 0


@contextlib.contextmanager
def secret_service(tmp: Path) -> Iterator[dict[str, str]]:
    """Yields the environment variables that reach a fresh, unlocked Secret Service."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"the keychain tests need {', '.join(missing)}: run scripts/setup-machine.sh test "
            "(Debian: apt-get install gnome-keyring dbus libsecret-tools)"
        )
    root = tmp / "secret-service"
    dirs = {
        "HOME": root / "home",
        "XDG_DATA_HOME": root / "data",
        "XDG_CONFIG_HOME": root / "config",
        "XDG_CACHE_HOME": root / "cache",
        "XDG_RUNTIME_DIR": root / "run",
    }
    for d in dirs.values():
        d.mkdir(parents=True, mode=0o700)
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    proc = subprocess.Popen(
        ["dbus-run-session", "--", "sh", "-c", INNER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**env, "SD_KEYRING_PASSWORD": KEYRING_PASSWORD},
        text=True,
    )
    try:
        assert proc.stdout is not None
        bus = ""
        for line in proc.stdout:
            if line.startswith("BUS="):
                bus = line[4:].strip()
            if line.strip() == "READY":
                break
        assert bus, "dbus-run-session printed no bus address"
        env["DBUS_SESSION_BUS_ADDRESS"] = bus
        eventually(lambda: _keyring_answers(env), WAIT_S, "the Secret Service to answer")
        yield {k: env[k] for k in (*dirs, "DBUS_SESSION_BUS_ADDRESS")}
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def keychain_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A real Secret Service for this test, set in this process's environment (so keyring finds
    it) and returned for the processes the test starts."""
    import keyring.core

    with secret_service(tmp_path) as env:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        keyring.core.init_backend()  # keyring picks its backend once per process: pick it on this bus
        yield env
