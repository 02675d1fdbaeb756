"""`python -m tests.soak.run --scenarios N --seed S [--jobs J] [--no-asl]`: the fault-injection soak.

Scenario k uses seed S + k (replay one with `--seed S+k --scenarios 1`). Prints one line per
scenario with a violation, then the counts: scenarios, faults injected by kind, trader actions,
error replies by code, invariant violations (must be 0). Exit status 1 when any invariant broke.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.soak.scenario import Result, describe, run_scenario
from tests.soak.schedule import FAULTS
from tests.support import services


def summarize(results: list[Result], seconds: float) -> dict[str, object]:
    faults: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for r in results:
        faults.update(r.faults)
        actions.update(r.actions)
        errors.update(r.errors)
    return {
        "scenarios": len(results),
        "seconds": round(seconds, 1),
        "faults_injected": sum(faults.values()),
        "faults_by_kind": dict(sorted(faults.items())),
        "actions": dict(sorted(actions.items())),
        "acknowledged_orders": sum(len(r.acked) for r in results),
        "error_replies": dict(sorted(errors.items())),
        "corrections_logged": sum(r.corrections for r in results),
        "invariant_violations": sum(len(r.violations) for r in results),
    }


def run(
    scenarios: int,
    seed: int,
    jobs: int,
    asl: bool,
    steps: int,
    workdir: Path,
    faults: tuple[str, ...] = FAULTS,
    *,
    echo: bool = True,
    keep: Path | None = None,
) -> tuple[list[Result], float]:
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(run_scenario, seed + k, workdir, asl=asl, steps=steps, faults=faults)
            for k in range(scenarios)
        ]
        results = []
        for f in futures:
            r = f.result()
            results.append(r)
            if r.violations and echo:
                print(json.dumps(describe(r)), flush=True)
            if r.violations and keep is not None:  # its host log and journal, to read afterwards
                shutil.copytree(workdir / f"home-{r.seed}", keep / f"home-{r.seed}", dirs_exist_ok=True)
    return results, time.monotonic() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.soak.run", description=__doc__)
    ap.add_argument("--scenarios", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--jobs", type=int, default=2, help="scenarios run side by side (each: one simulator, one host)"
    )
    ap.add_argument("--steps", type=int, default=10, help="trader actions and faults per scenario (about)")
    ap.add_argument("--no-asl", action="store_true", help="run with the stop-loss engine switched off")
    ap.add_argument("--faults", default=",".join(FAULTS), help="comma-separated fault kinds to draw from")
    ap.add_argument(
        "--keep", type=Path, help="copy the folder (logs, journal) of each violating scenario here"
    )
    args = ap.parse_args(argv)
    faults = tuple(f for f in args.faults.split(",") if f)
    if unknown := [f for f in faults if f not in FAULTS]:
        ap.error(f"unknown fault kinds {unknown}; known: {', '.join(FAULTS)}")
    logging.getLogger("sidedesk_sim.binance").setLevel(logging.ERROR)  # injected faults are expected
    if args.scenarios < 1 or args.steps < 2:
        ap.error("--scenarios must be ≥ 1 and --steps ≥ 2")
    # every host and service started from here carries this run's marker: a scenario's crash
    # (kill -9) finds the service behind its host, and none outlives the run
    run_id = services.mark_run()
    try:
        with tempfile.TemporaryDirectory(prefix="sidedesk-soak-") as tmp:
            results, seconds = run(
                args.scenarios,
                args.seed,
                args.jobs,
                not args.no_asl,
                args.steps,
                Path(tmp),
                faults or FAULTS,
                keep=args.keep,
            )
    finally:
        services.stop(services.running(run_id))
    summary = summarize(results, seconds)
    print(json.dumps(summary, indent=2))
    return 1 if summary["invariant_violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
