"""The confirmation threshold on a Tradovate account, through the real host process (#21), with the
settings' defaults: measured before, every broker defaulted to 5 000 "USDT", so 1 MES (about
30 000 USD of notional) always asked and the buy hotkey was refused outright. Now the threshold is
the broker's own (150 000 USD for futures), 1 MES from a hotkey goes at once, and an order above it
from a hotkey is answered "confirm" (nothing sent) until it comes back with `confirmed`."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from sidedesk_sim.tradovate.instruments import front_name
from tests.integration.asl.harness import Desk
from tests.integration.tradovate.test_host import MES, SimThread, start_tv_desk

ES = front_name("ES")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread().start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def desk(sim: SimThread, tmp_path: Path) -> Iterator[Desk]:
    config = {"watchlist": [MES, ES], "asl_enabled": False}  # no "risk": the defaults are what is tested
    d = start_tv_desk(tmp_path, sim, config, Desk)
    try:
        snaps = d.subscribe()  # a quote pushed before the subscription is in its snapshot
        for symbol, q in (snaps.get("quotes") or {}).get("quotes", {}).items():
            if q.get("mark"):
                d.marks[symbol] = Decimal(q["mark"])
        for symbol in (MES, ES):
            try:
                d.wait_mark(symbol, 5)
            except AssertionError:  # no tick since the subscription (volatility 0): make one
                sim.call(lambda s=symbol: sim.sim.set_price(s, Decimal("6000.25")))
                d.wait_mark(symbol)
        yield d
    finally:
        d.stop()


def test_one_mes_from_the_hotkey_goes_at_once(sim: SimThread, desk: Desk) -> None:
    ticket = {"symbol": MES, "type": "MARKET", "quantity": "1"}
    pv = desk.call("order.preview", {"ticket": {**ticket, "side": "BUY"}})
    assert pv["needs_confirmation"] is False and Decimal(pv["notional"]) > 25_000  # ~30 000 USD
    out = desk.call("command", {"name": "buy", "ticket": ticket})
    assert out["result"]["status"] == "placed", out
    assert out["result"]["client_id"].startswith("sdh")  # a hotkey's order


def test_three_es_from_the_hotkey_ask_then_go_when_confirmed(sim: SimThread, desk: Desk) -> None:
    ticket = {"symbol": ES, "type": "MARKET", "quantity": "3"}
    before = len(sim.orders())
    ask = desk.call("command", {"name": "buy", "ticket": ticket})
    result = ask["result"]
    assert result["status"] == "confirm" and result["order_id"] is None, ask
    assert result["currency"] == "USD" and Decimal(result["notional"]) > 150_000
    assert "150000.00 USD" in result["reason"] and "USDT" not in result["reason"]
    assert "confirm" in ask["summary"]
    assert len(sim.orders()) == before  # nothing reached the exchange
    done = desk.call("command", {"name": "buy", "ticket": ticket, "confirmed": True})
    assert done["result"]["status"] == "placed" and done["result"]["quantity"] == "3", done
    assert len(sim.orders()) == before + 1


def test_the_ticket_names_the_contract_and_its_expiry(desk: Desk) -> None:
    rows = {r["symbol"]: r for r in desk.call("market.symbols")["symbols"]}
    mes = rows[MES]
    assert mes["contract"] == MES and mes["quantity_unit"] == "contracts"
    assert len(mes["expires"]) == 10 and mes["expires"][:3] == "202"  # e.g. 2026-12-18
