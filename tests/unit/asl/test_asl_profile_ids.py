"""Profile validation and client ids."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from sidedesk.core.asl import AslEngine, AslLevel, AslProfile, ProfileError, ids

from .helpers import caps


def test_default_profile_matches_the_design() -> None:
    p = AslProfile()
    assert p.hard_stop_pct == 2 and p.safety_stop_pct == 10
    got = [(lv.profit_pct, lv.callback_pct) for lv in p.levels]
    assert got == [(D(1), D(2)), (D(2), D("1.5")), (D(4), D(1))]
    p.check_broker(caps(True))


def test_thresholds_must_increase() -> None:
    with pytest.raises(ValidationError, match="level 2: profit_pct must be greater"):
        AslProfile(
            levels=(
                AslLevel(profit_pct=D(2), callback_pct=D(2)),
                AslLevel(profit_pct=D(2), callback_pct=D(1)),
            )
        )


def test_callbacks_never_loosen() -> None:
    with pytest.raises(ValidationError, match="level 2: callback_pct must not be looser"):
        AslProfile(
            levels=(
                AslLevel(profit_pct=D(1), callback_pct=D(1)),
                AslLevel(profit_pct=D(2), callback_pct=D(2)),
            )
        )


def test_safety_is_the_wider_stop() -> None:
    with pytest.raises(ValidationError, match="safety_stop_pct"):
        AslProfile(hard_stop_pct=D(5), safety_stop_pct=D(3))


@pytest.mark.parametrize("bad", [{"hard_stop_pct": "0"}, {"hard_stop_pct": "-1"}, {"safety_stop_pct": "100"}])
def test_out_of_range_percentages(bad: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        AslProfile.model_validate(bad)


def test_unknown_field_is_an_error() -> None:
    with pytest.raises(ValidationError):
        AslProfile.model_validate({"hard_stop": "2"})


def test_profile_from_json_strings() -> None:
    p = AslProfile.model_validate_json(
        '{"levels":[{"profit_pct":"0.5","callback_pct":"0.8"}],"profit_basis":"roe"}'
    )
    assert p.levels[0].callback_pct == D("0.8") and p.profit_basis == "roe"


def test_callbacks_within_broker_range() -> None:
    low = AslProfile(levels=(AslLevel(profit_pct=D(1), callback_pct=D("0.05")),))
    with pytest.raises(ProfileError, match=r"below the broker minimum 0\.1"):
        low.check_broker(caps(True))
    with pytest.raises(ProfileError):
        AslEngine(low, caps(True))
    high = AslProfile(levels=(AslLevel(profit_pct=D(1), callback_pct=D(12)),), safety_stop_pct=D(20))
    with pytest.raises(ProfileError, match="above the broker maximum 10"):
        high.check_broker(caps(True))
    high.check_broker(caps(False))  # software trailing: any callback


def test_backoff_doubles_and_caps() -> None:
    p = AslProfile(retry_base_ms=500, retry_max_ms=3000)
    assert [p.backoff_ms(i) for i in range(1, 6)] == [500, 1000, 2000, 3000, 3000]


def test_ids_round_trip_and_fit_binance() -> None:
    for sym in ("BTCUSDT", "1000SHIBUSDT", "BTCUSDT_250328", "BRK.B", "ES Z4", "VERYLONGSYMBOLNAMEUSDT"):
        for long in (True, False):
            for tag in ids.TAGS:
                for seq in (0, 1, 1_757_660_000_123, 36**12 - 1):
                    cid = ids.encode(sym, long, tag, seq)
                    assert len(cid) <= 36 and ids.ID_RE.match(cid), cid
                    p = ids.decode(cid, sym)
                    assert p == ids.ParsedId(ids.symbol_code(sym), long, tag, seq)


def test_decode_refuses_foreign_ids() -> None:
    assert ids.decode("FqEw6cn0vDhrkmfiwLYPeo") is None
    assert ids.decode("sda-BTCUSDT-L9") is None
    assert ids.decode("sda-BTCUSDT-Q1-1") is None
    assert ids.decode(ids.encode("BTCUSDT", True, "1", 5), "ETHUSDT") is None
    p = ids.decode("sda-BTCUSDT-S2-z")
    assert p is not None and p.level == 2 and not p.long and p.seq == 35
    assert ids.decode("sda-BTCUSDT-LS-1").level is None  # type: ignore[union-attr]
    assert ids.decode("sda-BTCUSDT-L0-1").level == 0  # type: ignore[union-attr]


def test_encode_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="tag"):
        ids.encode("BTCUSDT", True, "Z", 1)
    with pytest.raises(ValueError, match="sequence"):
        ids.encode("BTCUSDT", True, "1", -1)
    with pytest.raises(ValueError, match="sequence"):
        ids.encode("BTCUSDT", True, "1", 36**12)
