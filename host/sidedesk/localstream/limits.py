"""The local stream's limits and close codes. Pure (the token bucket takes `now` on every call).

Per token: a token bucket for client messages, shared by all connections of one token, so opening
more connections buys no more messages (connection counts are kept by the server, which knows
which are open). Per connection: the send deadline and the outbound byte budget, after which a
client that does not keep up is closed. And the close codes the server uses, with their meaning
(published in `schema.json`).
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


# -- close codes ------------------------------------------------------------------------------------
# 4000-4999 are the application's own (RFC 6455 §7.4.2); 1001 and 1008 are the standard ones.
CLOSE_SERVER_STOPPED = 1001  # going away: the stream was switched off, moved or the host exits
CLOSE_POLICY = 1008  # too many connections for the token, or the message rate limit kept exceeded
CLOSE_IDLE = 4000  # nothing heard from the client (not even a pong) for `idle_timeout_s`
CLOSE_REVOKED = 4001  # the token was revoked or rotated
CLOSE_SLOW_CONSUMER = 4002  # the client fell behind: see `send_timeout_s` and `max_outbound_bytes`

CLOSE_CODES: dict[int, str] = {
    CLOSE_SERVER_STOPPED: "server_stopped: the stream was switched off or moved, or the host exits",
    CLOSE_POLICY: "policy: too many connections for this token, or the message rate limit kept exceeded",
    CLOSE_IDLE: "idle_timeout: nothing heard from the client (not even a pong) for idle_timeout_s",
    CLOSE_REVOKED: "token_revoked: the token was revoked or rotated",
    CLOSE_SLOW_CONSUMER: (
        "slow_consumer: the client stopped reading or fell behind; a frame was not taken within "
        "send_timeout_s, or more than max_outbound_bytes were waiting for it. Reconnect and resubscribe: "
        "the snapshots carry the full state"
    ),
}

# -- sending ----------------------------------------------------------------------------------------
# Every frame (events, control messages, heartbeat pings) must be taken by the client's socket within
# the send deadline: the writer hands a frame to the socket, then waits while more than
# WRITE_HIGH_WATER bytes are still waiting for the client.
DEFAULT_SEND_TIMEOUT_S = 5.0
# Bytes written to a connection that its client has not taken yet, besides the frame being written
# (so one large table can always go out). The writer stops at WRITE_HIGH_WATER, so a connection gets
# here only through writes the writer does not pace: the library's answers to a client's own pings,
# heartbeat pings, the close frame.
DEFAULT_MAX_OUTBOUND_BYTES = 2 * 1024 * 1024
WRITE_HIGH_WATER = 32 * 1024  # the transport's high-water mark (websockets' default, made explicit)
WATCH_INTERVAL_S = 0.25  # how often each connection's outbound bytes are checked


@dataclass(frozen=True)
class SendLimits:
    send_timeout_s: float = DEFAULT_SEND_TIMEOUT_S
    max_outbound_bytes: int = DEFAULT_MAX_OUTBOUND_BYTES

    @classmethod
    def of(cls, settings: object) -> SendLimits:
        """The limits in `settings` (LocalStreamSettings), or the defaults where it has none."""
        return cls(
            float(getattr(settings, "send_timeout_s", DEFAULT_SEND_TIMEOUT_S)),
            int(getattr(settings, "max_outbound_bytes", DEFAULT_MAX_OUTBOUND_BYTES)),
        )

    def behind(self, buffered: int, in_flight: int = 0) -> bool:
        """More than the budget waiting for the client, not counting the frame being written."""
        return buffered - in_flight > self.max_outbound_bytes
