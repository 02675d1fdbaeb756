"""Protocol versions (issue #21), byte for byte: what v5 and v5.1 put on the wire for the same
order, which version a login answer names, int32 client ids, and the environments."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sidedesk.brokers.common import Settings
from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
from sidedesk.brokers.volumetrica.config import ENVIRONMENTS, config_from
from sidedesk.brokers.volumetrica.protocol import dialect, ids, wire
from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk.core.asl import ids as asl_ids
from sidedesk.vault.entries import VolumetricaEntry, parse_entry
from tests.support.eventlog import EventLog


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# OrderInsert{ContractId 4242, SeqClientId 7, Quantity -2 (a sell), Price 5000.25, Limit, AccNumber 123456}
SELL_V51 = h("32 1a 0a 18 08 a4 42 10 0e 18 03 21 00 00 00 00 40 88 b3 40 28 01 30 80 89 0f 50 02")
# the same sell as v5 writes it: SeqClientId 7 plain, Quantity -2 as a ten-byte two's complement
# (int32), no Source (v5's OrderInsertMsg has no field 10)
SELL_V5 = h(
    "32 21 0a 1f 08 a4 42 10 07 18 fe ff ff ff ff ff ff ff ff 01 21 00 00 00 00 40 88 b3 40 28 01 30 80 89 0f"
)


def sell() -> bytes:
    return wire.insert(
        contract_id=4242,
        seq_client_id=7,
        quantity=-2,
        order_type=pb.ORDER_LIMIT,
        acc_number=123456,
        source=pb.SOURCE_AUTOMATIC,
        price=D("5000.25"),
    )


def test_the_defect_a_v51_sell_is_a_v5_buy() -> None:
    assert sell() == SELL_V51
    as_v5_reads_it = pb.ClientRequestMsgV5.FromString(SELL_V51).order[0].order_insert
    assert as_v5_reads_it.quantity == 3 and as_v5_reads_it.seq_client_id == 14  # zigzag, read plain
    # and the other way: v5's buy of 3 is v5.1's sell of 2
    buy_v5 = pb.OrderInfoMsgV5(filled_qty=3).SerializeToString()
    assert pb.OrderInfoMsg.FromString(buy_v5).filled_qty == -2


def test_each_version_gets_its_own_bytes_and_reads_back_the_sell() -> None:
    assert dialect.encode_client(sell(), dialect.V5_1) == SELL_V51
    assert dialect.encode_client(sell(), dialect.V5) == SELL_V5
    for spoken, frame in ((dialect.V5, SELL_V5), (dialect.V5_1, SELL_V51)):
        o = dialect.decode_client(frame, spoken).order[0].order_insert
        assert (o.quantity, o.seq_client_id, o.contract_id, o.price) == (-2, 7, 4242, 5000.25)
    # modify and bracket legs carry their quantities the same way
    mod = wire.modify(
        contract_id=1, org_server_id=9, new_seq_client_id=8, quantity=-4, price=D(1), acc_number=1, source=1
    )
    v5 = pb.ClientRequestMsgV5.FromString(dialect.encode_client(mod, dialect.V5)).order[0].order_modify
    assert (v5.quantity, v5.new_seq_client_id, v5.org_server_id) == (-4, 8, 9)
    legs = wire.insert(
        contract_id=1,
        seq_client_id=1,
        quantity=-2,
        order_type=pb.ORDER_MARKET,
        acc_number=1,
        source=1,
        stops=[wire.Leg(2, price=D(10))],
        targets=[wire.Leg(2, ticks=8)],
    )
    strat = pb.ClientRequestMsgV5.FromString(dialect.encode_client(legs, dialect.V5)).order[0]
    assert [leg.quantity for leg in strat.order_insert.bracket_strategy.stops] == [2]
    assert strat.order_insert.bracket_strategy.targets[0].ticks_offset == 8


def test_server_frames_in_each_version() -> None:
    info = pb.OrderInfoMsg(
        org_server_id=9001, org_client_id=7, pending_qty=0, filled_qty=-2, avg_price=5000.25
    )
    head = pb.AccountHeaderMsg(account_number=123456, account_header="EVAL", is_trading_enabled=True)
    msg = pb.ServerResponseMsg(order_info=[info], info_msg=pb.InfoRespMsg(account_list=[head], request_id=3))
    for spoken in (dialect.V5, dialect.V5_1):
        back = dialect.decode_server(dialect.encode_server(msg, spoken), spoken)
        assert back.order_info[0].filled_qty == -2 and back.order_info[0].org_client_id == 7
        assert back.info_msg.account_list[0].is_trading_enabled  # field 5 in v5, 7 in v5.1
        assert back.info_msg.request_id == 3
    v5_bytes = dialect.encode_server(msg, dialect.V5)
    assert pb.ServerResponseMsg.FromString(v5_bytes).order_info[0].filled_qty != -2  # read as v5.1: wrong
    # v5 has no Version and no ReasonCode in its login answer
    login = pb.ServerResponseMsg(login_msg=pb.LoginResponseMsg(success=True, version=51))
    assert dialect.encode_server(login, dialect.V5) == h("0a 02 08 01")


def test_v5_frames_lack_what_v5_lacks() -> None:
    """A v5 server sends no PositionInfo.Utc (its position ends at field 14), no FLAT_CANCEL Items
    and no session history, and reads no Source on CancelFlatReq: a simulator in v5 that sent
    Utc made the host date the position by the venue and the fill by its arrival, and double it."""
    pos = pb.PositionInfoMsg(contract_id=4242, open_quantity=-1, acc_number=123456, utc=1_700_000_000_000)
    answer = pb.CancelFlatRespMsg(request_id=3, acc_number=123456)
    answer.items.add(is_position=True, contract_id=4242, position_id=-1)
    history = pb.AccountHistoricalSessionRespMsg(request_id=4)
    msg = pb.ServerResponseMsg(
        position_info=[pos], cancel_flat_msg=answer, account_historical_session_resp=history
    )
    v5 = dialect.decode_server(dialect.encode_server(msg, dialect.V5), dialect.V5)
    assert v5.position_info[0].open_quantity == -1 and v5.position_info[0].utc == 0
    assert v5.cancel_flat_msg.request_id == 3 and not v5.cancel_flat_msg.items
    assert not v5.HasField("account_historical_session_resp")
    v51 = dialect.decode_server(dialect.encode_server(msg, dialect.V5_1), dialect.V5_1)
    assert v51.position_info[0].utc == pos.utc and len(v51.cancel_flat_msg.items) == 1
    flat = wire.cancel_flat(
        request_id=5, acc_number=123456, action=pb.CancelFlatReqMsg.FLAT_CANCEL, source=pb.SOURCE_MANUAL,
        contract_ids=[4242],
    )  # fmt: skip
    read = dialect.decode_client(dialect.encode_client(flat, dialect.V5), dialect.V5).cancel_flat_req
    assert read.action == pb.CancelFlatReqMsg.FLAT_CANCEL and list(read.contract_ids) == [4242]
    assert read.source == pb.SOURCE_UNKNOWN  # v5 has no Source there
    asked = dialect.decode_client(
        dialect.encode_client(wire.history_request(6, [123456]), dialect.V5), dialect.V5
    )
    assert not asked.HasField("account_historical_session_req")


def test_the_version_named_at_login() -> None:
    assert dialect.from_login(pb.LoginResponseMsg(success=True)) is dialect.V5  # v5: no such field
    assert dialect.from_login(pb.LoginResponseMsg(success=True, version=51)) is dialect.V5_1
    unknown = dialect.from_login(pb.LoginResponseMsg(success=True, version=3))
    assert isinstance(unknown, dialect.Unknown)
    assert "protocol version 3" in unknown.message and "sell into a buy" in unknown.message
    # before the answer names it, a frame is read as v5.1 so the Version field survives
    first = pb.ServerResponseMsg(login_msg=pb.LoginResponseMsg(success=True, version=51))
    assert dialect.decode_server(first.SerializeToString(), None).login_msg.version == 51


def test_a_server_that_omits_its_version_but_is_not_v5_is_caught() -> None:
    v51_header = pb.AccountHeaderMsg(
        account_number=1, currency="USD", mode=pb.MODE_EVALUATION, is_enabled=True
    )
    frame = pb.ServerResponseMsg(info_msg=pb.InfoRespMsg(account_list=[v51_header])).SerializeToString()
    with pytest.raises(dialect.Mismatch, match="currency"):
        dialect.decode_server(frame, dialect.V5)
    assert dialect.decode_server(frame, dialect.V5_1).info_msg.account_list[0].currency == "USD"


def test_what_does_not_fit_v5_is_refused_not_cut() -> None:
    big = wire.insert(contract_id=1, seq_client_id=2**40, quantity=1, order_type=0, acc_number=1, source=0)
    with pytest.raises(dialect.Unencodable, match="seq_client_id"):
        dialect.encode_client(big, dialect.V5)
    assert dialect.encode_client(big, dialect.V5_1) == big


def test_client_ids_fit_int32_for_a_v5_server_and_asl_ids_survive_either_way() -> None:
    wide, narrow = ids.ClientIds(), ids.ClientIds(narrow=True)
    assert wide.number("sdmclick0001", "ESZ26") > ids.INT32_MAX  # microseconds: v5 cannot hold it
    for i in range(1000):
        assert 0 < narrow.number(f"sdmclick{i:04d}", "ESZ26") < ids.NARROW.flag
        assert 0 < narrow.fresh() < ids.NARROW.flag
    for long, tag, seq in ((True, "0", 1), (False, "S", 37), (True, "9", 2**25 - 1)):
        asl = asl_ids.encode("ESZ26", long, tag, seq)
        n = narrow.number(asl, "ESZ26")
        assert 0 < n <= ids.INT32_MAX and n & ids.NARROW.flag
        assert ids.ClientIds().name(n, "ESZ26") == asl  # a restarted host still knows its stop
        w = ids.encode_asl(asl, "ESZ26")
        assert w is not None and ids.decode_asl(w, "ESZ26") == asl and w > ids.INT32_MAX
    too_far = asl_ids.encode("ESZ26", True, "1", 2**25)  # beyond the narrow sequence: a counter number
    assert not narrow.number(too_far, "ESZ26") & ids.NARROW.flag
    switched = ids.ClientIds()
    switched.set_narrow(True)  # a login to a v5 server
    assert switched.number("sdmafter0001", "ESZ26") <= ids.INT32_MAX


def test_environments_as_the_vendor_names_them() -> None:
    def body_env(environment: str) -> int:
        fields = {"broker": "volumetrica", "name": "a", "environment": environment}
        entry = parse_entry({**fields, "platform_key": "PLATFORM-KEY-01", "login": "me", "password": "pw"})
        assert isinstance(entry, VolumetricaEntry)
        b = VolumetricaBroker("a", config_from(entry, Settings()), EventLog())
        return b.session.creds.environment

    # Production (0) is where every trader account is; Staging (1) is the firms' own
    assert body_env("live") == 0 and ENVIRONMENTS["production"] == 0
    assert body_env("demo") == 0  # was 1 (Staging) before #21
    assert ENVIRONMENTS["staging"] == 1
    stored = {
        "broker": "volumetrica",
        "name": "old",
        "environment": "demo",
        "platform_key": "PLATFORM-KEY-01",
        "login": "me",
        "password": "pw",
    }
    old = parse_entry(stored)  # a vault entry written before #21 still opens
    assert isinstance(old, VolumetricaEntry) and old.keep_other_sessions is True
