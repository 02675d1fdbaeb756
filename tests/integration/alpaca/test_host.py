"""Through the real host process (frames over pipes, as Chrome runs it): an Alpaca simulator
account in the vault, activated; a share-quantity ticket fills; the positions topic shows the
P&L at the stock's price; ASL places its hard stop and then moves it up (one atomic replace)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sidedesk.sim.alpaca import BUILTIN_KEY_ID, BUILTIN_SECRET
from tests.hostproc import HostProcess
from tests.integration.alpaca.simthread import SimThread

T = TypeVar("T")
PASSWORD = "correct horse battery staple 9"


class Host(HostProcess):
    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.latest: dict[str, Any] = {}
        self.raw: list[str] = []

    def read_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        frame = super().read_frame(timeout)
        self.raw.append(json.dumps(frame))
        if frame.get("type") == "event":
            self.latest[frame["topic"]] = frame["payload"]
        return frame

    def call(
        self, type_: str, payload: dict[str, Any] | None = None, timeout: float = 20.0
    ) -> dict[str, Any]:
        out = self.request(type_, payload, timeout)
        assert out.get("error") is None, f"{type_}: {out['error']}"
        ok: dict[str, Any] = out.get("ok") or {}
        return ok

    def until(self, probe: Callable[[], T | None], timeout: float = 10.0, what: str = "condition") -> T:
        deadline = time.monotonic() + timeout
        while True:
            self._buffered = [f for f in self._buffered if f.get("type") != "event"]
            with contextlib.suppress(TimeoutError):
                self.read_frame(0.05)
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def position(self, symbol: str) -> dict[str, Any] | None:
        rows = (self.latest.get("positions") or {}).get("positions", [])
        return next((p for p in rows if p["symbol"] == symbol), None)


@pytest.fixture(scope="module")
def st() -> Iterator[SimThread]:
    s = SimThread()
    yield s
    s.stop()


def asl_stops(st: SimThread) -> list[tuple[str, D]]:
    def read() -> list[tuple[str, D]]:
        return [(o.client_order_id, o.stop_price or D(0)) for o in st.sim.book.open_orders("main")
                if o.client_order_id.startswith("sda-AAPL-L")]  # fmt: skip

    out: list[tuple[str, D]] = st.run(read)
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
