"""`sidedesk native` as a thin proxy: what Chrome starts when the service is on.

It connects to the per-user service (starting it, detached from the browser's process tree, if
none answers), shakes hands on the service protocol version (an older service is asked to stop
and a new one started), then forwards bytes both ways without parsing them and leaves at once
when stdin closes: Chrome kills only the process it launched, so the service, in its own
session, keeps protecting. Imports only the standard library and the endpoint helpers.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

from sidedesk.native.launch import main_command
from sidedesk.service import endpoint

START_TIMEOUT_S = 10.0


class NoService(OSError):
    """No service runs and none could be started (nothing was spawned): the caller may serve
    in-process without two engines managing the same positions."""


STOP_TIMEOUT_S = 3.0
RESPAWN_S = 2.0
CHUNK = 64 * 1024


def service_command() -> list[str]:
    """How to run `sidedesk service --foreground` from this installation (frozen: the main
    executable, also when this is the small `sidedesk-native`)."""
    return main_command(["service", "--foreground"])


def spawn_service() -> None:
    """Start the service in a new session (setsid): its own process group, stdio and folder, so
    closing the browser (which kills the proxy) leaves it running. On Windows: detached, outside
    the browser's job object (or through the logon task, see service/winpipe.py)."""
    import subprocess  # only when no service answers

    env = dict(os.environ)
    if env.get("SIDEDESK_HOME"):  # the service works in "/", so a relative home is made absolute
        env["SIDEDESK_HOME"] = str(Path(env["SIDEDESK_HOME"]).expanduser().resolve())
    if sys.platform == "win32":
        from sidedesk.install.login import TASK_NAME
        from sidedesk.service import win32

        win32.spawn_detached(service_command(), env, os.path.abspath(os.sep), TASK_NAME)
    else:
        subprocess.Popen(
            service_command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=os.path.abspath(os.sep),  # holds no folder (or drive) busy; HOME may not exist
            env=env,
            start_new_session=True,
            close_fds=True,
        )


def wait_connect(path: endpoint.Address, timeout: float) -> endpoint.Conn:
    """A connection to the service, started if none answers: within `timeout` seconds."""
    return reach(path, time.monotonic() + timeout)


def reach(path: endpoint.Address, deadline: float) -> endpoint.Conn:
    """Connect, starting the service when nothing listens. A service started while an old one is
    still on its way out (listener closed, lock still held) leaves at once, so one that has not
    answered after RESPAWN_S is started again; the lock keeps it to one service."""
    spawned_at: float | None = None
    while True:
        try:
            return endpoint.connect(path)
        except OSError:
            pass
        now = time.monotonic()
        if now > deadline:
            raise endpoint.EndpointError(f"the Sidedesk service did not start (no answer on {path})")
        if spawned_at is None or now - spawned_at >= RESPAWN_S:
            try:
                spawn_service()
            except Exception as exc:  # the process was not created (or, on Windows, not detached)
                if spawned_at is None:
                    raise NoService(f"the Sidedesk service could not be started: {exc}") from exc
                raise endpoint.EndpointError(f"the Sidedesk service could not be started: {exc}") from exc
            spawned_at = now
        time.sleep(0.05)


def stop_service(path: endpoint.Address) -> None:
    """Ask a running service to stop and wait until it has let go of the socket and, on POSIX,
    until its process has exited: it closes its listener first and then its links, journal and
    vault, so a caller that removes the service's folder or counts its processes (the demo's
    end) found it still running when only the socket was waited for."""
    try:
        sock = endpoint.connect(path)
    except OSError:
        return
    pid: int | None = None
    try:
        endpoint.send_frame(sock, {"type": "service.stop"})
        with contextlib.suppress(OSError, endpoint.EndpointError):
            reply = endpoint.recv_frame(sock)
            pid = reply.get("pid") if isinstance(reply.get("pid"), int) else None
    finally:
        sock.close()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            endpoint.connect(path, timeout=0.2).close()
        except OSError:
            break
        time.sleep(0.05)
    while pid is not None and time.monotonic() < deadline and not _exited(pid):
        time.sleep(0.02)


if sys.platform == "win32":

    def _exited(pid: int) -> bool:
        """Not asked on Windows, where os.kill would terminate the process: there the pipe going
        away is all that is waited for."""
        return True

else:

    def _exited(pid: int) -> bool:
        """The process is gone (a child of ours is reaped first)."""
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # another user's process took the pid: ours is gone
            return True
        return False


def attach(path: endpoint.Address, origin: str) -> endpoint.Conn:
    """A connection to a service of our protocol: started if needed, replaced if older. A service
    that accepts and then closes before answering is stopping (its idle exit raced this panel):
    wait for it to go and reach the next one, within START_TIMEOUT_S overall."""
    deadline = time.monotonic() + START_TIMEOUT_S
    replaced = False
    while True:
        sock = reach(path, deadline)
        try:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            endpoint.send_frame(
                sock, {"type": "proxy.hello", "service_protocol": endpoint.SERVICE_PROTOCOL, "origin": origin}
            )
            answer = endpoint.recv_frame(sock)
        except (OSError, endpoint.EndpointError):
            sock.close()
            if time.monotonic() > deadline:
                raise endpoint.EndpointError("the Sidedesk service closed without answering") from None
            time.sleep(0.05)
            continue
        if answer.get("type") == "proxy.welcome":
            sock.settimeout(None)
            return sock
        sock.close()
        if replaced:
            raise endpoint.EndpointError("the running service speaks another protocol and would not stop")
        stop_service(path)  # a service of another protocol: replace it (its stops stay on the exchange)
        replaced = True


def forward(sock: endpoint.Conn, in_fd: int = 0, out_fd: int = 1) -> int:
    """Bytes both ways until either side closes; never parses a frame."""

    def upstream() -> None:
        try:
            while data := os.read(in_fd, CHUNK):
                sock.sendall(data)
        except OSError:
            pass
        os._exit(0)  # the browser closed the port: leave now; the service carries on

    threading.Thread(target=upstream, name="stdin-to-service", daemon=True).start()
    try:
        while data := sock.recv(CHUNK):
            view = memoryview(data)
            while view:
                view = view[os.write(out_fd, view) :]
    except OSError:
        pass
    return 0  # the service went away: Chrome sees the port close and reconnects (a new service)


def run(socket_path: endpoint.Address, origin: str) -> int:
    """Forward until either side closes. NoService propagates (nothing else was started)."""
    try:
        sock = attach(socket_path, origin)
    except NoService:
        raise
    except (OSError, endpoint.EndpointError) as exc:
        print(f"sidedesk native: {exc}", file=sys.stderr)
        return 1
    out_fd = os.dup(1)  # a private stdout for frames, as the in-process host keeps
    os.dup2(2, 1)
    return forward(sock, 0, out_fd)
