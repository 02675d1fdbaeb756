"""`sidedesk sim binance|tradovate|alpaca|volumetrica [--host H] [--port 0]`: run a simulator standalone.

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
from collections.abc import Awaitable, Callable


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="exchange", metavar="EXCHANGE", required=True)
    b = sub.add_parser("binance", help="Binance USDⓈ-M futures (REST, WS API, streams, control plane)")
    b.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    b.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    b.add_argument("--seed", type=int, default=1, help="seed of the price process (default 1)")
    b.add_argument("--tick-ms", type=int, default=100, help="engine clock step in ms (default 100)")
    b.add_argument("--log-level", default="WARNING", help="simulator log level on stderr (default WARNING)")
    t = sub.add_parser(
        "tradovate", help="Tradovate futures (REST auth, trading and md sockets, control plane)"
    )
    t.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    t.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    t.add_argument("--seed", type=int, default=1, help="seed of the price process (default 1)")
    t.add_argument("--tick-ms", type=int, default=100, help="engine clock step in ms (default 100)")
    t.add_argument("--token-ttl-s", type=float, default=80 * 60, help="access token life (default 4800 s)")
    t.add_argument(
        "--month", default=None,
        help="pin the first listed month: H, M, U or Z + year digit, e.g. H7 (default: today's front month)",
    )  # fmt: skip
    t.add_argument(
        "--accounts", type=int, default=1, choices=range(1, 11), metavar="N",
        help="accounts of the built-in user's login, 1..10 (default 1)",
    )  # fmt: skip
    t.add_argument("--log-level", default="WARNING", help="simulator log level on stderr (default WARNING)")
    a = sub.add_parser(
        "alpaca", help="Alpaca stocks (trading REST, trading stream, market data, control plane)"
    )
    a.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    a.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    a.add_argument("--seed", type=int, default=1, help="seed of the price process (default 1)")
    a.add_argument("--tick-ms", type=int, default=100, help="engine clock step in ms (default 100)")
    a.add_argument(
        "--session", choices=("open", "closed", "nyse"), default="open",
        help="market session: forced open/closed (change it via /_sim/session) or real NYSE hours",
    )  # fmt: skip
    a.add_argument("--log-level", default="WARNING", help="simulator log level on stderr (default WARNING)")
    v = sub.add_parser(
        "volumetrica", help="Volumetrica futures (REST token, protobuf trading socket, control plane)"
    )
    v.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    v.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    v.add_argument("--seed", type=int, default=1, help="seed of the price process (default 1)")
    v.add_argument("--tick-ms", type=int, default=100, help="engine clock step in ms (default 100)")
    v.add_argument(
        "--month", default=None,
        help="pin the first listed month: H, M, U or Z + 2 year digits, e.g. H27 (default: today's front)",
    )  # fmt: skip
    v.add_argument(
        "--ping-timeout-s", type=float, default=60.0, help="drop a session without Ping (default 60)"
    )
    v.add_argument(
        "--protocol", choices=("5", "5.1"), default="5.1",
        help="the vendor protocol version the trading socket speaks: 5 (int32 quantities and ids, "
        "no Version at login) or 5.1 (sint64; default)",
    )  # fmt: skip
    v.add_argument(
        "--accounts", type=int, default=1, choices=range(1, 11), metavar="N",
        help="accounts of the built-in login, 1..10 (default 1; the first is an evaluation, the "
        "next ones funded)",
    )  # fmt: skip
    v.add_argument("--log-level", default="WARNING", help="simulator log level on stderr (default WARNING)")


async def _serve_volumetrica(args: argparse.Namespace) -> int:
    from sidedesk_sim.volumetrica import SimConfig, VolumetricaSim

    config = SimConfig(
        tick_ms=args.tick_ms, ping_timeout_s=args.ping_timeout_s, month=args.month, accounts=args.accounts
    )
    sim = VolumetricaSim(
        host=args.host, port=args.port, seed=args.seed, config=config, protocol=args.protocol
    )
    await sim.start()
    return await _until_stopped(sim.info(), sim.stop)


async def _serve_tradovate(args: argparse.Namespace) -> int:
    from sidedesk_sim.tradovate import SimConfig, TradovateSim

    config = SimConfig(
        tick_ms=args.tick_ms,
        token_ttl_ms=int(args.token_ttl_s * 1000),
        month=args.month,
        builtin_accounts=args.accounts,
    )
    sim = TradovateSim(host=args.host, port=args.port, seed=args.seed, config=config)
    await sim.start()
    return await _until_stopped(sim.info(), sim.stop)


async def _serve_alpaca(args: argparse.Namespace) -> int:
    from sidedesk_sim.alpaca import AlpacaSim, SimConfig

    sim = AlpacaSim(host=args.host, port=args.port, seed=args.seed,
                    config=SimConfig(tick_ms=args.tick_ms, session=args.session))  # fmt: skip
    await sim.start()
    return await _until_stopped(sim.info(), sim.stop)


async def _until_stopped(info: dict[str, object], stop_sim: Callable[[], Awaitable[None]]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await stop_sim()
    return 0


async def _serve(args: argparse.Namespace) -> int:
    from sidedesk_sim.binance import BinanceSim, SimConfig

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
    if args.exchange == "tradovate":
        if args.token_ttl_s <= 0:
            sys.stderr.write("sidedesk sim tradovate: --token-ttl-s must be > 0\n")
            return 2
        try:
            from sidedesk_sim.tradovate.instruments import contracts

            contracts(args.month)
        except ValueError as exc:
            sys.stderr.write(f"sidedesk sim tradovate: {exc}\n")
            return 2
    if args.exchange == "volumetrica":
        try:
            from sidedesk_sim.volumetrica.instruments import contracts as vol_contracts

            vol_contracts(args.month)
            if args.ping_timeout_s <= 0:
                raise ValueError("--ping-timeout-s must be > 0")
        except ValueError as exc:
            sys.stderr.write(f"sidedesk sim volumetrica: {exc}\n")
            return 2
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        if args.exchange == "alpaca":
            return asyncio.run(_serve_alpaca(args))
        if args.exchange == "volumetrica":
            return asyncio.run(_serve_volumetrica(args))
        return asyncio.run(_serve_tradovate(args) if args.exchange == "tradovate" else _serve(args))
    return 0
