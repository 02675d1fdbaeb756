"""Benchmark 7: the proxy hop. `sidedesk native` as Chrome starts it when the service is on (the
default) is a thin proxy to the running `sidedesk service`; this measures what that hop costs,
beside the in-process host (`"service": {"enabled": false}`) in the same run:

- proxy start -> first reply: a new proxy process, a service already running, `hello` written at
  once (as Chrome does) and its reply read (from source, and frozen when a build exists: the
  small `sidedesk-native` the manifests name, or the main executable in a build without it);
- the proxy's idle RSS, 0.5 s after that reply;
- `ping` round trips through proxy + service against the in-process host; the added latency per
  direction is half the difference of the medians (both ends are the same host code).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import HostPipe, cpu_seconds, median, rss_mib, summary, write_config
from bench.order_path import native_ping
from bench.startup import FROZEN, python_import
from sidedesk.install.launcher import frozen_host
from sidedesk.native.proxy import stop_service
from sidedesk.service import endpoint

SERVICE = {"enabled": True, "idle_exit_s": 600}


def _socket(home: Path) -> endpoint.Address:
    return endpoint.address(home / "data", {"SIDEDESK_HOME": str(home)})


def proxy_start(home: Path, runs: int, frozen: Path | None) -> dict[str, Any]:
    """Start -> first reply of a proxy to a running service, and its idle RSS."""
    ready_ms, cpu_ms, idle = [], [], []
    for _ in range(runs):
        proxy = HostPipe(home, frozen)
        try:
            rid, data = proxy.frame_bytes("hello", {"client": "sidedesk-bench"})
            proxy.write(data)
            a = proxy.reply(rid, timeout=30)
            ready_ms.append((a.t_ns - proxy.started_ns) / 1e6)
            cpu = cpu_seconds(proxy.pid)  # what the start costs, whatever else the machine runs
            if cpu is not None:
                cpu_ms.append(cpu * 1000)
            time.sleep(0.5)
            mem = rss_mib(proxy.pid)
            if mem is not None:
                idle.append(mem["rss"])
        finally:
            proxy.stop()
    return {
        "first_reply_ms": summary(ready_ms, "ms"),
        "start_cpu_ms": median(cpu_ms) if cpu_ms else None,
        "idle_rss_mib": median(idle) if idle else None,
    }


def run(*, runs: int, pings: int, frozen: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sidedesk-bench-") as tmp:
        direct_home, service_home = Path(tmp) / "direct", Path(tmp) / "service"
        write_config(direct_home, None, service={"enabled": False})
        write_config(service_home, None, service=SERVICE)
        try:
            with HostPipe(service_home) as first:  # starts the service (not measured)
                first.request("hello", {"client": "sidedesk-bench"}, timeout=30)
                out: dict[str, Any] = {"source": proxy_start(service_home, runs, None)}
                exe = frozen if frozen is not None else FROZEN
                if exe.is_file():
                    out["frozen"] = proxy_start(service_home, runs, frozen_host(exe))
                    out["frozen_exe"] = frozen_host(exe).name
                else:
                    out["frozen"] = None
                    out["frozen_note"] = (
                        "no frozen build at build/out/dist/sidedesk (python build/package.py)"
                    )
                native_ping(first, min(pings, 200))  # warm up both ends
                proxied = native_ping(first, pings)
                service_pid = _service_pid(service_home)
                out["service_idle_rss_mib"] = (rss_mib(service_pid) or {}).get("rss") if service_pid else None
            with HostPipe(direct_home) as direct:
                direct.request("hello", {"client": "sidedesk-bench"}, timeout=30)
                direct.request("vault.status", timeout=30)  # the full host has loaded
                time.sleep(1.0)  # and its start-up work has settled, as the service's has
                native_ping(direct, min(pings, 200))
                in_process = native_ping(direct, pings)
        finally:
            with contextlib.suppress(OSError, endpoint.EndpointError):
                stop_service(_socket(service_home))
    via, direct_s = summary(proxied, "us"), summary(in_process, "us")
    out["ping_rtt_us"] = {"in-process host": direct_s, "proxy + service": via}
    out["added_per_direction_us"] = {q: (via[q] - direct_s[q]) / 2 for q in ("p50", "p99")}
    out["proxy_over_direct_p50"] = via["p50"] / direct_s["p50"]
    out["python -c pass"] = python_import("pass", runs)  # the interpreter's own start, same run
    out["targets"] = {"first_reply_ms_frozen": 60, "idle_rss_mib": 20, "added_per_direction_us_p50": 50}
    return out


def _service_pid(home: Path) -> int | None:
    return endpoint.lock_pid(endpoint.run_dir(home / "data", {"SIDEDESK_HOME": str(home)}))
