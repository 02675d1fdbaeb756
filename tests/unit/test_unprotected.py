"""Which positions are unprotected, and why (core/unprotected.py)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sidedesk.core.unprotected import Held, unprotected
from sidedesk.domain import PositionSide

LONG = Held("a", "BTCUSDT", PositionSide.BOTH, Decimal("0.01"))


def judge(h: Held = LONG, *, live: bool = True, ever: bool = True, asl: bool = True, engine: bool = True,
          covered: bool = True) -> list[str]:  # fmt: skip
    return [
        u.reason
        for u in unprotected(
            [h],
            link_live=lambda _: live,
            vault_ever_unlocked=ever,
            asl_on=lambda *_: asl,
            engine_running=lambda _: engine,
            covered=lambda _: covered,
        )
    ]


def test_protected_when_everything_holds() -> None:
    assert judge() == []


def test_each_reason_and_its_order() -> None:
    assert judge(live=False, asl=False, covered=False) == ["link_down"]
    assert judge(asl=False, covered=False) == ["asl_off"]
    assert judge(engine=False, ever=False) == ["locked"]
    assert judge(covered=False) == ["stop_missing"]


def test_a_link_that_cannot_come_up_without_the_vault_names_the_unlock() -> None:
    # a service restarted with the vault locked: no keys, so no link; unlocking is what fixes it
    assert judge(live=False, ever=False, engine=False) == ["locked"]
    assert judge(live=False, ever=True) == ["link_down"]


def test_flat_positions_are_not_listed() -> None:
    assert judge(Held("a", "X", PositionSide.BOTH, Decimal(0)), live=False) == []


def test_payload_names_the_fix() -> None:
    (u,) = unprotected(
        [LONG],
        link_live=lambda _: True,
        vault_ever_unlocked=False,
        asl_on=lambda *_: True,
        engine_running=lambda _: False,
        covered=lambda _: False,
    )
    assert u.to_payload() == {
        "account_id": "a",
        "symbol": "BTCUSDT",
        "position_side": "BOTH",
        "quantity": "0.01",
        "reason": "locked",
        "fix": "unlock to resume protection",
    }


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_listed_exactly_when_something_is_missing(
    live: bool, ever: bool, asl: bool, engine: bool, covered: bool
) -> None:
    listed = judge(live=live, ever=ever, asl=asl, engine=engine, covered=covered)
    assert bool(listed) == (not (live and asl and engine and covered))


def test_a_link_never_made_because_the_vault_was_never_unlocked_needs_an_unlock() -> None:
    # the journal's last known position after a restart without the password
    assert judge(live=False, ever=False, engine=False) == ["locked"]
    assert judge(live=False, ever=True) == ["link_down"]
