"""The broker registry: one row per broker, from the vault entry type it reads to the function that
builds its typed config (`brokers/<name>/config.py`) and the adapter class that takes it
(`brokers/<name>/adapter.py`). Every broker has the same shape, so building any account is the
same two steps: `config_from(entry, settings)`, then `Adapter(link_id, config, sink)`.

A login with several accounts (Tradovate, Volumetrica) is built once per account: `account` is the
venue's account id the adapter trades (None: the venue's default, the choice before accounts could
be picked) and `link_id` the host's id for that account, stamped on its events.

Simulator accounts get their URLs from the host settings (`simulators.binance` = the simulator's
base URL, e.g. `http://127.0.0.1:8765`), so a vault entry never carries a machine-specific address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from importlib import import_module
from typing import Any, cast

from sidedesk.brokers.alpaca import config as alpaca
from sidedesk.brokers.binance import config as binance
from sidedesk.brokers.common import Settings
from sidedesk.brokers.tradovate import config as tradovate
from sidedesk.brokers.volumetrica import config as volumetrica
from sidedesk.domain import Broker, BrokerError, EventSink
from sidedesk.vault.entries import AlpacaEntry, AnyEntry, BinanceEntry, TradovateEntry, VolumetricaEntry

Adapter = Callable[[str, Any, EventSink], Broker]


@dataclass(frozen=True, slots=True)
class Row:
    name: str  # the broker, as vault entries and the `simulators` setting name it
    config: Callable[[Any, Settings], Any]  # the broker's `config_from(entry, settings)`
    adapter: str  # the adapter class in `sidedesk.brokers.<name>.adapter`

    def adapter_class(self) -> Adapter:
        # imported on first use: keeps `native` start light (aiohttp, websockets, protobuf)
        return cast(Adapter, getattr(import_module(f"sidedesk.brokers.{self.name}.adapter"), self.adapter))


REGISTRY: dict[type[AnyEntry], Row] = {
    BinanceEntry: Row("binance", binance.config_from, "BinanceBroker"),
    TradovateEntry: Row("tradovate", tradovate.config_from, "TradovateBroker"),
    AlpacaEntry: Row("alpaca", alpaca.config_from, "AlpacaBroker"),
    VolumetricaEntry: Row("volumetrica", volumetrica.config_from, "VolumetricaBroker"),
}
SUPPORTED = tuple(row.name for row in REGISTRY.values())


def build_broker(
    entry: AnyEntry,
    sink: EventSink,
    simulators: Mapping[str, str],
    volumetrica_contracts: Mapping[str, int] | None = None,
    *,
    account: str | None = None,
    link_id: str | None = None,
) -> Broker:
    row = REGISTRY.get(type(entry))
    if row is None:
        raise BrokerError(
            "invalid",
            f"{entry.broker} accounts are not supported by this host yet (supported: {', '.join(SUPPORTED)})",
        )
    config = row.config(entry, Settings(simulators, volumetrica_contracts or {}))
    if account is not None:
        if not hasattr(config, "account"):
            raise BrokerError("invalid", f"a {row.name} key has one account: no account to choose")
        config = replace(config, account=account)
    return row.adapter_class()(link_id or entry.id, config, sink)
