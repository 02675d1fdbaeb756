"""Another checkout's host against this one's, on one simulator process, alternating old/new
(ratios measured in one run, never a timed test): the order round trip with orders back to back
(`bench/roundtrip.py`'s figure) and the order path, intent in -> frame at the simulator, with
orders 2 ms apart (`bench/order_path.py`'s outside-in figure).

    git worktree add --detach ../old <commit>
    python -m bench.compare ../old/host [--runs 5] [--orders 1000]

Both hosts are driven by this checkout's bench (`trading_host`, `place_orders`): only the host
process differs (its PYTHONPATH). A checkout from before the service existed rejects the
`service` setting, so it is left out of that host's config.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

import bench.common as common
from bench.common import SimProcess, trading_host
from bench.order_path import outside_in, place_orders

WARMUP = 50


def _without_service(home: Path, sim_rest_url: str | None, **extra: Any) -> None:
    _write_config(home, sim_rest_url, **extra)
    f = home / "config" / "config.json"
    config = json.loads(f.read_text(encoding="utf-8"))
    config.pop("service", None)
    f.write_text(json.dumps(config), encoding="utf-8")


_write_config = common.write_config


def p50s_of(sim: SimProcess, host_dir: Path, orders: int, *, legacy: bool) -> tuple[float, float]:
    """One host (its package under `host_dir`): the round trip p50 in ms (back to back) and the
    order path p50 in µs (2 ms apart)."""
    os.environ["PYTHONPATH"] = f"{host_dir}{os.pathsep}{host_dir.parent}"
    common.write_config = _without_service if legacy else _write_config
    try:
        with tempfile.TemporaryDirectory() as tmp:
            host = trading_host(Path(tmp), sim)
            try:
                place_orders(host, WARMUP, gap_s=0)
                rt = [(r["t_reply"] - r["t_write"]) / 1e6 for r in place_orders(host, orders, gap_s=0)]
                sim.command({"cmd": "stamps"})  # drop the stamps so far
                path = outside_in(sim, place_orders(host, max(10, orders // 2)))
            finally:
                assert host.proc.stdin is not None
                host.proc.stdin.close()
                host.proc.wait(10)
    finally:
        common.write_config = _write_config
        os.environ.pop("PYTHONPATH", None)
    return float(statistics.median(rt)), float(statistics.median(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old", type=Path, help="the other checkout's host folder (holds sidedesk/)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--orders", type=int, default=1000)
    args = ap.parse_args(argv)
    if not 1 <= args.runs <= 20 or not 10 <= args.orders <= 20_000:
        ap.error("--runs 1..20, --orders 10..20000")
    here = Path(__file__).resolve().parents[1] / "host"
    hosts = {"old": args.old.resolve(), "new": here}
    legacy = not (args.old / "sidedesk" / "service").is_dir()
    sim = SimProcess()
    figures: dict[str, dict[str, list[float]]] = {name: {"rt": [], "path": []} for name in hosts}
    try:
        for run in range(args.runs):
            for name, path in hosts.items():
                rt, op = p50s_of(sim, path, args.orders, legacy=legacy and name == "old")
                figures[name]["rt"].append(rt)
                figures[name]["path"].append(op)
                print(
                    f"run {run + 1} {name}: round trip p50 {rt:.3f} ms, order path p50 {op:.0f} µs",
                    flush=True,
                )
    finally:
        sim.stop()
    for key, label, unit in (
        ("rt", "round trip, back to back", "ms"),
        ("path", "order path, 2 ms apart", "µs"),
    ):
        for name in hosts:
            values = figures[name][key]
            runs = ", ".join(f"{v:.3f}" if unit == "ms" else f"{v:.0f}" for v in sorted(values))
            median = statistics.median(values)
            shown = f"{median:.3f}" if unit == "ms" else f"{median:.0f}"
            print(f"{label}: {name} median of p50s {shown} {unit} ({runs})")
        ratio = statistics.median(figures["new"][key]) / statistics.median(figures["old"][key])
        print(f"{label}: new / old {ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
