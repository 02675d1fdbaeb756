"""The broker registry: which adapter a vault entry builds, one row per broker.

A login with several accounts (Tradovate, Volumetrica) is built once per account: `account` is the
venue's account id the adapter trades (None: the venue's default, the choice before accounts could
be picked) and `link_id` the host's id for that account, stamped on its events.

Simulator accounts get their URLs from the host settings (`simulators.binance` = the simulator's
base URL, e.g. `http://127.0.0.1:8765`), so a vault entry never carries a machine-specific address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sidedesk.domain import Broker, BrokerError, EventSink
from sidedesk.vault.entries import (
    AlpacaEntry,
    AnyEntry,
    BinanceEntry,
    TradovateEntry,
    VolumetricaEntry,
    reveal,
)


def _origin(base: str) -> tuple[str, str]:
    """`http://127.0.0.1:PORT` -> ("http://127.0.0.1:PORT", "ws://127.0.0.1:PORT")."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BrokerError("invalid", f"simulator URL {base!r} must look like http://127.0.0.1:PORT")
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"


def binance_urls(base: str) -> dict[str, str]:
    """The Binance simulator serves REST, the WS API and every stream route on one port."""
    http, ws = _origin(base)
    return {"rest": http, "ws_api": f"{ws}/ws-fapi/v1", "stream": ws}


def tradovate_urls(base: str) -> dict[str, str]:
    """The Tradovate simulator serves REST (`/v1`), the trading socket and the md socket on one port."""
    http, ws = _origin(base)
    return {"rest": f"{http}/v1", "ws": f"{ws}/v1/websocket", "md": f"{ws}/md/v1/websocket"}


def alpaca_urls(base: str) -> dict[str, str]:
    """The Alpaca simulator serves REST (`/v2`), the trading stream and market data on one port."""
    http, ws = _origin(base)
    return {"rest": http, "stream": f"{ws}/stream", "data": f"{ws}/v2/iex"}


def _simulator(simulators: Mapping[str, str], broker: str, start: str) -> str:
    base = simulators.get(broker)
    if not base:
        raise BrokerError(
            "invalid",
            f"this account points at the simulator, but no simulator is configured for {broker} "
            f"(start one with {start})",
        )
    return base


def _volumetrica(entry: AnyEntry, sink: EventSink, sims: Mapping[str, str], extra: Options) -> Broker:
    from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker  # deferred: keeps `native` light

    assert isinstance(entry, VolumetricaEntry)
    vm: dict[str, Any] = {
        "platform_key": reveal(entry, "platform_key"),
        "login": entry.login,
        "password": reveal(entry, "password"),
        "environment": entry.environment,
        "keep_other_sessions": entry.keep_other_sessions,
    }
    if entry.environment == "simulator":
        vm["auth_url"] = _simulator(sims, "volumetrica", "`sidedesk sim volumetrica`")
    number: int | None = None
    if extra.account is not None:
        if not extra.account.isdigit():
            raise BrokerError("invalid", f"a Volumetrica account is a number, not {extra.account!r}")
        number = int(extra.account)
    return VolumetricaBroker.from_entry(
        extra.link_id or entry.id, vm, sink, contracts=extra.volumetrica_contracts, account_number=number
    )


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
    return AlpacaBroker.from_entry(extra.link_id or entry.id, ap, sink)


def _tradovate(entry: AnyEntry, sink: EventSink, sims: Mapping[str, str], extra: Options) -> Broker:
    from sidedesk.brokers.tradovate.adapter import TradovateBroker  # deferred: keeps `native` start light

    assert isinstance(entry, TradovateEntry)
    tv: dict[str, Any] = {
        "username": entry.username,
        "password": reveal(entry, "password"),
        "sec": reveal(entry, "sec"),
        "cid": entry.cid,
        "app_id": entry.app_id,
        "environment": entry.environment,
    }
    if entry.environment == "simulator":
        tv["urls"] = tradovate_urls(_simulator(sims, "tradovate", "`sidedesk sim tradovate`"))
    return TradovateBroker.from_entry(extra.link_id or entry.id, tv, sink, account_spec=extra.account)


def _binance(entry: AnyEntry, sink: EventSink, sims: Mapping[str, str], extra: Options) -> Broker:
    from sidedesk.brokers.binance.adapter import BinanceBroker  # deferred: keeps `native` start light

    assert isinstance(entry, BinanceEntry)
    spec: dict[str, Any] = {
        "api_key": reveal(entry, "api_key"),
        "secret": reveal(entry, "secret"),
        "private_key": reveal(entry, "private_key_pem"),
        # Binance calls its testnet "demo trading" now; both names reach the same hosts.
        "environment": "testnet" if entry.environment == "demo" else entry.environment,
    }
    if entry.environment == "simulator":
        spec["urls"] = binance_urls(_simulator(sims, "binance", "`sidedesk sim binance` or `sidedesk demo`"))
    return BinanceBroker.from_entry(extra.link_id or entry.id, spec, sink)


@dataclass(frozen=True, slots=True)
class Options:
    """Per-broker settings beyond the vault entry."""

    volumetrica_contracts: Mapping[str, int] = field(default_factory=dict)
    account: str | None = None  # the venue's account id to trade (None: the venue's default)
    link_id: str | None = None  # the host's id for that account (None: the entry's id)


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
    *,
    account: str | None = None,
    link_id: str | None = None,
) -> Broker:
    builder = REGISTRY.get(type(entry))
    if builder is None:
        raise BrokerError(
            "invalid",
            f"{entry.broker} accounts are not supported by this host yet (supported: {', '.join(SUPPORTED)})",
        )
    return builder(entry, sink, simulators, Options(volumetrica_contracts or {}, account, link_id))
