"""Benchmark 3: mark-price ticks per second through parse -> position book (P&L) -> ASL, one core.

The pipeline is the host's own: `events.parse_stream_frame` on the combined-stream frame the host
receives, `Portfolio.apply(QuoteEvent)` (mark and unrealized P&L of every position on the symbol),
then `AslEngine.on_mark` for those positions. Measured with 1, 10 and 100 open positions in two
layouts: `spread` (one position per symbol, ticks cycle over the symbols: the usual case) and
`stacked` (all positions on one symbol, one per account: every tick touches all of them).

Parsers: the same pipeline with `json.loads` replaced by `orjson.loads` and `msgspec.json.decode`,
plus a typed msgspec Struct decoder feeding `Portfolio.on_mark` directly (what a dedicated fast
path would do). Event loops: the same pipeline fed over a real loopback websocket by a feeder
process, received with `websockets` on asyncio and on uvloop.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from bench.common import ROOT, median

ENTRY = Decimal(60000)


def _symbols(n: int) -> list[str]:
    return ["BTCUSDT"] if n == 1 else [f"S{i:03d}USDT" for i in range(n)]


def frames(symbols: list[str], count: int) -> list[bytes]:
    """Combined-stream markPrice frames, prices wandering within +-0.3 % of the entry."""
    out = []
    for i in range(count):
        s = symbols[i % len(symbols)]
        p = f"{60000 + ((i * 7919) % 360) - 180:.2f}"
        data = {"e": "markPriceUpdate", "E": 1_760_000_000_000 + i, "s": s, "p": p, "ap": p, "i": p, "P": p,
                "r": "0.00010000", "T": 1_760_003_600_000}  # fmt: skip
        out.append(json.dumps({"stream": f"{s.lower()}@markPrice@1s", "data": data}).encode())
    return out


class Pipeline:
    """The book and ASL engine with `positions` open, and the per-frame function under test."""

    def __init__(self, positions: int, layout: str) -> None:
        from sidedesk.brokers.binance.adapter import CAPABILITIES
        from sidedesk.core.account import Portfolio
        from sidedesk.core.asl import AslEngine, AslProfile
        from sidedesk.domain import PositionEvent, PositionSide

        self.portfolio = Portfolio()
        self.asl = AslEngine(AslProfile(), CAPABILITIES)
        if layout == "spread":
            self.symbols = _symbols(positions)
            keys = [("acc0", s) for s in self.symbols]
        else:
            self.symbols = ["BTCUSDT"]
            keys = [(f"acc{i}", "BTCUSDT") for i in range(positions)]
        for account, symbol in keys:
            self.asl.set_tick_size(symbol, Decimal("0.1"))
            ev = PositionEvent(
                account, symbol, PositionSide.BOTH, Decimal("0.5"), ENTRY, leverage=10, ts_ms=1
            )
            self.portfolio.apply(ev)
            self.asl.on_position(ev, 1)
        self.ticks = 0

    def production(self) -> Callable[[bytes], None]:
        from sidedesk.brokers.binance.protocol.events import parse_stream_frame
        from sidedesk.domain import QuoteEvent

        apply, on_mark = self.portfolio.apply, self.asl.on_mark

        def step(frame: bytes) -> None:
            out = parse_stream_frame(frame, "acc0")
            for ev in out:  # type: ignore[union-attr]
                if isinstance(ev, QuoteEvent) and ev.mark is not None:
                    apply(ev)
                    on_mark(ev.symbol, ev.mark, ev.ts_ms)
            self.ticks += 1

        return step

    def typed_msgspec(self) -> Callable[[bytes], None]:
        import msgspec

        mark = msgspec.defstruct("Mark", [("e", str), ("E", int), ("s", str), ("p", str)])
        combined = msgspec.defstruct("Combined", [("stream", str), ("data", mark)])
        decode: Callable[[bytes], Any] = msgspec.json.Decoder(combined).decode
        on_mark_book, on_mark_asl = self.portfolio.on_mark, self.asl.on_mark

        def step(frame: bytes) -> None:
            m = decode(frame).data
            price = Decimal(m.p)
            on_mark_book(m.s, price, m.E)
            on_mark_asl(m.s, price, m.E)
            self.ticks += 1

        return step


def _loads(parser: str) -> Callable[[Any], Any]:
    if parser == "orjson":
        import orjson

        return orjson.loads
    if parser == "msgspec":
        import msgspec

        return msgspec.json.decode
    return json.loads


def throughput(step: Callable[[bytes], None], data: list[bytes], repeats: int) -> float:
    """Median ticks per CPU-second of this thread over `repeats` passes over `data` (bounded).

    CPU time, not wall time: on a shared machine the wall clock also counts the time other
    processes held the core; "ticks/s on one core" is ticks per second of CPU we actually got.
    """
    rates = []
    for _ in range(repeats):
        t = time.thread_time_ns()
        for f in data:
            step(f)
        rates.append(len(data) * 1e9 / max(1, time.thread_time_ns() - t))
    return median(rates)


def pipeline_rates(ticks: int, repeats: int) -> dict[str, Any]:
    from sidedesk.brokers.binance.protocol import events

    table: dict[str, Any] = {}
    # the module's parser (jsonfast: orjson for market frames in production) is swapped below
    real_json = getattr(events, "jsonfast")  # noqa: B009
    try:
        for layout in ("spread", "stacked"):
            for positions in (1, 10, 100):
                pipe = Pipeline(positions, layout)
                data = frames(pipe.symbols, ticks)
                row = {}
                for parser in ("json", "orjson", "msgspec"):
                    loads = _loads(parser)
                    setattr(events, "jsonfast", SimpleNamespace(loads=loads, loads_market=loads))  # noqa: B010
                    row[parser] = throughput(pipe.production(), data, repeats)
                setattr(events, "jsonfast", real_json)  # noqa: B010
                row["production (orjson for market frames)"] = throughput(pipe.production(), data, repeats)
                row["msgspec typed -> on_mark"] = throughput(pipe.typed_msgspec(), data, repeats)
                table[f"{layout}/{positions}"] = row
    finally:
        setattr(events, "jsonfast", real_json)  # noqa: B010
    return table


def stage_costs(ticks: int) -> dict[str, float]:
    """CPU ns per tick of each stage alone (spread layout, 10 positions), to show what dominates."""
    from sidedesk.brokers.binance.protocol.events import parse_stream_frame

    pipe = Pipeline(10, "spread")
    data = frames(pipe.symbols, ticks)
    parsed: list[Any] = [parse_stream_frame(f)[0] for f in data]  # type: ignore[index]
    out = {}

    def timed(fn: Callable[[], object]) -> float:
        fn()  # warm: first pass pays for allocation and caches
        t = time.thread_time_ns()
        fn()
        return (time.thread_time_ns() - t) / len(data)

    out["json.loads"] = timed(lambda: [json.loads(f) for f in data] and None)
    out["parse_stream_frame (json + fields + Decimal + QuoteEvent)"] = timed(
        lambda: [parse_stream_frame(f) for f in data] and None
    )
    apply, on_mark = pipe.portfolio.apply, pipe.asl.on_mark
    out["Portfolio.apply(QuoteEvent)"] = timed(lambda: [apply(q) for q in parsed] and None)
    out["AslEngine.on_mark"] = timed(lambda: [on_mark(q.symbol, q.mark, 0) for q in parsed] and None)
    return out


# -- event loops: the same pipeline fed over a loopback websocket ----------------------------------------


async def _ingest(port: int, step: Callable[[bytes], None], count: int) -> float:
    """Ticks per CPU-second of the receiving thread (the loop's own cost included)."""
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}", compression=None, max_queue=None) as ws:
        first = await ws.recv(decode=False)
        step(first)
        t = time.thread_time_ns()
        for _ in range(count - 1):
            step(await ws.recv(decode=False))
        return (count - 1) * 1e9 / max(1, time.thread_time_ns() - t)


def loop_rates(count: int, repeats: int) -> dict[str, float]:
    """Ticks per CPU-second received and processed over a real websocket, per event loop (the
    feeder, another process on uvloop, sends as fast as it can)."""
    out: dict[str, float] = {}
    for loop in ("asyncio", "uvloop"):
        rates = []
        for _ in range(repeats):
            feeder = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "feeder.py"), str(count)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert feeder.stdout is not None
                port = int(feeder.stdout.readline())
                step = Pipeline(10, "spread").production()
                if loop == "uvloop":
                    import uvloop

                    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                        rates.append(runner.run(_ingest(port, step, count)))
                else:
                    rates.append(asyncio.run(_ingest(port, step, count)))
            finally:
                if feeder.stdin is not None:
                    feeder.stdin.close()
                try:
                    feeder.wait(5)
                except subprocess.TimeoutExpired:
                    feeder.kill()
                    feeder.wait(5)
                if feeder.stdout is not None:
                    feeder.stdout.close()
        out[loop] = median(rates)
    return out


def run(*, ticks: int, repeats: int, ws_ticks: int) -> dict[str, Any]:
    table = pipeline_rates(ticks, repeats)
    loops = loop_rates(ws_ticks, repeats)
    parsers = ("json", "orjson", "msgspec")
    wins = {
        p: median([row[p] / row["json"] for row in table.values()])
        for p in (*parsers, "msgspec typed -> on_mark")
    }
    return {
        "ticks_per_pass": ticks,
        "ticks_per_s": table,
        "stage_ns_per_tick": stage_costs(ticks),
        "speedup_vs_json_median": wins,
        "loopback_ws_ticks_per_s": loops,
        "uvloop_over_asyncio": loops["uvloop"] / loops["asyncio"],
    }
