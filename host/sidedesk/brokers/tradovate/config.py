"""A Tradovate account's typed config: its environment, its hosts and its API credentials, built
from the vault entry and the host settings by `config_from`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sidedesk.brokers.common import Settings, origin
from sidedesk.brokers.tradovate.protocol.messages import Credentials
from sidedesk.domain import BrokerError
from sidedesk.vault.entries import TradovateEntry, reveal


@dataclass(frozen=True, slots=True)
class Endpoints:
    rest: str  # e.g. https://demo.tradovateapi.com/v1
    ws: str  # trading / user data
    md: str  # market data


ENDPOINTS: dict[str, Endpoints] = {
    "demo": Endpoints(
        "https://demo.tradovateapi.com/v1",
        "wss://demo.tradovateapi.com/v1/websocket",
        "wss://md.tradovateapi.com/v1/websocket",
    ),
    "live": Endpoints(
        "https://live.tradovateapi.com/v1",
        "wss://live.tradovateapi.com/v1/websocket",
        "wss://md.tradovateapi.com/v1/websocket",
    ),
}


def endpoints_for(environment: str, overrides: Mapping[str, str] | None = None) -> Endpoints:
    o = dict(overrides or {})
    base = ENDPOINTS.get(environment)
    if base is None:
        if environment != "simulator":
            raise BrokerError(
                "invalid", f"unknown Tradovate environment {environment!r} (live, demo, simulator)"
            )
        missing = [k for k in ("rest", "ws", "md") if not o.get(k)]
        if missing:
            raise BrokerError("invalid", f"the simulator account needs URLs for {', '.join(missing)}")
        return Endpoints(o["rest"].rstrip("/"), o["ws"], o["md"])
    return Endpoints(o.get("rest", base.rest).rstrip("/"), o.get("ws", base.ws), o.get("md", base.md))


def simulator_urls(base: str) -> dict[str, str]:
    """The Tradovate simulator serves REST (`/v1`), the trading socket and the md socket on one port."""
    http, ws = origin(base)
    return {"rest": f"{http}/v1", "ws": f"{ws}/v1/websocket", "md": f"{ws}/md/v1/websocket"}


@dataclass(frozen=True, slots=True)
class TradovateConfig:
    """One account: where it trades and with which API credentials (kept out of repr)."""

    environment: str  # live | demo | simulator
    endpoints: Endpoints
    credentials: Credentials = field(repr=False)
    account: str | None = None  # the account to trade, by id or name (None: the login's lowest id)


def config_from(entry: TradovateEntry, settings: Settings) -> TradovateConfig:
    urls = None
    if entry.environment == "simulator":
        urls = simulator_urls(settings.simulator("tradovate", "`sidedesk sim tradovate`"))
    creds = Credentials(
        name=entry.username,
        password=reveal(entry, "password") or "",
        app_id=entry.app_id or "Sidedesk",
        cid=entry.cid,
        sec=reveal(entry, "sec") or "",
    )
    return TradovateConfig(entry.environment, endpoints_for(entry.environment, urls), creds)
