"""Start the host exactly as a browser does and check that it answers `hello` and exits on EOF.

Same argv as Chrome (`path origin`, plus `--parent-window=0` on Windows), same working folder (the
host's own), a length-prefixed `hello`, then stdin closed: Chrome SIGKILLs a host 2 s after
closing its stdin, so a host that lingers longer loses whatever it was still saving.
"""

from __future__ import annotations

import contextlib
import json
import queue
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

HEADER = struct.Struct("=I")
MAX_FRAME = 1024 * 1024
EOF_EXIT_BUDGET_S = 2.0
HELLO = {"v": 1, "id": 1, "type": "hello", "payload": {}}


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    host_version: str | None = None
    reply_ms: float | None = None  # informational only
    exit_code: int | None = None


def command_line(path: str, origin: str, system: str) -> list[str]:
    argv = [path, origin]
    if system == "windows":
        argv.append("--parent-window=0")  # what Chrome passes for a service-worker caller
    return argv


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def _reader(stream: IO[bytes], out: queue.Queue[dict[str, Any] | str]) -> None:
    """Frames as dicts; a string says why reading stopped."""
    while True:
        header = _read_exact(stream, HEADER.size)
        if len(header) < HEADER.size:
            out.put("eof" if not header else "stdout closed in the middle of a frame header")
            return
        (length,) = HEADER.unpack(header)
        if length > MAX_FRAME:
            out.put(
                f"the host wrote a frame header of {length} bytes (stray text on stdout?); "
                'the browser says "Error when communicating with the native messaging host."'
            )
            return
        body = _read_exact(stream, length)
        if len(body) < length:
            out.put("stdout closed in the middle of a frame")
            return
        try:
            msg = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            out.put("the host wrote a frame that is not UTF-8 JSON")
            return
        out.put(msg if isinstance(msg, dict) else "the host wrote a frame that is not a JSON object")


def _stderr_tail(f: IO[bytes]) -> str:
    f.seek(0)
    text = f.read()[-600:].decode("utf-8", "replace").strip()
    return f" (stderr: {text})" if text else ""


def probe(path: str, origin: str, system: str, reply_timeout: float = 10.0) -> ProbeResult:
    argv = command_line(path, origin, system)
    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=str(Path(path).parent),
            )
        except OSError as exc:
            return ProbeResult(
                False,
                f'cannot start {path}: {exc.strerror or exc}; the browser says "Native host has exited."',
            )
        assert proc.stdin is not None and proc.stdout is not None
        frames: queue.Queue[dict[str, Any] | str] = queue.Queue()
        thread = threading.Thread(target=_reader, args=(proc.stdout, frames), daemon=True)
        thread.start()
        try:
            body = json.dumps(HELLO).encode()
            try:
                proc.stdin.write(HEADER.pack(len(body)) + body)
                proc.stdin.flush()
            except OSError:
                pass  # it already exited; the reader reports how
            deadline = started + reply_timeout
            reply: dict[str, Any] | None = None
            problem: str | None = None
            while reply is None and problem is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    problem = f"no reply to hello within {reply_timeout:g} s"
                    break
                try:
                    item = frames.get(timeout=remaining)
                except queue.Empty:
                    continue
                if isinstance(item, str):
                    problem = item
                elif item.get("id") == 1:
                    reply = item
                # pushes (events) before the reply are fine: keep reading
            reply_ms = (time.monotonic() - started) * 1000
            if problem is not None:
                code = proc.poll()
                if problem == "eof" or code is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        code = proc.wait(timeout=1.0)
                    return ProbeResult(
                        False,
                        f"the host exited (code {code}) without answering hello{_stderr_tail(err)}; "
                        'the browser says "Native host has exited."',
                        exit_code=code,
                    )
                return ProbeResult(False, problem + _stderr_tail(err))
            assert reply is not None
            if "error" in reply or not isinstance(reply.get("ok"), dict):
                error = reply.get("error")
                return ProbeResult(False, f"the host answered hello with an error: {error!r}")
            version = reply["ok"].get("host_version")
            with contextlib.suppress(OSError):
                proc.stdin.close()
            try:
                code = proc.wait(timeout=EOF_EXIT_BUDGET_S)
            except subprocess.TimeoutExpired:
                return ProbeResult(
                    False,
                    f"the host answered but did not exit within {EOF_EXIT_BUDGET_S:g} s of stdin closing "
                    "(Chrome kills it then, losing unsaved work)",
                    host_version=str(version),
                    reply_ms=reply_ms,
                )
            return ProbeResult(
                True,
                f"answered hello (host {version}) and exited on EOF",
                host_version=str(version),
                reply_ms=reply_ms,
                exit_code=code,
            )
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            with contextlib.suppress(OSError):
                proc.stdin.close()
            thread.join(timeout=2.0)
            proc.stdout.close()
