"""The local stream's wire messages as pydantic models (the JSON Schema is generated from these).

Topic payloads are validated through these models before they go out, so what a client receives
is exactly what the schema describes: a field the desk adds to a view stays out of the stream
until it is added here (and a test compares these models with the desk's views, so that drift
is noticed). Every money figure is a string, as in the panel's topics: a JSON number would pass
through a binary float.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL = 1
LocalTopic = Literal["positions", "orders", "account", "quotes", "status", "asl"]
LOCAL_TOPICS: tuple[str, ...] = LocalTopic.__args__  # type: ignore[attr-defined]
MessageId = Annotated[str, Field(max_length=64)] | Annotated[int, Field(ge=-(2**53), le=2**53)]
Dec = str | None  # a decimal figure as a plain string, or null when unknown


class _Payload(BaseModel):
    # Fields the desk adds later are dropped here rather than refused: the stream keeps running
    # and the schema stays true (tests/unit/localstream/test_models.py flags the difference).
    model_config = ConfigDict(extra="ignore")


# -- topic payloads -------------------------------------------------------------------------------


class PositionRow(_Payload):
    id: str = Field(description="account_id|symbol|position_side")
    account_id: str
    symbol: str
    position_side: str = Field(description="BOTH (one-way mode), LONG or SHORT (hedge mode)")
    side: str = Field(description="long, short or flat")
    size: Dec
    quantity: Dec = Field(description="signed: negative is short")
    entry: Dec
    mark: Dec
    unrealized_pnl: Dec
    roe_pct: Dec
    liquidation_price: Dec
    break_even_price: Dec
    leverage: int | None
    margin: Dec
    notional: Dec
    realized_pnl: Dec
    settle_asset: str
    in_sync: bool = Field(description="false while the host's figures disagree with the exchange's")
    updated_ms: int
    asl_level: str | None
    stop_price: Dec = Field(description="where the stop is now; a trailing stop: where it trails")
    stop_estimated: bool = Field(
        default=False,
        description="stop_price is a native trailing stop's level computed by the host from the mark "
        "(the venue does not report it)",
    )
    asl_next_threshold: Dec


class PnlTotal(_Payload):
    asset: str
    unrealized_pnl: Dec


class PositionsPayload(_Payload):
    positions: list[PositionRow]
    totals: list[PnlTotal] = Field(description="unrealized P&L per settlement asset, over the rows shown")


class OrderRow(_Payload):
    id: str
    account_id: str
    symbol: str
    order_id: str
    client_id: str
    conditional: bool
    side: str
    type: str
    status: str
    quantity: Dec
    filled: Dec
    remaining: Dec
    price: Dec
    stop_price: Dec
    avg_price: Dec
    callback_rate_pct: Dec
    activation_price: Dec
    working_type: str | None
    time_in_force: str | None
    reduce_only: bool
    close_position: bool
    position_side: str
    updated_ms: int


class OrdersPayload(_Payload):
    orders: list[OrderRow]


class AccountRow(_Payload):
    account_id: str
    asset: str
    wallet_balance: Dec
    unrealized_pnl: Dec
    equity: Dec
    margin_used: Dec
    available: Dec
    realized_today: Dec
    updated_ms: int


class AccountPayload(_Payload):
    accounts: list[AccountRow]


class Quote(_Payload):
    bid: Dec
    ask: Dec
    mark: Dec
    last: Dec
    ts_ms: int


class QuotesPayload(_Payload):
    quotes: dict[str, Quote] = Field(description="by symbol")


class BrokerStatus(_Payload):
    account_id: str = Field(description="ENTRY:ACCOUNT for one account of a login with several, else ENTRY")
    broker: str
    entry_id: str = Field("", description="the vault entry (login) the account belongs to")
    venue_account: str | None = Field(None, description="the venue's id of the account")
    account_name: str = Field("", description="what the venue calls it, e.g. 'Funded — APEX-5678'")
    open_positions: int = 0
    active: bool
    state: str
    attempt: int
    next_retry_s: float | None
    detail: str
    last_event_age_s: float | None
    last_price_age_s: float | None


class UnprotectedRow(_Payload):
    account_id: str
    symbol: str
    position_side: str
    quantity: str
    reason: str = Field(description="link_down, locked, asl_off or stop_missing")
    fix: str = Field(description="the one action that fixes it, in words")


class StatusPayload(_Payload):
    host_version: str
    protocol: int
    uptime_s: float
    vault: str = Field(description="absent, locked or unlocked")
    vault_rev: int = Field(description="changes whenever the vault does (unlocked, locked, an account added)")
    settings_rev: int = Field(description="changes whenever the host's saved settings do")
    require_unlock_to_reduce: bool = Field(
        description="while the vault is locked, close, flatten and cancel need an unlock too"
    )
    brokers: list[BrokerStatus]
    unprotected: list[UnprotectedRow] = Field(
        description="open positions without a working managed stop, and what fixes each"
    )


class AslPosition(_Payload):
    position_id: str
    account_id: str
    symbol: str
    position_side: str
    ts_ms: int
    transition: str
    enabled: bool
    direction: str
    quantity: Dec
    entry_price: Dec
    level: int = Field(description="0 = hard stop, 1..n = profit levels reached")
    stop_client_id: str | None
    stop_tag: str | None
    stop_kind: str | None
    stop_price: Dec = Field(description="where the stop is now; a trailing stop: where it trails")
    callback_pct: Dec
    next_trigger: Dec
    latency_ms: int | None
    detail: str
    stop_estimated: bool = Field(
        default=False,
        description="stop_price is a native trailing stop's level computed by the host from the mark "
        "(the venue does not report it)",
    )


class AslPayload(_Payload):
    enabled: bool
    positions: dict[str, AslPosition] = Field(description="latest ASL state by position id")


PAYLOADS: dict[str, type[_Payload]] = {
    "positions": PositionsPayload,
    "orders": OrdersPayload,
    "account": AccountPayload,
    "quotes": QuotesPayload,
    "status": StatusPayload,
    "asl": AslPayload,
}


def payload_json(topic: str, payload: Any) -> str:
    """The payload as the stream sends it: validated by its model, then compact JSON."""
    return PAYLOADS[topic].model_validate(payload).model_dump_json()


# -- server -> client -----------------------------------------------------------------------------

P = TypeVar("P", bound=_Payload)


class _TopicMessage(BaseModel, Generic[P]):
    v: Literal[1] = 1
    type: Literal["snapshot", "event"] = Field(
        description="snapshot: the full state on subscribe; event: the full state after a change"
    )
    seq: int = Field(
        ge=0,
        description="per connection and topic; an event is the previous seq + 1, a snapshot "
        "repeats the current seq (events continue after it)",
    )
    ts_ms: int = Field(description="host wall clock when the payload was built")
    payload: P


class PositionsMessage(_TopicMessage[PositionsPayload]):
    topic: Literal["positions"]


class OrdersMessage(_TopicMessage[OrdersPayload]):
    topic: Literal["orders"]


class AccountMessage(_TopicMessage[AccountPayload]):
    topic: Literal["account"]


class QuotesMessage(_TopicMessage[QuotesPayload]):
    topic: Literal["quotes"]


class StatusMessage(_TopicMessage[StatusPayload]):
    topic: Literal["status"]


class AslMessage(_TopicMessage[AslPayload]):
    topic: Literal["asl"]


TopicMessage = Annotated[
    PositionsMessage | OrdersMessage | AccountMessage | QuotesMessage | StatusMessage | AslMessage,
    Field(discriminator="topic"),
]


class Hello(BaseModel):
    """First message after the handshake: what this connection may see and the timings."""

    v: Literal[1] = 1
    type: Literal["hello"] = "hello"
    host_version: str
    topics: list[LocalTopic]
    accounts: list[str] | None = Field(description="the broker accounts this token sees (null: all)")
    batch_ms: int
    heartbeat_s: float
    idle_timeout_s: float


class Subscribed(BaseModel):
    """After the snapshots of a `subscribe`: every topic subscribed now."""

    v: Literal[1] = 1
    type: Literal["subscribed"] = "subscribed"
    id: MessageId | None = None
    topics: list[LocalTopic]


class Unsubscribed(BaseModel):
    """After an `unsubscribe`: nothing more is sent on the removed topics."""

    v: Literal[1] = 1
    type: Literal["unsubscribed"] = "unsubscribed"
    id: MessageId | None = None
    topics: list[LocalTopic] = Field(description="every topic still subscribed")


class Pong(BaseModel):
    v: Literal[1] = 1
    type: Literal["pong"] = "pong"
    id: MessageId | None = None
    ts_ms: int


class Heartbeat(BaseModel):
    """Sent every `heartbeat_s`; a client that hears none for twice that may reconnect."""

    v: Literal[1] = 1
    type: Literal["heartbeat"] = "heartbeat"
    ts_ms: int


class ErrorMessage(BaseModel):
    v: Literal[1] = 1
    type: Literal["error"] = "error"
    id: MessageId | None = None
    code: Literal["bad_request", "rate_limited"]
    message: str


ControlMessage = Annotated[
    Hello | Subscribed | Unsubscribed | Pong | Heartbeat | ErrorMessage, Field(discriminator="type")
]
SERVER_MESSAGE: TypeAdapter[Any] = TypeAdapter(TopicMessage | ControlMessage)


# -- client -> server -----------------------------------------------------------------------------


class _ClientMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: MessageId | None = Field(None, description="echoed in the answer")


class Subscribe(_ClientMessage):
    type: Literal["subscribe"]
    topics: list[LocalTopic] = Field(min_length=1, max_length=len(LOCAL_TOPICS))


class Unsubscribe(_ClientMessage):
    type: Literal["unsubscribe"]
    topics: list[LocalTopic] = Field(min_length=1, max_length=len(LOCAL_TOPICS))


class Ping(_ClientMessage):
    type: Literal["ping"]


ClientMessage = Annotated[Subscribe | Unsubscribe | Ping, Field(discriminator="type")]
CLIENT_MESSAGE: TypeAdapter[Subscribe | Unsubscribe | Ping] = TypeAdapter(ClientMessage)
