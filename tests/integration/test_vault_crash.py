"""A writer killed after every step of a write, a held writer lock, the CLI, an unwritable folder."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sidedesk.vault.kdf import KdfParams
from sidedesk.vault.service import VaultService
from sidedesk.vault.store import STEPS, VaultBusy
from tests.unit.test_vault_store import read_only_folder

SMALL = KdfParams.argon2id(memory_kib=64, iterations=1, lanes=1)
PW = "lemon-cactus-42"
ENTRY = {
    "broker": "alpaca",
    "name": "paper",
    "environment": "demo",
    "key_id": "PKALPACAKEYID0123",
    "secret_key": "AlpacaSecretKeyValue0123456789",
}

WRITER = textwrap.dedent(
    """
    import asyncio, os, sys, json
    from pathlib import Path
    from sidedesk.vault.kdf import KdfParams
    from sidedesk.vault.service import VaultService

    path, step, entry = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])

    async def main():
        v = VaultService(path, kdf=KdfParams.argon2id(64, 1, 1))
        await v.unlock(sys.argv[4])
        def die(at):
            if at == step:
                os._exit(70)  # killed: no cleanup, no finally, no unlock of the lock file
        v.store.after_step = die
        await v.put(entry)

    asyncio.run(main())
    """
)


def names(v: VaultService) -> set[str]:
    return {e.name for e in v.entries()}


@pytest.mark.parametrize("step", STEPS)
async def test_killed_after_each_step_opens_old_or_new(tmp_path: Path, step: str) -> None:
    path = tmp_path / "data" / "vault.sdv"
    v = VaultService(path, kdf=SMALL)
    await v.create(PW)
    await v.put({**ENTRY, "name": "old", "key_id": "PKOLDKEYID012345"})
    v.lock()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(path), step, json.dumps(ENTRY), PW
    )
    assert await asyncio.wait_for(proc.wait(), 30) == 70
    w = VaultService(path, kdf=SMALL)
    await w.unlock(PW)
    got = names(w)
    assert got in ({"old"}, {"old", "paper"}), got
    if STEPS.index(step) >= STEPS.index("rename"):
        assert got == {"old", "paper"}
    else:
        assert got == {"old"}
    await w.put({**ENTRY, "name": "after"})  # the dead writer's lock and temp files are no obstacle
    assert not list(path.parent.glob("*.tmp"))


HOLDER = (
    "import sys\nfrom pathlib import Path\nfrom sidedesk.vault.store import file_lock\n"
    "with file_lock(Path(sys.argv[1]), 5):\n    print('held', flush=True)\n    sys.stdin.read()\n"
)


def test_writer_lock_held_by_another_process_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "vault.sdv"
    v = VaultService(path, kdf=SMALL, lock_timeout_s=0.2)
    asyncio.run(v.create(PW))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path.with_name("vault.sdv.lock"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        with pytest.raises(
            VaultBusy, match=f"another Sidedesk process is writing the vault \\(pid {holder.pid}\\)"
        ):
            asyncio.run(v.put(ENTRY))
        assert v.entries() == []
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()
    asyncio.run(v.put(ENTRY))  # released when the holder exits
    assert names(v) == {"paper"}


def cli(home: Path, *args: str, stdin: str = "", user: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIDEDESK_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", "vault", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        user=user,
        check=False,
    )


def write_config(home: Path) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    cfg = {"vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1}}
    (home / "config" / "config.json").write_text(json.dumps(cfg))


def test_cli_headless(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert "vault: absent" in cli(tmp_path, "status").stdout
    weak = cli(tmp_path, "init", "--password-stdin", stdin="password1\n")
    assert weak.returncode == 1 and "too weak" in weak.stderr
    assert cli(tmp_path, "--password-stdin", "init", stdin=PW + "\n").returncode == 0
    add = cli(tmp_path, "add", "--password-stdin", "--json", "-", stdin=PW + "\n" + json.dumps(ENTRY))
    assert add.returncode == 0, add.stderr
    bad = cli(
        tmp_path,
        "add",
        "--password-stdin",
        "--json",
        "-",
        stdin=PW + "\n" + json.dumps({**ENTRY, "key_id": "x"}),
    )
    assert bad.returncode == 1 and "key_id" in bad.stderr
    listing = cli(tmp_path, "list", "--password-stdin", "--json", stdin=PW + "\n")
    rows = json.loads(listing.stdout)
    assert rows[0]["masked"] == {"key_id": "PKAL…0123"}
    wrong = cli(tmp_path, "list", "--password-stdin", stdin="not-the-password\n")
    assert wrong.returncode == 1 and "wrong password" in wrong.stderr
    assert cli(tmp_path, "passwd", "--password-stdin", stdin=f"{PW}\norange-river-77\n").returncode == 0
    assert (
        cli(tmp_path, "remove", rows[0]["id"], "--password-stdin", stdin="orange-river-77\n").returncode == 0
    )
    assert "(no entries)" in cli(tmp_path, "list", "--password-stdin", stdin="orange-river-77\n").stdout
    everything = "".join(p.read_text() for p in (tmp_path / "logs").glob("*"))
    for secret in (ENTRY["secret_key"], ENTRY["key_id"], PW, "orange-river-77"):
        assert secret not in everything and secret not in listing.stdout


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert cli(tmp_path, "--password-stdin", "init", stdin=PW + "\n").returncode == 0
    data = tmp_path / "data"
    before = (data / "vault.sdv").read_bytes()
    with read_only_folder(data):
        out = cli(tmp_path, "add", "--password-stdin", "--json", "-", stdin=PW + "\n" + json.dumps(ENTRY))
    assert out.returncode == 1
    assert "cannot write the vault in" in out.stderr and "unchanged" in out.stderr, out.stderr
    assert (data / "vault.sdv").read_bytes() == before
    listing = cli(tmp_path, "list", "--password-stdin", stdin=PW + "\n")  # still opens
    assert listing.returncode == 0 and "(no entries)" in listing.stdout
