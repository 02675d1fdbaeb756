"""The front month on pinned dates (#21): the nearest contract that has not expired, by
Tradovate's `contractMaturity.expirationDate` when known, else by the CME rule (09:30 New York on
the third Friday), rolled at expiry or `roll_days` before it; whatever order `contract/suggest`
lists them in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sidedesk.brokers.tradovate.protocol import contracts as ct


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


# contract/suggest answers: expired contracts first and in no particular order, as Tradovate may list
SUGGEST = [
    {"id": 10, "name": "MESU6", "contractMaturityId": 100},
    {"id": 11, "name": "MESZ6", "contractMaturityId": 101},
    {"id": 12, "name": "MESH7", "contractMaturityId": 102},
    {"id": 13, "name": "MESZ6-H7", "contractMaturityId": 103},  # a spread: not a contract month
    {"id": 14, "name": "MESMZ6", "contractMaturityId": 104},  # another product
    {"id": "x", "name": "MESM7"},  # malformed id
]


def test_third_friday_and_the_cme_expiry_instant() -> None:
    assert ct.third_friday(2026, 12).isoformat() == "2026-12-18"
    assert ct.third_friday(2027, 3).isoformat() == "2027-03-19"
    assert ct.third_friday(2027, 6).isoformat() == "2027-06-18"
    # 09:30 Eastern: EST in December (14:30 UTC), EDT in March after the clocks change (13:30 UTC)
    assert ct.cme_expiry_ms(2026, 12) == ms("2026-12-18T14:30:00")
    assert ct.cme_expiry_ms(2027, 3) == ms("2027-03-19T13:30:00")
    assert ct.expiry_date(ct.cme_expiry_ms(2026, 12)) == "2026-12-18"


def test_one_year_digit_is_read_near_now() -> None:
    now = ms("2026-12-07T12:00:00")
    assert ct.contract_month("MESZ6", "MES", now) == (2026, 12)
    assert ct.contract_month("MESH7", "MES", now) == (2027, 3)
    assert ct.contract_month("MESU5", "MES", now) == (2025, 9)
    assert ct.contract_month("ESZ6", "MES", now) is None


def test_candidates_keep_only_the_roots_contract_months() -> None:
    names = [c.name for c in ct.candidates("MES", SUGGEST)]
    assert names == ["MESU6", "MESZ6", "MESH7"]
    assert ct.candidates("MES", None) == [] and ct.candidates("MES", {"error": 1}) == []


@pytest.mark.parametrize(
    ("now", "roll_days", "front"),
    [
        ("2026-09-30T00:00:00", 0, "MESZ6"),  # MESU6 expired on 2026-09-18: not the first match
        ("2026-12-18T14:29:00", 0, "MESZ6"),  # a minute before the last trading moment
        ("2026-12-18T14:30:00", 0, "MESH7"),  # at it: the next quarter
        ("2026-12-09T12:00:00", 8, "MESZ6"),  # nine days before expiry, rolling 8 days before
        ("2026-12-10T15:00:00", 8, "MESH7"),  # inside the roll window: the next quarter already
        ("2027-03-18T12:00:00", 8, "MESH7"),  # every listed month in the window: the nearest live
        ("2027-03-19T14:00:00", 0, None),  # everything listed has expired
    ],
)
def test_choose_front_on_pinned_dates(now: str, roll_days: int, front: str | None) -> None:
    got = ct.choose_front("MES", ct.candidates("MES", SUGGEST), ms(now), roll_days)
    assert (got.name if got else None) == front
    if got is not None:
        assert got.source == "CME rule"


def test_contract_maturity_expiry_wins_over_the_rule() -> None:
    """Tradovate's expirationDate is authoritative (any product, any calendar)."""
    listed = [ct.with_maturity(c, None) for c in ct.candidates("MES", SUGGEST)]
    z6 = ct.with_maturity(
        listed[1], {"id": 101, "expirationDate": "2026-12-11T14:30:00.000Z", "isFront": True}
    )
    assert z6.expires_ms == ms("2026-12-11T14:30:00") and z6.is_front is True
    got = ct.choose_front("MES", [listed[0], z6, listed[2]], ms("2026-12-14T00:00:00"))
    assert got is not None and (got.name, got.source) == ("MESH7", "CME rule")
    got = ct.choose_front("MES", [listed[0], z6, listed[2]], ms("2026-12-10T00:00:00"))
    assert got is not None and (got.name, got.source, got.expires) == (
        "MESZ6",
        "contractMaturity",
        "2026-12-11",
    )


def test_an_unknown_product_needs_tradovates_expiry() -> None:
    cl = ct.candidates("CL", [{"id": 1, "name": "CLZ6", "contractMaturityId": 9}])
    assert ct.choose_front("CL", cl, ms("2026-11-01T00:00:00")) is None  # no rule for crude oil
    dated = [ct.with_maturity(cl[0], {"expirationDate": "2026-11-19T19:30:00.000Z"})]
    got = ct.choose_front("CL", dated, ms("2026-11-01T00:00:00"))
    assert got is not None and got.name == "CLZ6"
