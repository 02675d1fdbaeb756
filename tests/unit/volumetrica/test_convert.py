"""Pure mapping: client ids, fills from FilledQty, statuses, positions, marks, the auth answer."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sidedesk.brokers.volumetrica.protocol import convert, ids
from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb
from sidedesk.brokers.volumetrica.protocol.auth import Credentials, TokenRefused, parse_grant, token_body
from sidedesk.core.asl import ids as asl_ids
from sidedesk.domain import BrokerError, OrderStatus, OrderType, Side

ES = convert.Contract(4242, "/ESZ26:XCME", "ESZ26", D("0.25"), D("12.5"))


def info(**kw: object) -> pb.OrderInfoMsg:
    base: dict[str, object] = {
        "contract_id": 4242,
        "org_server_id": 9001,
        "org_client_id": 7,
        "order_type": pb.ORDER_LIMIT,
        "order_price": 6000.25,
        "snap_type": pb.OrderInfoMsg.REAL_TIME,
        "acc_number": 1,
    }
    base.update(kw)
    return pb.OrderInfoMsg(**base)  # type: ignore[arg-type]


def test_fills_come_from_the_change_of_filled_qty() -> None:
    t = convert.OrderTracker("a")
    ev, fill = t.apply(info(pending_qty=-3), ES, "sdm1", 1000)
    assert ev is not None and fill is None
    assert (ev.side, ev.status, ev.quantity, ev.price, ev.type) == (
        Side.SELL,
        OrderStatus.NEW,
        3,
        D("6000.25"),
        OrderType.LIMIT,
    )
    ev, fill = t.apply(
        info(pending_qty=-2, filled_qty=-1, avg_price=6000.25, execution_utc=1001), ES, "sdm1", 1001
    )
    assert ev is not None and ev.status is OrderStatus.PARTIALLY_FILLED and ev.filled == 1
    assert fill is not None and (fill.side, fill.quantity, fill.price) == (Side.SELL, 1, D("6000.25"))
    # a duplicate changes nothing
    assert t.apply(
        info(pending_qty=-2, filled_qty=-1, avg_price=6000.25, execution_utc=1001), ES, "sdm1", 1002
    ) == (None, None)
    ev, fill = t.apply(
        info(pending_qty=0, filled_qty=-3, avg_price=6000.5, execution_utc=1003), ES, "sdm1", 1003
    )
    assert ev is not None and ev.status is OrderStatus.FILLED and ev.filled == 3
    assert fill is not None and fill.quantity == 2 and fill.price == D("6000.5")
    assert ev.avg_price == (D("6000.25") + 2 * D("6000.5")) / 3
    assert fill.trade_id != "9001:1"


def test_historical_lines_never_fill_and_states_map() -> None:
    t = convert.OrderTracker("a")
    ev, fill = t.apply(
        info(pending_qty=2, filled_qty=1, avg_price=6000, snap_type=pb.OrderInfoMsg.HISTORICAL), ES, "x", 1
    )
    assert fill is None and ev is not None and ev.status is OrderStatus.PARTIALLY_FILLED
    ev, _ = t.apply(info(pending_qty=0, filled_qty=1, order_state=pb.OrderInfoMsg.CANCELED), ES, "x", 2)
    assert ev is not None and ev.status is OrderStatus.CANCELED and ev.quantity == 3
    ev, _ = t.apply(info(org_server_id=5, order_state=pb.OrderInfoMsg.ERROR, reason="no margin"), ES, "y", 3)
    assert ev is not None and ev.status is OrderStatus.REJECTED and ev.reject_reason == "no margin"
    ev, _ = t.apply(
        info(org_server_id=6, order_type=pb.ORDER_STOP, order_price=5990, pending_qty=-1), ES, "z", 4
    )
    assert (
        ev is not None and ev.type is OrderType.STOP_MARKET and ev.stop_price == D(5990) and ev.is_conditional
    )


def test_positions_marks_and_rules() -> None:
    p = pb.PositionInfoMsg(
        contract_id=4242, open_quantity=2, open_price=6000, has_open_pl=True, open_pl=400, utc=5
    )
    ev = convert.position_event("a", p, ES, 9)
    assert (ev.quantity, ev.entry_price, ev.unrealized_pnl, ev.mark_price, ev.ts_ms) == (
        2,
        6000,
        400,
        D("6004.00"),
        5,
    )
    r = convert.rules(ES)
    assert r.contract_multiplier == 50 and r.tick_size == D("0.25") and r.price_precision == 2
    assert convert.desk_symbol("/ESZ26:XCME") == "ESZ26" == convert.desk_symbol("/ESZ26.XCME")
    assert convert.desk_symbol("not a symbol!") == ""
    assert convert.contract_from(pb.ContractRespMsg(contract_id=-1, feed_symbol="/XX")) is None


def test_client_ids_round_trip_and_asl_ids_survive_a_restart() -> None:
    a = ids.ClientIds(start=100)
    n = a.number("sdmabcdefgh0001", "ESZ26")
    assert (
        n == 100 and a.number("sdmabcdefgh0001", "ESZ26") == 100 and a.name(100, "ESZ26") == "sdmabcdefgh0001"
    )
    asl = asl_ids.encode("ESZ26", True, "2", 37)
    m = a.number(asl, "ESZ26")
    assert m & ids.ASL_FLAG and m < 2**63
    fresh = ids.ClientIds(start=5)  # after a restart: nothing in memory
    assert fresh.name(m, "ESZ26") == asl
    assert fresh.name(100, "ESZ26") == "vol-100"
    short = asl_ids.encode("ESZ26", False, "S", 3)
    assert ids.decode_asl(ids.encode_asl(short, "ESZ26") or 0, "ESZ26") == short


def test_auth_answer() -> None:
    g = parse_grant(
        200, {"success": True, "data": {"tradingWssEndpoint": "wss://x/y", "tradingWssToken": "T"}}
    )
    assert g.wss_token == "T" and "T" not in repr(g)
    with pytest.raises(TokenRefused) as exc:
        parse_grant(401, {"success": False, "statusCode": 401, "message": "dxFeed agreements not signed"})
    assert exc.value.code == "auth" and "dxFeed agreements" in exc.value.message
    with pytest.raises(BrokerError):
        parse_grant(
            200, {"success": True, "data": {"tradingWssEndpoint": "http://x", "tradingWssToken": "T"}}
        )
    with pytest.raises(BrokerError):
        parse_grant(502, "<html>")
    c = Credentials("KEY", "me", "pw", 1)
    assert token_body(c)["environment"] == 1 and token_body(c)["connectOnlyTrading"] is True
    assert "pw" not in repr(c) and "KEY" not in repr(c)


def test_a_v5_fill_and_its_position_update_arriving_in_one_millisecond_count_once() -> None:
    """v5 dates neither (no ExecutionUtc, no position Utc): both by arrival. The order's second
    change in the same millisecond sorts a millisecond later, but the fill keeps its arrival time,
    so the position update right behind it (holding it) is not older than the fill. Before: the
    fill was dated a millisecond after its position update and counted on top of it: a partial
    close of 1 of 2 ES left the book flat, and the host cancelled the stop of the open lot."""
    from sidedesk.core.account import Portfolio

    t = convert.OrderTracker("a")
    book = Portfolio()
    long2 = pb.PositionInfoMsg(contract_id=4242, open_quantity=2, open_price=6000.25, acc_number=1)
    book.apply(convert.position_event("a", long2, ES, 1000))
    new, _ = t.apply(info(order_type=pb.ORDER_MARKET, pending_qty=-1), ES, "sdm1", 1361)
    done, fill = t.apply(
        info(order_type=pb.ORDER_MARKET, pending_qty=0, filled_qty=-1, avg_price=6000), ES, "sdm1", 1361
    )
    assert new is not None and done is not None and done.update_time_ms == 1362  # sorted after NEW
    assert fill is not None and fill.ts_ms == 1361  # when it arrived
    book.apply(fill)
    long1 = pb.PositionInfoMsg(contract_id=4242, open_quantity=1, open_price=6000.25, acc_number=1)
    book.apply(convert.position_event("a", long1, ES, 1361))
    pos = book.positions.get("a", "ESZ26", fill.position_side)
    assert pos is not None and pos.quantity == 1
