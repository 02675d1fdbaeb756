"""`kill -9` of the service, with unattended unlock on and off, against the Binance simulator and a
real Secret Service (GNOME Keyring on a private D-Bus, tests/support/secret_service.py).

On: a new proxy (the browser reconnecting) starts a new service, which opens the vault with the
key in the OS keychain, reconnects the account and resumes protection: the watchdog replaces a
stop deleted on the simulator, and no password was typed anywhere. Off: the new service stays
locked, and its status shows the position it cannot protect as Unprotected, "unlock to resume
protection"; the password then resumes protection."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sidedesk.vault.keychain import OsKeychain
from tests.integration.asl.harness import (
    PASSWORD,
    Desk,
    SimThread,
    eventually,
    only_algo,
    open_position,
    start_desk,
)
from tests.support.secret_service import keychain_env

__all__ = ["keychain_env"]

SERVICE = {"enabled": True, "idle_exit_s": 0}
SYMBOL = "SOLUSDT"


def service_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", "service", *args],
        env=dict(os.environ, SIDEDESK_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=30,
    )


def status(home: Path) -> dict[str, Any]:
    return dict(json.loads(service_cli(home, "status").stdout))


def logs(home: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in (home / "logs").glob("*.log"))


def journaled(home: Path, symbol: str) -> bool:
    """The journal holds an exchange event of `symbol` (what a locked restart reads back)."""
    db = sqlite3.connect(f"file:{home / 'data' / 'journal.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT data FROM journal WHERE kind IN ('event', 'correction') AND data LIKE ?", (f"%{symbol}%",)
        ).fetchall()
    except sqlite3.Error:  # not created yet
        return False
    finally:
        db.close()
    return bool(rows)


@pytest.fixture
def sim() -> Iterator[SimThread]:
    s = SimThread().start()  # one per test: each starts flat
    try:
        yield s
    finally:
        s.stop()


def crash_with_a_position(sim: SimThread, home: Path, unattended: bool) -> dict[str, Any]:
    """A desk with ASL on the simulator's account, unattended unlock as given, a SOLUSDT long
    with its hard stop; then the service is killed with SIGKILL. Returns the stop's `asl` event."""
    desk, _ = start_desk(sim, home, service=SERVICE, asl_enabled=True)
    try:
        if unattended:
            assert desk.call("vault.unattended", {"enabled": True})["unattended"] is True
        assert desk.call("vault.status")["unattended"] is unattended
        hard = open_position(desk, SYMBOL, "BUY", "1.00")
        # journaled (not secret): a restart that stays locked reads it back
        eventually(lambda: journaled(home, SYMBOL), 10, "the position in the journal")
        pid = status(home)["pid"]
        os.kill(pid, signal.SIGKILL)
        assert desk.wait(10) == 0  # the proxy follows its service out; the browser reconnects
    finally:
        desk.stop()
    return hard


def test_kill_9_with_unattended_unlock_on_resumes_protection_without_a_password(
    sim: SimThread, tmp_path: Path, keychain_env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    try:
        hard = crash_with_a_position(sim, home, unattended=True)
        killed = status(home)
        assert killed.get("running") is False
        back = Desk(home)  # a new proxy starts a new service; nobody types a password
        try:
            assert eventually(lambda: status(home).get("vault") == "unlocked", 20, "the vault open by itself")
            accounts = eventually(
                lambda: [a for a in status(home)["accounts"] if a.get("state") == "live"],
                30,
                "the account live",
            )
            assert accounts
            # protection resumes: a stop deleted on the exchange is replaced by the watchdog
            stop = only_algo(sim, SYMBOL)
            assert stop["clientAlgoId"] == hard["stop_client_id"]  # rebuilt from the exchange, not re-placed
            sim.cancel_algo(stop["clientAlgoId"])
            replaced = only_algo(sim, SYMBOL, not_id=stop["clientAlgoId"], timeout=20)
            assert replaced["symbol"] == SYMBOL and replaced["side"] == "SELL"
            assert eventually(lambda: status(home)["unprotected"] == [], 20, "nothing unprotected")
            assert back.call("vault.status")["unattended"] is True
        finally:
            back.stop()
    finally:
        service_cli(home, "stop")


def test_kill_9_with_unattended_unlock_off_shows_the_position_unprotected(
    sim: SimThread, tmp_path: Path, keychain_env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    try:
        hard = crash_with_a_position(sim, home, unattended=False)
        back = Desk(home)
        try:
            snaps = back.call("subscribe", {"topics": ["status"]})["snapshots"]
            panel = snaps["status"]["payload"]  # what the panel's red banner is drawn from
            assert panel["vault"] == "locked"
            rows = [r for r in panel["unprotected"] if r["symbol"] == SYMBOL]
            assert len(rows) == 1 and Decimal(rows[0]["quantity"]) == 1
            assert rows == [
                {
                    "account_id": rows[0]["account_id"],
                    "symbol": SYMBOL,
                    "position_side": "BOTH",
                    "quantity": rows[0]["quantity"],
                    "reason": "locked",
                    "fix": "unlock to resume protection",
                }
            ]
            assert status(home)["unprotected"] == panel["unprotected"]  # `sidedesk service status` too
            assert back.call("vault.status")["unattended_error"] is None  # off is not a failure
            # the password resumes protection: the account reconnects and the stop is covered again
            back.call("vault.unlock", {"password": PASSWORD})
            eventually(lambda: status(home)["unprotected"] == [], 30, "protection resumed after unlock")
            assert only_algo(sim, SYMBOL)["clientAlgoId"] == hard["stop_client_id"]
        finally:
            back.stop()
    finally:
        service_cli(home, "stop")


def test_a_service_started_at_login_before_the_keychain_opens_stays_and_unlocks_when_it_does(
    sim: SimThread, tmp_path: Path, keychain_env: dict[str, str]
) -> None:
    """Started at login (no panel, `idle_exit_s` 0) while the keychain does not hold the key yet: the
    position the journal last knew keeps the service up, Unprotected, and the keychain is tried
    again until it answers; then protection resumes with no password. Before, only connected
    accounts counted as exposure (it left at once) and the keychain was tried once."""
    home = tmp_path / "home"
    home.mkdir()
    try:
        crash_with_a_position(sim, home, unattended=True)
        chain = OsKeychain(home / "data" / "vault.sdv")
        key = chain.load()
        assert key is not None and chain.delete()  # a keyring that is not open yet
        config_file = home / "config" / "config.json"
        config = json.loads(config_file.read_text(encoding="utf-8"))
        config["service"] = {**config.get("service", {}), "keychain_retry_s": 1}  # (30 s by default)
        config_file.write_text(json.dumps(config), encoding="utf-8")
        login = subprocess.Popen(
            [sys.executable, "-m", "sidedesk.cli", "service", "--foreground"],
            env=dict(os.environ, SIDEDESK_HOME=str(home)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            st = eventually(lambda: (s := status(home)).get("unprotected") and s, 20, "the locked status")
            assert st["vault"] == "locked" and st["exposure"] is True
            assert [(u["symbol"], u["reason"]) for u in st["unprotected"]] == [(SYMBOL, "locked")]
            # the first attempt has failed (the status may answer before it does)...
            eventually(lambda: "key is missing from the OS keychain" in logs(home), 20, "the first attempt")
            chain.save(key)  # ...then the keyring opens
            eventually(lambda: status(home).get("vault") == "unlocked", 60, "the vault open by a retry")
            eventually(lambda: status(home)["unprotected"] == [], 30, "protection resumed")
            assert login.poll() is None
        finally:
            service_cli(home, "stop")
            try:
                login.wait(20)
            except subprocess.TimeoutExpired:
                login.kill()
                login.wait(10)
    finally:
        service_cli(home, "stop")
