"""Order assembly from order + orderVersion + executionReport, dedup, fills, P&L, sign-in bodies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sidedesk.brokers.tradovate.protocol import messages as m
from sidedesk.brokers.tradovate.protocol.frames import PropsChange, QuoteUpdate
from sidedesk.brokers.tradovate.protocol.state import Store
from sidedesk.domain import (
    BalanceEvent,
    FillEvent,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionEvent,
    Side,
    TimeInForce,
)

T0 = "2026-01-15T14:30:00.626Z"
T1 = "2026-01-15T14:30:00.700Z"
T2 = "2026-01-15T14:30:01.000Z"


def store() -> Store:
    s = Store("acc", tv_account=700001)
    s.apply(PropsChange("contract", "Created", {"id": 560901, "name": "MESZ5"}))
    s.apply(PropsChange("product", "Created", {"id": 1, "name": "MES", "tickSize": 0.25, "valuePerPoint": 5}))
    return s


def order(status: str, ts: str) -> PropsChange:
    return PropsChange(
        "order",
        "Updated",
        {
            "id": 210518,
            "accountId": 700001,
            "contractId": 560901,
            "timestamp": ts,
            "action": "Buy",
            "ordStatus": status,
        },
    )


def version(vid: int, qty: int, price: float) -> PropsChange:
    return PropsChange(
        "orderVersion",
        "Created",
        {
            "id": vid,
            "orderId": 210518,
            "orderQty": qty,
            "orderType": "Limit",
            "price": price,
            "timeInForce": "GTC",
            "text": "sdm0000000000001",
        },
    )


def report(rid: int, status: str, cum: int, ts: str, avg: float | None = None) -> PropsChange:
    e = {
        "id": rid,
        "orderId": 210518,
        "accountId": 700001,
        "contractId": 560901,
        "timestamp": ts,
        "execType": "Trade" if cum else "New",
        "ordStatus": status,
        "action": "Buy",
        "cumQty": cum,
    }
    if avg is not None:
        e["avgPx"] = avg
    return PropsChange("executionReport", "Created", e)


def test_order_assembles_from_three_entities() -> None:
    s = store()
    assert s.apply(order("PendingNew", T0)) == []  # no version yet: nothing to show
    (ev,) = s.apply(version(1, 2, 6500.25))
    assert isinstance(ev, OrderEvent)
    assert (ev.symbol, ev.side, ev.type, ev.status, ev.quantity, ev.price) == (
        "MESZ5",
        Side.BUY,
        OrderType.LIMIT,
        OrderStatus.NEW,
        2,
        Decimal("6500.25"),
    )
    assert ev.client_id == "sdm0000000000001" and ev.time_in_force is TimeInForce.GTC
    assert s.apply(report(1, "Working", 0, T0)) == []  # same state: deduplicated
    assert s.apply(order("Working", T0)) == []
    (part,) = s.apply(report(2, "Working", 1, T1, 6500.25))
    assert isinstance(part, OrderEvent) and part.status is OrderStatus.PARTIALLY_FILLED and part.filled == 1
    (done,) = s.apply(report(3, "Filled", 2, T2, 6500.25))
    assert (
        isinstance(done, OrderEvent)
        and done.status is OrderStatus.FILLED
        and done.avg_price == Decimal("6500.25")
    )
    assert s.apply(order("Filled", T2)) == []  # the repeated status update
    assert s.apply(report(2, "Working", 1, T1)) == []  # an older report changes nothing


def test_modify_is_a_new_version_ranked_later() -> None:
    s = store()
    s.apply(order("Working", T0))
    (first,) = s.apply(version(1, 1, 6500.0))
    (moved,) = s.apply(version(2, 3, 6490.0))
    assert isinstance(first, OrderEvent) and isinstance(moved, OrderEvent)
    assert moved.quantity == 3 and moved.price == Decimal("6490.0")
    assert moved.update_time_ms > first.update_time_ms
    assert s.apply(version(1, 1, 6500.0)) == []  # an older version does not roll back


def test_fills_once_and_positions_with_value_per_point() -> None:
    s = store()
    s.apply(order("Filled", T1))  # the fill's order is this account's
    fill = PropsChange(
        "fill",
        "Created",
        {
            "id": 9,
            "orderId": 210518,
            "contractId": 560901,
            "timestamp": T1,
            "action": "Buy",
            "qty": 2,
            "price": 6500.25,
        },
    )
    (f,) = s.apply(fill)
    assert isinstance(f, FillEvent) and f.quantity == 2 and f.fee == 0 and f.fee_asset == "USD"
    assert s.apply(fill) == []
    s.on_quote(QuoteUpdate(560901, last=Decimal("6510.25")))
    (pos,) = s.apply(
        PropsChange(
            "position",
            "Updated",
            {
                "id": 1,
                "accountId": 700001,
                "contractId": 560901,
                "timestamp": T1,
                "netPos": 2,
                "netPrice": 6500.25,
            },
        )
    )
    assert isinstance(pos, PositionEvent)
    assert pos.unrealized_pnl == Decimal(100)  # (6510.25 - 6500.25) x 5 $/pt x 2
    (bal,) = s.apply(
        PropsChange(
            "cashBalance", "Updated", {"id": 1, "accountId": 700001, "amount": 100100, "realizedPnl": 100}
        )
    )
    assert isinstance(bal, BalanceEvent) and bal.wallet_balance == 100100
    assert s.realized_pnl() == 100  # the other SDK's casing is accepted


def test_other_accounts_are_ignored_and_snapshot_lists_open_orders() -> None:
    s = store()
    other = PropsChange(
        "order", "Created", {"id": 5, "accountId": 1, "contractId": 560901, "ordStatus": "Working"}
    )
    assert s.apply(other) == []
    s.apply(order("Working", T0))
    s.apply(version(1, 1, 6500.0))
    snap = s.snapshot(0)
    assert [o.order_id for o in snap.open_orders] == ["210518"]
    assert s.find_client_id("sdm0000000000001") is not None and s.find_client_id("nope") is None


def test_quotes_merge_partial_entries() -> None:
    s = store()
    s.on_quote(QuoteUpdate(560901, bid=Decimal(1), ask=Decimal(2), last=Decimal("1.5")))
    q = s.on_quote(QuoteUpdate(560901, ask=Decimal(3)))
    assert q is not None and (q.bid, q.ask, q.last, q.mark) == (1, 3, Decimal("1.5"), Decimal("1.5"))
    assert s.on_quote(QuoteUpdate(1, bid=Decimal(1))) is None


def test_order_bodies() -> None:
    req = OrderRequest(
        "MESZ5",
        Side.SELL,
        OrderType.STOP_MARKET,
        Decimal(2),
        "sda-MESZ5-L0-1",
        stop_price=Decimal("6400.00"),
        reduce_only=True,
    )
    body = m.order_body(req, 700001, "DEMO700001")
    assert body == {
        "accountSpec": "DEMO700001",
        "accountId": 700001,
        "symbol": "MESZ5",
        "orderQty": 2,
        "action": "Sell",
        "orderType": "Stop",
        "stopPrice": Decimal("6400.00"),
        "timeInForce": "GTC",
        "clOrdId": "sda-MESZ5-L0-1",
        "text": "sda-MESZ5-L0-1",
        "isAutomated": True,
    }
    human = OrderRequest("MESZ5", Side.BUY, OrderType.MARKET, Decimal(1), "sdh0000000000001")
    assert m.order_body(human, 1, "D")["isAutomated"] is False
    assert m.order_body(human, 1, "D").get("timeInForce") is None
    with pytest.raises(m.RequestError):
        m.order_body(OrderRequest("MESZ5", Side.BUY, OrderType.MARKET, Decimal("0.5"), "x"), 1, "D")
    with pytest.raises(m.RequestError):
        m.order_body(
            OrderRequest(
                "MESZ5", Side.BUY, OrderType.TAKE_PROFIT_MARKET, Decimal(1), "x", stop_price=Decimal(1)
            ),
            1,
            "D",
        )
    with pytest.raises(m.RequestError):
        m.order_body(
            OrderRequest(
                "MESZ5",
                Side.BUY,
                OrderType.LIMIT,
                Decimal(1),
                "x",
                price=Decimal(1),
                time_in_force=TimeInForce.GTX,
            ),
            1,
            "D",
        )
    trail = OrderRequest("MESZ5", Side.SELL, OrderType.TRAILING_STOP_MARKET, Decimal(1), "x")
    assert m.order_body(trail, 1, "D", peg=Decimal(5))["pegDifference"] == Decimal(-5)
    oso = m.oso_body(
        human,
        1,
        "D",
        (m.BracketLeg(OrderType.LIMIT, Decimal(10)), m.BracketLeg(OrderType.STOP_MARKET, Decimal(5))),
    )
    assert oso["bracket1"]["action"] == "Sell" and oso["bracket2"]["stopPrice"] == 5


def test_sign_in_body_token_and_renewal_time() -> None:
    creds = m.Credentials("u", "secret-password", "App", 8, "sec-value")
    assert "secret-password" not in repr(creds) and "sec-value" not in repr(creds)
    body = m.access_token_body(creds, ticket="T")
    assert body["cid"] == 8 and body["p-ticket"] == "T" and body["appVersion"] == "1.0"
    tok = m.parse_token(
        {"accessToken": "a", "mdAccessToken": "b", "expirationTime": "2026-01-15T10:50:00.000Z", "userId": 7},
        1768469400000 - 80 * 60_000,
    )
    assert tok.user_id == 7 and tok.expires_ms == 1768474200000
    assert tok.renew_at_ms(600_000) == tok.expires_ms - 600_000  # 10 minutes before an 80-minute expiry
    short = m.Token("a", "b", 4000, 0, 1)
    assert short.renew_at_ms(600_000) == 3000  # never before 3/4 of the life
    with pytest.raises(m.TokenError, match="Incorrect"):
        m.parse_token({"errorText": "Incorrect username or password"}, 0)
    with pytest.raises(m.TokenError):
        m.parse_token({"userId": 1}, 0)
    assert m.sync_body(5) == {"users": [5], "entityTypes": list(m.ENTITY_TYPES)}


def fill_of(order_id: int, fill_id: int) -> PropsChange:
    return PropsChange(
        "fill",
        "Created",
        {"id": fill_id, "orderId": order_id, "contractId": 560901, "timestamp": T1, "action": "Buy",
         "qty": 1, "price": 6500.25},
    )  # fmt: skip


def test_a_fill_of_the_logins_other_account_is_never_this_accounts() -> None:
    """The sync is per user, so every link of a login gets every account's fills, and a fill names
    no account: it waits for its order entity, which does. Before, a buy on the second account
    was booked as a fill of the first too, whose ASL then placed a sell stop on the first account
    (seen in the multi-account test under load)."""
    s = store()
    assert s.apply(fill_of(310001, 1)) == []  # its order has not come yet
    other = PropsChange(
        "order",
        "Created",
        {"id": 310001, "accountId": 700002, "contractId": 560901, "timestamp": T1, "action": "Buy",
         "ordStatus": "Filled"},
    )  # fmt: skip
    assert s.apply(other) == []
    assert s.apply(fill_of(310001, 2)) == []  # after its order: still not this account's
    assert not [e for e in s.replay() if isinstance(e, FillEvent)]
    # this account's fill that came before its order is booked once the order says whose it is
    assert s.apply(fill_of(210518, 3)) == []
    events = s.apply(order("Filled", T1))
    fills = [e for e in events if isinstance(e, FillEvent)]
    assert [(f.order_id, f.trade_id) for f in fills] == [("210518", "3")]


def test_before_the_sync_names_the_account_nothing_of_an_account_is_taken() -> None:
    s = Store("acc")  # tv_account 0: the sync has not answered yet
    pos = PropsChange(
        "position",
        "Updated",
        {"id": 1, "accountId": 700002, "contractId": 560901, "timestamp": T1, "netPos": 3, "netPrice": 6500},
    )
    assert s.apply(pos) == [] and s.positions == {}
