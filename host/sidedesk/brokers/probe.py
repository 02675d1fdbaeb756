"""Test connection helpers the brokers share: is a host answering, and how far off is our clock.

`http_probe` sends one plain GET: any HTTP answer means the host is reachable (a 404 included).
Its `Date` header (RFC 9110 §6.6.1, one-second resolution) gives the server's time for venues
without a time endpoint; `date_offset_ms` is the pure part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import aiohttp

from sidedesk.domain import BrokerError

# A Date header is truncated to the second: up to 1 s of the offset is that truncation.
DATE_RESOLUTION_MS = 1000.0


def local_ms() -> float:
    return time.time() * 1000


@dataclass(frozen=True, slots=True)
class Probe:
    url: str
    status: int
    rtt_ms: float
    offset_ms: float | None  # server time minus this computer's (None without a Date header)


def date_offset_ms(date_header: str | None, sent_ms: float, received_ms: float) -> float | None:
    """Server time (the header's second, taken at its middle) minus the local midpoint of the
    round trip; None when the header is missing or unreadable."""
    if not date_header:
        return None
    try:
        server = parsedate_to_datetime(date_header).timestamp() * 1000
    except (TypeError, ValueError, IndexError):
        return None
    return server + DATE_RESOLUTION_MS / 2 - (sent_ms + received_ms) / 2


async def http_probe(url: str, *, timeout_s: float = 10.0, now: Callable[[], float] = local_ms) -> Probe:
    """GET `url` once; BrokerError("not_connected") if nothing answers."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http:
            sent = now()
            async with http.get(url, allow_redirects=False) as resp:
                await resp.read()
                received = now()
                return Probe(
                    url,
                    resp.status,
                    received - sent,
                    date_offset_ms(resp.headers.get("Date"), sent, received),
                )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise BrokerError("not_connected", f"{url} did not answer ({type(exc).__name__}: {exc})") from exc
