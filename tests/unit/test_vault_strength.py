from __future__ import annotations

import pytest

from sidedesk.vault.strength import problem


@pytest.mark.parametrize(
    "pw",
    [
        "",
        "short1!",
        "aaaaaaaaaaaaaa",
        "abababababab",
        "abcdefghijkl",
        "qwertyuiop12",
        "1234567890123",
        "0987654321",
        "Password123!",
        "P@ssw0rd2024!",
        "iloveyou2020",
        "passwordpassword",
        "sidedesk2025!",
        "onlylowercase",
    ],
)
def test_weakest_passwords_are_refused(pw: str) -> None:
    reason = problem(pw)
    assert reason is not None and pw not in reason if pw else reason is not None


@pytest.mark.parametrize(
    "pw",
    ["lemon-cactus-42", "zR7#pL2!vQ9x", "correct horse battery staple", "Tr0ub4dor&3x", "éléphant-rose-9"],
)
def test_reasonable_passwords_pass(pw: str) -> None:
    assert problem(pw) is None
