"""What the trader may do while the vault is locked: a pure decision.

Locking hides the keys from the trader's side, not from protection: the service keeps its broker
links and the ASL engine running (they hold what they need in memory), so a locked desk still
shows accounts, positions, orders, P&L and ASL. What locking guards is *new risk*:

- `open`    an order that can open or add to a position (BUY/SELL from the ticket or a hotkey, a
            limit order's change): refused while locked, "Locked — unlock to trade";
- `reduce`  what only takes risk off (close, flatten, cancel, cancel all): allowed while locked,
            unless the trader turned on "Require unlock to close, flatten and cancel";
- `protect` what protection itself does (ASL's stops, the watchdog's safety stop, stop to
            breakeven, ASL switched on): always allowed, locked or not;
- `unprotect` what weakens protection (ASL switched off, its profile changed): refused while
            locked, so whoever finds the desk locked cannot leave a position bare.

The vault's `absent` state (no vault yet) has no account to trade, so it guards nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ActionKind = Literal["open", "reduce", "protect", "unprotect"]
VaultState = Literal["absent", "locked", "unlocked"]

LOCKED_TO_TRADE = "Locked — unlock to trade"
LOCKED_TO_UNPROTECT = "Locked — unlock to turn ASL off or change its levels"
LOCKED_TO_REDUCE = (
    "Locked — unlock to close, flatten or cancel (Setup → Vault: "
    '"Require unlock to close, flatten and cancel" is on)'
)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""  # the trader-facing sentence when refused


ALLOW = Decision(True)


def decide(vault: VaultState, kind: ActionKind, *, require_unlock_to_reduce: bool) -> Decision:
    """May an action of `kind` run with the vault in this state?"""
    if vault != "locked" or kind == "protect":
        return ALLOW
    if kind == "open":
        return Decision(False, LOCKED_TO_TRADE)
    if kind == "unprotect":
        return Decision(False, LOCKED_TO_UNPROTECT)
    if require_unlock_to_reduce:
        return Decision(False, LOCKED_TO_REDUCE)
    return ALLOW
