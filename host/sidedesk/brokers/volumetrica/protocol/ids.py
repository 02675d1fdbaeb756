"""Our string client ids <-> Volumetrica's integer `SeqClientId` (pure).

Volumetrica echoes a 64-bit integer, not a string, and the server forgets nothing but that
integer. Two kinds of numbers are handed out:

- ASL stop ids (``sda-<SYMBOL>-<D><T>-<seq>``, core/asl/ids.py) are encoded *reversibly* into
  the number (bit 62 set, then direction, tag index and sequence), so after a host restart the
  ASL engine still recognises its stops among the exchange's open orders;
- every other id gets the next number of a counter that starts at the current time in
  microseconds, so numbers stay unique across sessions and restarts; the mapping back to the
  string lives in memory (an order placed before a restart shows as ``vol-<number>``).

A server speaking protocol v5 keeps client ids in an int32 (dialect.py), so for it the numbers
are *narrow*: the ASL layout shrinks to bit 30 (flag), bit 29 (direction), bits 25-28 (tag) and a
25-bit sequence, and the counter starts at the current time in seconds modulo 2^28 (unique
within a session, as the vendor asks, and across restarts for about eight years). The two
layouts cannot be mistaken for each other: narrow numbers are below 2^31, wide ASL numbers have
bit 62 and wide counter numbers are far above 2^31, so a stop placed under either is recognised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sidedesk.core.asl import ids as asl_ids


@dataclass(frozen=True, slots=True)
class _Layout:
    flag: int  # set on every ASL number
    long_bit: int
    tag_shift: int  # 4 bits of tag index above the sequence

    @property
    def seq_mask(self) -> int:
        return (1 << self.tag_shift) - 1

    def encode(self, long: bool, tag_index: int, seq: int) -> int | None:
        if seq > self.seq_mask:
            return None
        return self.flag | (self.long_bit if long else 0) | (tag_index << self.tag_shift) | seq

    def owns(self, number: int) -> bool:
        return number > 0 and bool(number & self.flag) and number < self.flag << 1


WIDE = _Layout(1 << 62, 1 << 61, 56)  # sint64 (v5.1)
NARROW = _Layout(1 << 30, 1 << 29, 25)  # int32 (v5)
ASL_FLAG = WIDE.flag
INT32_MAX = 2**31 - 1
FOREIGN_PREFIX = "vol-"


def encode_asl(client_id: str, symbol: str, *, narrow: bool = False) -> int | None:
    parsed = asl_ids.decode(client_id, symbol)
    if parsed is None:
        return None
    return (NARROW if narrow else WIDE).encode(parsed.long, asl_ids.TAGS.index(parsed.tag), parsed.seq)


def decode_asl(number: int, symbol: str) -> str | None:
    """The ASL id a number of either layout stands for, or None."""
    layout = next((x for x in (NARROW, WIDE) if x.owns(number)), None)
    if layout is None:
        return None
    tag_index = (number >> layout.tag_shift) & 0xF
    if tag_index >= len(asl_ids.TAGS):
        return None
    return asl_ids.encode(
        symbol, bool(number & layout.long_bit), asl_ids.TAGS[tag_index], number & layout.seq_mask
    )


def _narrow_start() -> int:
    return int(time.time()) % (1 << 28) + 1


class ClientIds:
    def __init__(self, start: int | None = None, *, narrow: bool = False) -> None:
        self.narrow = narrow
        self._next = (_narrow_start() if narrow else int(time.time() * 1_000_000)) if start is None else start
        self._by_name: dict[str, int] = {}
        self._by_number: dict[int, str] = {}

    def set_narrow(self, narrow: bool) -> None:
        """Numbers from now on fit an int32 (a v5 server) or not; called at every login."""
        if narrow == self.narrow:
            return
        self.narrow = narrow
        self._next = _narrow_start() if narrow else max(self._next, int(time.time() * 1_000_000))

    def _count(self) -> int:
        n = self._next
        self._next += 1
        if self.narrow and self._next >= NARROW.flag:  # never into the ASL flag's half
            self._next = 1
        return n

    def number(self, client_id: str, symbol: str) -> int:
        """The number for `client_id` (the same one when asked again)."""
        known = self._by_name.get(client_id)
        if known is not None:
            return known
        n = encode_asl(client_id, symbol, narrow=self.narrow)
        if n is None or n in self._by_number:
            n = self._count()
        self._by_name[client_id] = n
        self._by_number[n] = client_id
        return n

    def fresh(self) -> int:
        """A number for a request that has no client id of ours (a modify's NewSeqClientId)."""
        return self._count()

    def name(self, number: int, symbol: str) -> str:
        known = self._by_number.get(number)
        if known is not None:
            return known
        return decode_asl(number, symbol) or f"{FOREIGN_PREFIX}{number}"

    def known(self, client_id: str) -> int | None:
        return self._by_name.get(client_id)
