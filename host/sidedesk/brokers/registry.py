"""The broker registry: which adapter a vault entry builds, one row per broker.

Simulator accounts get their URLs from the host settings (`simulators.binance` = the simulator's
base URL, e.g. `http://127.0.0.1:8765`), so a vault entry never carries a machine-specific address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sidedesk.brokers.common import Settings, origin
from sidedesk.domain import Broker, BrokerError, EventSink
from sidedesk.vault.entries import (
    AlpacaEntry,
    AnyEntry,
    BinanceEntry,
    TradovateEntry,
    VolumetricaEntry,
    reveal,
)


def alpaca_urls(base: str) -> dict[str, str]:
    """The Alpaca simulator serves REST (`/v2`), the trading stream and market data on one port."""
    http, ws = origin(base)
    return {"rest": http, "stream": f"{ws}/stream", "data": f"{ws}/v2/iex"}


def _simulator(simulators: Mapping[str, str], broker: str, start: str) -> str:
    return Settings(simulators).simulator(broker, start)


def _volumetrica(entry: AnyEntry, sink: EventSink, sims: Mapping[str, str], extra: Options) -> Broker:
    from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker  # deferred: keeps `native` light
    from sidedesk.brokers.volumetrica.config import config_from

    assert isinstance(entry, VolumetricaEntry)
    return VolumetricaBroker(entry.id, config_from(entry, Settings(sims, extra.volumetrica_contracts)), sink)


def _alpaca(entry: AnyEntry, sink: EventSink, sims: Mapping[str, str], extra: Options) -> Broker:
    from sidedesk.brokers.alpaca.adapter import AlpacaBroker  # deferred: keeps `native` start light

    assert isinstance(entry, AlpacaEntry)
    ap: dict[str, Any] = {
        "key_id": reveal(entry, "key_id"),
        "secret_key": reveal(entry, "secret_key"),
        "environment": entry.environment,  # demo = paper trading
    }
    if entry.environment == "simulator":
        ap["urls"] = alpaca_urls(_simulator(sims, "alpaca", "`sidedesk sim alpaca`"))
    return AlpacaBroker.from_entry(entry.id, ap, sink)


def _tradovate(entry: AnyEntry, sink: EventSink, sims: Mapping[str, str], extra: Options) -> Broker:
    from sidedesk.brokers.tradovate.adapter import TradovateBroker  # deferred: keeps `native` start light
    from sidedesk.brokers.tradovate.config import config_from

    assert isinstance(entry, TradovateEntry)
    return TradovateBroker(entry.id, config_from(entry, Settings(sims)), sink)


def _binance(entry: AnyEntry, sink: EventSink, sims: Mapping[str, str], extra: Options) -> Broker:
    from sidedesk.brokers.binance.adapter import BinanceBroker  # deferred: keeps `native` start light
    from sidedesk.brokers.binance.config import config_from

    assert isinstance(entry, BinanceEntry)
    return BinanceBroker(entry.id, config_from(entry, Settings(sims)), sink)


@dataclass(frozen=True, slots=True)
class Options:
    """Per-broker settings beyond the vault entry."""

    volumetrica_contracts: Mapping[str, int] = field(default_factory=dict)


Builder = Callable[[AnyEntry, EventSink, Mapping[str, str], Options], Broker]

# one row per broker: the vault entry type it reads and how its adapter is built
REGISTRY: dict[type, Builder] = {
    BinanceEntry: _binance,
    TradovateEntry: _tradovate,
    VolumetricaEntry: _volumetrica,
    AlpacaEntry: _alpaca,
}
SUPPORTED = ("binance", "tradovate", "alpaca", "volumetrica")


def build_broker(
    entry: AnyEntry,
    sink: EventSink,
    simulators: Mapping[str, str],
    volumetrica_contracts: Mapping[str, int] | None = None,
) -> Broker:
    builder = REGISTRY.get(type(entry))
    if builder is None:
        raise BrokerError(
            "invalid",
            f"{entry.broker} accounts are not supported by this host yet (supported: {', '.join(SUPPORTED)})",
        )
    return builder(entry, sink, simulators, Options(volumetrica_contracts or {}))
