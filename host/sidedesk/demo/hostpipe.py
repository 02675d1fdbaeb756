"""Start the real host as Chrome does (a child process on pipes) and exchange requests with it.

The demo uses it to create its vault through the host API before any browser runs. Frames are
the native-messaging ones (32-bit native-order length + UTF-8 JSON).
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sidedesk.identity import allowed_origins


class HostPipeError(RuntimeError):
    pass


def host_argv(origin: str) -> list[str]:
    """How to run `sidedesk native` with this interpreter (or this frozen executable)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, origin]  # the frozen binary is the host when given an origin
    return [sys.executable, "-m", "sidedesk.cli", "native", origin]


class HostPipe:
    def __init__(self, home: Path) -> None:
        env = {**os.environ, "SIDEDESK_HOME": str(home)}
        self.home = home
        self.proc = subprocess.Popen(
            host_argv(allowed_origins()[0]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._next_id = 0

    def _send(self, obj: Any) -> None:
        assert self.proc.stdin is not None
        body = json.dumps(obj).encode("utf-8")
        self.proc.stdin.write(struct.pack("=I", len(body)) + body)
        self.proc.stdin.flush()

    def _read_exact(self, n: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        out = b""
        while len(out) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HostPipeError("the host did not answer in time")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, n - len(out))
            if not chunk:
                raise HostPipeError(f"the host exited (see {self.home / 'logs' / 'host.log'})")
            out += chunk
        return out

    def request(self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 60.0) -> Any:
        """Send one request; return its `ok` payload, or raise with the host's error code and message."""
        self._next_id += 1
        rid = self._next_id
        self._send({"v": 1, "id": rid, "type": type_, "payload": payload or {}})
        deadline = time.monotonic() + timeout
        while True:
            (n,) = struct.unpack("=I", self._read_exact(4, deadline))
            frame = json.loads(self._read_exact(n, deadline))
            if (
                not isinstance(frame, dict)
                or frame.get("type") in ("event", "chunk")
                or frame.get("id") != rid
            ):
                continue  # pushes and stray frames are not the answer
            if "error" in frame:
                err = frame["error"]
                raise HostPipeError(f"{type_}: [{err.get('code')}] {err.get('message')}")
            return frame.get("ok")

    def close(self) -> None:
        """Close stdin (the host exits on EOF, as when the browser goes away) and reap it."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> HostPipe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
