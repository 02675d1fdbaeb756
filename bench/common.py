"""Shared pieces of the benchmarks: statistics, machine facts, memory, and the processes under test
(the simulator in its own process, the host spoken to over pipes exactly as Chrome does).

Clocks: every timestamp is `time.perf_counter_ns()`. On Linux that is CLOCK_MONOTONIC, one clock for
every process on the machine, so a time taken in the simulator process and one taken here compare.
"""

from __future__ import annotations

import json
import os
import platform
import select
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = "chrome-extension://idfckbhoeeblehnacblcaifkofcekcnk/"
PASSWORD = "correct horse battery staple 9"
HEADER = struct.Struct("=I")


# -- statistics ---------------------------------------------------------------------------------------


def quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (the numpy default) on sorted data."""
    if not ordered:
        return float("nan")
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: Sequence[float], unit: str) -> dict[str, Any]:
    """n, min, mean, p50, p90, p99, p99.9, max of a latency sample."""
    s = sorted(values)
    if not s:
        return {"n": 0, "unit": unit}
    return {
        "n": len(s),
        "unit": unit,
        "min": s[0],
        "mean": sum(s) / len(s),
        "p50": quantile(s, 0.5),
        "p90": quantile(s, 0.9),
        "p99": quantile(s, 0.99),
        "p99.9": quantile(s, 0.999),
        "max": s[-1],
    }


def median(values: Sequence[float]) -> float:
    return quantile(sorted(values), 0.5)


# -- machine and memory ---------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    mem_kib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    dists = ("sidedesk", "websockets", "aiohttp", "pydantic", "orjson", "msgspec", "uvloop", "ccxt")
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_mib": None if mem_kib is None else mem_kib // 1024,
        "commit": commit or None,
        "packages": {d: _version(d) for d in dists},
        "official_sdk": _version("binance-sdk-derivatives-trading-usds-futures"),
        # other work on the machine skews every figure; the report prints this beside them
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def rss_mib(pid: int) -> dict[str, float] | None:
    """Resident (VmRSS) and peak resident (VmHWM) memory of a live process, in MiB (Linux)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out["rss" if key == "VmRSS" else "peak"] = int(rest.split()[0]) / 1024
    return out or None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# -- the simulator process --------------------------------------------------------------------------------


class SimProcess:
    """`bench/simproc.py` in a child process; see its docstring for the commands."""

    def __init__(self, seed: int = 1) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "simproc.py"), "--seed", str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        self.info: dict[str, Any] = self._line(30.0)

    def _line(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError("the simulator process did not answer")
        line = self.proc.stdout.readline()
        if not line:
            raise EOFError("the simulator process exited")
        out: dict[str, Any] = json.loads(line)
        return out

    def command(self, cmd: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        self.send(cmd)
        return self.answer(timeout)

    def send(self, cmd: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float = 60.0) -> dict[str, Any]:
        return self._line(timeout)

    @property
    def rest_url(self) -> str:
        return str(self.info["rest"])

    @property
    def ws_api_url(self) -> str:
        return str(self.info["ws_api"])

    @property
    def stream_url(self) -> str:
        return str(self.info["streams"]["root"])

    def key(self, account: str = "main", kind: str = "hmac") -> dict[str, str]:
        return next(k for k in self.info["keys"] if k["account"] == account and k["type"] == kind)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send({"cmd": "quit"})
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        for s in (self.proc.stdin, self.proc.stdout):
            if s is not None:
                s.close()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the host process ---------------------------------------------------------------------------------------


def host_command(frozen: Path | None = None, profile_to: Path | None = None) -> list[str]:
    if frozen is not None:
        return [str(frozen), ORIGIN]
    profiler = ["-m", "cProfile", "-o", str(profile_to)] if profile_to is not None else []
    return [sys.executable, *profiler, "-m", "sidedesk.cli", "native", ORIGIN]


def write_config(home: Path, sim_rest_url: str | None, **extra: Any) -> None:
    """The host's settings. The benchmarks measure the host in the process they start (the service
    off) unless `service=` says otherwise; bench/proxy.py measures the proxy hop beside it."""
    config: dict[str, Any] = {
        "vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1},
        "service": {"enabled": False},
    }
    if sim_rest_url is not None:
        config["simulators"] = {"binance": sim_rest_url}
    config.update(extra)
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")


@dataclass
class Arrival:
    t_ns: int  # when the last byte of the frame had been read
    frame: dict[str, Any]


@dataclass
class HostPipe:
    """The host as Chrome runs it: a child with pipes, length-prefixed JSON both ways."""

    home: Path
    frozen: Path | None = None
    profile_to: Path | None = None  # run under cProfile, stats written here when the host exits
    proc: subprocess.Popen[bytes] = field(init=False)
    started_ns: int = field(init=False)
    _buf: bytearray = field(default_factory=bytearray)
    _next_id: int = 0
    pending: list[Arrival] = field(default_factory=list)

    @classmethod
    def attach(cls, home: Path, proc: subprocess.Popen[bytes]) -> HostPipe:
        """Talk to a host someone else started (e.g. with extra interpreter flags)."""
        pipe = cls.__new__(cls)
        pipe.home, pipe.frozen, pipe.profile_to = home, None, None
        pipe.proc, pipe.started_ns = proc, time.perf_counter_ns()
        pipe._buf, pipe._next_id, pipe.pending, pipe._stamp = bytearray(), 0, [], 0
        return pipe

    def __post_init__(self) -> None:
        env = dict(os.environ)
        env["SIDEDESK_HOME"] = str(self.home)
        self.started_ns = time.perf_counter_ns()
        self.proc = subprocess.Popen(
            host_command(self.frozen, self.profile_to),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=self.home,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def frame_bytes(self, type_: str, payload: dict[str, Any] | None = None) -> tuple[int, bytes]:
        self._next_id += 1
        body = json.dumps({"v": 1, "id": self._next_id, "type": type_, "payload": payload or {}}).encode()
        return self._next_id, HEADER.pack(len(body)) + body

    def write(self, data: bytes) -> int:
        """Write one or more frames; returns perf_counter_ns just before the write."""
        assert self.proc.stdin is not None
        fd = self.proc.stdin.fileno()
        t = time.perf_counter_ns()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        return t

    def read(self, timeout: float = 10.0) -> Arrival:
        """The next frame from the host, stamped when its last byte arrived."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            if len(self._buf) >= 4:
                (n,) = HEADER.unpack_from(self._buf)
                if len(self._buf) >= 4 + n:
                    t = self._stamp
                    body = bytes(self._buf[4 : 4 + n])
                    del self._buf[: 4 + n]
                    return Arrival(t, json.loads(body))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no frame from the host within {timeout} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            self._stamp = time.perf_counter_ns()
            if not chunk:
                raise EOFError("the host closed stdout")
            self._buf += chunk

    _stamp: int = 0

    def reply(self, rid: int, timeout: float = 10.0) -> Arrival:
        """Read until the reply to `rid`; events read meanwhile are kept in `pending`."""
        deadline = time.monotonic() + timeout
        while True:
            a = self.read(max(0.01, deadline - time.monotonic()))
            if a.frame.get("id") == rid and a.frame.get("type") not in ("event", "chunk"):
                return a
            self.pending.append(a)

    def request(self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 10.0) -> Any:
        rid, data = self.frame_bytes(type_, payload)
        self.write(data)
        frame = self.reply(rid, timeout).frame
        if "error" in frame:
            raise RuntimeError(f"{type_} failed: {frame['error']}")
        return frame.get("ok")

    def drain(self, seconds: float) -> list[Arrival]:
        """Everything the host sends within `seconds` (plus what was pending)."""
        out, self.pending = self.pending, []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                out.append(self.read(remaining))
            except TimeoutError:
                break
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.close()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> HostPipe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def trading_host(
    home: Path, sim: SimProcess, *, frozen: Path | None = None, profile_to: Path | None = None
) -> HostPipe:
    """A host with an unlocked vault and the simulator's HMAC account active, quotes flowing."""
    write_config(
        home,
        sim.rest_url,
        risk={"max_orders_per_minute": None, "confirm_above_notional": None},
        watchlist=["BTCUSDT"],
    )
    host = HostPipe(home, frozen, profile_to)
    host.request("hello", {"client": "sidedesk-bench"}, timeout=30)
    host.request("vault.create", {"password": PASSWORD}, timeout=30)
    key = sim.key()
    entry = {
        "broker": "binance",
        "name": "sim",
        "environment": "simulator",
        "auth": "hmac",
        "api_key": key["apiKey"],
        "secret": key["secret"],
    }
    put = host.request("vault.put", {"entry": entry}, timeout=30)
    account_id = put["entry"]["id"]
    host.request("accounts.activate", {"account_id": account_id}, timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # bounded: wait for the first mark price of BTCUSDT
        quotes = host.request("subscribe", {"topics": ["quotes"]})["snapshots"]["quotes"]["payload"]
        if quotes and quotes.get("quotes", {}).get("BTCUSDT", {}).get("mark"):
            host.request("unsubscribe", {"topics": ["quotes"]})
            return host
        time.sleep(0.1)
    raise TimeoutError("no BTCUSDT mark price reached the host within 10 s")


# -- profiles --------------------------------------------------------------------------------------------


def _short(path: str) -> str:
    for marker in ("/host/sidedesk/", "/site-packages/", "/lib/python"):
        i = path.find(marker)
        if i >= 0:
            return path[i + 1 :] if marker == "/host/sidedesk/" else path[i + len(marker) :]
    return path


def hot_spots(
    stats_path: Path, per: int, top: int = 12, only: str | None = "sidedesk", min_calls_per_op: float = 0.5
) -> dict[str, Any]:
    """The functions that dominate a cProfile run: by own time and by cumulative time.

    `per` divides the times (e.g. the number of orders) so the table reads "µs per order";
    `only` keeps functions whose file path contains it (None: everything, C functions included);
    functions called fewer than `min_calls_per_op` times per op (start-up, set-up) are left out.
    """
    import pstats

    st = pstats.Stats(str(stats_path))
    rows = []
    for (file, line, name), (_cc, ncalls, tottime, cumtime, _callers) in st.stats.items():  # type: ignore[attr-defined]
        if (only is not None and only not in file) or ncalls / per < min_calls_per_op:
            continue
        rows.append(
            {
                "function": name,
                "where": f"{_short(file)}:{line}" if line else _short(file),
                "calls_per_op": ncalls / per,
                "own_us_per_op": tottime * 1e6 / per,
                "cum_us_per_op": cumtime * 1e6 / per,
            }
        )
    by_own = sorted(rows, key=lambda r: -r["own_us_per_op"])[:top]
    by_cum = sorted(rows, key=lambda r: -r["cum_us_per_op"])[:top]
    return {"by_own_time": by_own, "by_cumulative_time": by_cum, "ops": per}
