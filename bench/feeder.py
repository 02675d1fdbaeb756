"""Sends N markPrice frames, as fast as it can, to the first websocket client (own process, uvloop).

Run: `python bench/feeder.py N`. Prints its port; serves until stdin closes. 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import sys

import uvloop
from websockets.asyncio.server import ServerConnection, serve


def _frames(n: int) -> list[str]:
    out = []
    for i in range(n):
        s = f"S{i % 10:03d}USDT"
        p = f"{60000 + ((i * 7919) % 360) - 180:.2f}"
        data = {"e": "markPriceUpdate", "E": 1_760_000_000_000 + i, "s": s, "p": p, "ap": p, "i": p, "P": p,
                "r": "0.00010000", "T": 1_760_003_600_000}  # fmt: skip
        out.append(json.dumps({"stream": f"{s.lower()}@markPrice@1s", "data": data}))
    return out


async def main(n: int) -> None:
    frames = _frames(n)

    async def feed(conn: ServerConnection) -> None:
        for f in frames:
            await conn.send(f)
        await conn.wait_closed()

    loop = asyncio.get_running_loop()
    async with serve(feed, "127.0.0.1", 0, compression=None) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(int(sys.argv[1])))
