"""Per-token limits: a token bucket for client messages. Pure: every call takes `now`.

The bucket is shared by all connections of one token, so opening more connections buys no more
messages. Connection counts are kept by the server (it knows which are open).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: float  # bucket size
    level: float = -1.0  # -1: full on first use
    at: float = 0.0

    def take(self, now: float, cost: float = 1.0) -> bool:
        """Spend `cost` if the bucket holds it; False (nothing spent) if over the rate."""
        if self.level < 0:
            self.level, self.at = self.burst, now
        self.level = min(self.burst, self.level + max(0.0, now - self.at) * self.rate)
        self.at = now
        if self.level >= cost:
            self.level -= cost
            return True
        return False


def burst_for(rate: float) -> float:
    """Twice the per-second rate, at least 10: a client may send its subscriptions at once."""
    return max(10.0, 2 * rate)


# A connection that goes on sending after being told it is over the limit is closed.
MAX_STRIKES = 50
