"""Run the real host as Chrome does (a subprocess with pipes) and talk native frames to it.

Shared by unit, integration and soak tests. The host gets `SIDEDESK_HOME=<home>` so config,
vault, journal and logs stay inside the test's folder. Frames are the product's own
(`sidedesk.native.framing`: a native-order 32-bit length, then UTF-8 JSON).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sidedesk.native import framing
from tests.support.wait import WAIT_S, eventually

T = TypeVar("T")

ORIGIN = "chrome-extension://idfckbhoeeblehnacblcaifkofcekcnk/"
READ_S = 20.0  # one frame or one reply (generous: the host may share a busy machine)


class HostError(AssertionError):
    """An error reply: the request's type, the host's `code`, `message` and `details`."""

    def __init__(self, type_: str, error: dict[str, Any]) -> None:
        super().__init__(f"{type_}: {error.get('code')}: {error.get('message')} {error.get('details') or ''}")
        self.code = str(error.get("code"))
        self.message = str(error.get("message"))
        self.details: dict[str, Any] = error.get("details") or {}


class HostProcess:
    def __init__(
        self, home: Path, *, args: list[str] | None = None, env: dict[str, str] | None = None
    ) -> None:
        full_env = dict(os.environ)
        full_env["SIDEDESK_HOME"] = str(home)
        full_env.update(env or {})
        self.home = home
        cmd = [sys.executable, "-m", "sidedesk.cli", "native", *(args if args is not None else [ORIGIN])]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env
        )
        self._next_id = 0
        self._buffered: list[dict[str, Any]] = []
        self._unpacked: collections.deque[dict[str, Any]] = collections.deque()

    # -- raw frames ------------------------------------------------------------------------
    def write_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, obj: Any) -> None:
        # json.dumps, not framing.dumps: a test may send what the product would refuse to (NaN)
        body = json.dumps(obj).encode("utf-8")
        self.write_raw(framing.HEADER.pack(len(body)) + body)

    def _read_exact(self, n: int, timeout: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        out = b""
        deadline = time.monotonic() + timeout
        while len(out) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"host sent {len(out)} of {n} bytes in {timeout}s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, n - len(out))
            if not chunk:
                raise EOFError("host closed stdout")
            out += chunk
        return out

    def read_wire(self, timeout: float = READ_S) -> bytes:
        """The body of the next frame on the pipe."""
        (n,) = framing.HEADER.unpack(self._read_exact(framing.HEADER_SIZE, timeout))
        return self._read_exact(n, timeout)

    def read_frame(self, timeout: float = READ_S) -> dict[str, Any]:
        """The next message; a `batch` frame is unpacked into its events, as the extension does."""
        if self._unpacked:
            return self._unpacked.popleft()
        frame = json.loads(self.read_wire(timeout))
        assert isinstance(frame, dict)
        if frame.get("type") == "batch":
            self._unpacked.extend(frame["events"])
            return self._unpacked.popleft()
        return frame

    # -- request/reply -----------------------------------------------------------------------
    def request(
        self, type_: str, payload: dict[str, Any] | None = None, timeout: float = READ_S
    ) -> dict[str, Any]:
        """Send one request and return its reply, keeping any events that arrive meanwhile."""
        self._next_id += 1
        rid = self._next_id
        self.send({"v": 1, "id": rid, "type": type_, "payload": payload or {}})
        return self.reply_to(rid, timeout)

    def reply_to(self, rid: int | str | None, timeout: float = READ_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.read_frame(max(0.01, deadline - time.monotonic()))
            if frame.get("type") in ("event", "chunk") or frame.get("id") != rid:
                self._buffered.append(frame)
                continue
            return frame

    def read_event(self, topic: str | None = None, timeout: float = READ_S) -> dict[str, Any]:
        for i, frame in enumerate(self._buffered):
            if frame.get("type") == "event" and (topic is None or frame.get("topic") == topic):
                return self._buffered.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            frame = self.read_frame(max(0.01, deadline - time.monotonic()))
            if frame.get("type") == "event" and (topic is None or frame.get("topic") == topic):
                return frame
            self._buffered.append(frame)

    # -- lifecycle ---------------------------------------------------------------------------
    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        if not self.proc.stdin.closed:
            self.proc.stdin.close()

    def wait(self, timeout: float = READ_S) -> int:
        return self.proc.wait(timeout)

    def stderr_text(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode("utf-8", "replace")

    def log_text(self) -> str:
        path = self.home / "logs" / "host.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.close_stdin()
            try:
                self.proc.wait(READ_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(READ_S)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> HostProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TopicHost(HostProcess):
    """A host that remembers each topic's latest payload and every frame (for secret scans)."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.latest: dict[str, Any] = {}
        self.raw: list[str] = []

    def read_frame(self, timeout: float = READ_S) -> dict[str, Any]:
        frame = super().read_frame(timeout)
        self.raw.append(json.dumps(frame))
        if frame.get("type") == "event":
            self.latest[frame["topic"]] = frame["payload"]
        return frame

    def call(
        self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        """The reply's `ok`; an error reply fails the test with the host's code and message."""
        out = self.request(type_, payload, timeout)
        assert out.get("error") is None, f"{type_}: {out['error']}"
        ok: dict[str, Any] = out.get("ok") or {}
        return ok

    def until(self, probe: Callable[[], T | None], timeout: float = WAIT_S, what: str = "condition") -> T:
        """Read pushes until `probe` returns something truthy, or fail after `timeout` s."""

        def step() -> T | None:
            self._buffered = [f for f in self._buffered if f.get("type") != "event"]
            with contextlib.suppress(TimeoutError):
                self.read_frame(0.05)
            return probe()

        return eventually(step, timeout, what, every=0)

    def position(self, symbol: str) -> dict[str, Any] | None:
        rows = (self.latest.get("positions") or {}).get("positions", [])
        return next((p for p in rows if p["symbol"] == symbol), None)
