"""The `Broker` protocol: what every adapter implements. Core and app code see only this."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from sidedesk.domain.events import AccountSnapshot, OrderEvent
from sidedesk.domain.instruments import Capabilities, InstrumentRules
from sidedesk.domain.orders import OrderAck, OrderRequest, Side


@dataclass(frozen=True, slots=True)
class BrokerAccount:
    """One account of a broker login (a Tradovate or Volumetrica login holds several: evaluation,
    funded, one per prop firm). `id` is the venue's own id, the value a vault entry remembers;
    `name` is what the venue shows the trader (Tradovate's accountSpec, Volumetrica's header)."""

    id: str
    name: str
    kind: str = ""  # e.g. "Evaluation", "Funded", "Customer": what the venue calls the account

    @property
    def label(self) -> str:
        """e.g. "Evaluation — APEX-1234" (the kind only when the venue names one)."""
        return f"{self.kind} — {self.name}" if self.kind else self.name


@runtime_checkable
class Broker(Protocol):
    """One connected broker account. Events go to the sink given at construction."""

    broker: str  # "binance", "tradovate", ...
    account_id: str
    capabilities: Capabilities

    async def connect(self) -> None:
        """Open every connection, sync time, load instruments, start streams; raise BrokerError."""
        ...

    def accounts(self) -> tuple[BrokerAccount, ...]:
        """Every account of the login, the traded one included (known once connected). A login
        with one account (a Binance or Alpaca key) lists that one."""
        ...

    def trading_account(self) -> BrokerAccount | None:
        """The account this adapter trades on: the one it was built for, or the venue's default."""
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
