"""The vault through the real host process, as the extension uses it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.hostproc import HostProcess
from tests.support import services

SMALL_KDF = {"memory_kib": 64, "iterations": 1, "lanes": 1}
CONFIG = {"vault_kdf": SMALL_KDF, "log_level": "DEBUG"}
PW = "lemon-cactus-42"
NEW_PW = "orange-river-77"
WRONG_PW = "WrongPasswordAttempt-99"
PEM = (
    Ed25519PrivateKey.generate()
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode()
)
SECRETS = {
    "binance_key": "BinKeyQwErTy0123456789abcdefXYZ",
    "binance_secret": "BinSecretZXCV0987654321poiuyt",
    "ed_key": "EdKeyMnBvCx0123456789lkjhgfd",
    "pem": PEM,
    "tv_password": "TvPassw0rd-Horse-Battery",
    "tv_sec": "TvSecAppSecretValue-5566",
    "vm_key": "VmPlatformKeyValue-778899",
    "vm_password": "VmPassword-Saddle-Apple",
    "alp_key": "PKALPACAKEYID0123",
    "alp_secret": "AlpacaSecretKeyValue0123456789",
}


def entries_payloads() -> list[dict[str, Any]]:
    s = SECRETS
    return [
        {"broker": "binance", "name": "hmac", "environment": "testnet", "auth": "hmac",
         "api_key": s["binance_key"], "secret": s["binance_secret"]},
        {"broker": "binance", "name": "ed", "environment": "live", "auth": "ed25519",
         "api_key": s["ed_key"], "private_key_pem": s["pem"]},
        {"broker": "tradovate", "name": "tv", "environment": "demo", "username": "trader1",
         "password": s["tv_password"], "cid": 1234, "sec": s["tv_sec"]},
        {"broker": "volumetrica", "name": "vm", "environment": "demo", "login": "trader2",
         "password": s["vm_password"], "platform_key": s["vm_key"]},
        {"broker": "alpaca", "name": "alp", "environment": "demo",
         "key_id": s["alp_key"], "secret_key": s["alp_secret"]},
    ]  # fmt: skip


class VaultHost(HostProcess):
    """The shared host driver, recording every frame it returns (for the leak check)."""

    def __init__(self, home: Path, config: dict[str, Any] | None = None) -> None:
        if config is not None:
            (home / "config").mkdir(parents=True, exist_ok=True)
            (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")
        super().__init__(home)
        self.replies: list[dict[str, Any]] = []

    def request(
        self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        reply = super().request(type_, payload, timeout)
        self.replies.append(reply)
        return reply

    def read_event(self, topic: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        ev = super().read_event(topic, timeout)
        self.replies.append(ev)
        return ev

    def close(self) -> int:
        self.close_stdin()
        code = self.wait(10)
        self.stderr_seen = self.stderr_text()
        return code

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        services.crash(self.home)  # the service holds the vault: it crashes too


def ok(reply: dict[str, Any]) -> Any:
    assert "ok" in reply, reply
    return reply["ok"]


def err(reply: dict[str, Any], code: str) -> dict[str, Any]:
    assert "error" in reply, reply
    assert reply["error"]["code"] == code, reply
    return dict(reply["error"])


def wait_status(host: VaultHost, state: str) -> None:
    for _ in range(50):  # bounded: earlier status pushes may be queued first
        if host.read_event("status", timeout=10)["payload"]["vault"] == state:
            return
    pytest.fail(f"no status event with vault={state}")


def leaked(text: str, values: list[str]) -> list[str]:
    found = []
    for v in values:
        parts = [v, *(line for line in v.splitlines() if len(line) > 8 and not line.startswith("-----"))]
        found += [p[:6] + "…" for p in parts if p in text]
    return found


def test_vault_through_the_host_and_nothing_leaks(tmp_path: Path) -> None:
    every_reply: list[dict[str, Any]] = []
    with VaultHost(tmp_path, CONFIG) as host:
        assert ok(host.request("hello"))["vault"] == "absent"
        assert "vault" in ok(host.request("hello"))["capabilities"]
        ok(host.request("subscribe", {"topics": ["status"]}))
        err(host.request("vault.unlock", {"password": PW}), "invalid")  # no vault yet
        weak = err(host.request("vault.create", {"password": "password123"}), "invalid")
        assert "too weak" in weak["message"]
        st = ok(host.request("vault.create", {"password": PW}))
        assert st["state"] == "unlocked" and st["entries"] == 0
        wait_status(host, "unlocked")
        ids = [ok(host.request("vault.put", {"entry": e}))["entry"]["id"] for e in entries_payloads()]
        listing = ok(host.request("vault.entries"))["entries"]
        assert {e["name"] for e in listing} == {"hmac", "ed", "tv", "vm", "alp"}
        hm = next(e for e in listing if e["name"] == "hmac")
        assert hm["masked"] == {"api_key": "BinK…fXYZ"} and hm["secrets_set"] == ["secret"]

        # error paths carrying secrets: invalid values, unknown fields, wrong types, bad passwords
        bad = [
            {**entries_payloads()[0], "name": "x2", "api_key": SECRETS["binance_secret"] + " space"},
            {**entries_payloads()[1], "name": "x3", "private_key_pem": SECRETS["binance_secret"] * 3},
            {**entries_payloads()[2], "name": "x4", "cid": SECRETS["tv_sec"]},
            {**entries_payloads()[3], "name": "x5", "unknown": SECRETS["vm_key"]},
            {**entries_payloads()[4], "name": "x6", "environment": SECRETS["alp_secret"]},
            {"broker": SECRETS["binance_key"]},
        ]
        for entry in bad:
            e = err(host.request("vault.put", {"entry": entry}), "invalid")
            assert e["details"]["errors"], e
        err(host.request("vault.put", {"entry": SECRETS["pem"]}), "invalid")
        err(host.request("vault.put", {"entry": {SECRETS["tv_password"]: 1, "broker": "alpaca"}}), "invalid")
        err(host.request("vault.create", {"password": SECRETS["vm_password"]}), "invalid")  # exists
        err(host.request("vault.nope", {"x": SECRETS["alp_secret"]}), "unknown_type")
        err(
            host.request(
                "vault.change_password", {"old_password": WRONG_PW, "new_password": SECRETS["vm_password"]}
            ),
            "auth",
        )

        ok(host.request("vault.lock"))
        wait_status(host, "locked")
        locked = err(host.request("vault.entries"), "locked")
        assert "unlock" in locked["message"]
        err(host.request("vault.put", {"entry": entries_payloads()[0]}), "locked")
        wrong = err(host.request("vault.unlock", {"password": WRONG_PW}), "auth")
        assert (
            wrong["details"]["retry_after_s"] == 1 and wrong["message"] == "wrong password, try again in 1 s"
        )
        every_reply += host.replies
        code = host.close()
        assert code == 0
        stderr_text = host.stderr_seen

    # the wrong-password counter is on disk; make its delay long so the restart cannot outlive it
    throttle = tmp_path / "data" / "vault.sdv.throttle"
    counted = json.loads(throttle.read_text())
    assert counted["failures"] == 2
    throttle.write_text(json.dumps({**counted, "failures": 8}))  # 64 s from the last failure
    with VaultHost(tmp_path) as host:
        assert ok(host.request("hello"))["vault"] == "locked"
        limited = err(host.request("vault.unlock", {"password": PW}), "rate_limited")
        assert 1 <= limited["details"]["retry_after_s"] <= 64 and "try again in" in limited["message"]
        assert ok(host.request("vault.status"))["retry_after_s"] >= 1
        every_reply += host.replies
        host.close()
    throttle.unlink()  # instead of waiting out the delay

    with VaultHost(tmp_path, {**CONFIG, "vault_autolock_s": 900}) as host:
        ok(host.request("vault.unlock", {"password": PW}))
        assert len(ok(host.request("vault.entries"))["entries"]) == 5
        st = ok(host.request("vault.change_password", {"old_password": PW, "new_password": NEW_PW}))
        assert st["state"] == "unlocked"
        ok(host.request("vault.remove", {"id": ids[0]}))
        err(host.request("vault.remove", {"id": ids[0]}), "invalid")
        st = ok(host.request("vault.configure", {"autolock_s": 300}))
        assert st["autolock_s"] == 300
        every_reply += host.replies
        host.close()
    saved = json.loads((tmp_path / "config" / "config.json").read_text())
    assert saved["vault_autolock_s"] == 300 and saved["vault_kdf"] == SMALL_KDF

    log_text = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("host.log*"))
    assert "vault unlocked" in log_text and "wrong vault password" in log_text
    replies_text = json.dumps(every_reply)
    values = [*SECRETS.values(), PW, NEW_PW, WRONG_PW]
    assert leaked(replies_text, values) == [], [r for r in every_reply if leaked(json.dumps(r), values)]
    assert leaked(log_text, values) == []
    assert leaked(stderr_text, values) == []
    for f in (tmp_path / "data").iterdir():  # on disk only ciphertext
        assert leaked(f.read_bytes().decode("latin-1"), values) == [], f.name


def test_crash_damage_and_backup_offer(tmp_path: Path) -> None:
    with VaultHost(tmp_path, CONFIG) as host:
        ok(host.request("vault.create", {"password": PW}))
        ok(host.request("vault.put", {"entry": entries_payloads()[0]}))
        host.kill()  # a crash: no shutdown hook, no lock
    with VaultHost(tmp_path, CONFIG) as host:
        ok(host.request("vault.unlock", {"password": PW}))
        assert len(ok(host.request("vault.entries"))["entries"]) == 1
        host.close()
    services.stop_home(tmp_path)  # the browser and the service both gone; then the file is damaged
    vault = tmp_path / "data" / "vault.sdv"
    data = bytearray(vault.read_bytes())
    data[30] ^= 0xFF  # inside the salt
    vault.write_bytes(bytes(data))
    with VaultHost(tmp_path, CONFIG) as host:
        e = err(host.request("vault.unlock", {"password": PW}), "invalid")
        assert "damaged" in e["message"] and "vault.sdv.bak" in e["message"]
        assert e["details"]["backup"] is True and e["details"]["damaged"] is True
        ok(host.request("vault.restore_backup"))
        st = ok(host.request("vault.unlock", {"password": PW}))
        assert st["state"] == "unlocked" and st["entries"] == 0  # the version before the put
        host.close()


def test_autolock_pushes_a_status_event(tmp_path: Path) -> None:
    with VaultHost(tmp_path, {**CONFIG, "vault_autolock_s": 1}) as host:
        ok(host.request("subscribe", {"topics": ["status"]}))
        ok(host.request("vault.create", {"password": PW}))
        wait_status(host, "locked")
        err(host.request("vault.entries"), "locked")
        host.close()


def test_two_hosts_writing_second_is_refused_clearly(tmp_path: Path) -> None:
    # two host processes on one vault: the in-process host (one service would serve both panels)
    config = {**CONFIG, "service": {"enabled": False}}
    with VaultHost(tmp_path, config) as a:
        ok(a.request("vault.create", {"password": PW}))
        with VaultHost(tmp_path, config) as b:
            ok(b.request("vault.unlock", {"password": PW}))
            ok(a.request("vault.put", {"entry": entries_payloads()[0]}))
            e = err(b.request("vault.put", {"entry": entries_payloads()[4]}), "rejected")
            assert "changed by another Sidedesk process" in e["message"]
            ok(b.request("vault.lock"))
            ok(b.request("vault.unlock", {"password": PW}))
            ok(b.request("vault.put", {"entry": entries_payloads()[4]}))
            assert len(ok(b.request("vault.entries"))["entries"]) == 2
            b.close()
        a.close()
