"""Benchmark 4: UI load. 10 000 mark-price ticks/s into the host; what comes out on its stdout.

The simulator process pushes markPrice frames for BTCUSDT at the asked rate on the host's real
market-stream connection (the k-th frame carries price base + k/100, and the simulator stamps when
it queued it). The host has one open BTCUSDT position with ASL on, and the panel's topics
subscribed. Measured: pushes per second per topic (budget: <= 10/s each at any tick rate), the
delay from a tick to the push that first shows it, and how many ticks behind the newest one a push
is when it leaves (does the host keep up?), and the host's CPU use while it lasts.
"""

from __future__ import annotations

import bisect
from decimal import Decimal, InvalidOperation
from typing import Any

from bench.common import HostPipe, SimProcess, cpu_seconds, rss_mib, summary

TOPICS = ["status", "account", "positions", "orders", "quotes", "asl", "log"]


def _marks(payload: Any, out: list[str]) -> None:
    if isinstance(payload, dict):
        for k, v in payload.items():
            if k == "mark" and isinstance(v, str):
                out.append(v)
            else:
                _marks(v, out)
    elif isinstance(payload, list):
        for v in payload:
            _marks(v, out)


def tick_index(payload: Any, base: Decimal, sent: int) -> int | None:
    """The newest pumped tick a push reflects (None: it shows no pumped price)."""
    found: list[str] = []
    _marks(payload, found)
    best = None
    for m in found:
        try:
            k = (Decimal(m) - base) * 100
        except InvalidOperation:
            continue
        if k == k.to_integral_value() and 0 <= k < sent:
            best = int(k) if best is None else max(best, int(k))
    return best


def unpack(arrivals: list[Any]) -> list[tuple[Any, dict[str, Any]]]:
    """Each push with its arrival: a `batch` frame carries several (they arrived together)."""
    out = []
    for a in arrivals:
        if a.frame.get("type") == "batch":
            out.extend((a, ev) for ev in a.frame.get("events", []))
        else:
            out.append((a, a.frame))
    return out


def most_in_a_second(t_ns: list[int]) -> int:
    """The largest number of pushes inside any half-open one-second window."""
    best, lo = 0, 0
    for hi, t in enumerate(t_ns):
        while t - t_ns[lo] >= 1_000_000_000:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def run(sim: SimProcess, host: HostPipe, *, rate: int, seconds: float) -> dict[str, Any]:
    host.request("order.place", {"ticket": {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.002"}})
    snaps = host.request("subscribe", {"topics": TOPICS})["snapshots"]
    mark = Decimal(snaps["quotes"]["payload"]["quotes"]["BTCUSDT"]["mark"])
    base = mark.quantize(Decimal(1)) + 1  # k/100 above: a pumped price never equals a real one
    host.drain(0.3)  # pushes caused by the order and the subscription are not part of the load
    cpu0 = cpu_seconds(host.pid)
    sim.send({"cmd": "pump", "symbol": "BTCUSDT", "rate": rate, "seconds": seconds, "base": str(base)})
    arrivals = host.drain(seconds + 0.5)
    pumped = sim.answer(timeout=seconds * 4 + 10)
    cpu1 = cpu_seconds(host.pid)
    sent, stamps = int(pumped["sent"]), [int(t) for t in pumped["t_ns"]]
    if not stamps:
        return {"error": "the simulator pushed nothing"}
    t_first, t_last = stamps[0], stamps[-1]
    window_s = max(1e-9, (t_last - t_first) / 1e9)
    push_window_s = window_s + 0.1  # pushes are counted until 100 ms after the last tick
    per_topic: dict[str, int] = {}
    times: dict[str, list[int]] = {}
    delays_ms: list[float] = []
    behind: list[int] = []
    seen = -1
    for a, frame in unpack(arrivals):
        if frame.get("type") != "event" or not t_first <= a.t_ns <= t_last + 100_000_000:
            continue
        topic = str(frame.get("topic"))
        per_topic[topic] = per_topic.get(topic, 0) + 1
        times.setdefault(topic, []).append(a.t_ns)
        k = tick_index(frame.get("payload"), base, sent)
        if k is None or k <= seen:
            continue
        seen = k
        delays_ms.append((a.t_ns - stamps[k]) / 1e6)
        behind.append(bisect.bisect_right(stamps, a.t_ns) - 1 - k)
    return {
        "rate_asked": rate,
        "ticks_sent": sent,
        "rate_achieved": sent / window_s,
        "pushes_per_s": {t: n / push_window_s for t, n in sorted(per_topic.items())},
        # the budget itself: the most pushes of one topic within any one-second window
        "max_pushes_per_s_any_topic": max((most_in_a_second(ts) for ts in times.values()), default=0),
        "mean_pushes_per_s_busiest_topic": max((n / push_window_s for n in per_topic.values()), default=0.0),
        "tick_to_push_ms": summary(delays_ms, "ms"),
        "ticks_behind_newest_at_push": summary([float(b) for b in behind], "ticks"),
        "last_tick_shown": seen,
        "host_cpu_pct": None if cpu0 is None or cpu1 is None else 100 * (cpu1 - cpu0) / window_s,
        "host_rss_mib_loaded": rss_mib(host.pid),
    }
