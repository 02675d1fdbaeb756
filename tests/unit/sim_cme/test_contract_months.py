"""CME contract months on the simulators' clock (sim/cme.py): the front month rolls at the last
trading moment (09:30 New York time on the third Friday), the Tradovate and Volumetrica simulators
list the front month and the next quarter from the same helper, with their own symbol formats."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk_sim import cme
from sidedesk_sim.tradovate import TradovateSim
from sidedesk_sim.tradovate.instruments import contracts, front_name
from sidedesk_sim.volumetrica import VolumetricaSim
from sidedesk_sim.volumetrica.instruments import contracts as vol_contracts
from sidedesk_sim.volumetrica.instruments import front_symbol


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


def test_third_fridays() -> None:
    assert cme.third_friday(2026, 12) == date(2026, 12, 18)
    assert cme.third_friday(2027, 3) == date(2027, 3, 19)
    assert cme.third_friday(2026, 5) == date(2026, 5, 15)  # the 1st is a Friday
    assert cme.third_friday(2026, 3) == date(2026, 3, 20)


@pytest.mark.parametrize(
    ("now", "tradovate", "volumetrica"),
    [
        (ms(2026, 12, 7), "MESZ6", "MESZ26"),
        (ms(2026, 12, 18, 14, 29), "MESZ6", "MESZ26"),  # 09:29 EST on the last trading day
        (ms(2026, 12, 18, 14, 30), "MESH7", "MESH27"),  # 09:30 EST: Z6 has expired
        (ms(2026, 12, 19), "MESH7", "MESH27"),
        (ms(2027, 3, 19, 13, 29), "MESH7", "MESH27"),  # March expiry is in daylight time (EDT)
        (ms(2027, 3, 19, 13, 30), "MESM7", "MESM27"),
        (ms(2029, 12, 31, 23, 59), "MESH0", "MESH30"),
    ],
)
def test_front_month_rolls_at_the_last_trading_moment(now: int, tradovate: str, volumetrica: str) -> None:
    assert front_name("MES", now) == tradovate
    assert front_symbol("MES", now) == volumetrica


def test_expiry_instants_follow_new_york_time() -> None:
    assert cme.ContractMonth(2026, 12).expiry == datetime(2026, 12, 18, 14, 30, tzinfo=UTC)
    assert cme.ContractMonth(2027, 6).expiry == datetime(2027, 6, 18, 13, 30, tzinfo=UTC)
    assert cme.listed(ms(2026, 12, 7)) == (cme.ContractMonth(2026, 12), cme.ContractMonth(2027, 3))
    with pytest.raises(ValueError):
        cme.ContractMonth(2027, 1)  # not a quarterly month
    with pytest.raises(ValueError):
        cme.front(datetime(2026, 12, 7))  # naive datetimes are refused


def test_tradovate_lists_front_and_next_with_maturities() -> None:
    sim = TradovateSim(clock=lambda: ms(2026, 12, 7))
    names = [c.name for c in sim.contracts]
    assert names == ["ESZ6", "MESZ6", "NQZ6", "MNQZ6", "ESH7", "MESH7", "NQH7", "MNQH7"]
    mes = sim.book.contract("MESZ6")
    nxt = sim.book.contract("MESH7")
    assert mes is not None and nxt is not None and mes.id != nxt.id
    assert mes.maturity_json() == {
        "id": mes.maturity_id,
        "productId": 1002,
        "expirationMonth": 202612,
        "expirationDate": "2026-12-18T14:30:00.000Z",
        "isFront": True,
        "archived": False,
    }
    assert nxt.maturity_json()["expirationDate"] == "2027-03-19T13:30:00.000Z"
    assert nxt.maturity_json()["isFront"] is False
    # contract/suggest answers the front month first (the adapter takes the first match)
    status, hits = sim.exchange.contract_suggest(None, {"t": "MES"}, None)  # type: ignore[arg-type]
    assert status == 200 and [h["name"] for h in hits] == ["MESZ6", "MESH7"]
    # ids are per contract, not per position in the list: MESH7 keeps its id after the roll
    later = TradovateSim(clock=lambda: ms(2026, 12, 19))
    assert [c.name for c in later.contracts][:4] == ["ESH7", "MESH7", "NQH7", "MNQH7"]
    rolled = later.book.contract("MESH7")
    assert rolled is not None and rolled.id == nxt.id and rolled.maturity_json()["isFront"] is True


def test_volumetrica_lists_front_and_next_and_lookup_shows_next_near_expiry() -> None:
    sim = VolumetricaSim(clock=lambda: ms(2026, 12, 7))
    assert [c.symbol for c in sim.contracts][::4] == ["ESZ26", "ESH27"]
    assert "/ESH27:XCME" in sim.info()["contracts"]
    lookup = sim._lookup(pb.SymbolLookupReqMsg(request_id=1, filter="ES"))
    assert [s.symbol for s in lookup.symbols] == ["/ESZ26:XCME"]
    contract = sim._contract(pb.ContractReqMsg(feed_symbol="/ESH27:XCME", request_id=2))
    assert contract.contract_id > 0 and contract.contract_info.contract_name == "ESH27"
    # within eight days of the front month's expiry the lookup shows the next month too
    near = VolumetricaSim(clock=lambda: ms(2026, 12, 11))
    shown = near._lookup(pb.SymbolLookupReqMsg(request_id=1, filter="MES"))
    assert [s.symbol for s in shown.symbols] == ["/MESZ26:XCME", "/MESH27:XCME"]
    after = VolumetricaSim(clock=lambda: ms(2026, 12, 19))
    assert [c.symbol for c in after.contracts][::4] == ["ESH27", "ESM27"]
    assert after.exchange.by_symbol["ESH27"].contract_id == sim.exchange.by_symbol["ESH27"].contract_id


def test_pinned_months_and_bad_input() -> None:
    now = ms(2026, 12, 7)
    assert [c.name for c in contracts("H7", now)][::4] == ["ESH7", "ESM7"]
    assert [c.symbol for c in vol_contracts("M27", now)][::4] == ["ESM27", "ESU27"]
    assert cme.parse_month("H6", now) == cme.ContractMonth(2026, 3)  # one digit: last year .. +8
    assert cme.parse_month("H5", now) == cme.ContractMonth(2025, 3)
    assert cme.parse_month("H4", now) == cme.ContractMonth(2034, 3)
    for bad in ("F7", "Z", "Z26x", "z6"):
        with pytest.raises(ValueError):
            contracts(bad, now)
    with pytest.raises(ValueError):
        vol_contracts("Z6", now)  # Volumetrica takes two year digits
    with pytest.raises(ValueError):
        contracts("Z26", now)  # Tradovate takes one
