"""listenKey lifecycle (binance.md §4.1): one key per account, 60 min TTL, same key on repeated start."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from sidedesk_sim.binance.errors import BinanceError

TTL_MS = 60 * 60_000
_ALPHABET = string.ascii_letters + string.digits


@dataclass
class _Key:
    key: str
    account: str
    expires_at: int


class ListenKeys:
    def __init__(self, rng: random.Random, ttl_ms: int = TTL_MS) -> None:
        self._rng = rng
        self.ttl_ms = ttl_ms
        self._by_key: dict[str, _Key] = {}
        self._by_account: dict[str, _Key] = {}

    def start(self, account: str, now_ms: int) -> str:
        cur = self._by_account.get(account)
        if cur is not None and cur.expires_at > now_ms:
            cur.expires_at = now_ms + self.ttl_ms
            return cur.key
        if cur is not None:
            self._drop(cur)
        key = "".join(self._rng.choice(_ALPHABET) for _ in range(64))
        entry = _Key(key, account, now_ms + self.ttl_ms)
        self._by_key[key] = entry
        self._by_account[account] = entry
        return key

    def keepalive(self, account: str, now_ms: int, key: str | None = None) -> str:
        cur = self._by_account.get(account)
        if cur is None or cur.expires_at <= now_ms or (key is not None and key != cur.key):
            raise BinanceError(-1125)
        cur.expires_at = now_ms + self.ttl_ms
        return cur.key

    def close(self, account: str, key: str | None = None) -> str | None:
        cur = self._by_account.get(account)
        if cur is None or (key is not None and key != cur.key):
            return None
        self._drop(cur)
        return cur.key

    def account_of(self, key: str, now_ms: int) -> str | None:
        cur = self._by_key.get(key)
        return cur.account if cur is not None and cur.expires_at > now_ms else None

    def key_of(self, account: str, now_ms: int) -> str | None:
        cur = self._by_account.get(account)
        return cur.key if cur is not None and cur.expires_at > now_ms else None

    def expire(self, key: str) -> bool:
        """Force expiry (control plane); the clock task then pushes `listenKeyExpired`."""
        cur = self._by_key.get(key)
        if cur is None:
            return False
        cur.expires_at = -1
        return True

    def due(self, now_ms: int) -> list[tuple[str, str]]:
        """Keys that have expired since the last call, as (key, account); they are forgotten."""
        out = [(k.key, k.account) for k in self._by_key.values() if k.expires_at <= now_ms]
        for key, _ in out:
            self._drop(self._by_key[key])
        return out

    def _drop(self, entry: _Key) -> None:
        self._by_key.pop(entry.key, None)
        if self._by_account.get(entry.account) is entry:
            del self._by_account[entry.account]
