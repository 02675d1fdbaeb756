"""Which positions are unprotected right now, and the one action that fixes each: pure.

A position is protected when its account's link is up, ASL manages it (switched on, its engine
running) and a working exchange-side stop covers its quantity. Anything else is shown loudly
(the panel's red banner, the action bar, `sidedesk service status`, a desktop notification):

- `link_down`     the broker link is not live (stops on the exchange still stand, but nothing
                  watches or moves them): "reconnect the account";
- `locked`        the vault has not been unlocked since the host started, so no link or engine
                  runs (the position is the journal's last known one): "unlock to resume
                  protection";
- `asl_off`       ASL is off for it (in Setup, or for this position): "turn ASL on";
- `stop_missing`  no working stop covers the quantity (the watchdog is placing a safety stop):
                  "flatten, or wait for the safety stop".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sidedesk.domain import PositionSide

Reason = Literal["link_down", "locked", "asl_off", "stop_missing"]
FIX: dict[str, str] = {
    "link_down": "reconnect the account",
    "locked": "unlock to resume protection",
    "asl_off": "turn ASL on for it",
    "stop_missing": "flatten it, or wait for the safety stop",
}


@dataclass(frozen=True, slots=True)
class Held:
    """One open position as the books know it."""

    account_id: str
    symbol: str
    position_side: PositionSide
    quantity: Decimal  # signed


@dataclass(frozen=True, slots=True)
class Unprotected:
    account_id: str
    symbol: str
    position_side: PositionSide
    quantity: Decimal
    reason: Reason

    @property
    def fix(self) -> str:
        return FIX[self.reason]

    def to_payload(self) -> dict[str, str]:
        return {
            "account_id": self.account_id,
            "symbol": self.symbol,
            "position_side": self.position_side.value,
            "quantity": format(self.quantity, "f"),
            "reason": self.reason,
            "fix": self.fix,
        }


def unprotected(
    held: Iterable[Held],
    *,
    link_live: Callable[[str], bool],
    vault_ever_unlocked: bool,
    asl_on: Callable[[str, str, PositionSide], bool],
    engine_running: Callable[[str], bool],
    covered: Callable[[Held], bool],
) -> list[Unprotected]:
    """Every open position that is not protected, with the first reason that applies."""
    out: list[Unprotected] = []
    for h in held:
        if h.quantity == 0:
            continue
        reason: Reason | None
        if not link_live(h.account_id):
            # never unlocked since the host started: no link could be made, unlocking is the fix
            reason = "link_down" if vault_ever_unlocked else "locked"
        elif not asl_on(h.account_id, h.symbol, h.position_side):
            reason = "asl_off"
        elif not engine_running(h.account_id):
            reason = "locked" if not vault_ever_unlocked else "asl_off"
        elif not covered(h):
            reason = "stop_missing"
        else:
            reason = None
        if reason is not None:
            out.append(Unprotected(h.account_id, h.symbol, h.position_side, h.quantity, reason))
    return sorted(out, key=lambda u: (u.account_id, u.symbol, u.position_side.value))
