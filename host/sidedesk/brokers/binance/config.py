"""A Binance account's typed config: its environment, its hosts and its key, built from the vault
entry and the host settings by `config_from`.

Binance USDⓈ-M hosts per environment: one family of hosts each, never a mix (issue #21).

Every request of an account (REST checks, WS API orders, the listenKey, the streams) must reach
the same Binance backend: if REST read one account and the WS API traded another, every order
would fail, or the stop check (REST) would miss the stops placed over the WS API and the ASL
watchdog would place duplicates. So each environment takes all its hosts from one family.

Sources disagree on the testnet (binance.md §1, §11.9 and its late-2026 update):
- the official SDK's constants (binance/binance-connector-python
  `common/src/binance_common/constants.py`) give one complete testnet set, all on
  `*.binancefuture.com`; their `..._REST_API_DEMO_URL` is `https://demo-fapi.binance.com`, but
  they name no demo WS API or demo stream host;
- Binance's docs name `demo-fapi.binance.com` for testnet REST but `testnet.binancefuture.com` for
  the testnet WS API (developers.binance.com/docs/derivatives/usds-margined-futures/
  websocket-api-general-info): the old, mixed set;
- Binance's API channel lists Demo Trading's USDⓈ-M hosts as `demo-fapi.binance.com` with
  `fstream.binancefuture.com` and `testnet.binancefuture.com/ws-fapi/v1`
  (quoted in github.com/sieblyio/binance/issues/593): Demo Trading accounts are served by the
  `binancefuture.com` hosts, and no `demo-*` host serves the WS API;
- NautilusTrader names `BINANCE_FUTURES_DEMO_HTTP_URL = "https://testnet.binancefuture.com"`
  ("demo, same as futures testnet"; nautilustrader.io/docs/core-nightly/nautilus_binance/common/
  consts/constant.BINANCE_FUTURES_DEMO_HTTP_URL.html) and, in a later version,
  `wss://demo-fstream.binance.com/ws` for demo streams; ccxt's `enableDemoTrading` switches REST to
  `demo-fapi`. None of them names a demo WS API host.

Choice: `testnet` and `demo` (Binance's "Demo Trading", the keys made on demo.binance.com) use the
one complete set that includes a WS API host, the SDK's testnet set on `binancefuture.com`.
`demo-fapi.binance.com` is not used: it has no WS API beside it, so using it for REST is what
mixed the hosts. Live uses `*.binance.com` from the docs. A unit test
(tests/unit/binance/test_environments.py) fails if any environment mixes families.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sidedesk.brokers.common import Settings, origin
from sidedesk.domain import BrokerError
from sidedesk.vault.entries import BinanceEntry, reveal


@dataclass(frozen=True, slots=True)
class Endpoints:
    rest: str  # e.g. https://fapi.binance.com
    ws_api: str  # e.g. wss://ws-fapi.binance.com/ws-fapi/v1
    stream: str  # root; /public, /market, /private are appended
    # where the key's permissions are read (GET /sapi/v1/account/apiRestrictions); None where the
    # environment has no /sapi endpoints (the futures testnet)
    sapi: str | None = None


LIVE = Endpoints(
    # "The base endpoint is: https://fapi.binance.com"
    # (developers.binance.com/docs/derivatives/usds-margined-futures/general-info)
    rest="https://fapi.binance.com",
    # "The base endpoint is: wss://ws-fapi.binance.com/ws-fapi/v1"
    # (developers.binance.com/docs/derivatives/usds-margined-futures/websocket-api-general-info)
    ws_api="wss://ws-fapi.binance.com/ws-fapi/v1",
    # routed /public, /market, /private since 2026-04-23 (developers.binance.com/docs/derivatives/
    # usds-margined-futures/websocket-market-streams/Important-WebSocket-Change-Notice)
    stream="wss://fstream.binance.com",
    # "GET /sapi/v1/account/apiRestrictions" on the Wallet API, https://api.binance.com
    # (developers.binance.com/docs/wallet/account/api-key-permission)
    sapi="https://api.binance.com",
)

TESTNET = Endpoints(
    # DERIVATIVES_TRADING_USDS_FUTURES_REST_API_TESTNET_URL (binance/binance-connector-python
    # common/src/binance_common/constants.py); NautilusTrader BINANCE_FUTURES_USD_TESTNET_HTTP_URL
    rest="https://testnet.binancefuture.com",
    # DERIVATIVES_TRADING_USDS_FUTURES_WS_API_TESTNET_URL (same file); "The base endpoint for
    # testnet is: wss://testnet.binancefuture.com/ws-fapi/v1" (websocket-api-general-info)
    ws_api="wss://testnet.binancefuture.com/ws-fapi/v1",
    # DERIVATIVES_TRADING_USDS_FUTURES_WS_STREAMS_TESTNET_URL (same file); NautilusTrader
    # BINANCE_FUTURES_USD_TESTNET_WS_URL = "wss://fstream.binancefuture.com/ws"
    stream="wss://fstream.binancefuture.com",
    sapi=None,  # the futures testnet serves no /sapi (the key's permissions cannot be read there)
)

# Demo Trading: the same backend and the same hosts as the testnet (see the module docstring:
# sieblyio/binance#593 quoting Binance's API channel; NautilusTrader "demo, same as futures testnet").
DEMO = TESTNET

ENDPOINTS: dict[str, Endpoints] = {"live": LIVE, "testnet": TESTNET, "demo": DEMO}
NAMES = ("live", "testnet", "demo", "simulator")


def family(url: str) -> str:
    """The host family a URL belongs to: `binance.com`, `demo.binance.com` (the `demo-*` hosts),
    `binancefuture.com`, or the host itself (a simulator or an override)."""
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith(".binancefuture.com"):
        return "binancefuture.com"
    if host.endswith(".binance.com"):
        return "demo.binance.com" if host.startswith("demo-") else "binance.com"
    return host


def families(ep: Endpoints) -> set[str]:
    urls = [ep.rest, ep.ws_api, ep.stream] + ([ep.sapi] if ep.sapi else [])
    return {family(u) for u in urls}


def endpoints_for(environment: str, overrides: Mapping[str, str] | None = None) -> Endpoints:
    """Base URLs for an environment; the simulator (or any override) supplies `rest`, `ws_api`,
    `stream` (and optionally `sapi`, which defaults to `rest`: the simulator serves both)."""
    o = dict(overrides or {})
    base = ENDPOINTS.get(environment)
    if base is None:
        if environment != "simulator":
            raise BrokerError("invalid", f"unknown Binance environment {environment!r} ({', '.join(NAMES)})")
        missing = [k for k in ("rest", "ws_api", "stream") if not o.get(k)]
        if missing:
            raise BrokerError("invalid", f"the simulator account needs URLs for {', '.join(missing)}")
        rest = o["rest"].rstrip("/")
        return Endpoints(rest, o["ws_api"], o["stream"].rstrip("/"), (o.get("sapi") or rest).rstrip("/"))
    return Endpoints(
        o.get("rest", base.rest).rstrip("/"),
        o.get("ws_api", base.ws_api),
        o.get("stream", base.stream).rstrip("/"),
        o.get("sapi", base.sapi),
    )


def simulator_urls(base: str) -> dict[str, str]:
    """The Binance simulator serves REST, the WS API and every stream route on one port."""
    http, ws = origin(base)
    return {"rest": http, "ws_api": f"{ws}/ws-fapi/v1", "stream": ws}


@dataclass(frozen=True, slots=True)
class BinanceConfig:
    """One account: where it trades and with which key (the secrets stay out of repr)."""

    environment: str  # live | testnet | simulator
    endpoints: Endpoints
    api_key: str = field(repr=False)
    secret: str = field(repr=False)  # the HMAC secret, or an Ed25519/RSA PKCS#8 PEM private key


def config_from(entry: BinanceEntry, settings: Settings) -> BinanceConfig:
    # Binance calls its testnet "demo trading" now; both names reach the same hosts.
    environment = "testnet" if entry.environment == "demo" else entry.environment
    urls = None
    if entry.environment == "simulator":
        urls = simulator_urls(settings.simulator("binance", "`sidedesk sim binance` or `sidedesk demo`"))
    secret = reveal(entry, "private_key_pem") or reveal(entry, "secret") or ""
    return BinanceConfig(
        environment, endpoints_for(environment, urls), reveal(entry, "api_key") or "", secret
    )
