"""Benchmark 5: start-up and memory. Process start -> `hello` reply, idle and loaded RSS.

The host is started exactly as Chrome starts it (pipes, origin argument), from source
(`python -m sidedesk.cli native`) and, when one is built, frozen (`build/out/dist/sidedesk/`).
The peer is `python -c "import ccxt"` (what a ccxt-based tool pays before doing anything).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, HostPipe, host_command, median, rss_mib, summary, write_config

FROZEN = (
    ROOT / "build" / "out" / "dist" / "sidedesk" / ("sidedesk.exe" if sys.platform == "win32" else "sidedesk")
)


def host_start(runs: int, frozen: Path | None) -> dict[str, Any]:
    ready_ms, idle = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="sidedesk-bench-") as tmp:
            home = Path(tmp)
            write_config(home, None)
            host = HostPipe(home, frozen)
            try:
                rid, data = host.frame_bytes("hello", {"client": "sidedesk-bench"})
                host.write(data)  # sent at once, as Chrome does: it waits in the pipe until read
                a = host.reply(rid, timeout=30)
                ready_ms.append((a.t_ns - host.started_ns) / 1e6)
                time.sleep(0.5)  # idle: the loop has settled
                mem = rss_mib(host.pid)
                if mem is not None:
                    idle.append(mem["rss"])
            finally:
                host.stop()
    return {"hello_ms": summary(ready_ms, "ms"), "idle_rss_mib": median(idle) if idle else None}


def import_profile(top: int = 12) -> list[dict[str, Any]]:
    """`python -X importtime` of a host start to `hello`: the imports that dominate, cumulative."""
    import os

    with tempfile.TemporaryDirectory(prefix="sidedesk-bench-") as tmp:
        home = Path(tmp)
        write_config(home, None)
        env = dict(os.environ, SIDEDESK_HOME=str(home))
        log = home / "importtime.txt"
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-X", "importtime", *host_command()[1:]],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
            )
            pipe = HostPipe.attach(home, proc)
            try:
                rid, data = pipe.frame_bytes("hello", {})
                pipe.write(data)
                pipe.reply(rid, timeout=30)
            finally:
                pipe.stop()
        rows: list[dict[str, Any]] = []
        for line in log.read_text().splitlines():
            parts = line.removeprefix("import time:").split("|")
            if len(parts) != 3 or not parts[0].strip().isdigit():
                continue
            name = parts[2].rstrip()
            depth = (len(name) - len(name.lstrip())) // 2
            rows.append({"module": name.strip(), "depth": depth, "cum_ms": int(parts[1]) / 1000})
    # top-level imports and what they pull in directly, largest first (importtime inflates all)
    return sorted((r for r in rows if r["depth"] <= 1), key=lambda r: -r["cum_ms"])[:top]


def python_import(stmt: str, runs: int) -> dict[str, Any]:
    """Wall time of `python -c <stmt>` and its peak RSS (VmHWM of the child itself; `ru_maxrss`
    would report the forking parent's size, which the child inherits across fork+exec)."""
    code = (
        f"{stmt}\n"
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))"
    )
    wall, rss = [], []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        wall.append((time.perf_counter() - t) * 1000)
        rss.append(int(out.stdout.strip().splitlines()[-1]) / 1024)
    return {"wall_ms": summary(wall, "ms"), "peak_rss_mib": median(rss)}


def run(*, runs: int, frozen: Path | None = None, ccxt_pro: bool = True) -> dict[str, Any]:
    """`frozen`: the frozen host's executable (default: build/out's, when there is one)."""
    out: dict[str, Any] = {"source": host_start(runs, None), "imports": import_profile()}
    exe = frozen if frozen is not None else FROZEN
    if exe.is_file():
        out["frozen"] = host_start(runs, exe)
        out["frozen_exe"] = exe.name
    else:
        out["frozen"] = None
        out["frozen_note"] = "no frozen build at build/out/dist/sidedesk (python build/package.py)"
    out["peers"] = {
        "python -c pass": python_import("pass", runs),
        "python -c 'import ccxt'": python_import("import ccxt", runs),
    }
    if ccxt_pro:
        out["peers"]["python -c 'import ccxt.pro'"] = python_import("import ccxt.pro", runs)
    return out
