"""The pure parts of Test connection (issue #21): verdicts, the clock sentence, the Date-header
offset, Binance's apiRestrictions and refused-key sentences."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from sidedesk.brokers.binance.checks import judge_restrictions, key_refused
from sidedesk.brokers.binance.protocol.fields import MalformedMessage
from sidedesk.brokers.probe import date_offset_ms
from sidedesk.domain import BrokerError
from sidedesk.domain.checks import ORDER, Check, clock_check, in_order, worst


def test_the_verdict_is_the_worst_check_that_ran() -> None:
    assert worst([Check("key", "ok", "."), Check("clock", "warn", ".")]) == "warn"
    assert worst([Check("key", "fail", "."), Check("clock", "warn", ".")]) == "fail"
    assert worst([Check("key", "skip", "."), Check("clock", "ok", ".")]) == "ok"
    assert worst([]) == "skip"


def test_checks_come_in_the_fixed_order_and_a_missing_one_says_not_checked() -> None:
    out = in_order([Check("clock", "ok", "fine"), Check("reachability", "fail", "down")])
    assert [c.name for c in out] == list(ORDER)
    assert out[1] == Check("key", "skip", "not checked")
    assert out[0].label == "Reachable"


@pytest.mark.parametrize(
    ("offset_ms", "status", "words"),
    [
        (40.0, "ok", "within 0.1 s of Binance's"),
        (-600.0, "ok", "0.6 s ahead of Binance's"),
        (3500.0, "warn", "3.5 s behind Binance's: Sidedesk signs with Binance's time"),
        (-90_000.0, "warn", "90.0 s ahead of Binance's"),
    ],
)
def test_the_clock_sentence(offset_ms: float, status: str, words: str) -> None:
    c = clock_check(offset_ms, "Binance", tolerance_ms=1000, corrected=True)
    assert c.status == status
    assert words in c.detail
    if status == "warn":
        assert "timedatectl set-ntp true" in c.detail


def test_a_date_header_gives_the_offset_to_a_second() -> None:
    local = 1_800_000_000_000.0
    header = formatdate((local + 5_000) / 1000, usegmt=True)  # the server is 5 s ahead
    off = date_offset_ms(header, local - 10, local + 10)
    assert off is not None and 4_000 <= off <= 6_000
    assert date_offset_ms(None, 0, 1) is None
    assert date_offset_ms("not a date", 0, 1) is None


def test_api_restrictions_judged() -> None:
    good = {"enableFutures": True, "enableWithdrawals": False, "ipRestrict": True, "enableReading": True}
    perm, ip = judge_restrictions(good)
    assert (perm.status, ip.status) == ("ok", "ok")
    perm, ip = judge_restrictions({**good, "enableWithdrawals": True, "ipRestrict": False})
    assert (perm.status, ip.status) == ("warn", "warn")
    assert "untick Enable Withdrawals" in perm.detail
    perm, _ = judge_restrictions({**good, "enableFutures": False, "enableWithdrawals": True})
    assert perm.status == "fail"
    assert "tick Enable Futures" in perm.detail and "Enable Withdrawals" in perm.detail
    perm, _ = judge_restrictions({"ipRestrict": True})  # a field missing is not a permission
    assert perm.status == "fail"
    with pytest.raises(MalformedMessage):
        judge_restrictions([])


def test_a_refused_key_says_which_key_to_use() -> None:
    revoked = BrokerError("auth", "refused", -2015)
    assert "Demo Trading key made on demo.binance.com" in key_refused(revoked, "testnet")
    assert "live key made on binance.com" in key_refused(revoked, "live")
    assert "does not belong to this API key" in key_refused(BrokerError("auth", "x", -1022), "live")
    assert key_refused(BrokerError("rejected", "something else", -1000), "live") == "something else"
