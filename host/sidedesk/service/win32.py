"""The Win32 calls behind the named-pipe endpoint and the detach (see winpipe.py for what they
do and why). Everything here exists only on Windows: the whole module body is under one platform
guard, so mypy checks it with `--platform win32` and skips it elsewhere. Not run on this project's
CI (Linux): the README says what was verified where.
"""

from __future__ import annotations

import sys
from typing import Any

from sidedesk.service.winpipe import (
    GENERIC_READ,
    GENERIC_WRITE,
    OPEN_EXISTING,
    PIPE_BUFFER,
    PIPE_UNLIMITED_INSTANCES,
    Detach,
    after_refusal,
    client_flags,
    detach_plan,
    open_mode,
    pipe_mode,
    task_run_argv,
)

__all__ = ["Detach", "WinPipeError"]


class WinPipeError(OSError):
    pass


if sys.platform == "win32":

    def current_sid() -> str:
        """The SID of the user this process runs as."""
        import ctypes
        from ctypes import wintypes

        advapi, kernel = ctypes.WinDLL("advapi32", use_last_error=True), ctypes.WinDLL("kernel32")
        token = wintypes.HANDLE()
        if not advapi.OpenProcessToken(kernel.GetCurrentProcess(), 0x0008, ctypes.byref(token)):  # QUERY
            raise ctypes.WinError(ctypes.get_last_error())
        try:
            return _token_sid(advapi, kernel, token)
        finally:
            kernel.CloseHandle(token)

    def _token_sid(advapi: Any, kernel: Any, token: Any) -> str:
        import ctypes
        from ctypes import wintypes

        size = wintypes.DWORD()
        advapi.GetTokenInformation(token, 1, None, 0, ctypes.byref(size))  # TokenUser: ask the size
        buf = ctypes.create_string_buffer(size.value)
        if not advapi.GetTokenInformation(token, 1, buf, size, ctypes.byref(size)):
            raise ctypes.WinError(ctypes.get_last_error())
        psid = ctypes.cast(buf, ctypes.POINTER(ctypes.c_void_p))[0]  # TOKEN_USER.User.Sid
        text = wintypes.LPWSTR()
        if not advapi.ConvertSidToStringSidW(ctypes.c_void_p(psid), ctypes.byref(text)):
            raise ctypes.WinError(ctypes.get_last_error())
        try:
            return str(text.value)
        finally:
            kernel.LocalFree(text)

    class SecurityAttributes:
        """A SECURITY_ATTRIBUTES for `sddl`, kept alive as long as the pipe instances that use it."""

        def __init__(self, sddl: str) -> None:
            import ctypes
            from ctypes import wintypes

            class SA(ctypes.Structure):
                _fields_ = [
                    ("nLength", wintypes.DWORD),
                    ("lpSecurityDescriptor", ctypes.c_void_p),
                    ("bInheritHandle", wintypes.BOOL),
                ]

            advapi = ctypes.WinDLL("advapi32", use_last_error=True)
            sd = ctypes.c_void_p()
            if not advapi.ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl, 1, ctypes.byref(sd), None
            ):
                raise ctypes.WinError(ctypes.get_last_error())
            self._sd = sd
            self.struct = SA(ctypes.sizeof(SA), sd, False)
            self.address: int = ctypes.addressof(self.struct)

    def create_instance(name: str, sa: SecurityAttributes, first: bool) -> int:
        """One overlapped server instance of the pipe; the first fails if the name already exists."""
        import ctypes

        kernel = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel.CreateNamedPipeW.restype = ctypes.c_void_p
        handle = kernel.CreateNamedPipeW(
            name,
            open_mode(first),
            pipe_mode(),
            PIPE_UNLIMITED_INSTANCES,
            PIPE_BUFFER,
            PIPE_BUFFER,
            0,
            ctypes.c_void_p(sa.address),
        )
        if handle in (None, ctypes.c_void_p(-1).value):
            raise ctypes.WinError(ctypes.get_last_error())
        return int(handle)

    def server_is_ours(handle: int) -> bool:
        """The process serving the pipe runs as this user (a pipe created first by someone else is
        refused)."""
        import ctypes
        from ctypes import wintypes

        kernel = ctypes.WinDLL("kernel32", use_last_error=True)
        advapi = ctypes.WinDLL("advapi32", use_last_error=True)
        pid = wintypes.ULONG()
        if not kernel.GetNamedPipeServerProcessId(wintypes.HANDLE(handle), ctypes.byref(pid)):
            return False
        kernel.OpenProcess.restype = wintypes.HANDLE
        proc = kernel.OpenProcess(0x1000, False, pid.value)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not proc:
            return False
        try:
            token = wintypes.HANDLE()
            if not advapi.OpenProcessToken(proc, 0x0008, ctypes.byref(token)):
                return False
            try:
                return _token_sid(advapi, kernel, token) == current_sid()
            finally:
                kernel.CloseHandle(token)
        finally:
            kernel.CloseHandle(proc)

    class PipeConn:
        """The proxy's end of the pipe, with the blocking `sendall`/`recv` of a socket. Overlapped I/O
        so that one thread's read and the other's write do not queue behind each other."""

        def __init__(self, name: str) -> None:
            import ctypes
            import importlib

            kernel = ctypes.WinDLL("kernel32", use_last_error=True)
            kernel.CreateFileW.restype = ctypes.c_void_p
            handle = kernel.CreateFileW(
                name, GENERIC_READ | GENERIC_WRITE, 0, None, OPEN_EXISTING, client_flags(), None
            )
            if handle in (None, ctypes.c_void_p(-1).value):
                raise ctypes.WinError(ctypes.get_last_error())
            self.handle = int(handle)
            self._ov: Any = importlib.import_module("_overlapped")  # CPython's, Windows only
            self._kernel = kernel
            if not server_is_ours(self.handle):
                self.close()
                raise WinPipeError(f"{name} is served by another user's process; refusing it")

        def settimeout(self, timeout: float | None) -> None:
            """The handshake is not time-bounded on a pipe (the service answers at once or not at all)."""

        def sendall(self, data: bytes) -> None:
            view = memoryview(data)
            while view:
                ov = self._ov.Overlapped(0)
                ov.WriteFile(self.handle, bytes(view))
                view = view[ov.getresult(True) :]

        def recv(self, n: int) -> bytes:
            ov = self._ov.Overlapped(0)
            try:
                ov.ReadFile(self.handle, n)
                return bytes(ov.getresult(True))
            except BrokenPipeError:
                return b""

        def close(self) -> None:
            if self.handle:
                self._kernel.CloseHandle(self.handle)
                self.handle = 0

        def __enter__(self) -> PipeConn:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

    def job_state() -> tuple[bool, int]:
        """Whether this process is in a job, and that job's basic limit flags."""
        import ctypes
        from ctypes import wintypes

        kernel = ctypes.WinDLL("kernel32", use_last_error=True)
        in_job = wintypes.BOOL()
        if not kernel.IsProcessInJob(kernel.GetCurrentProcess(), None, ctypes.byref(in_job)) or not in_job:
            return False, 0
        info = (ctypes.c_byte * 64)()  # JOBOBJECT_BASIC_LIMIT_INFORMATION; LimitFlags at offset 16
        if not kernel.QueryInformationJobObject(None, 2, info, ctypes.sizeof(info), None):
            return True, 0  # unknown limits: assume no breakaway
        return True, int.from_bytes(bytes(info[16:20]), "little")

    def spawn_detached(argv: list[str], env: dict[str, str], cwd: str, task_name: str) -> str:
        """Start the service outside the browser's job; returns how (for the log)."""
        import subprocess

        plan = detach_plan(*job_state())
        for _ in range(2):
            if plan.via_task:
                subprocess.run(task_run_argv(task_name), capture_output=True, check=True, timeout=10)
                return plan.why
            try:
                subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=cwd,
                    env=env,
                    creationflags=plan.flags,
                    close_fds=True,
                )
                return plan.why
            except OSError as exc:
                retry = after_refusal(plan, getattr(exc, "winerror", 0) or 0)
                if retry is None:
                    raise
                plan = retry
        raise WinPipeError("the service could not be started")

    async def serve(name: str, sa: SecurityAttributes, handler: Any, first_handle: int) -> None:
        """Accept connections forever on a ProactorEventLoop, as asyncio's own pipe server does but
        with our security attributes and flags; `handler(reader, writer)` runs per connection."""
        import asyncio
        from asyncio import windows_utils

        loop: Any = asyncio.get_running_loop()  # ProactorEventLoop (the default on Windows)
        handle: int | None = first_handle  # created by the caller: it is the single-instance check
        sessions: set[Any] = set()
        while True:
            pipe = windows_utils.PipeHandle(
                handle if handle is not None else create_instance(name, sa, False)
            )
            handle = None
            try:
                await loop._proactor.accept_pipe(pipe)
            except OSError:
                pipe.close()
                continue
            reader = asyncio.StreamReader(limit=PIPE_BUFFER)
            protocol = asyncio.StreamReaderProtocol(reader)
            transport = loop._make_duplex_pipe_transport(pipe, protocol)
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            task = loop.create_task(handler(reader, writer))
            sessions.add(task)
            task.add_done_callback(sessions.discard)
