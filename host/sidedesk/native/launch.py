"""What Chrome starts: the proxy to the service, or, when the host must run in-process, the full
`sidedesk native` of this installation.

From source both are the same interpreter. A frozen release ships two executables in one folder
(the KeePassXC model): `sidedesk-native`, whose bundle holds only this path (no pydantic, no
broker code, no runtime hooks it does not need) and which the browsers' manifests name, and
`sidedesk`, the whole host and command line, which it runs to start the service or to serve
in-process. Imports only the standard library, the start settings and the endpoint helpers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sidedesk.identity import allowed_origins
from sidedesk.service import endpoint
from sidedesk.store.paths import default_paths
from sidedesk.store.startup import read_start_settings

NATIVE_EXE_STEM = "sidedesk-native"
MAIN_EXE_STEM = "sidedesk"
# `sidedesk native ... --in-process`: the proxy could not reach a service, serve here
IN_PROCESS_FLAG = "--in-process"


def origin_of(argv: list[str]) -> str | None:
    """Chrome passes the origin first (and `--parent-window=N` on Windows)."""
    return next((a for a in argv if not a.startswith("--")), None)


def main_executable() -> str:
    """The full `sidedesk` of this installation: the frozen main executable beside whichever of
    the two is running, or (from source) this interpreter, which runs it with `-m`."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable)
        return str(exe.with_name(MAIN_EXE_STEM + exe.suffix))
    return sys.executable


def main_command(args: list[str]) -> list[str]:
    """The argv that runs `sidedesk ARGS` from this installation."""
    if getattr(sys, "frozen", False):
        return [main_executable(), *args]
    return [sys.executable, "-m", "sidedesk.cli", *args]


def via_service(data_dir: Path, origin: str) -> int | str:
    """Proxy to the running service (started if none answers): the proxy's exit code, or why it
    could not run, in which case nothing was started and the caller serves in-process."""
    from sidedesk.native import proxy

    if not endpoint.supported():
        return "the service is not available on this system"
    try:
        return proxy.run(endpoint.address(data_dir), origin)
    except (proxy.NoService, OSError) as exc:  # nothing runs or was started: safe to serve here
        return str(exc)


def run_main(args: list[str]) -> int:
    """Become `sidedesk ARGS` (the main executable): stdin/stdout are still untouched, so it
    talks to Chrome directly. POSIX replaces this process, so Chrome's kill still reaches it;
    Windows has no such exec, so this waits for it and passes on its exit code."""
    command = main_command(args)
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.platform == "win32":
        import subprocess

        return subprocess.call(command)
    os.execv(command[0], command)  # noqa: S606 - our own executable, argv as a list


def native_entry(argv: list[str]) -> int:
    """`sidedesk-native ORIGIN`: the proxy when the service is on and answers; otherwise the main
    executable's `sidedesk native`, which also refuses unknown origins (and logs why)."""
    paths = default_paths()
    start = read_start_settings(paths.config_file)
    origin = origin_of(argv)
    if origin is not None and origin in allowed_origins(start.extra_extension_ids) and start.service_enabled:
        outcome = via_service(paths.data_dir, origin)
        if isinstance(outcome, int):
            return outcome
        print(f"sidedesk-native: {outcome}; serving in-process", file=sys.stderr)
        argv = [*argv, IN_PROCESS_FLAG]
    return run_main(["native", *argv])
