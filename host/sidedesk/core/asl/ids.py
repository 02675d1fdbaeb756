"""Client ids of ASL orders: they say which position and level an exchange order belongs to.

Format: ``sda-<SYMBOLCODE>-<D><T>-<seq>``, e.g. ``sda-BTCUSDT-L2-1f``.

- ``SYMBOLCODE``: the symbol upper-cased with everything but ``A-Z0-9`` dropped, at most 14
  characters (decoding compares it with the order's own symbol, so truncation is harmless);
- ``D``: the direction of the protected position, ``L`` (long) or ``S`` (short);
- ``T``: the tag, ``0`` hard stop, ``1``..``9`` level, ``S`` safety, ``E`` breakeven,
  ``X`` market close;
- ``seq``: a per-position counter in base 36, so ids are unique among open orders.

At most 36 characters, all within Binance's ``^[\\.A-Z\\:/a-z0-9_-]{1,36}$``, so the engine can
rebuild itself from the exchange's open orders after a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "sda-"
TAG_HARD = "0"
TAG_SAFETY = "S"
TAG_BREAKEVEN = "E"
TAG_CLOSE = "X"
LEVEL_TAGS = "123456789"
TAGS = TAG_HARD + LEVEL_TAGS + TAG_SAFETY + TAG_BREAKEVEN + TAG_CLOSE
MAX_LEN = 36
MAX_SYMBOL_CODE = 14
ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_SEQ_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_MAX_SEQ = 36**12 - 1  # keeps the longest id at 3+1+14+1+2+1+12 = 34 characters
_NON_CODE = re.compile(r"[^A-Z0-9]")
_DECODE = re.compile(r"^sda-([A-Z0-9]{1,14})-([LS])([0-9SEX])-([0-9a-z]{1,12})$")


@dataclass(frozen=True, slots=True)
class ParsedId:
    symbol_code: str
    long: bool
    tag: str
    seq: int

    @property
    def level(self) -> int | None:
        """The profit level (1..9) the tag names, 0 for the hard stop, None for other tags."""
        if self.tag == TAG_HARD:
            return 0
        if self.tag in LEVEL_TAGS:
            return int(self.tag)
        return None


def symbol_code(symbol: str) -> str:
    code = _NON_CODE.sub("", symbol.upper())[:MAX_SYMBOL_CODE]
    return code or "X"


def _base36(n: int) -> str:
    if n == 0:
        return "0"
    out: list[str] = []
    while n:
        n, r = divmod(n, 36)
        out.append(_SEQ_DIGITS[r])
    return "".join(reversed(out))


def encode(symbol: str, long: bool, tag: str, seq: int) -> str:
    if tag not in TAGS or len(tag) != 1:
        raise ValueError(f"unknown ASL tag {tag!r}")
    if not 0 <= seq <= _MAX_SEQ:
        raise ValueError("ASL sequence out of range")
    cid = f"{PREFIX}{symbol_code(symbol)}-{'L' if long else 'S'}{tag}-{_base36(seq)}"
    assert len(cid) <= MAX_LEN and ID_RE.match(cid), cid
    return cid


def decode(client_id: str, symbol: str | None = None) -> ParsedId | None:
    """Parse one of our ids; None if it is not ours (or not for `symbol`, when given)."""
    if not client_id.startswith(PREFIX):
        return None
    m = _DECODE.match(client_id)
    if m is None:
        return None
    code, d, tag, seq = m.groups()
    if symbol is not None and symbol_code(symbol) != code:
        return None
    return ParsedId(symbol_code=code, long=d == "L", tag=tag, seq=int(seq, 36))
