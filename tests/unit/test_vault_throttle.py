"""The wrong-password delay (issue #18): the pure decisions, and the counter shared on disk by every
VaultService on one vault file (hosts started before the failures, restarts), read and written
under the writer lock at every attempt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidedesk.vault import format as fmt
from sidedesk.vault import service as service_mod
from sidedesk.vault import throttle
from sidedesk.vault.kdf import KdfParams, derive
from sidedesk.vault.service import TooManyAttempts, VaultService
from sidedesk.vault.store import Throttle, VaultBusy, file_lock  # Throttle re-exported, as before
from tests.unit.test_vault_store import read_only_folder

SMALL = KdfParams.argon2id(memory_kib=64, iterations=1, lanes=1)
PW = "lemon-cactus-42"
NEW_PW = "orange-river-77"
WRONG = "not-the-password"


class Clock:
    def __init__(self, t: float = 5000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# -- the pure decisions ---------------------------------------------------------------------------
def test_growth_curve_is_unchanged() -> None:
    assert [Throttle(n, 0).delay() for n in range(8)] == [0, 0, 1, 2, 4, 8, 16, 32]
    assert Throttle(10, 0).delay() == 256 and Throttle(11, 0).delay() == Throttle.MAX_DELAY_S == 300
    assert Throttle(10_000, 0).delay() == 300


def test_begin_counts_the_attempt_before_the_password_is_checked() -> None:
    first = throttle.begin(Throttle(), 100.0)
    assert first.allowed and first.wait_s == 0 and first.state == Throttle(1, 100.0)
    second = throttle.begin(first.state, 100.0)  # the first miss costs nothing
    assert second.allowed and second.state == Throttle(2, 100.0)
    refused = throttle.begin(second.state, 100.25)
    assert not refused.allowed and refused.wait_s == 0.75 and refused.state == second.state  # not counted
    third = throttle.begin(second.state, 101.0)
    assert third.allowed and third.state == Throttle(3, 101.0)


def test_a_clock_set_back_never_shortens_the_wait() -> None:
    state = Throttle(4, 1000.0)  # 4 s
    assert throttle.begin(state, 10.0).wait_s == 4.0
    assert throttle.begin(state, 1003.0).wait_s == 1.0
    assert throttle.begin(state, 1004.0).allowed


def test_failed_starts_the_wait_at_the_failure_and_never_lowers_the_counter() -> None:
    counted = Throttle(3, 101.0)
    assert throttle.failed(counted, 101.4) == Throttle(3, 101.4)
    assert throttle.failed(Throttle(5, 102.0), 101.4) == Throttle(5, 102.0)  # others counted since
    assert throttle.failed(Throttle(), 101.4) == Throttle(1, 101.4)  # a right password reset it meanwhile
    assert throttle.succeeded() == Throttle()
    assert throttle.later(Throttle(2, 9.0), Throttle(3, 1.0)) == Throttle(3, 1.0)
    assert throttle.later(Throttle(3, 9.0), Throttle(3, 1.0)) == Throttle(3, 9.0)


# -- the counter shared by every VaultService on the file -----------------------------------------
def host(tmp_path: Path, wall: Clock) -> VaultService:
    """One host process's vault service (several of them on one file simulate several hosts)."""
    return VaultService(tmp_path / "data" / "vault.sdv", kdf=SMALL, wall=wall)


def on_disk(v: VaultService) -> Throttle:
    return v.store.load_throttle()


@pytest.fixture
def kdf_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every password the KDF was run on."""
    seen: list[bytes] = []

    def counting(params: KdfParams, salt: bytes, password: bytes) -> bytes:
        seen.append(password)
        return derive(params, salt, password)

    monkeypatch.setattr(service_mod, "derive", counting)
    yield seen


async def locked_vault(tmp_path: Path, wall: Clock) -> VaultService:
    v = host(tmp_path, wall)
    await v.create(PW)
    v.lock()
    return v


async def test_a_host_started_before_the_failures_refuses_during_the_delay(tmp_path: Path) -> None:
    """Regression (#18): the second host read the counter once at start and accepted guesses."""
    wall = Clock()
    a = await locked_vault(tmp_path, wall)
    b = host(tmp_path, wall)  # started before the failures
    for _ in range(2):
        with pytest.raises(fmt.WrongPassword):
            await a.unlock(WRONG)
    assert b.retry_after() == 1 and b.summary()["retry_after_s"] == 1
    with pytest.raises(TooManyAttempts) as refused:
        await b.unlock("another-guess-1")
    assert refused.value.retry_after_s == 1
    assert on_disk(b) == Throttle(2, 5000.0)  # a refusal neither counts nor moves the wait


async def test_the_counter_never_goes_down_across_hosts(tmp_path: Path) -> None:
    """Regression (#18): 5 failures on one host then 1 on another left the counter at 1, not 6."""
    wall = Clock()
    a = await locked_vault(tmp_path, wall)
    b = host(tmp_path, wall)
    for n in range(1, 6):
        wall.t += Throttle(n - 1).delay()  # wait out each delay: every guess is really tried
        with pytest.raises(fmt.WrongPassword):
            await a.unlock(WRONG)
        assert on_disk(a).failures == n
    wall.t += Throttle(5).delay()
    with pytest.raises(fmt.WrongPassword) as sixth:
        await b.unlock(WRONG)
    assert on_disk(a) == Throttle(6, wall.t)
    assert sixth.value.retry_after_s == 16 and a.retry_after() == 16  # the curve goes on from 6
    # alternating hosts, every failure counts once
    for n in range(7, 11):
        wall.t += Throttle(n - 1).delay()
        with pytest.raises(fmt.WrongPassword):
            await (a if n % 2 else b).unlock(WRONG)
        assert on_disk(b).failures == n


async def test_the_right_password_is_refused_during_the_wait(tmp_path: Path, kdf_runs: list[bytes]) -> None:
    """Regression (#18): another host accepted the right password during the wait."""
    wall = Clock()
    a = await locked_vault(tmp_path, wall)
    b = host(tmp_path, wall)
    for _ in range(3):  # 2 s after the third
        wall.t += 1
        with pytest.raises(fmt.WrongPassword):
            await a.unlock(WRONG)
    before = on_disk(a)
    kdf_runs.clear()
    wall.t += 1.5
    for v in (a, b, host(tmp_path, wall)):
        with pytest.raises(TooManyAttempts) as refused:
            await v.unlock(PW)
        assert refused.value.retry_after_s == 1
        with pytest.raises(TooManyAttempts):
            await v.change_password(PW, NEW_PW)
        assert v.state == "locked"
    assert kdf_runs == []  # the password was never looked at
    assert on_disk(a) == before
    wall.t += 0.5  # the wait is over: the right password opens and resets the counter
    await b.unlock(PW)
    assert b.state == "unlocked" and kdf_runs == [PW.encode()]
    assert on_disk(a) == Throttle() and not a.store.throttle_path.exists() and a.retry_after() == 0


async def test_the_delay_holds_across_restarts(tmp_path: Path, kdf_runs: list[bytes]) -> None:
    wall = Clock()
    a = await locked_vault(tmp_path, wall)
    for _ in range(4):
        wall.t += 2
        with pytest.raises(fmt.WrongPassword):
            await a.unlock(WRONG)
    del a  # the host exits
    kdf_runs.clear()
    restarted = host(tmp_path, wall)
    assert restarted.retry_after() == 4
    with pytest.raises(TooManyAttempts) as refused:
        await restarted.unlock(PW)
    assert refused.value.retry_after_s == 4 and kdf_runs == []
    wall.t -= 3600  # a clock set back does not shorten it either
    with pytest.raises(TooManyAttempts):
        await host(tmp_path, wall).unlock(PW)
    wall.t += 3600 + 4
    again = host(tmp_path, wall)
    with pytest.raises(fmt.WrongPassword) as fifth:
        await again.unlock(WRONG)
    assert fifth.value.retry_after_s == 8 and on_disk(again).failures == 5
    wall.t += 8
    await host(tmp_path, wall).unlock(PW)
    assert host(tmp_path, wall).retry_after() == 0 and on_disk(again) == Throttle()


async def test_the_attempt_is_on_disk_before_the_kdf_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a host asking meanwhile is refused, and a host killed during the check still spent it."""
    wall = Clock()
    a = await locked_vault(tmp_path, wall)
    with pytest.raises(fmt.WrongPassword):
        await a.unlock(WRONG)
    with pytest.raises(fmt.WrongPassword):
        await a.unlock(WRONG)
    wall.t += 1
    seen: list[Throttle] = []

    def dies(params: KdfParams, salt: bytes, password: bytes) -> bytes:
        seen.append(on_disk(a))
        raise MemoryError("killed during the key derivation")

    monkeypatch.setattr(service_mod, "derive", dies)
    with pytest.raises(MemoryError):
        await a.unlock(PW)
    assert seen == [Throttle(3, wall.t)] and on_disk(a) == Throttle(3, wall.t)
    monkeypatch.undo()
    with pytest.raises(TooManyAttempts):  # the cut-short attempt counted
        await host(tmp_path, wall).unlock(PW)


async def test_a_damaged_or_missing_vault_is_not_an_attempt(tmp_path: Path) -> None:
    wall = Clock()
    a = await locked_vault(tmp_path, wall)
    raw = bytearray(a.path.read_bytes())
    raw[30] ^= 0xFF  # the salt: the checksum catches it before any password is tried
    a.path.write_bytes(bytes(raw))
    for _ in range(3):
        with pytest.raises(fmt.VaultDamaged):
            await a.unlock(WRONG)
    assert on_disk(a) == Throttle()


async def test_an_unreadable_counter_file_is_replaced_by_a_counting_one(tmp_path: Path) -> None:
    wall = Clock()
    a = await locked_vault(tmp_path, wall)
    a.store.throttle_path.write_text("{broken")
    with pytest.raises(fmt.WrongPassword):
        await a.unlock(WRONG)
    assert json.loads(a.store.throttle_path.read_text()) == {"failures": 1, "last_failure": 5000.0}


async def test_an_unwritable_folder_still_throttles_this_process(tmp_path: Path) -> None:
    wall = Clock()
    a = await locked_vault(tmp_path, wall)
    with read_only_folder(a.store.folder):
        for _ in range(2):
            with pytest.raises(fmt.WrongPassword):
                await a.unlock(WRONG)
        assert not a.store.throttle_path.exists()
        with pytest.raises(TooManyAttempts):
            await a.unlock(PW)
        wall.t += 1
        await a.unlock(PW)
    assert a.state == "unlocked" and a.retry_after() == 0


async def test_a_busy_writer_lock_refuses_the_attempt_unchecked(
    tmp_path: Path, kdf_runs: list[bytes]
) -> None:
    wall = Clock()
    await locked_vault(tmp_path, wall)
    kdf_runs.clear()
    v = VaultService(tmp_path / "data" / "vault.sdv", kdf=SMALL, wall=wall, lock_timeout_s=0.1)
    with file_lock(v.store.lock_path, 1.0), pytest.raises(VaultBusy):  # another process is writing
        await v.unlock(PW)
    assert kdf_runs == [] and v.state == "locked"
    await v.unlock(PW)
    assert v.summary()["state"] == "unlocked"  # (summary: mypy narrowed `state` to "locked")
