"""The ground floor: types every other layer shares (orders, instruments, events, the Broker
protocol, neutral error codes). Imports nothing from the rest of Sidedesk, no I/O, no asyncio."""

from sidedesk.domain.broker import Broker, BrokerAccount
from sidedesk.domain.errors import ERROR_CODES, BrokerError, ErrorCode
from sidedesk.domain.events import (
    AccountSnapshot,
    BalanceEvent,
    BrokerEvent,
    ConnectionEvent,
    ConnectionState,
    EventSink,
    FillEvent,
    NoticeEvent,
    OrderEvent,
    PositionEvent,
    QuoteEvent,
)
from sidedesk.domain.instruments import Capabilities, InstrumentRules
from sidedesk.domain.orders import (
    OrderAck,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    WorkingType,
)

__all__ = [
    "ERROR_CODES",
    "AccountSnapshot",
    "BalanceEvent",
    "Broker",
    "BrokerAccount",
    "BrokerError",
    "BrokerEvent",
    "Capabilities",
    "ConnectionEvent",
    "ConnectionState",
    "ErrorCode",
    "EventSink",
    "FillEvent",
    "InstrumentRules",
    "NoticeEvent",
    "OrderAck",
    "OrderEvent",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "PositionEvent",
    "PositionSide",
    "QuoteEvent",
    "Side",
    "TimeInForce",
    "WorkingType",
]
