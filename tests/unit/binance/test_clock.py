"""Time sync: RTT midpoint, median, staleness."""

from __future__ import annotations

import itertools

from sidedesk.brokers.binance.clock import ClockSync, Sample, sync


def test_midpoint_and_median_reject_an_outlier() -> None:
    c = ClockSync()
    samples = [
        Sample(1000, 1510, 1020),
        Sample(2000, 2511, 2022),
        Sample(3000, 3700, 3400),
        Sample(4000, 4509, 4018),
    ]
    assert c.add_samples(samples, 5000)
    assert c.offset_ms == 500 and c.server_now_ms(10_000) == 10_500 and not c.stale


def test_median_of_offsets() -> None:
    c = ClockSync()
    c.add_samples([Sample(0, 100, 0), Sample(0, 110, 0), Sample(0, 5000, 0)], 0)
    assert c.offset_ms == 110


def test_unusable_samples_keep_state() -> None:
    c = ClockSync(max_rtt_ms=100)
    assert not c.add_samples([Sample(0, 1, 500), Sample(10, 1, 5)], 0)
    assert c.stale and c.synced_at_ms is None


def test_resync_triggers() -> None:
    c = ClockSync(resync_every_ms=1000)
    assert c.needs_resync(0)
    c.add_samples([Sample(0, 0, 0)], 0)
    assert not c.needs_resync(999) and c.needs_resync(1000)
    c.mark_stale()
    assert c.needs_resync(1)


async def test_sync_shell_takes_samples() -> None:
    ticks = itertools.count(0, 10)

    async def server() -> int:
        return 1_000_000

    c = ClockSync()
    assert await sync(c, server, samples=3, now=lambda: float(next(ticks)))
    assert c.last_rtt_ms == 10 and c.offset_ms == 1_000_000 - 25
