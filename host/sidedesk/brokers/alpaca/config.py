"""An Alpaca account's typed config: its environment, its hosts and its key, built from the vault
entry and the host settings by `config_from`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sidedesk.brokers.alpaca.protocol.messages import RequestError
from sidedesk.brokers.common import Settings, origin
from sidedesk.domain import BrokerError
from sidedesk.vault.entries import AlpacaEntry, reveal

ENDPOINTS: dict[str, dict[str, str]] = {
    # vault environment "demo" = Alpaca paper trading
    "demo": {
        "rest": "https://paper-api.alpaca.markets",
        "stream": "wss://paper-api.alpaca.markets/stream",
        "data": "wss://stream.data.alpaca.markets/v2/iex",
    },
    "live": {
        "rest": "https://api.alpaca.markets",
        "stream": "wss://api.alpaca.markets/stream",
        "data": "wss://stream.data.alpaca.markets/v2/iex",
    },
}


@dataclass(frozen=True, slots=True)
class Endpoints:
    rest: str  # base without /v2
    stream: str  # full trading-stream URL
    data: str  # full market-data URL


def endpoints_for(environment: str, overrides: dict[str, str] | None = None) -> Endpoints:
    o = dict(overrides or {})
    base = ENDPOINTS.get(environment)
    if base is None:
        if environment != "simulator":
            raise RequestError(f"unknown Alpaca environment {environment!r} (live, demo = paper, simulator)")
        missing = [k for k in ("rest", "stream", "data") if not o.get(k)]
        if missing:
            raise RequestError(f"the simulator account needs URLs for {', '.join(missing)}")
        base = {}
    return Endpoints(
        o.get("rest", base.get("rest", "")).rstrip("/"),
        o.get("stream", base.get("stream", "")),
        o.get("data", base.get("data", "")),
    )


def simulator_urls(base: str) -> dict[str, str]:
    """The Alpaca simulator serves REST (`/v2`), the trading stream and market data on one port."""
    http, ws = origin(base)
    return {"rest": http, "stream": f"{ws}/stream", "data": f"{ws}/v2/iex"}


@dataclass(frozen=True, slots=True)
class AlpacaConfig:
    """One account: where it trades and with which key (kept out of repr)."""

    environment: str  # live | demo (= paper) | simulator
    endpoints: Endpoints
    key_id: str = field(repr=False)
    secret: str = field(repr=False)


def config_from(entry: AlpacaEntry, settings: Settings) -> AlpacaConfig:
    urls: dict[str, str] = {}
    if entry.environment == "simulator":
        urls = simulator_urls(settings.simulator("alpaca", "`sidedesk sim alpaca`"))
    try:
        endpoints = endpoints_for(entry.environment, urls)
    except RequestError as exc:
        raise BrokerError("invalid", str(exc)) from exc
    return AlpacaConfig(
        entry.environment, endpoints, reveal(entry, "key_id") or "", reveal(entry, "secret_key") or ""
    )
