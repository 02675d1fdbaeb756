"""The host's factory maps an Alpaca vault entry (+ the configured simulator URL) to the adapter."""

from __future__ import annotations

import pytest

from sidedesk.brokers.alpaca.adapter import AlpacaBroker
from sidedesk.brokers.alpaca.config import simulator_urls as alpaca_urls
from sidedesk.brokers.registry import SUPPORTED, build_broker
from sidedesk.domain import BrokerError
from sidedesk.vault.entries import parse_entry
from tests.support.eventlog import EventLog

ENTRY = {"broker": "alpaca", "name": "paper", "environment": "simulator",
         "key_id": "PKTEST000000000001", "secret_key": "test-secret-0000000000000000"}  # fmt: skip


def test_simulator_urls() -> None:
    assert alpaca_urls("http://127.0.0.1:8701") == {
        "rest": "http://127.0.0.1:8701",
        "stream": "ws://127.0.0.1:8701/stream",
        "data": "ws://127.0.0.1:8701/v2/iex",
    }
    with pytest.raises(BrokerError, match="must look like"):
        alpaca_urls("127.0.0.1:8701")


async def test_entries_build_adapters() -> None:
    assert "alpaca" in SUPPORTED
    b = build_broker(parse_entry(ENTRY), EventLog(), {"alpaca": "http://127.0.0.1:8701"})
    assert isinstance(b, AlpacaBroker) and b.endpoints.stream == "ws://127.0.0.1:8701/stream"
    paper = build_broker(parse_entry({**ENTRY, "environment": "demo"}), EventLog(), {})
    assert isinstance(paper, AlpacaBroker) and paper.endpoints.rest == "https://paper-api.alpaca.markets"
    with pytest.raises(BrokerError, match="no simulator is configured for alpaca"):
        build_broker(parse_entry(ENTRY), EventLog(), {})
    for made in (b, paper):
        assert isinstance(made, AlpacaBroker)
        await made.close()
