"""The `Broker` protocol: what every adapter implements. Core and app code see only this."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

from sidedesk.domain.events import AccountSnapshot, OrderEvent
from sidedesk.domain.instruments import Capabilities, InstrumentRules
from sidedesk.domain.orders import OrderAck, OrderRequest, Side


@runtime_checkable
class Broker(Protocol):
    """One connected broker account. Events go to the sink given at construction."""

    broker: str  # "binance", "tradovate", ...
    account_id: str
    capabilities: Capabilities

    async def connect(self) -> None:
        """Open every connection, sync time, load instruments, start streams; raise BrokerError."""
        ...

    async def close(self) -> None: ...

    def instruments(self) -> dict[str, InstrumentRules]: ...

    async def place(self, order: OrderRequest) -> OrderAck: ...

    async def cancel(
        self,
        symbol: str,
        *,
        order_id: str | None = None,
        client_id: str | None = None,
        conditional: bool = False,
    ) -> OrderAck: ...

    async def modify(
        self, symbol: str, order_id: str, *, quantity: Decimal, price: Decimal, side: Side
    ) -> OrderAck: ...

    async def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel every open order (regular and conditional), for one symbol or all; returns the count."""
        ...

    async def lookup(self, symbol: str, client_id: str, *, conditional: bool = False) -> OrderEvent | None:
        """Find an order by client id (resolves unknown outcomes); None if the exchange never saw it."""
        ...

    async def snapshot(self) -> AccountSnapshot: ...

    async def set_leverage(self, symbol: str, leverage: int) -> None: ...

    async def subscribe_quotes(self, symbols: list[str]) -> None: ...
