"""Run every benchmark in one go and write bench/out/{results.json, REPORT.md, *.png}.

    python -m bench.run            # full: >= 10 000 orders, peers, 10 s of 10 000 ticks/s (~3-5 min)
    python -m bench.run --smoke    # the same code paths with small counts (CI, ~20 s)

Processes: the simulator (`bench/simproc.py`) and the host each run in their own process; the
peers run here. Everything binds 127.0.0.1; every loop is bounded by the counts below.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import memory, order_path, proxy, report, roundtrip, startup, ticks, ui_load
from bench.common import ROOT, SimProcess, machine_info, rss_mib, trading_host

FULL: dict[str, dict[str, Any]] = {
    "order_path": {
        "orders": 10_000,
        "warmup": 200,
        "profile_orders": 2000,
        "asl_on_orders": 1000,
        "breakdown_n": 20_000,
    },
    "roundtrip": {"n": 1000, "warmup": 20, "ccxt_throttled_n": 40},
    "ticks": {"ticks": 20_000, "repeats": 5, "ws_ticks": 50_000},
    "ui_load": {"rate": 10_000, "seconds": 10.0},
    "memory": {"cycles": 5000, "warmup": 300, "checkpoints": 20, "rate": 2000},
    "startup": {"runs": 10},
    "proxy": {"runs": 10, "pings": 2000},
}
SMOKE: dict[str, dict[str, Any]] = {
    "order_path": {
        "orders": 200,
        "warmup": 20,
        "profile_orders": 100,
        "asl_on_orders": 0,
        "breakdown_n": 300,
    },
    "roundtrip": {"n": 30, "warmup": 5, "ccxt_throttled_n": 0},
    "ticks": {"ticks": 1000, "repeats": 1, "ws_ticks": 3000},
    "ui_load": {"rate": 10_000, "seconds": 1.0},
    "memory": {"cycles": 100, "warmup": 10, "checkpoints": 4, "rate": 2000},
    "startup": {"runs": 1, "ccxt_pro": False},
    "proxy": {"runs": 1, "pings": 100},
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="small counts: checks every path in ~20 s")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="output folder")
    ap.add_argument("--frozen", type=Path, default=None, help="frozen host executable (default: build/out's)")
    ap.add_argument(
        "--only", action="append", choices=sorted(FULL), help="run only these benchmarks (repeatable)"
    )
    args = ap.parse_args(argv)
    params = SMOKE if args.smoke else FULL
    wanted = set(args.only or FULL)
    started = time.perf_counter()
    result: dict[str, Any] = {
        "mode": "smoke" if args.smoke else "full",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.run" + (" --smoke" if args.smoke else ""),
        "machine": machine_info(),
        "params": {k: v for k, v in params.items() if k in wanted},
        "errors": {},
    }

    def attempt(name: str, fn: Callable[[], Any]) -> None:
        if name not in wanted:
            return
        t = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            result[name] = fn()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            result["errors"][name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        print(f"[bench] {name} done in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)

    if wanted & {"order_path", "roundtrip", "ui_load", "memory"}:
        with SimProcess() as sim, tempfile.TemporaryDirectory(prefix="sidedesk-bench-") as tmp:
            host = trading_host(Path(tmp), sim)
            try:
                attempt("order_path", lambda: order_path.run(sim, host, **params["order_path"]))
                attempt("roundtrip", lambda: roundtrip.run(sim, host, **params["roundtrip"]))
                attempt("ui_load", lambda: ui_load.run(sim, host, **params["ui_load"]))
                attempt("memory", lambda: memory.run(sim, host, **params["memory"]))
                result["loaded_rss_mib"] = rss_mib(host.pid)
            finally:
                host.stop()
    attempt("ticks", lambda: ticks.run(**params["ticks"]))
    attempt("startup", lambda: startup.run(**params["startup"], frozen=args.frozen))
    attempt("proxy", lambda: proxy.run(**params["proxy"], frozen=args.frozen))
    result["elapsed_s"] = time.perf_counter() - started
    report.write(result, args.out)
    print(f"[bench] wrote {args.out / 'REPORT.md'} in {result['elapsed_s']:.0f} s", file=sys.stderr)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
