"""Frames and messages of Tradovate's WebSocket protocol, with the dossier's sample shapes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk.brokers.tradovate.protocol import frames as p


def test_open_heartbeat_close() -> None:
    assert p.parse_frame("o") == p.Open()
    assert p.parse_frame("h") == p.Heartbeat()
    assert p.parse_frame('c[3000,"Go away!"]') == p.Close(3000, "Go away!")
    assert p.parse_frame(b"h") == p.Heartbeat()


def test_array_mixes_responses_and_events() -> None:
    frame = p.parse_frame(
        'a[{"s":200,"i":2,"d":{"orderId":210518}},{"e":"props","d":{"entityType":"order",'
        '"eventType":"Created","entity":{"id":210518,"accountId":700001,"ordStatus":"PendingNew"}}}]'
    )
    assert isinstance(frame, p.Messages)
    resp, event = frame.items
    assert resp == p.Response(200, 2, {"orderId": 210518})
    assert isinstance(event, p.Event) and event.name == "props"


def test_auth_ok_has_no_data_and_errors_are_quoted_text() -> None:
    frame = p.parse_frame('a[{"s":200,"i":0}]')
    assert isinstance(frame, p.Messages) and frame.items == (p.Response(200, 0, None),)
    frame = p.parse_frame('a[{"s":404,"i":1,"d":"\\"Not found: quote/subscribe\\""}]')
    assert isinstance(frame, p.Messages)
    item = frame.items[0]
    assert isinstance(item, p.Response) and not item.ok
    assert p.error_text(item.data) == "Not found: quote/subscribe"


def test_prices_stay_decimal() -> None:
    frame = p.parse_frame(
        'a[{"e":"md","d":{"quotes":[{"contractId":7,"entries":{"Bid":{"price":6500.25}}}]}}]'
    )
    assert isinstance(frame, p.Messages)
    event = frame.items[0]
    assert isinstance(event, p.Event)
    assert p.quotes_of(event.data) == [p.QuoteUpdate(7, Decimal("6500.25"), None, None, 0)]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty frame"),
        ("x", "unknown frame type"),
        ("a{", "not JSON"),
        ('a{"s":1}', "not a JSON array"),
        (b"\xff", "not UTF-8"),
    ],
)
def test_malformed_frames_are_values(raw: str | bytes, reason: str) -> None:
    out = p.parse_frame(raw)
    assert isinstance(out, p.ParseError) and reason in out.reason


def test_one_bad_message_does_not_lose_the_others() -> None:
    frame = p.parse_frame('a[{"s":"x","i":1},7,{"s":200,"i":3}]')
    assert isinstance(frame, p.Messages)
    assert frame.items == (p.Response(200, 3, None),) and len(frame.errors) == 2


def test_requests_keep_empty_lines_byte_for_byte() -> None:
    assert p.encode_request("executionReport/list", 4) == "executionReport/list\n4\n\n"
    assert (
        p.encode_request("tradingPermission/ldeps", 8, "masterids=1")
        == "tradingPermission/ldeps\n8\nmasterids=1\n"
    )
    assert (
        p.encode_request(
            "contract/rollcontract", 33, None, {"name": "YMZ6", "forward": True, "ifExpired": True}
        )
        == 'contract/rollcontract\n33\n\n{"name":"YMZ6","forward":true,"ifExpired":true}'
    )
    assert p.encode_request("contract/find", 5, {"name": "MESZ5"}) == "contract/find\n5\nname=MESZ5\n"
    assert p.encode_authorize(0, "eyJtoken") == "authorize\n0\n\neyJtoken"  # raw, not JSON-quoted
    with pytest.raises(ValueError):
        p.encode_authorize(0, "two\nlines")
    with pytest.raises(ValueError):
        p.encode_request("a\nb", 1)


def test_decimal_bodies_are_numbers() -> None:
    assert p.encode_request(
        "order/placeorder", 2, None, {"price": Decimal("6500.25"), "orderQty": Decimal(1)}
    ) == ('order/placeorder\n2\n\n{"price":6500.25,"orderQty":1}')


def test_penalty_and_failure() -> None:
    assert p.penalty_of({"p-ticket": "t1", "p-time": 5}) == p.Penalty("t1", 5.0, False)
    assert p.penalty_of({"p-ticket": "t1", "p-time": 5, "p-captcha": True}) == p.Penalty("t1", 5.0, True)
    assert p.penalty_of({"orderId": 1}) is None
    assert p.failure_of({"failureReason": "InvalidPrice", "failureText": "bad"}) == p.Failure(
        "InvalidPrice", "bad"
    )
    assert p.failure_of({"failureReason": "Success"}) is None
    assert p.failure_of({"orderId": 1}) is None


def test_props_accept_every_form() -> None:
    one = {"entityType": "order", "eventType": "Created", "entity": {"id": 1}}
    many = [one, {"entityType": "fill", "eventType": "Created", "entity": [{"id": 2}, {"id": 3}]}]
    assert [c.entity["id"] for c in p.props_changes(one)[0]] == [1]
    changes, errors = p.props_changes(
        [*many, {"entityType": 5}, {"entityType": "x", "eventType": "y", "entity": {}}]
    )
    assert [c.entity["id"] for c in changes] == [1, 2, 3]
    assert len(errors) == 2


def test_partial_quotes_and_timestamps() -> None:
    data = {
        "quotes": [
            {
                "timestamp": "2026-01-15T14:30:00.000Z",
                "contractId": 2106323,
                "entries": {"Offer": {"price": 6500.5, "size": 61}, "TotalTradeVolume": {"size": 1}},
            },
            {"contractId": "bad"},
            "junk",
        ]
    }
    (q,) = p.quotes_of(p.loads(p.dumps(data)))
    assert q.ask == Decimal("6500.5") and q.bid is None and q.last is None
    assert q.ts_ms == 1768487400000
    assert p.iso_ms("nonsense") == 0
