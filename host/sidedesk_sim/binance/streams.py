"""Stream routing and subscription state (binance.md §5.1, §4.2). Pure.

Since 2026-04-23 Binance serves `@markPrice`/`@aggTrade`/`@ticker`/`@miniTicker`/`@kline_<i>` only on
`/market`, `@bookTicker` (and the undocumented `@trade`) on `/public` and user data only on `/private`.
The unrouted legacy `/ws` and `/stream` behave as `/public`. A subscription to a stream of the wrong
route, of an unknown symbol or of a name Binance does not have (e.g. `btcusdt@kline_7m`) is
acknowledged and then silent, like on Binance (binance.md §5.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from sidedesk_sim.binance.marketdata import INTERVALS

Route = Literal["public", "market", "private", "legacy"]

PUBLIC_KINDS = frozenset({"bookTicker", "depth", "trade", "rpiDepth"})
MARKET_KINDS = frozenset(
    {
        "aggTrade",
        "markPrice",
        "kline",
        "continuousKline",
        "miniTicker",
        "ticker",
        "forceOrder",
        "compositeIndex",
    }
)
# Kinds the simulator produces (`produced` checks the rest of the name); others are acknowledged but
# never emit (see README limits).
PRODUCED = frozenset({"bookTicker", "aggTrade", "markPrice", "trade", "ticker", "miniTicker", "kline"})

_STREAM_RE = re.compile(
    r"^(?P<symbol>[a-z0-9]+)@(?P<kind>[A-Za-z]+)(?P<rest>(_[0-9a-zA-Z]+)?(@[0-9a-zA-Z]+)*)$"
)
_ALL_RE = re.compile(r"^!(?P<kind>[A-Za-z]+)(@arr)?(@1s)?$")
LISTEN_KEY_RE = re.compile(r"^[A-Za-z0-9]{60,64}$")


@dataclass(frozen=True)
class StreamName:
    name: str  # as the client wrote it (the `stream` field of combined payloads)
    kind: str  # bookTicker / aggTrade / markPrice / depth / ...
    symbol: str | None  # upper-case symbol, or None for `!…` all-market streams
    every_ms: int = 0  # markPrice cadence: 3000 or 1000
    rest: str = ""  # what follows the kind: "_1m" for a kline, "@1s", "@arr", ...

    @property
    def interval(self) -> str:
        """The kline interval (`btcusdt@kline_5m` -> "5m"), "" for other kinds."""
        return self.rest[1:] if self.kind == "kline" and self.rest.startswith("_") else ""

    @property
    def route(self) -> Route:
        return "public" if self.kind in PUBLIC_KINDS else "market"


def parse_stream(name: str) -> StreamName | None:
    """A market-stream name, or None if it is not one (e.g. a listenKey or garbage)."""
    m = _STREAM_RE.match(name)
    if m:
        kind = m.group("kind")
        rest = m.group("rest") or ""
        every = (1000 if rest == "@1s" else 3000) if kind == "markPrice" else 0
        return StreamName(name, kind, m.group("symbol").upper(), every, rest)
    m = _ALL_RE.match(name)
    if m:
        kind = m.group("kind")
        every = (1000 if name.endswith("@1s") else 3000) if kind == "markPrice" else 0
        return StreamName(name, kind, None, every, name[len(kind) + 1 :])
    return None


def produced(stream: StreamName) -> bool:
    """Does the simulator produce this stream (kind and the rest of its name)?"""
    kind, rest = stream.kind, stream.rest
    if kind not in PRODUCED:
        return False
    if kind == "trade":
        return stream.symbol is not None and rest == ""
    if kind in ("ticker", "miniTicker"):  # `<symbol>@ticker` or `!ticker@arr`
        return rest == "" if stream.symbol is not None else rest == "@arr"
    if kind == "kline":
        return stream.symbol is not None and stream.interval in INTERVALS
    return True


def delivers(route: Route, stream: StreamName) -> bool:
    """Would Binance deliver this market stream on a connection of this route?"""
    if route == "private":
        return False
    if route == "legacy":
        return stream.route == "public"
    return stream.route == route


@dataclass
class Subscriptions:
    """One stream connection's state: market streams, listenKeys (with event allow-lists), properties."""

    route: Route
    combined: bool
    streams: list[str] = field(default_factory=list)
    # symbols the exchange lists (None: do not check); a stream of another symbol stays silent
    known_symbols: frozenset[str] | None = None
    # listenKey -> allowed event types (None = every event, incl. listenKeyExpired)
    listen_keys: dict[str, frozenset[str] | None] = field(default_factory=dict)
    _live_cache: tuple[tuple[object, ...], tuple[StreamName, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def subscribe(self, names: list[str]) -> list[str]:
        """Add names; return those that would be silent on Binance (wrong route or unknown), for a warning."""
        silent: list[str] = []
        for n in names:
            parsed = parse_stream(n)
            if parsed is None and LISTEN_KEY_RE.match(n):
                if self.route == "private":
                    self.listen_keys.setdefault(n, None)
                else:
                    silent.append(n)
                if n not in self.streams:
                    self.streams.append(n)
                continue
            if n not in self.streams:
                self.streams.append(n)
            if parsed is None or not self._live(parsed):
                silent.append(n)
        return silent

    def _live(self, p: StreamName) -> bool:
        known = self.known_symbols is None or p.symbol is None or p.symbol in self.known_symbols
        return known and delivers(self.route, p) and produced(p)

    def unsubscribe(self, names: list[str]) -> None:
        for n in names:
            if n in self.streams:
                self.streams.remove(n)
            self.listen_keys.pop(n, None)

    def live_streams(self) -> tuple[StreamName, ...]:
        """Parsed once per change of the subscriptions: every market event and clock step asks."""
        key = (self.route, self.known_symbols, *self.streams)
        if self._live_cache is None or self._live_cache[0] != key:
            live = tuple(p for n in self.streams if (p := parse_stream(n)) is not None and self._live(p))
            self._live_cache = (key, live)
        return self._live_cache[1]

    def wants_user_event(self, listen_key: str, event_type: str) -> bool:
        if listen_key not in self.listen_keys:
            return False
        allowed = self.listen_keys[listen_key]
        return allowed is None or event_type in allowed


def parse_events(value: str | None) -> frozenset[str] | None:
    if value is None or value == "":
        return None
    return frozenset(e for e in value.split("/") if e)
