"""The journal's records read back into the domain's events (core/last_known.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from sidedesk.core.last_known import (
    Cancelled,
    CancelledAll,
    Unreadable,
    cancels,
    event_of,
    outcome_of,
    snapshot_of,
)
from sidedesk.domain import (
    AccountSnapshot,
    BalanceEvent,
    NoticeEvent,
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    Side,
)
from sidedesk.store.journal import encode

STOP = OrderEvent(
    "a", "BTCUSDT", "9", "sda-BTCUSDT-L0-x", Side.SELL, OrderType.STOP_MARKET, OrderStatus.NEW,
    Decimal("0.010"), Decimal(0), stop_price=Decimal("58800.5"), reduce_only=True, is_conditional=True,
    update_time_ms=5,
)  # fmt: skip
SNAP = AccountSnapshot(
    "a",
    (BalanceEvent("a", "USDT", Decimal("100000.00"), available=Decimal("99000")),),
    (PositionEvent("a", "BTCUSDT", PositionSide.BOTH, Decimal("0.010"), Decimal("60000.1"), leverage=5),),
    (STOP,),
    ts_ms=7,
)


def journaled(data: object) -> dict[str, object]:
    out = json.loads(encode(data))
    assert isinstance(out, dict)
    return out


def test_a_snapshot_and_its_events_read_back_exactly() -> None:
    assert snapshot_of(journaled({"reason": "connected", "snapshot": SNAP})) == SNAP
    assert event_of(journaled({"kind": "OrderEvent", "event": STOP})) == STOP
    pos = PositionEvent("a", "ETHUSDT", PositionSide.SHORT, Decimal("-1.5"), Decimal("3000"))
    assert event_of(journaled({"kind": "PositionEvent", "event": pos})) == pos


def test_kinds_that_are_not_replayed_and_records_that_do_not_read() -> None:
    assert event_of(journaled({"kind": "NoticeEvent", "event": NoticeEvent("a", "hi")})) is None
    with pytest.raises(Unreadable):
        event_of({"kind": "OrderEvent", "event": {**journaled(STOP), "status": "NOT_A_STATUS"}})
    with pytest.raises(Unreadable):
        event_of({"kind": "PositionEvent", "event": {"account_id": "a"}})  # fields missing
    with pytest.raises(Unreadable):
        snapshot_of({"snapshot": "garbage"})


def test_cancels_answered_by_a_reply_are_replayed_too() -> None:
    from sidedesk.domain import OrderAck

    ack = OrderAck("9", "sda-BTCUSDT-L0-x", OrderStatus.CANCELED)
    one = outcome_of(journaled({"cancel": ack}))
    assert one == Cancelled("9", "sda-BTCUSDT-L0-x") and cancels(one, STOP)
    assert not cancels(Cancelled("8", "other"), STOP)
    assert outcome_of({"cancel_all": "*", "cancelled": 2}) == CancelledAll(None)
    assert cancels(CancelledAll(None), STOP) and cancels(CancelledAll("BTCUSDT"), STOP)
    assert not cancels(CancelledAll("ETHUSDT"), STOP)
    assert outcome_of({"status": "ACKNOWLEDGED"}) is None  # placed orders arrive as events


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", ["x"]),
        ("ts_ms", "x"),
        ("ts_ms", True),
        ("reduce_only", "yes"),
        ("quantity", "sNaN"),
        ("quantity", "Infinity"),
        ("quantity", ["1"]),
        ("client_id", {"a": 1}),
    ],
)
def test_a_field_of_the_wrong_type_is_unreadable_never_a_type_error(field: str, value: object) -> None:
    # regression: strings and ints were passed on unchecked, and the dataclass (or the books,
    # later) raised TypeError out of the service's start
    record = journaled({"kind": "OrderEvent", "event": STOP})
    event = record["event"]
    assert isinstance(event, dict)
    key = "update_time_ms" if field == "ts_ms" else field
    event[key] = value
    with pytest.raises(Unreadable):
        event_of(record)
    snap = journaled({"reason": "connected", "snapshot": SNAP})
    body = snap["snapshot"]
    assert isinstance(body, dict)
    if field in ("ts_ms", "account_id"):
        body[field] = value
        with pytest.raises(Unreadable):
            snapshot_of(snap)
