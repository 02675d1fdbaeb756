"""When the service leaves by itself: a pure decision, `now` passed in.

It stays while a panel is attached, while a connected account holds a position or an open order
(when "keep protecting when the browser closes" is on, the default), or always if the user chose
so; otherwise it exits once it has been idle for `idle_exit_s`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    keep_protecting: bool = True
    always: bool = False
    idle_exit_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Idle:
    since: float | None = None  # when the service last became idle (no panel, nothing to protect)


def busy(policy: Policy, sessions: int, exposure: bool) -> bool:
    return policy.always or sessions > 0 or (policy.keep_protecting and exposure)


def step(policy: Policy, idle: Idle, *, sessions: int, exposure: bool, now: float) -> tuple[Idle, bool]:
    """The next idle state and whether to exit now."""
    if busy(policy, sessions, exposure):
        return Idle(None), False
    since = idle.since if idle.since is not None else now
    return Idle(since), now - since >= policy.idle_exit_s
