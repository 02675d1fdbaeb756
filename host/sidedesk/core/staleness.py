"""How fresh each source's data is, and when a silent user stream earns a snapshot refresh.

Pure: every method takes `now` (monotonic seconds) from the caller, so tests drive time.

Thresholds (issue 6): a price is "live" within 5 s, fades after that and is "delayed" after
30 s; a section warns above 60 s without data and is "stale" (red, click to refresh) above
5 min. When the user stream has been silent for over 60 s while connected, the host asks for
one cheap snapshot refresh per silence, and never sooner after the previous refresh than the
rate-limit budget allows. A quiet account produces no user events at all, so refreshing on
every 60 s of silence would be polling; one refresh confirms nothing was missed, and the next
event (or reconnect) re-arms the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

PRICE_LIVE_S = 5.0
PRICE_DELAYED_S = 30.0
SECTION_WARN_S = 60.0
SECTION_STALE_S = 300.0
USER_SILENCE_S = 60.0


class PriceFreshness(StrEnum):
    LIVE = "live"  # updated within 5 s: the "Live" badge
    FADING = "fading"  # 5-30 s: the badge fades
    DELAYED = "delayed"  # over 30 s
    NONE = "none"  # no price yet


class SectionFreshness(StrEnum):
    OK = "ok"
    WARNING = "warning"  # over 60 s without data
    STALE = "stale"  # over 5 min: red "stale — refresh"
    NONE = "none"  # no data yet


def price_freshness(age_s: float | None) -> PriceFreshness:
    if age_s is None:
        return PriceFreshness.NONE
    if age_s <= PRICE_LIVE_S:
        return PriceFreshness.LIVE
    return PriceFreshness.FADING if age_s <= PRICE_DELAYED_S else PriceFreshness.DELAYED


def section_freshness(age_s: float | None) -> SectionFreshness:
    if age_s is None:
        return SectionFreshness.NONE
    if age_s > SECTION_STALE_S:
        return SectionFreshness.STALE
    return SectionFreshness.WARNING if age_s > SECTION_WARN_S else SectionFreshness.OK


def min_refresh_interval(snapshot_weight: int, weight_per_minute: int, share: float = 0.1) -> float:
    """Seconds between snapshots so they use at most `share` of a per-minute weight budget."""
    if snapshot_weight <= 0 or weight_per_minute <= 0 or not 0 < share <= 1:
        raise ValueError("snapshot weight and budget must be positive and share in (0, 1]")
    return 60.0 * snapshot_weight / (weight_per_minute * share)


@dataclass(slots=True)
class SourceState:
    last_event: float | None = None  # monotonic time of the last exchange event
    last_price: float | None = None  # monotonic time of the last price
    last_delay_ms: float | None = None  # wall clock at receipt minus the exchange's event time
    events: int = 0
    prices: int = 0


class Staleness:
    """Per source ("binance:acc1" user data, "binance:market", ...): time since data arrived."""

    def __init__(self) -> None:
        self.sources: dict[str, SourceState] = {}

    def _src(self, source: str) -> SourceState:
        st = self.sources.get(source)
        if st is None:
            st = self.sources[source] = SourceState()
        return st

    def on_event(self, source: str, now: float, *, event_ms: int = 0, wall_ms: float | None = None) -> None:
        st = self._src(source)
        st.last_event = now
        st.events += 1
        if event_ms > 0 and wall_ms is not None:
            st.last_delay_ms = wall_ms - event_ms

    def on_price(self, source: str, now: float) -> None:
        st = self._src(source)
        st.last_price = now
        st.prices += 1

    def ages(self, source: str, now: float) -> tuple[float | None, float | None]:
        st = self.sources.get(source)
        if st is None:
            return None, None
        event_age = None if st.last_event is None else max(0.0, now - st.last_event)
        price_age = None if st.last_price is None else max(0.0, now - st.last_price)
        return event_age, price_age

    def report(self, now: float) -> dict[str, dict[str, Any]]:
        """For the `status` topic: per source the ages (s, one decimal) and their classes."""
        out = {}
        for name in sorted(self.sources):
            st = self.sources[name]
            event_age, price_age = self.ages(name, now)
            out[name] = {
                "event_age_s": None if event_age is None else round(event_age, 1),
                "price_age_s": None if price_age is None else round(price_age, 1),
                "section": section_freshness(event_age).value,
                "price": price_freshness(price_age).value,
                "delay_ms": st.last_delay_ms,
                "events": st.events,
                "prices": st.prices,
            }
        return out


class RefreshPolicy:
    """Decides when a silent user stream earns one snapshot refresh (one per account)."""

    def __init__(self, min_interval_s: float, silence_s: float = USER_SILENCE_S) -> None:
        if min_interval_s < 0 or silence_s <= 0:
            raise ValueError("intervals must be positive")
        self.min_interval_s = min_interval_s
        self.silence_s = silence_s
        self.connected = False
        self.last_event = 0.0
        self.last_refresh: float | None = None
        self.armed = False  # True while a refresh may still be spent on the current silence
        self.refreshes = 0

    def on_connected(self, now: float) -> None:
        # a (re)connect reconciles with its own snapshot; the silence clock starts now
        self.connected = True
        self.last_event = now
        self.armed = True

    def on_disconnected(self) -> None:
        self.connected = False

    def on_user_event(self, now: float) -> None:
        self.last_event = now
        self.armed = True

    def next_check(self) -> float | None:
        """When `due` can next turn true (for one timer in the shell); None: not before an event."""
        if not (self.connected and self.armed):
            return None
        at = self.last_event + self.silence_s
        if self.last_refresh is not None:
            at = max(at, self.last_refresh + self.min_interval_s)
        return at

    def due(self, now: float) -> bool:
        at = self.next_check()
        return at is not None and now >= at

    def take(self, now: float) -> bool:
        """True (once per silence) when the shell should request a snapshot now."""
        if not self.due(now):
            return False
        self.armed = False
        self.last_refresh = now
        self.refreshes += 1
        return True
