"""What may run while the vault is locked (core/lock.py): every action kind x vault state x switch."""

from __future__ import annotations

import itertools

import pytest

from sidedesk.core.lock import (
    LOCKED_TO_REDUCE,
    LOCKED_TO_TRADE,
    LOCKED_TO_UNPROTECT,
    ActionKind,
    VaultState,
    decide,
)

KINDS: tuple[ActionKind, ...] = ("open", "reduce", "protect", "unprotect")
STATES: tuple[VaultState, ...] = ("absent", "locked", "unlocked")

# (vault, kind, switch) -> the sentence it is refused with, or None when allowed
EXPECTED: dict[tuple[VaultState, ActionKind, bool], str | None] = {
    ("locked", "open", False): LOCKED_TO_TRADE,
    ("locked", "open", True): LOCKED_TO_TRADE,
    ("locked", "reduce", False): None,
    ("locked", "reduce", True): LOCKED_TO_REDUCE,
    ("locked", "protect", False): None,
    ("locked", "protect", True): None,
    ("locked", "unprotect", False): LOCKED_TO_UNPROTECT,
    ("locked", "unprotect", True): LOCKED_TO_UNPROTECT,
}


@pytest.mark.parametrize(("vault", "kind", "switch"), list(itertools.product(STATES, KINDS, (False, True))))
def test_every_kind_in_every_state(vault: VaultState, kind: ActionKind, switch: bool) -> None:
    d = decide(vault, kind, require_unlock_to_reduce=switch)
    refused = EXPECTED.get((vault, kind, switch))  # unlocked and absent guard nothing
    assert d.allowed is (refused is None)
    assert d.reason == (refused or "")


def test_the_sentences_a_trader_reads() -> None:
    assert LOCKED_TO_TRADE == "Locked — unlock to trade"
    assert "Require unlock to close, flatten and cancel" in LOCKED_TO_REDUCE
