"""Test connection: the checks every broker answers, as neutral values (issue #21).

Each broker module (`brokers/<name>/checks.py`) runs the same six checks and says, per check,
`ok`, `warn` or `fail` with one sentence a trader can act on, or `skip` when it was not run (the
venue does not report it, or an earlier check failed): a check never claims what was not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CheckName = Literal["reachability", "key", "permissions", "ip_restriction", "position_mode", "clock"]
CheckStatus = Literal["ok", "warn", "fail", "skip"]

ORDER: tuple[CheckName, ...] = (
    "reachability",
    "key",
    "permissions",
    "ip_restriction",
    "position_mode",
    "clock",
)
LABELS: dict[str, str] = {
    "reachability": "Reachable",
    "key": "Key accepted",
    "permissions": "Permissions",
    "ip_restriction": "IP restriction",
    "position_mode": "Position mode",
    "clock": "Clock",
}
RANK: dict[str, int] = {"skip": 0, "ok": 1, "warn": 2, "fail": 3}

# What to do about a clock that is off, per operating system (one sentence's tail).
TIME_SYNC_HINT = (
    "turn on automatic time (Windows: Settings > Time & language > Sync now; macOS: Date & Time > "
    "Set time automatically; Linux: timedatectl set-ntp true)"
)


@dataclass(frozen=True, slots=True)
class Check:
    name: CheckName
    status: CheckStatus
    detail: str  # one sentence; for warn and fail, what to do about it

    @property
    def label(self) -> str:
        return LABELS[self.name]


def worst(checks: list[Check] | tuple[Check, ...]) -> CheckStatus:
    """The overall verdict: the worst status among the checks that ran (`skip` if none ran)."""
    out: CheckStatus = "skip"
    for c in checks:
        if RANK[c.status] > RANK[out]:
            out = c.status
    return out


def skipped(names: tuple[CheckName, ...] | list[CheckName], why: str) -> list[Check]:
    return [Check(n, "skip", why) for n in names]


def in_order(checks: list[Check]) -> list[Check]:
    """One check per name, in the fixed order (a missing one is reported as not run)."""
    by_name = {c.name: c for c in checks}
    return [by_name.get(n) or Check(n, "skip", "not checked") for n in ORDER]


def clock_check(
    offset_ms: float,
    venue: str,
    *,
    tolerance_ms: float,
    resolution_ms: float = 100.0,
    corrected: bool = False,
) -> Check:
    """`offset_ms` = the venue's time minus this computer's, measured to `resolution_ms`. Within
    `tolerance_ms` it is ok; beyond it a warning (with `corrected`, Sidedesk already signs with the
    venue's time)."""
    seconds = abs(offset_ms) / 1000
    way = "behind" if offset_ms > 0 else "ahead of"
    if abs(offset_ms) <= tolerance_ms:
        near = (
            f"within {resolution_ms / 1000:g} s of"
            if abs(offset_ms) < resolution_ms
            else f"{seconds:.1f} s {way}"
        )
        return Check(
            "clock", "ok", f"this computer's clock is {near} {venue}'s (under {tolerance_ms / 1000:g} s)"
        )
    fix = f"Sidedesk signs with {venue}'s time, so trading works, but " if corrected else ""
    return Check(
        "clock",
        "warn",
        f"this computer's clock is {seconds:.1f} s {way} {venue}'s: {fix}{TIME_SYNC_HINT}",
    )
