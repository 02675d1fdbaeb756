"""The Windows endpoint's and detach's decisions, checked on every OS (the Win32 calls that carry
them out run only on Windows): the per-user pipe name, its SDDL, the pipe and client flags, and
how the service leaves the browser's job object."""

from __future__ import annotations

import re

import pytest

from sidedesk.service import winpipe as w

SID = "S-1-5-21-3623811015-3361044348-30300820-1013"


def test_the_pipe_name_is_per_user_and_per_home_and_shows_neither() -> None:
    name = w.pipe_name(SID)
    assert re.fullmatch(r"\\\\\.\\pipe\\sidedesk-[0-9a-f]{32}", name)
    assert name == w.pipe_name(SID)  # stable: proxy and service find each other
    assert name != w.pipe_name("S-1-5-21-3623811015-3361044348-30300820-1014")
    assert SID not in name and "1013" not in name
    home = w.pipe_name(SID, r"C:\Users\ann\sd-test\data")
    assert home != name and home != w.pipe_name(SID, r"C:\Users\ann\other\data")
    assert w.pipe_name(SID, "") == name  # no SIDEDESK_HOME: the user's one service


def test_the_sddl_grants_this_user_alone() -> None:
    assert w.sddl_for(SID) == f"D:P(A;;GA;;;{SID})"  # protected (no inherited ACEs), one allow ACE
    assert w.sddl_for("S-1-5-18") == "D:P(A;;GA;;;S-1-5-18)"
    for bad in ("", "WD", "S-1-5", f"{SID})(A;;GA;;;WD", "S-1-5-21-x", "s-1-5-21-1"):
        with pytest.raises(ValueError):
            w.sddl_for(bad)  # no injected ACE, no well-known alias such as Everyone (WD)


def test_pipe_and_client_flags() -> None:
    assert w.open_mode(first=True) == 0x00000003 | 0x40000000 | 0x00080000  # duplex, overlapped, first
    assert w.open_mode(first=False) == 0x00000003 | 0x40000000
    assert w.pipe_mode() & 0x8  # PIPE_REJECT_REMOTE_CLIENTS
    assert w.pipe_mode() & ~0x8 == 0  # byte stream, blocking mode, nothing else
    assert w.client_flags() == 0x40000000 | 0x00100000 | 0x00010000  # overlapped, SQOS: identification


def test_detach_outside_the_browsers_job() -> None:
    base = 0x00000008 | 0x00000200  # DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP
    assert w.detach_plan(False, 0) == w.Detach(base, False, "not in a job")
    silent = w.detach_plan(True, w.JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK)
    assert (silent.flags, silent.via_task) == (base, False)
    allowed = w.detach_plan(True, w.JOB_OBJECT_LIMIT_BREAKAWAY_OK | 0x2000)  # (| KILL_ON_JOB_CLOSE)
    assert (allowed.flags, allowed.via_task) == (base | 0x01000000, False)  # CREATE_BREAKAWAY_FROM_JOB
    locked = w.detach_plan(True, 0x2000)  # a job that kills its processes and forbids breakaway
    assert locked.via_task and "logon task" in locked.why


def test_a_refused_breakaway_falls_back_to_the_logon_task() -> None:
    allowed = w.detach_plan(True, w.JOB_OBJECT_LIMIT_BREAKAWAY_OK)
    retry = w.after_refusal(allowed, w.ERROR_ACCESS_DENIED)
    assert retry is not None and retry.via_task and not retry.flags & w.CREATE_BREAKAWAY_FROM_JOB
    assert w.after_refusal(allowed, 2) is None  # file not found: a real error, reported as is
    assert w.after_refusal(w.detach_plan(False, 0), w.ERROR_ACCESS_DENIED) is None
    assert w.task_run_argv("Sidedesk") == ["schtasks", "/Run", "/TN", "Sidedesk"]
