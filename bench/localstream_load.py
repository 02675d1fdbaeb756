"""Benchmark: the local stream under load (not a timed test).

A host process (the real `Host`, vault, desk, journal and local-stream server) holds 20 open
positions on each of two accounts and is fed `--rate` mark-price ticks per second for `--seconds`
(as broker adapters feed it: `Desk.on_event`); every tick moves the mark, P&L and ROE of a
position on each account, so it is a position update. The mark encodes the tick's wall-clock
time, so a client can tell how old the newest update in an event is. This process opens
`--connections` WebSocket clients over four tokens (two for every account, one per account),
subscribed to positions, account, quotes and status. Measured:

- delivery latency: the event's `ts_ms` (payload built) -> received by the client;
- update latency (positions): the newest tick a positions event shows -> received; it includes
  the batching window (up to `--batch-ms`), which is the point of batching;
- host RSS, sampled every 0.5 s from /proc (goal: < 100 MB and no growth over the run);
- the server's own statistics at the end.

    python -m bench.localstream_load [--connections 100] [--rate 1000] [--seconds 20] [--batch-ms 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple 9"
SYMBOLS = [f"SYM{i:02d}USDT" for i in range(20)]
TOPICS = ["positions", "account", "quotes", "status"]
# the server writes these fields first, in this order (server.py: Conn.render)
HEAD = re.compile(r'\{"v":1,"type":"(?P<type>\w+)","topic":"(?P<topic>\w+)","seq":\d+,"ts_ms":(?P<ts>\d+)')


def quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: list[float]) -> dict[str, Any]:
    s = sorted(values)
    if not s:
        return {"n": 0}
    return {
        "n": len(s),
        "mean_ms": round(sum(s) / len(s), 3),
        "p50_ms": round(quantile(s, 0.5), 3),
        "p95_ms": round(quantile(s, 0.95), 3),
        "p99_ms": round(quantile(s, 0.99), 3),
        "max_ms": round(s[-1], 3),
    }


def encode_time(ms: int) -> Decimal:
    """A mark price that carries the wall-clock time of its tick (ms, modulo ~2.7 h)."""
    return Decimal(1000) + Decimal(ms % 10_000_000) / 1000


def decode_age(mark: str, now_ms: float) -> float:
    """How old (ms) the tick that set this mark is."""
    age = (now_ms % 10_000_000) - float((Decimal(mark) - 1000) * 1000)
    return age + 10_000_000 if age < -1_000_000 else age


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the host process --------------------------------------------------------------------------------


async def serve(home: Path, args: argparse.Namespace) -> None:
    from sidedesk.domain import PositionEvent, PositionSide, QuoteEvent
    from sidedesk.main import compose
    from sidedesk.native.transport import Counters
    from sidedesk.runtime import Host
    from sidedesk.store.config import HostConfig
    from sidedesk.store.paths import Paths

    class Transport:
        def __init__(self) -> None:
            self.counters = Counters()

        def write_body(self, body: bytes) -> None:
            self.counters.frames_out += 1

        def start_reader(self, loop: Any, deliver: Any) -> None:
            return None

    async def call(type_: str, payload: dict[str, Any] | None = None) -> Any:
        reply = await host.dispatch({"v": 1, "id": 1, "type": type_, "payload": payload or {}})
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["ok"]

    config = HostConfig.model_validate(
        {
            "vault_kdf": {"memory_kib": 1024, "iterations": 1, "lanes": 1},
            "localstream": {
                "port": 0,
                "batch_ms": args.batch_ms,
                "max_connections_per_token": args.connections,
            },
        }
    )
    host = Host(Transport(), Paths(home / "c", home / "d", home / "l"), config, compose=compose)
    await host.services.vault.create(PASSWORD)
    accounts = []
    for name in ("alpha", "beta"):
        entry = {"broker": "binance", "name": name, "environment": "simulator", "auth": "hmac",
                 "api_key": name * 5, "secret": name[::-1] * 5}  # fmt: skip
        accounts.append((await host.services.vault.put(entry)).id)
    info = await call("localstream.set", {"enabled": True})
    secrets = []
    for name, scope in (("all-1", None), ("all-2", None), ("alpha", [accounts[0]]), ("beta", [accounts[1]])):
        payload: dict[str, Any] = {"name": name} if scope is None else {"name": name, "accounts": scope}
        secrets.append((await call("localstream.create_token", payload))["secret"])
    print(json.dumps({"url": info["url"], "secrets": secrets, "pid": os.getpid()}), flush=True)

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.readline()  # "go": every client is connected and subscribed

    for i, symbol in enumerate(SYMBOLS):
        for j, account in enumerate(accounts):
            qty = Decimal(1 + i % 5) * (1 if j == 0 else -1)
            host.services.books.on_event(
                account, PositionEvent(account, symbol, PositionSide.BOTH, qty, Decimal(1000))
            )

    tick_s = 0.01
    per_tick = max(1, round(args.rate * tick_s))
    sent = 0
    t0 = time.perf_counter()
    end = t0 + args.seconds
    while time.perf_counter() < end:
        now_ms = int(time.time() * 1000)
        for _ in range(per_tick):
            symbol = SYMBOLS[sent % len(SYMBOLS)]
            host.services.books.on_event(
                accounts[0], QuoteEvent(symbol, mark=encode_time(now_ms), ts_ms=now_ms)
            )
            sent += 1
        next_tick = t0 + (sent / per_tick) * tick_s
        await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(args.batch_ms / 1000 + 0.5)  # the last window goes out
    stats = await call("localstream.stats")
    print(
        json.dumps({"updates": sent, "rate": round(sent / elapsed, 1), "stats": stats["localstream"]}),
        flush=True,
    )
    await host.shutdown()


# -- the clients (this process) -------------------------------------------------------------------------


async def client(
    url: str, secret: str, out: dict[str, list[float]], ready: asyncio.Event, stop: asyncio.Event
) -> int:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    received = 0
    async with connect(url, additional_headers={"Authorization": f"Bearer {secret}"}, max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "subscribe", "topics": TOPICS}))
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] == "subscribed":
                break
        ready.set()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            except ConnectionClosed:  # the host shut down after its last report
                break
            now_ms = time.time() * 1000
            head = HEAD.match(raw if isinstance(raw, str) else raw.decode())
            if head is None or head["type"] != "event":
                continue
            received += 1
            out["delivery"].append(now_ms - int(head["ts"]))
            if head["topic"] == "positions":  # only these are parsed in full (client CPU is shared)
                rows = json.loads(raw)["payload"]["positions"]
                ages = [decode_age(r["mark"], now_ms) for r in rows if r["mark"]]
                if ages:
                    out["update"].append(min(ages))
    return received


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sidedesk-lsbench-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "host")}
        child = [sys.executable, "-m", "bench.localstream_load", "--serve", tmp, "--rate", str(args.rate),
                 "--seconds", str(args.seconds), "--batch-ms", str(args.batch_ms),
                 "--connections", str(args.connections)]  # fmt: skip
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before the measured part
            child, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=env, text=True
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            hello = json.loads(proc.stdout.readline())
            pid = hello["pid"]
            out: dict[str, list[float]] = {"delivery": [], "update": []}
            stop = asyncio.Event()
            readies = [asyncio.Event() for _ in range(args.connections)]
            tasks = [
                asyncio.create_task(client(hello["url"], hello["secrets"][i % 4], out, readies[i], stop))
                for i in range(args.connections)
            ]
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
            rss: list[tuple[float, float]] = [(0.0, rss_mib(pid))]
            proc.stdin.write("go\n")
            proc.stdin.flush()
            t0 = time.perf_counter()
            done = asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline)
            while not done.done():
                await asyncio.sleep(0.5)
                if not done.done():
                    rss.append((round(time.perf_counter() - t0, 1), rss_mib(pid)))
            final = json.loads(await done)
            stop.set()
            received = await asyncio.gather(*tasks)
        finally:
            proc.wait(30)
    during = [m for t, m in rss if 0 < t <= args.seconds]
    half = len(during) // 2
    first, second = during[:half] or [float("nan")], during[half:] or [float("nan")]
    return {
        "connections": args.connections,
        "target_rate": args.rate,
        "achieved_rate": final["rate"],
        "seconds": args.seconds,
        "batch_ms": args.batch_ms,
        "events_received": sum(received),
        "delivery_latency": summary(out["delivery"]),
        "update_to_client_latency": summary(out["update"]),
        "rss_mib": {
            "before": round(rss[0][1], 1),
            "max": round(max(during or [rss[0][1]]), 1),
            "first_half_mean": round(sum(first) / len(first), 1),
            "second_half_mean": round(sum(second) / len(second), 1),
        },
        "server_stats": final["stats"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rate", type=int, default=1000, help="position updates per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch-ms", type=int, default=1000)
    parser.add_argument("--serve", metavar="HOME", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(Path(args.serve), args))
        return 0
    print(json.dumps(asyncio.run(drive(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
