"""Draw the extension's toolbar icons (16/48/128 px PNG) with the standard library only.

A dark rounded tile with three candles (green, red, green), rendered at 4x and box-filtered
down so edges are anti-aliased. Run from the repository root:

    python build/make_icons.py            # writes extension/icons/{16,48,128}.png
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

RGBA = tuple[int, int, int, int]
BG: RGBA = (22, 27, 34, 255)
UP: RGBA = (38, 162, 105, 255)
DOWN: RGBA = (229, 83, 75, 255)
WICK: RGBA = (139, 149, 165, 255)
CLEAR: RGBA = (0, 0, 0, 0)
SS = 4  # supersampling factor

# Candles in a 0..1 unit square: (centre x, body top, body bottom, wick top, wick bottom, colour)
CANDLES = [
    (0.27, 0.42, 0.70, 0.30, 0.80, UP),
    (0.50, 0.30, 0.55, 0.20, 0.66, DOWN),
    (0.73, 0.22, 0.52, 0.12, 0.62, UP),
]


def inside_rounded(x: float, y: float, r: float) -> bool:
    """Point (unit coordinates) inside the unit square with corner radius r."""
    cx = min(max(x, r), 1 - r)
    cy = min(max(y, r), 1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def sample(x: float, y: float, size: int) -> RGBA:
    if not inside_rounded(x, y, 0.2):
        return CLEAR
    body_half = 0.075
    wick_half = max(0.02, 0.6 / size)  # at least ~1 px wide at 16 px
    for cx, top, bottom, wtop, wbottom, colour in CANDLES:
        if abs(x - cx) <= body_half and top <= y <= bottom:
            return colour
        if abs(x - cx) <= wick_half and wtop <= y <= wbottom:
            return WICK
    return BG


def render(size: int) -> list[list[RGBA]]:
    n = size * SS
    rows = []
    for py in range(size):
        row = []
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(SS):
                for sx in range(SS):
                    c = sample((px * SS + sx + 0.5) / n, (py * SS + sy + 0.5) / n, size)
                    # premultiplied accumulation so transparent samples do not darken edges
                    acc[0] += c[0] * c[3]
                    acc[1] += c[1] * c[3]
                    acc[2] += c[2] * c[3]
                    acc[3] += c[3]
            a = acc[3]
            if a == 0:
                row.append(CLEAR)
            else:
                row.append((acc[0] // a, acc[1] // a, acc[2] // a, a // (SS * SS)))
        rows.append(row)
    return rows


def png(rows: list[list[RGBA]]) -> bytes:
    height, width = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    idat = zlib.compress(raw, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def main(out_dir: Path) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    for size in (16, 48, 128):
        (out_dir / f"{size}.png").write_bytes(png(render(size)))
        print(f"wrote {out_dir / f'{size}.png'}")
    return 0


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else root / "extension" / "icons"))
