"""The service's local endpoint: a Unix domain socket in a 0700 per-user folder, the socket 0600,
and the peer's uid checked on every connection (`SO_PEERCRED` on Linux, `LOCAL_PEERCRED` on
macOS), so only the user who runs the service can reach it.

Both ends speak the native-messaging framing (32-bit native-order length + UTF-8 JSON). The
first frame of a connection says what it is: `proxy.hello` (a panel's proxy; the service checks
the protocol version and answers `proxy.welcome` or `proxy.refused`), `service.status` or
`service.stop`. On Windows the endpoint is a per-user named pipe (winpipe.py, win32.py) with the
same frames.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
import sys
from collections.abc import Mapping
from pathlib import Path

from sidedesk.native.framing import HEADER, FrameError, encode, parse_body

TYPE_CHECKING = False  # typing's constant without importing typing: `sidedesk native` starts here
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Conn(Protocol):
        """A connected endpoint, blocking: a Unix socket, or the proxy's end of a pipe (win32.PipeConn)."""

        def sendall(self, data: bytes, /) -> None: ...
        def recv(self, n: int, /) -> bytes: ...
        def settimeout(self, timeout: float | None, /) -> None: ...
        def close(self) -> None: ...


SOCKET_NAME = "service.sock"
LOCK_NAME = "service.lock"
SERVICE_PROTOCOL = 1  # bumped when proxy and service would no longer understand each other
MAX_CONTROL_FRAME = 64 * 1024


class EndpointError(RuntimeError):
    """The endpoint cannot be used safely (wrong owner or mode) or at all (no service)."""


Address = Path | str  # a Unix socket's path, or a Windows pipe's name


def supported() -> bool:
    return (os.name == "posix" and hasattr(socket, "AF_UNIX")) or sys.platform == "win32"


def address(data_dir: Path, env: Mapping[str, str] | None = None) -> Address:
    """This user's service endpoint: the socket in `service_dir`, or on Windows the per-user pipe
    (its name from the user's SID, and from the data folder when SIDEDESK_HOME is set)."""
    env = os.environ if env is None else env
    if sys.platform == "win32":
        from sidedesk.service import win32, winpipe

        return winpipe.pipe_name(win32.current_sid(), str(data_dir) if env.get("SIDEDESK_HOME") else None)
    else:
        return service_dir(data_dir, env) / SOCKET_NAME


def run_dir(data_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    """The folder of the lock (pid) file: beside the socket; on Windows `run/` by the data."""
    if sys.platform == "win32":
        return data_dir.parent / "run" if data_dir.name == "data" else data_dir / "run"
    else:
        return service_dir(data_dir, env)


def service_dir(data_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    """Where the socket and the lock live: `$XDG_RUNTIME_DIR/sidedesk` when the session has one
    (Linux), else `run/` beside the data folder (always with SIDEDESK_HOME). `env`: the
    environment the service runs with (default: this process's)."""
    env = os.environ if env is None else env
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and not env.get("SIDEDESK_HOME") and sys.platform.startswith("linux"):
        return Path(runtime) / "sidedesk"
    return data_dir.parent / "run" if data_dir.name == "data" else data_dir / "run"


if sys.platform != "win32":

    def private_dir(path: Path) -> Path:
        """Create (0700) or check the folder: ours, and nobody else may write or list it."""
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = path.lstat()
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            raise EndpointError(f"{path} is not a folder of this user; refusing to use it")
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(path, 0o700)
        return path

    def listen(path: Path) -> socket.socket:
        """Bind the socket (0600) in its private folder; a stale socket file is replaced."""
        private_dir(path.parent)
        if path.exists() or path.is_symlink():
            try:
                probe = connect_unix(path, timeout=0.5)
            except OSError:
                path.unlink()  # nobody answers: left by a service that died
            else:
                probe.close()
                raise EndpointError(f"a service already listens on {path}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is created 0600, never briefly wider
        try:
            sock.bind(str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        sock.listen(16)
        sock.setblocking(False)
        return sock

    def connect_unix(path: Path, timeout: float = 2.0) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except OSError:
            sock.close()
            raise
        return sock

else:  # Windows: the endpoint is a pipe (win32.py); there are no Unix sockets to make

    def private_dir(path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)  # under the user's profile: private by its ACL
        return path

    def listen(path: Path) -> socket.socket:
        raise EndpointError("Unix sockets are POSIX only; the service listens on a pipe here")

    def connect_unix(path: Path, timeout: float = 2.0) -> socket.socket:
        raise OSError(f"{path}: Unix sockets are POSIX only")


def lock_pid(run_dir: Path) -> int | None:
    """The pid the service wrote into its lock file, if the file holds one (it may be stale: the
    caller checks the process)."""
    try:
        text = (run_dir / LOCK_NAME).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket, or None if unknown."""
    if hasattr(socket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return int(uid)
    if sys.platform == "darwin":  # LOCAL_PEERCRED (level 0, option 1): struct xucred
        raw = sock.getsockopt(0, 0x001, struct.calcsize("Ii16I"))
        _version, uid = struct.unpack_from("Ii", raw)
        return int(uid)
    return None


def connect(where: Address, timeout: float = 2.0) -> Conn:
    """Connect to the service (OSError when none answers)."""
    if isinstance(where, str):  # a pipe's name
        return _connect_pipe(where)
    return connect_unix(where, timeout)


if sys.platform == "win32":

    def _connect_pipe(name: str) -> Conn:
        from sidedesk.service import win32

        return win32.PipeConn(name)

else:

    def _connect_pipe(name: str) -> Conn:
        raise OSError(f"{name}: named pipes are Windows only")


# -- small blocking frame helpers for the proxy and the CLI (the service reads with asyncio) ----


def send_frame(sock: Conn, obj: Any) -> None:
    sock.sendall(encode(obj))


def recv_frame(sock: Conn) -> dict[str, Any]:
    head = _recv_exact(sock, HEADER.size)
    (n,) = HEADER.unpack(head)
    if n > MAX_CONTROL_FRAME:
        raise EndpointError(f"the service sent a control frame of {n} bytes")
    item = parse_body(_recv_exact(sock, n))  # the native channel's bounded parser
    if isinstance(item, FrameError):
        raise EndpointError(f"the service sent an unreadable control frame: {item.message}")
    return item.message


def _recv_exact(sock: Conn, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EndpointError("the service closed the connection")
        out += chunk
    return out
