"""Mark-price ticks per second through the position book (and through JSON parse + book).

Budget (DESIGN.md): >= 100 000 ticks/s on one core for parse -> P&L -> ASL. This measures the
first two stages; the ASL engine adds its own cost. Run: `.venv/bin/python bench/bench_positions.py`.
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal

from sidedesk.core.positions import PositionBook
from sidedesk.domain import FillEvent, PositionSide, Side


def build_book(symbols: int, accounts: int, hedge: bool) -> PositionBook:
    book = PositionBook()
    n = 0
    for a in range(accounts):
        for s in range(symbols):
            sides = [PositionSide.LONG, PositionSide.SHORT] if hedge else [PositionSide.BOTH]
            for ps in sides:
                n += 1
                side = Side.SELL if ps is PositionSide.SHORT else Side.BUY
                book.apply_fill(
                    FillEvent(
                        f"acc{a}", f"SYM{s}USDT", f"o{n}", f"c{n}", str(n), side,
                        Decimal("0.5"), Decimal("100.25"), Decimal("0.01"), "USDT", ps, ts_ms=n,
                    )
                )  # fmt: skip
    return book


def frames(symbols: int, count: int) -> list[bytes]:
    out = []
    for i in range(count):
        price = f"{100 + (i % 997) / 100:.2f}"
        msg = {"e": "markPriceUpdate", "E": 1_700_000_000_000 + i, "s": f"SYM{i % symbols}USDT", "p": price}
        out.append(json.dumps(msg).encode())
    return out


def bench_book(book: PositionBook, symbols: int, ticks: int) -> float:
    prices = [Decimal(100 + (i % 997) / 100) for i in range(997)]
    names = [f"SYM{i}USDT" for i in range(symbols)]
    on_mark = book.on_mark
    t0 = time.perf_counter()
    for i in range(ticks):
        on_mark(names[i % symbols], prices[i % 997], i)
    return ticks / (time.perf_counter() - t0)


def bench_parse_and_book(book: PositionBook, raw: list[bytes]) -> float:
    on_mark = book.on_mark
    loads = json.loads
    t0 = time.perf_counter()
    for frame in raw:
        msg = loads(frame)
        on_mark(msg["s"], Decimal(msg["p"]), msg["E"])
    return len(raw) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ticks", type=int, default=500_000)
    ap.add_argument("--symbols", type=int, default=10)
    ap.add_argument("--accounts", type=int, default=1)
    ap.add_argument("--hedge", action="store_true", help="two positions (LONG and SHORT) per symbol")
    args = ap.parse_args()
    book = build_book(args.symbols, args.accounts, args.hedge)
    per_symbol = args.accounts * (2 if args.hedge else 1)
    print(f"{args.symbols} symbols, {per_symbol} position(s) per symbol, {args.ticks} ticks")
    print(f"book.on_mark          : {bench_book(book, args.symbols, args.ticks):>12,.0f} ticks/s")
    raw = frames(args.symbols, args.ticks)
    print(f"json + Decimal + book : {bench_parse_and_book(book, raw):>12,.0f} ticks/s")


if __name__ == "__main__":
    main()
