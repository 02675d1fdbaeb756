"""The service's endpoint and detach on Windows: a named pipe per user, and a service process
outside the browser's job object.

- The pipe: `\\\\.\\pipe\\sidedesk-<hash>`, the hash of the user's SID (and of SIDEDESK_HOME when
  set, so each home has its own service, as on POSIX), so the name shows neither. Created with a
  protected DACL that grants only that SID (`D:P(A;;GA;;;<SID>)`: no inherited entries, no
  Everyone, no Administrators), `PIPE_REJECT_REMOTE_CLIENTS` (no SMB clients), and, for the first
  instance, `FILE_FLAG_FIRST_PIPE_INSTANCE` (which is the single-instance lock: a second service,
  or anyone who created the name first, makes it fail). The proxy opens it with
  `SECURITY_IDENTIFICATION` (the server cannot act as the client) and checks that the server
  process runs as the same user.
- The detach: `DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP`, plus `CREATE_BREAKAWAY_FROM_JOB` when
  the browser's job allows breakaway; when it does not (or CreateProcess refuses with access
  denied) the service is started through the per-user logon task (`schtasks /Run /TN Sidedesk`,
  written by `sidedesk install --service`), which Task Scheduler runs outside any job.

The decisions here (names, SDDL, flags, fallback) are pure and tested on every OS; the Win32 calls
that carry them out are in `win32.py`, small, behind platform guards (`mypy --platform win32`
checks them), and were not run here: see the README's "what was verified where".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PIPE_PREFIX = "\\\\.\\pipe\\sidedesk-"

# winbase.h / winnt.h
PIPE_ACCESS_DUPLEX = 0x00000003
FILE_FLAG_OVERLAPPED = 0x40000000
FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000
PIPE_TYPE_BYTE = 0x00000000
PIPE_READMODE_BYTE = 0x00000000
PIPE_WAIT = 0x00000000
PIPE_REJECT_REMOTE_CLIENTS = 0x00000008
PIPE_UNLIMITED_INSTANCES = 255
GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
OPEN_EXISTING = 3
SECURITY_SQOS_PRESENT = 0x00100000
SECURITY_IDENTIFICATION = 0x00010000  # SecurityIdentification << 16
PIPE_BUFFER = 64 * 1024

DETACHED_PROCESS = 0x00000008
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_BREAKAWAY_FROM_JOB = 0x01000000
JOB_OBJECT_LIMIT_BREAKAWAY_OK = 0x00000800
JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK = 0x00001000
ERROR_ACCESS_DENIED = 5

_SID = re.compile(r"S-1-[0-9]+(-[0-9]+){1,15}")


# -- pure decisions ------------------------------------------------------------------------------


def pipe_name(user: str, home: str | None = None) -> str:
    """The pipe of this user's service (`user`: the SID, or the account name where the SID is
    unknown); `home`: SIDEDESK_HOME when set."""
    key = user if not home else f"{user}\0{home}"
    return PIPE_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def sddl_for(sid: str) -> str:
    """A protected DACL with one entry: generic all for `sid`, nobody else."""
    if not _SID.fullmatch(sid):
        raise ValueError(f"not a SID: {sid!r}")
    return f"D:P(A;;GA;;;{sid})"


def open_mode(first: bool) -> int:
    return PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (FILE_FLAG_FIRST_PIPE_INSTANCE if first else 0)


def pipe_mode() -> int:
    return PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS


def client_flags() -> int:
    return FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION


@dataclass(frozen=True, slots=True)
class Detach:
    flags: int  # CreateProcess creation flags
    via_task: bool  # start through the logon task instead
    why: str


def detach_plan(in_job: bool, job_limits: int) -> Detach:
    """How to start the service so it outlives the browser: `in_job` and `job_limits` (the job's
    JOBOBJECT_BASIC_LIMIT_INFORMATION.LimitFlags) describe the proxy's own process."""
    base = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP
    if not in_job:
        return Detach(base, False, "not in a job")
    if job_limits & JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK:
        return Detach(base, False, "the job lets children leave by themselves")
    if job_limits & JOB_OBJECT_LIMIT_BREAKAWAY_OK:
        return Detach(base | CREATE_BREAKAWAY_FROM_JOB, False, "breakaway allowed")
    return Detach(base, True, "the browser's job forbids breakaway: started by the logon task")


def after_refusal(plan: Detach, winerror: int) -> Detach | None:
    """CreateProcess failed: retry through the logon task when it was the breakaway it refused."""
    if plan.flags & CREATE_BREAKAWAY_FROM_JOB and winerror == ERROR_ACCESS_DENIED:
        return Detach(plan.flags & ~CREATE_BREAKAWAY_FROM_JOB, True, "breakaway refused: the logon task")
    return None


def task_run_argv(task_name: str) -> list[str]:
    return ["schtasks", "/Run", "/TN", task_name]
