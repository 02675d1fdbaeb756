"""Binance environments (issue #21): every environment's hosts come from one family, so REST (the
stop check, the position mode, the open orders) and the WS API (orders, the listenKey) always
reach the same account. The old testnet set sent REST to `demo-fapi.binance.com` and the WS API
to `testnet.binancefuture.com`; this file fails on that code.

The families are worked out here, independently of the module under test."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sidedesk.brokers.binance.adapter import BinanceBroker
from sidedesk.brokers.binance.config import endpoints_for
from sidedesk.brokers.registry import build_broker
from sidedesk.domain import BrokerError
from sidedesk.vault.entries import parse_entry
from tests.support.eventlog import EventLog

KEY = "A" * 64
SECRET = "b" * 64


def family(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host.endswith(".binancefuture.com"):
        return "binancefuture.com"
    if host.startswith("demo-") and host.endswith(".binance.com"):
        return "demo-*.binance.com"
    assert host.endswith(".binance.com"), url
    return "binance.com"


def urls(environment: str) -> dict[str, str]:
    ep = endpoints_for(environment)
    out = {"rest": ep.rest, "ws_api": ep.ws_api, "stream": ep.stream}
    sapi = getattr(ep, "sapi", None)
    if sapi:
        out["sapi"] = sapi
    return out


@pytest.mark.parametrize("environment", ["live", "testnet", "demo"])
def test_no_environment_mixes_hosts(environment: str) -> None:
    found = {name: family(url) for name, url in urls(environment).items()}
    assert len(set(found.values())) == 1, f"{environment} mixes host families: {found}"


def test_each_environment_has_its_own_family_and_the_right_schemes() -> None:
    assert {family(u) for u in urls("live").values()} == {"binance.com"}
    assert {family(u) for u in urls("testnet").values()} == {"binancefuture.com"}
    for environment in ("live", "testnet", "demo"):
        u = urls(environment)
        assert u["rest"].startswith("https://") and u["ws_api"].startswith("wss://")
        assert u["stream"].startswith("wss://") and u["ws_api"].endswith("/ws-fapi/v1")


def test_the_documented_hosts() -> None:
    """Each URL as its source gives it (binance/binance-connector-python constants.py; Binance docs)."""
    assert urls("live") == {
        "rest": "https://fapi.binance.com",
        "ws_api": "wss://ws-fapi.binance.com/ws-fapi/v1",
        "stream": "wss://fstream.binance.com",
        "sapi": "https://api.binance.com",
    }
    assert urls("testnet") == {
        "rest": "https://testnet.binancefuture.com",
        "ws_api": "wss://testnet.binancefuture.com/ws-fapi/v1",
        "stream": "wss://fstream.binancefuture.com",
    }
    # Demo Trading keys are served by the testnet's hosts (no demo-* host serves the WS API)
    assert urls("demo") == urls("testnet")


@pytest.mark.parametrize("environment", ["live", "testnet", "demo"])
def test_the_vault_entry_chooses_the_set(environment: str) -> None:
    """Entries saved before this change (environment "testnet" or "demo") still parse and build."""
    entry = parse_entry(
        {
            "broker": "binance",
            "name": "x",
            "environment": environment,
            "auth": "hmac",
            "api_key": KEY,
            "secret": SECRET,
        }
    )
    broker = build_broker(entry, EventLog(), {})
    assert isinstance(broker, BinanceBroker)
    ep = broker.session.endpoints
    assert (ep.rest, ep.ws_api, ep.stream) == tuple(
        urls(environment)[k] for k in ("rest", "ws_api", "stream")
    )


def test_the_simulator_reads_the_key_permissions_on_its_own_port() -> None:
    sim = {
        "rest": "http://127.0.0.1:9/",
        "ws_api": "ws://127.0.0.1:9/ws-fapi/v1",
        "stream": "ws://127.0.0.1:9",
    }
    ep = endpoints_for("simulator", sim)
    assert (ep.rest, ep.sapi) == ("http://127.0.0.1:9", "http://127.0.0.1:9")
    with pytest.raises(BrokerError, match="unknown Binance environment 'paper'"):
        endpoints_for("paper")
