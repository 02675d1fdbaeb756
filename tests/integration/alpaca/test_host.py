"""Through the real host process (frames over pipes, as Chrome runs it): an Alpaca simulator
account in the vault, activated; a share-quantity ticket fills; the positions topic shows the
P&L at the stock's price; ASL places its hard stop and then moves it up (one atomic replace)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import TypeVar

import pytest

from sidedesk_sim.alpaca import BUILTIN_KEY_ID, BUILTIN_SECRET
from tests.hostproc import TopicHost
from tests.integration.alpaca.simthread import SimThread

T = TypeVar("T")
PASSWORD = "correct horse battery staple 9"


Host = TopicHost


@pytest.fixture(scope="module")
def st() -> Iterator[SimThread]:
    s = SimThread()
    yield s
    s.stop()


def asl_stops(st: SimThread) -> list[tuple[str, D]]:
    def read() -> list[tuple[str, D]]:
        return [(o.client_order_id, o.stop_price or D(0)) for o in st.sim.book.open_orders("main")
                if o.client_order_id.startswith("sda-AAPL-L")]  # fmt: skip

    out: list[tuple[str, D]] = st.on_loop(read)
    return out


def test_trade_a_stock_with_asl_through_the_host(st: SimThread, tmp_path: Path) -> None:
    st.price("AAPL", "200")
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    config = {
        "vault_kdf": {"memory_kib": 64, "iterations": 1, "lanes": 1},
        "watchlist": ["AAPL"],
        "risk": {"max_order_notional": None, "max_position_notional": None, "max_orders_per_minute": 10_000,
                 "confirm_above_notional": None},
        "asl_enabled": True,
        "simulators": {"alpaca": st.sim.base_url},
    }  # fmt: skip
    (home / "config" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    host = Host(home)
    try:
        host.call("vault.create", {"password": PASSWORD})
        entry = {"broker": "alpaca", "name": "paper (simulator)", "environment": "simulator",
                 "key_id": BUILTIN_KEY_ID, "secret_key": BUILTIN_SECRET}  # fmt: skip
        account_id = host.call("vault.put", {"entry": entry})["entry"]["id"]
        host.call("accounts.activate", {"account_id": account_id}, timeout=30)
        host.call("subscribe", {"topics": ["positions", "orders", "quotes", "account", "asl"]})
        st.price("AAPL", "200.00")
        host.until(lambda: (host.latest.get("quotes") or {}).get("quotes", {}).get("AAPL", {}).get("mark"),
                   what="an AAPL price")  # fmt: skip

        placed = host.call("order.place", {"ticket": {"symbol": "AAPL", "side": "BUY", "type": "MARKET",
                                                      "quantity": "10"}, "source": "panel"})  # fmt: skip
        assert placed["status"] == "placed" and D(placed["quantity"]) == 10
        pos = host.until(lambda: host.position("AAPL"), what="the AAPL position")
        assert D(pos["quantity"]) == 10
        entry_price = D(pos["entry"])

        # ASL: the hard stop 2 % under the entry, for the whole position, on the exchange
        hard = host.until(lambda: asl_stops(st), what="the ASL hard stop")
        assert len(hard) == 1 and hard[0][0].startswith("sda-AAPL-L0")
        assert abs(hard[0][1] - entry_price * D("0.98")) <= D("0.01")

        st.price("AAPL", "204.00")  # +2 %: level 2, trailing 1.5 % under the best price (software trail)
        moved = host.until(
            lambda: [s for s in asl_stops(st) if not s[0].startswith("sda-AAPL-L0")], what="the stop moved up"
        )
        assert len(asl_stops(st)) == 1, "one stop holds the shares at any time (moved by replace)"
        assert moved[0][1] > hard[0][1]

        pnl = host.until(
            lambda: (p := host.position("AAPL")) and p["mark"] and D(p["mark"]) >= 203 and p,
            what="P&L at 204",
        )
        assert D(pnl["unrealized_pnl"]) == (D(pnl["mark"]) - entry_price) * 10
        assert not any(BUILTIN_SECRET in frame for frame in host.raw)
    except BaseException:
        print("ASL stops:", asl_stops(st))
        print("asl topic:", json.dumps(host.latest.get("asl"))[:2000])
        print(host.log_text()[-4000:])
        raise
    finally:
        host.stop()
    assert BUILTIN_SECRET not in (home / "logs" / "host.log").read_text(encoding="utf-8")
