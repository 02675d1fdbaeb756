"""Build client frames and read server frames (pure): one protobuf message per binary frame.

Every builder returns the bytes of one `ClientRequestMsg` with exactly one top-level field set
(brokers.md §2.2), in the v5.1 model; the session translates it for a v5 server when it sends it
(`dialect.py`). `parse_server` reads a frame of the server's dialect into that model and does
not raise on bad input: a frame that is not a `ServerResponseMsg` comes back as a `ParseError`
value (only a frame that contradicts the dialect raises `dialect.Mismatch`). Prices travel as
doubles; `to_price` turns one back into a Decimal on the instrument's tick grid so that 5000.25
never becomes 5000.2500000001.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from google.protobuf.message import DecodeError

from sidedesk.brokers.volumetrica.protocol import dialect
from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb

ALL_MODES = (pb.INFO_ACCOUNT, pb.INFO_ORDERS_AND_POSITIONS, pb.INFO_POSITIONS)


@dataclass(frozen=True, slots=True)
class ParseError:
    reason: str


def _frame(msg: pb.ClientRequestMsg) -> bytes:
    return msg.SerializeToString()


def login(token: str, *, keep_concurrent: bool = False) -> bytes:
    """`keep_concurrent` False is the vendor's default: the user's other session is dropped."""
    msg = pb.ClientRequestMsg()
    msg.login_req.token = token
    msg.login_req.account_subscription_mode = pb.SUBSCRIPTION_EXISTING_AND_NEW
    msg.login_req.keep_concurrent_session_on = keep_concurrent
    return _frame(msg)


def ping(ack_value: int = 0) -> bytes:
    msg = pb.ClientRequestMsg()
    msg.ping.connected = True
    msg.ping.ack_value = ack_value
    return _frame(msg)


def info_request(request_id: int, modes: Iterable[int] = ALL_MODES) -> bytes:
    """Snapshot and subscription in one request (several modes keep the answer consistent)."""
    msg = pb.ClientRequestMsg()
    msg.info_req.request_id = request_id
    msg.info_req.modes.extend(modes)  # type: ignore[arg-type]
    return _frame(msg)


def contract_request(request_id: int, *, feed_symbol: str = "", contract_id: int = 0) -> bytes:
    msg = pb.ClientRequestMsg()
    msg.contract_req.request_id = request_id
    msg.contract_req.feed_symbol = feed_symbol
    msg.contract_req.contract_id = contract_id
    return _frame(msg)


def symbol_lookup(request_id: int, text: str = "") -> bytes:
    msg = pb.ClientRequestMsg()
    msg.symbol_lookup.request_id = request_id
    msg.symbol_lookup.filter = text
    return _frame(msg)


def log_message(text: str, acc_number: int) -> bytes:
    msg = pb.ClientRequestMsg()
    msg.log_msg.msg = text
    msg.log_msg.acc_number = acc_number
    return _frame(msg)


@dataclass(frozen=True, slots=True)
class Leg:
    """One bracket leg: an absolute quantity and either a tick offset or a price."""

    quantity: int
    ticks: int | None = None
    price: Decimal | None = None


def insert(
    *,
    contract_id: int,
    seq_client_id: int,
    quantity: int,
    order_type: int,
    acc_number: int,
    source: int,
    price: Decimal | None = None,
    limit_price: Decimal | None = None,
    stops: Iterable[Leg] = (),
    targets: Iterable[Leg] = (),
) -> bytes:
    """`quantity` is signed (negative = sell); `price` is the limit, or the trigger of a stop."""
    if quantity == 0:
        raise ValueError("quantity must not be 0 (negative sells, positive buys)")
    msg = pb.ClientRequestMsg()
    o = msg.order.add().order_insert
    o.contract_id = contract_id
    o.seq_client_id = seq_client_id
    o.quantity = quantity
    o.order_type = order_type  # type: ignore[assignment]
    o.acc_number = acc_number
    o.source = source  # type: ignore[assignment]
    if price is not None:
        o.price = float(price)
    if limit_price is not None:
        o.limit_price = float(limit_price)
    stops, targets = list(stops), list(targets)
    if stops or targets:
        kind = (
            pb.BracketStrategy.STOP_AND_TARGET
            if stops and targets
            else pb.BracketStrategy.STOP_ONLY
            if stops
            else pb.BracketStrategy.TARGET_ONLY
        )
        o.bracket_strategy.kind = kind
        for leg, into in [(s, o.bracket_strategy.stops) for s in stops] + [
            (t, o.bracket_strategy.targets) for t in targets
        ]:
            b = into.add()
            b.quantity = abs(leg.quantity)
            if leg.price is not None:
                b.price_mode = pb.BracketLeg.BY_PRICE
                b.price = float(leg.price)
            else:
                b.price_mode = pb.BracketLeg.BY_TICKS
                b.ticks_offset = int(leg.ticks or 0)
    return _frame(msg)


def modify(
    *,
    contract_id: int,
    org_server_id: int,
    new_seq_client_id: int,
    quantity: int,
    price: Decimal,
    acc_number: int,
    source: int,
    limit_price: Decimal | None = None,
) -> bytes:
    msg = pb.ClientRequestMsg()
    o = msg.order.add().order_modify
    o.contract_id = contract_id
    o.org_server_id = org_server_id
    o.new_seq_client_id = new_seq_client_id
    o.quantity = quantity
    o.price = float(price)
    o.acc_number = acc_number
    o.source = source  # type: ignore[assignment]
    if limit_price is not None:
        o.limit_price = float(limit_price)
    return _frame(msg)


def remove(*, org_server_id: int, acc_number: int, source: int) -> bytes:
    msg = pb.ClientRequestMsg()
    o = msg.order.add().order_remove
    o.org_server_id = org_server_id
    o.acc_number = acc_number
    o.source = source  # type: ignore[assignment]
    return _frame(msg)


def cancel_flat(
    *, request_id: int, acc_number: int, action: int, source: int, contract_ids: Iterable[int] = ()
) -> bytes:
    msg = pb.ClientRequestMsg()
    r = msg.cancel_flat_req
    r.request_id = request_id
    r.acc_number = acc_number
    r.action = action  # type: ignore[assignment]
    r.source = source  # type: ignore[assignment]
    r.contract_ids.extend(contract_ids)
    return _frame(msg)


def history_request(request_id: int, accounts: Iterable[int], entity: int = pb.HISTORY_ORDERS) -> bytes:
    """AccountHistoricalSessionReq (v5.1): the current session's orders (finished ones too)."""
    msg = pb.ClientRequestMsg()
    r = msg.account_historical_session_req
    r.request_id = request_id
    r.account_ids.extend(accounts)
    r.entity = entity  # type: ignore[assignment]
    return _frame(msg)


def parse_server(
    frame: str | bytes, spoken: dialect.Dialect | None = dialect.V5_1
) -> pb.ServerResponseMsg | ParseError:
    """A server frame of `spoken` (None: before the login answer) in the v5.1 model."""
    if isinstance(frame, str):
        return ParseError("a text frame (the server sends binary protobuf frames)")
    try:
        return dialect.decode_server(frame, spoken)
    except DecodeError as exc:
        return ParseError(f"not a ServerResponseMsg ({exc})")


def parse_client(
    frame: str | bytes, spoken: dialect.Dialect = dialect.V5_1
) -> pb.ClientRequestMsg | ParseError:
    """The simulator's reader of client frames of `spoken` (same rules as `parse_server`)."""
    if isinstance(frame, str):
        return ParseError("a text frame (send binary protobuf frames)")
    try:
        return dialect.decode_client(frame, spoken)
    except DecodeError as exc:
        return ParseError(f"not a ClientRequestMsg ({exc})")


def to_price(value: float, tick: Decimal | None = None) -> Decimal:
    """A wire double as a Decimal: on the tick grid when the tick is known, else its shortest repr."""
    d = Decimal(repr(value))
    if tick is None or tick <= 0 or d == 0:
        return d
    steps = (d / tick).to_integral_value(rounding=ROUND_HALF_UP)
    return (steps * tick).quantize(tick)


def present(msg: pb.ServerResponseMsg) -> list[str]:
    """Names of the populated top-level fields, in field-number order (how readers must walk them)."""
    return [f.name for f, _ in sorted(msg.ListFields(), key=lambda item: item[0].number)]
