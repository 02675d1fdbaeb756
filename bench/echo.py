"""A websockets echo server in its own process (the round-trip floor). Prints its port, serves until
stdin closes. Run: `python bench/echo.py [--loop asyncio|uvloop]`. Binds 127.0.0.1 only."""

from __future__ import annotations

import argparse
import asyncio
import sys

from websockets.asyncio.server import ServerConnection, serve


async def _echo(conn: ServerConnection) -> None:
    async for message in conn:
        await conn.send(message)


async def main() -> None:
    loop = asyncio.get_running_loop()
    async with serve(_echo, "127.0.0.1", 0, compression=None) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = ap.parse_args()
    if args.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
    else:
        asyncio.run(main())
