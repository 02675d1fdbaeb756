"""A panel opened while the service is on its way out (its idle exit, or a stop) still reaches a
service: the proxy waits for the old one to go and starts the next, instead of failing once and
leaving the panel to show "Reconnecting" (it did, on a busy CI machine, between two e2e tests)."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidedesk.native import proxy
from sidedesk.service import endpoint
from tests.hostproc import ORIGIN, HostProcess
from tests.integration.service.test_service import service_cli, status
from tests.support.wait import WAIT_S


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "config").mkdir()
    config = {"service": {"enabled": True, "idle_exit_s": 60}}
    (tmp_path / "config" / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("SIDEDESK_HOME", str(tmp_path))  # what the proxy passes to the service it starts
    yield tmp_path
    service_cli(tmp_path, "stop")


def path_in(home: Path) -> Path:
    path = home / "run" / endpoint.SOCKET_NAME  # as test_service.sock_path
    endpoint.private_dir(path.parent)
    return path


def welcomed(sock: endpoint.Conn) -> None:
    """The connection `attach` returned is a live session: a request is answered."""
    sock.settimeout(WAIT_S)
    endpoint.send_frame(sock, {"v": 1, "id": 1, "type": "ping", "payload": {"t": 1.0}})
    reply = endpoint.recv_frame(sock)
    while reply.get("id") != 1:  # events may come first
        reply = endpoint.recv_frame(sock)
    assert reply.get("ok", {}).get("t") == 1.0, reply


def test_a_service_that_accepts_then_closes_is_waited_out(home: Path) -> None:
    # a service on its way out: it takes the panel's connection, closes it unanswered, then stops
    # listening (its socket file stays until it has finished closing)
    path = path_in(home)
    old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old.bind(str(path))
    old.listen(4)

    def leave() -> None:
        conn, _ = old.accept()
        conn.close()
        old.close()

    t = threading.Thread(target=leave, daemon=True)
    t.start()
    sock = proxy.attach(path, ORIGIN)
    try:
        welcomed(sock)
    finally:
        sock.close()
    t.join(5)
    assert status(home)["running"] is True


def test_a_service_started_while_the_old_one_holds_the_lock_is_started_again(home: Path) -> None:
    # the old service closed its listener but still holds the single-instance lock while it closes
    # its links: the service this proxy starts finds the lock taken and leaves; the next one stays
    path = path_in(home)
    lock = os.open(path.parent / endpoint.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    release = threading.Timer(1.0, os.close, args=(lock,))
    release.start()
    try:
        sock = proxy.attach(path, ORIGIN)
    finally:
        release.join(5)
    try:
        welcomed(sock)
    finally:
        sock.close()
    assert (home / "logs" / "host.log").read_text(encoding="utf-8").count("another service already runs") >= 1


def test_a_stop_with_a_panel_attached_logs_no_error(home: Path) -> None:
    with HostProcess(home) as panel:
        assert panel.request("ping", {})["ok"]
        assert service_cli(home, "stop").returncode == 0
        assert panel.wait(WAIT_S) == 0  # the proxy follows its service out
    log = (home / "logs" / "host.log").read_text(encoding="utf-8")
    assert "service stopped" in log
    errors = [line for line in log.splitlines() if json.loads(line)["level"] in ("ERROR", "CRITICAL")]
    assert errors == []
