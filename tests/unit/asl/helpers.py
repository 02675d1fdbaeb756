"""Builders shared by the ASL tests."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sidedesk.core.asl import (
    AslEngine,
    AslEvent,
    AslProfile,
    CancelDone,
    CancelStop,
    ClosePosition,
    Notify,
    Output,
    PlaceAcked,
    PlaceStop,
    PositionKey,
)
from sidedesk.domain import (
    Capabilities,
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
)

D = Decimal
ACCOUNT = "acc1"
SYMBOL = "BTCUSDT"
KEY = PositionKey(ACCOUNT, SYMBOL, PositionSide.BOTH)


def caps(native: bool = True) -> Capabilities:
    return Capabilities(
        native_trailing_stop=native,
        hedge_mode=True,
        reduce_only=True,
        modify_order=True,
        separate_conditional_orders=True,
        fractional_quantity=True,
        min_callback_pct=D("0.1") if native else None,
        max_callback_pct=D(10) if native else None,
    )


def engine(native: bool = True, profile: AslProfile | None = None, tick: str = "0.1") -> AslEngine:
    return AslEngine(profile or AslProfile(), caps(native), tick_sizes={SYMBOL: D(tick)})


def pos(qty: str | Decimal, entry: str | Decimal = "100", *, leverage: int | None = None) -> PositionEvent:
    return PositionEvent(ACCOUNT, SYMBOL, PositionSide.BOTH, D(qty), D(entry), leverage=leverage)


def places(out: Sequence[Output]) -> list[PlaceStop]:
    return [o for o in out if isinstance(o, PlaceStop)]


def cancels(out: Sequence[Output]) -> list[CancelStop]:
    return [o for o in out if isinstance(o, CancelStop)]


def closes(out: Sequence[Output]) -> list[ClosePosition]:
    return [o for o in out if isinstance(o, ClosePosition)]


def notes(out: Sequence[Output], kind: str | None = None) -> list[Notify]:
    return [o for o in out if isinstance(o, Notify) and (kind is None or o.kind == kind)]


def events(out: Sequence[Output], transition: str | None = None) -> list[AslEvent]:
    return [o for o in out if isinstance(o, AslEvent) and (transition is None or o.transition == transition)]


def order_event(
    p: PlaceStop, status: OrderStatus, *, order_id: str = "", reason: str | None = None
) -> OrderEvent:
    r = p.request
    return OrderEvent(
        account_id=p.key.account_id,
        symbol=r.symbol,
        order_id=order_id or f"oid-{r.client_id}",
        client_id=r.client_id,
        side=r.side,
        type=r.type,
        status=status,
        quantity=r.quantity,
        filled=D(0),
        stop_price=r.stop_price,
        reduce_only=True,
        position_side=r.position_side,
        is_conditional=True,
        callback_rate_pct=r.callback_rate_pct,
        reject_reason=reason,
    )


def working(p: PlaceStop) -> OrderEvent:
    return order_event(p, OrderStatus.NEW)


def confirm(eng: AslEngine, p: PlaceStop, now: int) -> list[Output]:
    """Reply, then working event: the order in which Binance usually delivers them."""
    out = list(eng.handle(PlaceAcked(p.request.client_id, f"oid-{p.request.client_id}", now), now))
    out += eng.handle(working(p), now)
    return out


def cancel_done(eng: AslEngine, c: CancelStop, now: int) -> list[Output]:
    return list(eng.handle(CancelDone(c.client_id, now), now))


def stop_order(
    cid: str,
    qty: str,
    *,
    stop: str | None = None,
    cb: str | None = None,
    side: str = "SELL",
) -> OrderEvent:
    from sidedesk.domain import Side

    trailing = cb is not None
    return OrderEvent(
        account_id=ACCOUNT,
        symbol=SYMBOL,
        order_id=f"oid-{cid}",
        client_id=cid,
        side=Side(side),
        type=OrderType.TRAILING_STOP_MARKET if trailing else OrderType.STOP_MARKET,
        status=OrderStatus.NEW,
        quantity=D(qty),
        filled=D(0),
        stop_price=None if stop is None else D(stop),
        reduce_only=True,
        is_conditional=True,
        callback_rate_pct=None if cb is None else D(cb),
    )


def opened(eng: AslEngine, qty: str = "1", entry: str = "100", now: int = 0) -> PlaceStop:
    """Open a position and confirm its hard stop; returns the hard stop."""
    out = eng.on_position(pos(qty, entry), now)
    [p] = places(out)
    confirm(eng, p, now + 10)
    return p
