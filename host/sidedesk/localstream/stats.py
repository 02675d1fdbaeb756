"""The local stream's figures for Setup's diagnostics and the `localstream.stats` reply. Pure.

Delivery latency is measured inside the host: from the moment an event's payload was built (a
flush, a snapshot) to the moment its frame was handed to the connection's socket, so it shows
fan-out and slow-client queueing; the deliberate batching window is not part of it. Rates are
fractions of all connections (disconnects) and of all handshakes and client messages (errors).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

# Clean ends of a connection: the client closed it, or the server stopped / was switched off.
CLEAN = frozenset({"client_closed", "server_stopped"})


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Stats:
    connections_total: int = 0
    active: int = 0
    messages_sent: int = 0
    messages_received: int = 0
    handshakes: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # handshake refusals by reason
    errors: Counter[str] = field(default_factory=Counter)  # bad messages, rate limits, send failures
    disconnects: Counter[str] = field(default_factory=Counter)  # by reason
    latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=4096))
    _latency_sum: float = 0.0
    _latency_n: int = 0

    def opened(self) -> None:
        self.connections_total += 1
        self.active += 1

    def closed(self, reason: str) -> None:
        self.active -= 1
        self.disconnects[reason] += 1

    def refuse(self, reason: str) -> None:
        self.handshakes += 1
        self.refused[reason] += 1

    def accepted(self) -> None:
        self.handshakes += 1

    def delivered(self, latency_s: float) -> None:
        ms = latency_s * 1000
        self.messages_sent += 1
        self.latency_ms.append(ms)
        self._latency_sum += ms
        self._latency_n += 1

    def report(self) -> dict[str, Any]:
        recent = list(self.latency_ms)
        unclean = sum(n for reason, n in self.disconnects.items() if reason not in CLEAN)
        error_count = sum(self.errors.values()) + sum(self.refused.values())
        attempts = self.handshakes + self.messages_received
        return {
            "active_connections": self.active,
            "connections_total": self.connections_total,
            "messages_sent": self.messages_sent,
            "messages_received": self.messages_received,
            "latency_avg_ms": round(self._latency_sum / self._latency_n, 3) if self._latency_n else None,
            "latency_p99_ms": None if not recent else round(percentile(recent, 0.99) or 0.0, 3),
            "disconnects": dict(self.disconnects),
            "disconnect_rate": round(unclean / self.connections_total, 4) if self.connections_total else None,
            "refused": dict(self.refused),
            "errors": dict(self.errors),
            "error_rate": round(error_count / attempts, 4) if attempts else None,
        }
