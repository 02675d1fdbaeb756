"""The wrong-password delay, as pure decisions: counter state and `now` in, verdict and next state out.

The state (consecutive wrong passwords, wall time of the last one) lives in `vault.sdv.throttle`;
`VaultStore.update_throttle` reads it, applies one of these functions and writes the result, all
under the vault's writer lock, at every attempt. So every host process and every restart sees
the same counter, and no interleaving of them can lower it.

An attempt is counted *before* the password is checked (`begin`): the key derivation only runs
once the attempt is on disk, so a second host asking at the same moment is refused, and a host
killed during the check has still spent its attempt. `failed` then starts the wait at the time
of the failure; `succeeded` resets the counter (the right password, after the wait).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Throttle:
    """Consecutive wrong passwords, persisted so neither a restart nor another host resets the delay."""

    failures: int = 0
    last_failure: float = 0.0  # wall clock: the delay must survive a restart

    MAX_DELAY_S: ClassVar[float] = 300.0

    def delay(self) -> float:
        """0 after the first miss, then 1, 2, 4, ... s, capped at 5 min."""
        if self.failures < 2:
            return 0.0
        # the exponent is bounded: the counter never goes down, and 2.0 ** 1024 overflows
        return min(2.0 ** min(self.failures - 2, 32), self.MAX_DELAY_S)

    def retry_after(self, now: float) -> float:
        elapsed = max(0.0, now - self.last_failure)  # a clock set back never shortens the wait
        return max(0.0, self.delay() - elapsed)


@dataclass(frozen=True)
class Decision:
    """The verdict on one password attempt."""

    wait_s: float  # > 0: refused; the password must not be looked at for this long
    state: Throttle  # what to store: the attempt counted if allowed, the state unchanged if refused

    @property
    def allowed(self) -> bool:
        return self.wait_s <= 0


def begin(state: Throttle, now: float) -> Decision:
    """May a password be tried at `now`? If so, the attempt is counted already (as a failure
    until `succeeded` says otherwise), so that nobody else gets to try during its wait."""
    wait = state.retry_after(now)
    if wait > 0:
        return Decision(wait, state)
    return Decision(0.0, Throttle(state.failures + 1, now))


def failed(state: Throttle, now: float) -> Throttle:
    """The attempt counted by `begin` had the wrong password: its wait starts now.

    `state` is the counter as stored now; it already includes this attempt, unless a right
    password elsewhere reset it in between, in which case the failure is counted again.
    """
    return Throttle(max(state.failures, 1), max(state.last_failure, now))


def succeeded() -> Throttle:
    """The right password: the counter starts again from zero (including attempts other hosts
    counted while this one was checked: whoever has the password needs no guesses)."""
    return Throttle()


def later(a: Throttle, b: Throttle) -> Throttle:
    """The stricter of two states (more failures; then the later failure)."""
    return max(a, b, key=lambda t: (t.failures, t.last_failure))
