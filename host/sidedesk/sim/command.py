"""`sidedesk sim binance [--host 127.0.0.1] [--port 0] [--seed N]`: run the simulator standalone.

Prints one JSON line (URLs and test keys) on stdout when ready, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="exchange", metavar="EXCHANGE", required=True)
    b = sub.add_parser("binance", help="Binance USDⓈ-M futures (REST, WS API, streams, control plane)")
    b.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    b.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    b.add_argument("--seed", type=int, default=1, help="seed of the price process (default 1)")
    b.add_argument("--tick-ms", type=int, default=100, help="engine clock step in ms (default 100)")
    b.add_argument("--log-level", default="WARNING", help="simulator log level on stderr (default WARNING)")


async def _serve(args: argparse.Namespace) -> int:
    from sidedesk.sim.binance import BinanceSim, SimConfig

    sim = BinanceSim(host=args.host, port=args.port, seed=args.seed, config=SimConfig(tick_ms=args.tick_ms))
    await sim.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    sys.stdout.write(json.dumps(sim.info()) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await sim.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.tick_ms <= 0 or not 0 <= args.port <= 65535:
        sys.stderr.write("sidedesk sim: --tick-ms must be > 0 and --port 0..65535\n")
        return 2
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(args))
    return 0
