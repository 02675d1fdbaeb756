"""Every `sidedesk service` a test starts is stopped when the test (or the module, class or session
whose fixture started it) ends, and none outlives the run.

The service is detached on purpose (its own session, reparented away from the test), so it is
found by what it inherits: each pytest process (each xdist worker too) puts a fresh marker in its
environment, every host, browser and demo it starts passes it on, and a service carrying this
run's marker is one this run started. A scope's reaper notes which services ran before the scope
began and stops the ones started inside it: SIGTERM (the service stops gracefully: journal flushed,
exchange stops left where they are), then SIGKILL if it is still there after `STOP_S`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

RUN_ENV = "SIDEDESK_TEST_RUN"
STOP_S = 20.0  # a graceful stop on a busy machine; a service still there after it is killed
PROC = Path("/proc")
HOME = b"SIDEDESK_HOME="


@dataclass(frozen=True, slots=True)
class Running:
    pid: int
    home: str  # its SIDEDESK_HOME ("" when none)


def mark_run() -> str:
    """A fresh marker for this pytest process (an xdist worker must not inherit its parent's)."""
    run = uuid.uuid4().hex
    os.environ[RUN_ENV] = run
    return run


def _is_service(argv: list[str]) -> bool:
    """`python -m sidedesk.cli service …` or a frozen `sidedesk service …`."""
    for i, arg in enumerate(argv[:-1]):
        if (arg.endswith("sidedesk.cli") or Path(arg).name == "sidedesk") and argv[i + 1] == "service":
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        state = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def running(run: str | None = None) -> list[Running]:
    """The services carrying this run's marker (Linux: read from /proc; elsewhere none are found)."""
    run = run or os.environ.get(RUN_ENV)
    if not run or not PROC.is_dir():
        return []
    want = f"{RUN_ENV}={run}".encode()
    out = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if want not in environ:
                continue
            argv = [a.decode(errors="replace") for a in (entry / "cmdline").read_bytes().split(b"\0") if a]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if _is_service(argv) and _alive(int(entry.name)):
            home = next(
                (e[len(b"SIDEDESK_HOME=") :] for e in environ if e.startswith(b"SIDEDESK_HOME=")), b""
            )
            out.append(Running(int(entry.name), home.decode(errors="replace")))
    return out


def stop(services: list[Running]) -> list[Running]:
    """Stop them; returns those that had to be killed (they ignored SIGTERM for `STOP_S`)."""
    for s in services:
        _signal(s.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_S
    left = [s for s in services if _alive(s.pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [s for s in left if _alive(s.pid)]
    for s in left:
        _signal(s.pid, signal.SIGKILL)
    return left


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def reap_since(before: set[int]) -> list[Running]:
    """Stop the services started since `before` (a set of pids); returns the ones killed."""
    return stop([s for s in running() if s.pid not in before])


def pids() -> set[int]:
    return {s.pid for s in running()}


def crash(home: Path) -> list[int]:
    """What a crash does to the service serving `home` (if one does): SIGKILL, no shutdown hook.
    Returns the pids killed, once they are gone."""
    want = str(home.resolve())
    victims = [s for s in running() if s.home and str(Path(s.home).resolve()) == want]
    for s in victims:
        _signal(s.pid, signal.SIGKILL)
    deadline = time.monotonic() + STOP_S
    while any(_alive(s.pid) for s in victims) and time.monotonic() < deadline:
        time.sleep(0.02)
    return [s.pid for s in victims]


def serving_pid(home: Path) -> int | None:
    """The pid of the service serving `home`, if one runs."""
    want = str(home.resolve())
    return next((s.pid for s in running() if s.home and str(Path(s.home).resolve()) == want), None)


def stop_home(home: Path) -> None:
    """Stop the service serving `home` gracefully (as `sidedesk service stop` does), if one runs."""
    want = str(home.resolve())
    stop([s for s in running() if s.home and str(Path(s.home).resolve()) == want])
