"""The dossier's hex vectors (brokers.md §2.3) encode and decode byte for byte with our own .proto."""

from __future__ import annotations

from decimal import Decimal as D

from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk.brokers.volumetrica.protocol import wire


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


LOGIN = h("0a 09 0a 05 54 4f 4b 45 4e 28 03")
PING = h("12 02 08 01")
INFO_PACKED = h("1a 07 10 02 2a 03 01 02 03")
INFO_UNPACKED = h("1a 08 10 02 28 01 28 02 28 03")
INSERT = h("32 1a 0a 18 08 a4 42 10 0e 18 03 21 00 00 00 00 40 88 b3 40 28 01 30 80 89 0f 50 02")
INSERT_BRACKET = h(
    "32 31 0a 2f 08 a4 42 10 0e 18 03 21 00 00 00 00 40 88 b3 40 28 01 30 80 89 0f 42 15 12 0d 08 04 10 01"
    " 21 00 00 00 00 00 92 b3 40 1a 04 08 04 18 14 50 02"
)
LOGIN_OK = h("0a 02 08 01")
ORDER_INFO = h(
    "3a 2a 08 a4 42 10 d2 8c 01 18 0e 20 a9 46 28 0e 31 00 00 00 00 40 88 b3 40 48 03 50 01 61 00 00 00 00"
    " 40 88 b3 40 68 02 70 80 89 0f"
)


def test_client_frames_encode_exactly() -> None:
    m = pb.ClientRequestMsg()
    m.login_req.token = "TOKEN"
    m.login_req.account_subscription_mode = pb.SUBSCRIPTION_EXISTING_AND_NEW
    assert m.SerializeToString() == LOGIN
    assert wire.login("TOKEN") == LOGIN  # keep_concurrent False is a zero: left out
    assert wire.ping() == PING
    assert wire.info_request(1) == INFO_PACKED
    assert (
        wire.insert(
            contract_id=4242,
            seq_client_id=7,
            quantity=-2,
            order_type=pb.ORDER_LIMIT,
            acc_number=123456,
            source=pb.SOURCE_AUTOMATIC,
            price=D("5000.25"),
        )
        == INSERT
    )
    framed = wire.insert(
        contract_id=4242,
        seq_client_id=7,
        quantity=-2,
        order_type=pb.ORDER_LIMIT,
        acc_number=123456,
        source=pb.SOURCE_AUTOMATIC,
        price=D("5000.25"),
        stops=[wire.Leg(2, price=D(5010))],
        targets=[wire.Leg(2, ticks=20)],
    )
    assert framed == INSERT_BRACKET


def test_client_frames_decode_exactly() -> None:
    for frame in (INFO_PACKED, INFO_UNPACKED):
        req = wire.parse_client(frame)
        assert isinstance(req, pb.ClientRequestMsg)
        assert req.info_req.request_id == 1 and list(req.info_req.modes) == [1, 2, 3]
    req = wire.parse_client(INSERT_BRACKET)
    assert isinstance(req, pb.ClientRequestMsg)
    o = req.order[0].order_insert
    assert (o.contract_id, o.seq_client_id, o.quantity, o.price, o.acc_number) == (
        4242,
        7,
        -2,
        5000.25,
        123456,
    )
    assert o.source == pb.SOURCE_AUTOMATIC and o.order_type == pb.ORDER_LIMIT
    bs = o.bracket_strategy
    assert bs.kind == pb.BracketStrategy.STOP_AND_TARGET
    assert (bs.stops[0].quantity, bs.stops[0].price_mode, bs.stops[0].price) == (
        2,
        pb.BracketLeg.BY_PRICE,
        5010,
    )
    assert (bs.targets[0].quantity, bs.targets[0].ticks_offset) == (2, 20)
    assert req.SerializeToString() == INSERT_BRACKET


def test_server_frames_decode_and_encode_exactly() -> None:
    ok = wire.parse_server(LOGIN_OK)
    assert isinstance(ok, pb.ServerResponseMsg) and ok.login_msg.success
    assert ok.SerializeToString() == LOGIN_OK
    msg = wire.parse_server(ORDER_INFO)
    assert isinstance(msg, pb.ServerResponseMsg)
    i = msg.order_info[0]
    assert (i.contract_id, i.org_server_id, i.org_client_id, i.seq_server_id, i.seq_client_id) == (
        4242,
        9001,
        7,
        9001,
        7,
    )
    assert (i.pending_qty, i.filled_qty, i.order_price, i.avg_price) == (0, -2, 5000.25, 5000.25)
    assert i.order_state == pb.OrderInfoMsg.SUBMITTED  # absent = 0
    assert i.snap_type == pb.OrderInfoMsg.REAL_TIME and i.acc_number == 123456
    built = pb.ServerResponseMsg()
    built.order_info.add(
        contract_id=4242,
        org_server_id=9001,
        org_client_id=7,
        seq_server_id=9001,
        seq_client_id=7,
        order_price=5000.25,
        pending_qty=0,
        filled_qty=-2,
        order_type=pb.ORDER_LIMIT,
        order_state=pb.OrderInfoMsg.SUBMITTED,
        avg_price=5000.25,
        snap_type=pb.OrderInfoMsg.REAL_TIME,
        acc_number=123456,
    )
    assert built.SerializeToString() == ORDER_INFO


def test_bad_frames_are_values_not_crashes() -> None:
    assert isinstance(wire.parse_server("text"), wire.ParseError)
    assert isinstance(wire.parse_server(b"\x0a\xff\xff"), wire.ParseError)
    assert isinstance(wire.parse_client(b"\x32\x05\x01"), wire.ParseError)
    # unknown fields are kept aside, not fatal
    msg = wire.parse_server(LOGIN_OK + bytes.fromhex("f8 07 01"))  # field 127 varint
    assert isinstance(msg, pb.ServerResponseMsg) and msg.login_msg.success


def test_quantity_zero_is_refused_and_prices_come_back_on_tick() -> None:
    import pytest

    with pytest.raises(ValueError):
        wire.insert(contract_id=1, seq_client_id=1, quantity=0, order_type=0, acc_number=1, source=1)
    assert wire.to_price(5000.2500000001, D("0.25")) == D("5000.25")
    assert wire.to_price(0.1 + 0.2) == D("0.30000000000000004")
    assert wire.present(
        pb.ServerResponseMsg(pong=pb.PongMsg(), login_msg=pb.LoginResponseMsg(success=True))
    ) == [
        "login_msg",
        "pong",
    ]
