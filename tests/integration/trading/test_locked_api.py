"""Every message the panel can send, with the vault locked, answers with a coded error the panel
can act on (or its usual reply), never `internal`; and what the lock guards stays guarded:

- an account that is not up (its link refused or down) needs its keys: `locked`, "unlock the
  vault first to connect another account" (it answered `internal`);
- Disconnect (`accounts.deactivate`) stops ASL and the watchdog for the login, and switching off
  "Keep protecting when the browser closes" lets the service leave a position bare: both are
  refused while locked, like ASL switched off;
- a `vault.configure` refused for its locked part changes nothing (the auto-lock delay was
  applied before the refusal);
- a settings file that cannot be written answers `rejected` (`service.set` answered `internal`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from sidedesk.api.service import LOCKED_TO_STOP_PROTECTING
from sidedesk.api.trading import LOCKED_TO_DISCONNECT
from tests.integration.trading.conftest import OPEN_RISK, PASSWORD, Desk, Sim, eventually, start_desk

WRONG_SECRET = "f" * 64

# one valid payload per message kind; the test fails when a kind is added without one here
PAYLOADS: dict[str, dict[str, Any]] = {
    "hello": {"client": "test"},
    "ping": {},
    "subscribe": {"topics": ["status"]},
    "unsubscribe": {"topics": ["status"]},
    "stats": {},
    "vault.status": {},
    "vault.create": {"password": PASSWORD},
    "vault.unlock": {"password": "not the password at all"},
    "vault.lock": {},
    "vault.change_password": {"old_password": "not the password", "new_password": PASSWORD + " 2"},
    "vault.entries": {},
    "vault.put": {
        "entry": {
            "broker": "binance",
            "name": "x",
            "environment": "simulator",
            "auth": "hmac",
            "api_key": "k" * 64,
            "secret": "s" * 64,
        }
    },
    "vault.remove": {"id": "nope"},
    "vault.configure": {"autolock_s": 600},
    "vault.unattended": {"enabled": True},
    "vault.restore_backup": {},
    "accounts.list": {},
    "accounts.activate": {"account_id": "set below"},
    "accounts.deactivate": {},
    "accounts.test": {"account_id": "set below"},
    "market.symbols": {},
    "market.watch": {"symbols": ["BTCUSDT"]},
    "order.preview": {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001"}},
    "order.place": {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001"}},
    "order.cancel": {"symbol": "BTCUSDT", "order_id": "1"},
    "order.modify": {
        "symbol": "BTCUSDT",
        "order_id": "1",
        "side": "BUY",
        "price": "100",
        "quantity": "0.001",
    },
    "orders.cancel_all": {},
    "position.close": {"symbol": "BTCUSDT"},
    "position.breakeven": {"symbol": "BTCUSDT"},
    "flatten": {},
    "command": {"name": "cancel_all"},
    "risk.get": {},
    "risk.set": {"limits": OPEN_RISK},
    "settings.contracts.get": {},
    "settings.contracts.set": {"volumetrica": {}},
    "asl.get": {},
    "asl.set": {"enabled": False},
    "asl.toggle": {"symbol": "BTCUSDT", "enabled": False},
    "localstream.get": {},
    "localstream.set": {"batch_ms": 100},
    "localstream.tokens": {},
    "localstream.create_token": {"name": "t"},
    "localstream.rotate_token": {"id": "nope"},
    "localstream.revoke_token": {"id": "nope"},
    "localstream.stats": {},
    "service.get": {},
    "service.set": {"keep_protecting": False},
}


def unlock(desk: Desk) -> None:
    """The right password, once the wrong-password delay another test started has passed."""

    def opened() -> bool:
        out = desk.reply("vault.unlock", {"password": PASSWORD}, timeout=30)
        if (out.get("error") or {}).get("code") == "rate_limited":
            return False
        assert out.get("error") is None, out
        return True

    eventually(opened, 30, "the vault unlocked", every=0.25)


@pytest.fixture(scope="module")
def locked(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Desk, str]]:
    """A desk trading the simulator's account, beside an account whose credentials the exchange
    refused (its link is down: connecting it again needs its keys), then locked."""
    desk = start_desk(tmp_path_factory.mktemp("home"), sim)
    try:
        refused = desk.put_account({"apiKey": sim.key()["apiKey"], "secret": WRONG_SECRET}, name="refused")
        assert desk.error("accounts.activate", {"account_id": refused}, timeout=30).code == "auth"
        desk.activate(desk.account_id)
        assert desk.call("vault.lock")["state"] == "locked"
        yield desk, refused
        desk.assert_no_secret(sim.key()["secret"])
    finally:
        desk.stop()


def test_connecting_an_account_that_is_not_up_asks_for_an_unlock(locked: tuple[Desk, str]) -> None:
    desk, refused = locked
    listed = desk.call("accounts.list")
    assert {a["id"] for a in listed["accounts"]} == {desk.account_id, refused}
    err = desk.error("accounts.activate", {"account_id": refused})
    assert (err.code, err.message) == ("locked", "unlock the vault first to connect another account")
    assert desk.call("accounts.list")["active_id"] == desk.account_id


def test_disconnect_and_keep_protecting_off_are_refused_while_locked(locked: tuple[Desk, str]) -> None:
    desk, _ = locked
    err = desk.error("accounts.deactivate")
    assert (err.code, err.message) == ("locked", LOCKED_TO_DISCONNECT)
    assert desk.call("accounts.list")["active_id"] == desk.account_id
    assert desk.call("service.get")["keep_protecting"] is True
    for change in ({"keep_protecting": False}, {"always": True, "keep_protecting": False}):
        err = desk.error("service.set", change)
        assert (err.code, err.message) == ("locked", LOCKED_TO_STOP_PROTECTING), change
    info = desk.call("service.get")
    assert (info["keep_protecting"], info["always"]) == (True, False)
    # what keeps protecting longer is always allowed
    assert desk.call("service.set", {"always": True, "keep_protecting": True})["always"] is True
    assert desk.error("service.set", {"always": False}).code == "locked"
    unlock(desk)
    try:
        assert desk.call("service.set", {"always": False})["always"] is False
    finally:
        desk.call("vault.lock")


def test_a_refused_configure_changes_nothing(locked: tuple[Desk, str]) -> None:
    desk, _ = locked
    before = desk.call("vault.status")["autolock_s"]
    wanted = 120.0 if before != 120.0 else 180.0
    err = desk.error("vault.configure", {"autolock_s": wanted, "require_unlock_to_reduce": True})
    assert err.code == "locked"
    after = desk.call("vault.status")
    assert (after["autolock_s"], after["require_unlock_to_reduce"]) == (before, False)
    assert desk.call("vault.configure", {"autolock_s": wanted})["autolock_s"] == wanted


def test_every_message_kind_answers_a_coded_error_while_locked(locked: tuple[Desk, str]) -> None:
    desk, refused = locked
    known = desk.error("no.such.kind").details["known"]
    assert sorted(PAYLOADS) == sorted(known), "a message kind without a payload in this test"
    payloads = {
        **PAYLOADS,
        "accounts.activate": {"account_id": refused},
        "accounts.test": {"account_id": refused},
    }
    internal = {}
    for kind in known:
        if kind == "vault.unlock":
            continue  # a wrong password starts the retry delay: tried last
        out = desk.reply(kind, payloads[kind], timeout=30)
        if (out.get("error") or {}).get("code") == "internal":
            internal[kind] = out["error"]["message"]
        assert desk.call("vault.status")["state"] == "locked", kind
    assert desk.reply("vault.unlock", payloads["vault.unlock"])["error"]["code"] == "auth"
    assert internal == {}


def test_a_settings_file_that_cannot_be_written_is_rejected(locked: tuple[Desk, str]) -> None:
    desk, _ = locked
    path = desk.home / "config" / "config.json"
    saved = path.read_bytes()
    path.unlink()
    path.mkdir()  # the atomic replace now fails (as on a full or read-only disk)
    try:
        # a change that switches nothing off (so the lock allows it) and leaves the setting as it is
        assert desk.call("service.get")["always"] is False
        err = desk.error("service.set", {"always": False})
        assert err.code == "rejected" and "not saved" in err.message
        assert desk.error("vault.configure", {"autolock_s": 900}).code == "rejected"
    finally:
        shutil.rmtree(path)
        path.write_bytes(saved)
