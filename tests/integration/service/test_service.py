"""The service outlives the browser: `sidedesk native` is a thin proxy to a per-user service that
keeps the vault, the links and ASL; closing a proxy (the browser) leaves protection running, and
the next proxy (the browser back) sees the current state.

Each test runs its own service in its own SIDEDESK_HOME and stops it at the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sidedesk.service import endpoint
from tests.hostproc import ORIGIN, HostProcess, TopicHost
from tests.integration.asl.harness import (
    SimThread,
    eventually,
    only_algo,
    open_position,
    pct_from,
    start_desk,
)
from tests.support.wait import WAIT_S

PASSWORD = "a long enough passphrase 1"
SERVICE = {"enabled": True, "idle_exit_s": 0}


def service_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SIDEDESK_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "sidedesk.cli", "service", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def status(home: Path) -> dict[str, Any]:
    out = service_cli(home, "status")
    return dict(json.loads(out.stdout))


def sock_path(home: Path) -> Path:
    return home / "run" / endpoint.SOCKET_NAME


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "config").mkdir()
    config = {"service": SERVICE, "vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1}}
    (tmp_path / "config" / "config.json").write_text(json.dumps(config))
    yield tmp_path
    service_cli(tmp_path, "stop")


def test_closing_the_proxy_leaves_the_service_and_its_state(home: Path) -> None:
    # an idle period longer than the gap between the two panels (with 0 the service may leave in
    # between, and a busy machine made that gap long enough)
    config = json.loads((home / "config" / "config.json").read_text())
    config["service"] = {**SERVICE, "idle_exit_s": 60}
    (home / "config" / "config.json").write_text(json.dumps(config))
    with HostProcess(home) as first:
        assert first.request("hello", {})["ok"]["protocol_version"] == 1
        assert first.request("vault.create", {"password": PASSWORD})["ok"]["state"] == "unlocked"
        pid = status(home)["pid"]
        first.close_stdin()
        assert first.wait(WAIT_S) == 0  # the proxy leaves by itself; Chrome never has to kill it
    # with the vault unlocked but nothing to protect, the service waits for the next panel
    with HostProcess(home) as second:
        assert second.request("vault.status", {})["ok"]["state"] == "unlocked"  # the same service
        assert status(home)["pid"] == pid


def test_the_endpoint_is_private(home: Path) -> None:
    with HostProcess(home) as h:
        assert h.request("ping", {})["ok"]
        path = sock_path(home)
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_ISSOCK(path.stat().st_mode)


def test_the_peer_uid_is_this_users(home: Path) -> None:
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert endpoint.peer_uid(a) == os.getuid()


PROBE = """
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(type(e).__name__); sys.exit()
body = json.dumps({"type": "proxy.hello", "service_protocol": 1}).encode()
s.settimeout(5)
try:  # the service hangs up on another uid: before our hello (EPIPE) or after it (EOF, ECONNRESET)
    s.sendall(struct.pack("=I", len(body)) + body)
    print("answered" if s.recv(4) else "refused")
except (BrokenPipeError, ConnectionResetError):
    print("refused")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a second user needs root (CI runs as root)")
def test_another_user_cannot_reach_the_service(tmp_path: Path) -> None:
    # a home every user may traverse, so only the service's own folder and socket stand in the way
    home = Path(tempfile.mkdtemp(prefix="sd-svc-"))
    (home / "config").mkdir(parents=True, exist_ok=True)
    home.chmod(0o755)
    (home / "config" / "config.json").write_text(json.dumps({"service": SERVICE}))
    user = f"sdprobe{os.getpid() % 100000}"
    subprocess.run(["useradd", "--system", "--no-create-home", user], check=False, capture_output=True)
    try:
        uid = int(subprocess.run(["id", "-u", user], capture_output=True, text=True, check=True).stdout)

        def probe() -> str:
            out = subprocess.run(
                ["/usr/bin/python3", "-c", PROBE, str(sock_path(home))],
                capture_output=True,
                text=True,
                timeout=20,
                preexec_fn=lambda: os.setuid(uid),
            )
            return out.stdout.strip() or out.stderr

        with HostProcess(home) as h:
            assert h.request("ping", {})["ok"]
            assert probe() == "PermissionError"  # the 0700 folder and the 0600 socket
            # with the file modes loosened by hand, the service itself still refuses the uid
            sock_path(home).parent.chmod(0o711)
            sock_path(home).chmod(0o666)
            assert probe() == "refused"
            assert h.request("ping", {})["ok"]  # and it still answers its own user
    finally:
        subprocess.run(["userdel", user], check=False, capture_output=True)
        service_cli(home, "stop")
        subprocess.run(["rm", "-rf", str(home)], check=False)


def test_a_bad_first_frame_cannot_stop_the_service(home: Path) -> None:
    with HostProcess(home) as h:
        assert h.request("ping", {})["ok"]
        for junk in (b"\xff\xff\xff\xff" + b"x" * 10, b"\x05\x00\x00\x00[1,2]", b"\x02\x00\x00\x00{}"):
            s = endpoint.connect(sock_path(home))
            s.sendall(junk)
            s.settimeout(6)
            with pytest.raises((OSError, endpoint.EndpointError)):
                endpoint.recv_frame(s)  # closed (or answered with an error frame then closed)
                endpoint.recv_frame(s)
            s.close()
        old = endpoint.connect(sock_path(home))
        endpoint.send_frame(old, {"type": "proxy.hello", "service_protocol": 0})
        assert endpoint.recv_frame(old)["type"] == "proxy.refused"
        old.close()
        assert h.request("ping", {"t": 3.0})["ok"]["t"] == 3.0


def test_in_process_when_the_native_proxy_reached_no_service(home: Path) -> None:
    """`sidedesk-native` (frozen) found no service and none started: it runs `sidedesk native ORIGIN
    --in-process`, which serves here with the service still on in the settings, and starts none."""
    with HostProcess(home, args=[ORIGIN, "--in-process"]) as h:
        assert h.request("hello", {})["ok"]["protocol_version"] == 1
        assert h.request("vault.create", {"password": PASSWORD})["ok"]["state"] == "unlocked"
        assert not sock_path(home).exists()
        assert status(home)["running"] is False
        h.close_stdin()
        assert h.wait(5) == 0
    assert "serving in-process" in (home / "logs" / "host.log").read_text(encoding="utf-8")


def test_kill_9_of_the_service_starts_a_new_one_for_the_next_panel(home: Path) -> None:
    with HostProcess(home) as h:
        assert h.request("vault.create", {"password": PASSWORD})["ok"]
        pid = status(home)["pid"]
        os.kill(pid, signal.SIGKILL)
        assert h.wait(5) == 0  # the proxy follows its service out; Chrome reconnects
    with HostProcess(home) as again:
        assert again.request("hello", {})["ok"]["vault"] == "locked"  # keys stay encrypted on disk
        assert status(home)["pid"] != pid


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread().start()
    try:
        yield s
    finally:
        s.stop()


def test_asl_keeps_tightening_with_the_browser_closed(sim: SimThread, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # an account of its own on the module's simulator: another test's resting order is not counted
    acct = "browser-closed"
    desk, _ = start_desk(sim, home, sim_account=acct, service=SERVICE, asl_enabled=True)
    try:
        symbol = "SOLUSDT"
        hard = open_position(desk, symbol, "BUY", "1.00")
        entry = Decimal(hard["entry_price"])
        desk.close_stdin()  # the browser closes: its proxy leaves, the service stays
        assert desk.wait(5) == 0
        # the price runs through two ASL levels with no panel anywhere
        sim.price(symbol, pct_from(entry, "1.3", symbol))
        first = eventually(
            lambda: only_algo(sim, symbol, not_id=hard["stop_client_id"], account=acct), 10, "level 1"
        )
        sim.price(symbol, pct_from(entry, "2.4", symbol))
        second = eventually(
            lambda: only_algo(sim, symbol, not_id=first["clientAlgoId"], account=acct), 10, "level 2"
        )
        assert "-L2-" in second["clientAlgoId"] and second["orderType"] == "TRAILING_STOP_MARKET"
        # a stop deleted on the exchange is replaced by the watchdog, still with no panel
        sim.cancel_algo(second["clientAlgoId"], acct)
        replaced = eventually(
            lambda: only_algo(sim, symbol, not_id=second["clientAlgoId"], account=acct), 10, "a new stop"
        )
        assert replaced["symbol"] == symbol
        # the browser comes back: a new proxy sees the current state without any click
        from tests.integration.asl.harness import Desk

        back = Desk(home)
        try:
            back.subscribe()

            def at_level_2() -> dict[str, Any] | None:
                rows = back.call("asl.get")["positions"].values()
                return next((r for r in rows if r["symbol"] == symbol and r["level"] >= 2), None)

            assert eventually(at_level_2, 10, "level 2 shown to the new panel")
            assert status(home)["exposure"] is True  # a position: the service stays

            seen: list[tuple[int, int]] = []

            def holdings() -> bool:  # the position and its one stop
                now = status(home)
                seen.append((now["positions"], now["open_orders"]))
                return seen[-1] == (1, 1)

            try:
                eventually(holdings, 20, "one position and its stop")
            except AssertionError as exc:  # what the service counted meanwhile, and its orders
                orders = back.call("subscribe", {"topics": ["orders"]})["snapshots"]["orders"]["payload"]
                raise AssertionError(
                    f"{exc}; (positions, open orders) seen: {seen[:3]}…{seen[-3:]}; orders: {orders}; "
                    f"algo orders on the exchange: {sim.algos(symbol, acct)}"
                ) from None
        finally:
            back.stop()
    finally:
        desk.stop()
        service_cli(home, "stop")


def test_two_proxies_at_once_see_each_others_orders(sim: SimThread, tmp_path: Path) -> None:
    # two browser profiles: two proxies on one service; an order from one shows in the other
    home = tmp_path / "home"
    home.mkdir()
    one, _ = start_desk(sim, home, sim_account="two-proxies", service=SERVICE, asl_enabled=False)
    try:
        with TopicHost(home) as other:
            other.call("subscribe", {"topics": ["orders"]})
            assert status(home)["sessions"] == 2
            symbol = "ETHUSDT"
            price = pct_from(one.wait_mark(symbol), "-10", symbol)  # far below: it rests
            ticket = {
                "symbol": symbol,
                "side": "BUY",
                "type": "LIMIT",
                "quantity": "0.010",
                "price": f"{price:f}",
            }
            placed = one.call("order.place", {"ticket": ticket})

            def shown() -> dict[str, Any] | None:
                rows = (other.latest.get("orders") or {}).get("orders", [])
                return next((o for o in rows if o.get("client_id") == placed["client_id"]), None)

            row = other.until(shown, what="the order placed through the first proxy")
            assert row["symbol"] == symbol and Decimal(row["price"]) == price
    finally:
        one.stop()
        service_cli(home, "stop")


def test_the_setup_switch_is_saved_and_read_by_the_running_service(home: Path) -> None:
    with HostProcess(home) as panel:
        info = panel.request("service.get")["ok"]
        assert info == {
            "enabled": True,
            "keep_protecting": True,  # the default: stay while a position or an order exists
            "always": False,
            "idle_exit_s": 0,
            "pid": status(home)["pid"],  # answered by the service, not the proxy
        }
        off = panel.request("service.set", {"keep_protecting": False})["ok"]
        assert (off["keep_protecting"], off["always"]) == (False, False)
        saved = json.loads((home / "config" / "config.json").read_text())["service"]
        assert saved["keep_protecting"] is False and saved["enabled"] is True
        bad = panel.request("service.set", {"always": "yes"})
        assert bad["error"]["code"] == "invalid"
        assert panel.request("service.set", {"always": True})["ok"]["always"] is True
    with HostProcess(home) as again:  # the next panel reads what was chosen
        assert again.request("service.get")["ok"]["always"] is True


def test_service_stop_returns_once_the_service_process_has_exited(sim: SimThread, tmp_path: Path) -> None:
    # The service closes its listener first, then its links, journal and vault: `service stop`
    # (and the demo's end, which then removes the folder) returned while it was still running.
    from tests.support import services

    home = tmp_path / "home"
    home.mkdir()
    desk, _ = start_desk(sim, home, sim_account="stop-waits", service=SERVICE, asl_enabled=False)
    try:
        pid = services.serving_pid(home)
        assert pid is not None
    finally:
        desk.stop()
    out = service_cli(home, "stop")
    assert out.returncode == 0, out.stderr
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
