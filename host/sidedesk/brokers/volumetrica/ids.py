"""Our string client ids <-> Volumetrica's integer `SeqClientId` (pure).

Volumetrica echoes a 64-bit integer, not a string, and the server forgets nothing but that
integer. Two kinds of numbers are handed out:

- ASL stop ids (``sda-<SYMBOL>-<D><T>-<seq>``, core/asl/ids.py) are encoded *reversibly* into
  the number (bit 62 set, then direction, tag index and sequence), so after a host restart the
  ASL engine still recognises its stops among the exchange's open orders;
- every other id gets the next number of a counter that starts at the current time in
  microseconds, so numbers stay unique across sessions and restarts; the mapping back to the
  string lives in memory (an order placed before a restart shows as ``vol-<number>``).
"""

from __future__ import annotations

import time

from sidedesk.core.asl import ids as asl_ids

ASL_FLAG = 1 << 62
_LONG_BIT = 1 << 61
_TAG_SHIFT = 56
_SEQ_MASK = (1 << _TAG_SHIFT) - 1
FOREIGN_PREFIX = "vol-"


def encode_asl(client_id: str, symbol: str) -> int | None:
    parsed = asl_ids.decode(client_id, symbol)
    if parsed is None or parsed.seq > _SEQ_MASK:
        return None
    return (
        ASL_FLAG
        | (_LONG_BIT if parsed.long else 0)
        | (asl_ids.TAGS.index(parsed.tag) << _TAG_SHIFT)
        | parsed.seq
    )


def decode_asl(number: int, symbol: str) -> str | None:
    if number <= 0 or not number & ASL_FLAG or number >> 63:
        return None
    tag_index = (number >> _TAG_SHIFT) & 0xF
    if tag_index >= len(asl_ids.TAGS):
        return None
    return asl_ids.encode(symbol, bool(number & _LONG_BIT), asl_ids.TAGS[tag_index], number & _SEQ_MASK)


class ClientIds:
    def __init__(self, start: int | None = None) -> None:
        self._next = int(time.time() * 1_000_000) if start is None else start
        self._by_name: dict[str, int] = {}
        self._by_number: dict[int, str] = {}

    def number(self, client_id: str, symbol: str) -> int:
        """The number for `client_id` (the same one when asked again)."""
        known = self._by_name.get(client_id)
        if known is not None:
            return known
        n = encode_asl(client_id, symbol)
        if n is None or n in self._by_number:
            n = self._next
            self._next += 1
        self._by_name[client_id] = n
        self._by_number[n] = client_id
        return n

    def fresh(self) -> int:
        """A number for a request that has no client id of ours (a modify's NewSeqClientId)."""
        n = self._next
        self._next += 1
        return n

    def name(self, number: int, symbol: str) -> str:
        known = self._by_number.get(number)
        if known is not None:
            return known
        return decode_asl(number, symbol) or f"{FOREIGN_PREFIX}{number}"

    def known(self, client_id: str) -> int | None:
        return self._by_name.get(client_id)
