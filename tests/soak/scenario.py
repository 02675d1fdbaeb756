"""Run one seeded scenario against a fresh simulator and the real host, then check the invariants.

The scripted trader behaves like a person: it never re-sends an order whose outcome is unknown
(it moves on), and it reads the exchange's state only through the host. Faults are injected
through the simulator's control plane (and, for a host crash, `kill -9`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sidedesk_sim.binance.sim import SimConfig
from tests.soak import invariants as inv
from tests.soak.hostdriver import Desk, HostError, write_config
from tests.soak.schedule import FAULTS, Step, plan
from tests.support.simthread import BinanceSimThread as SimThread
from tests.support.wait import eventually

# Error codes a trader may legitimately get back under faults; anything else is a violation.
EXPECTED_ERRORS = frozenset(
    {"unknown_outcome", "not_connected", "rate_limited", "rejected", "invalid", "auth"}
)
STOP_TYPES = frozenset({"STOP_MARKET", "TRAILING_STOP_MARKET", "STOP"})
CONVERGE_S = 15.0
# DESIGN.md: one watchdog period (0.5 s) plus one exchange round trip. The round trip here is the
# host's (loopback, Python) time to place a stop after it learns of a position: 0.25 s allowed.
ASL_WINDOW_S = 0.75
DAY_S = 24 * 3600.0


@dataclass
class Result:
    seed: int
    steps: list[Step]
    faults: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    corrections: int = 0
    seconds: float = 0.0


class ProtectionMonitor:
    """Samples the simulator's own account every 20 ms on its loop: which positions have no working
    stop covering them, and whether the host could act (its WS API connected, no fault in effect)."""

    def __init__(self, st: SimThread, account: str) -> None:
        self.st, self.account = st, account
        self.samples: list[inv.Sample] = []
        self.fault_in_effect = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        def go() -> None:
            self._task = asyncio.get_running_loop().create_task(self._run())

        self.st.on_loop(go)

    def stop(self) -> None:
        def halt() -> None:
            if self._task is not None:
                self._task.cancel()

        self.st.on_loop(halt)

    def unprotected(self) -> frozenset[tuple[str, str]]:
        eng = self.st.s.engine
        algos = eng.open_algo_orders(self.account)
        out = set()
        for p in eng.positions(self.account):
            if p.amount == 0:
                continue
            closing = "SELL" if p.amount > 0 else "BUY"
            covered = Decimal(0)
            whole = False
            for a in algos:
                if a.symbol != p.symbol or a.side.value != closing or a.type.value not in STOP_TYPES:
                    continue
                if a.position_side != p.position_side:
                    continue
                whole |= a.close_position
                covered += a.quantity
            if not whole and covered < abs(p.amount):
                out.add((p.symbol, p.position_side.value))
        return frozenset(out)

    async def _run(self) -> None:
        while True:
            # a ban (forced or earned) holds every request: not time the host could have acted in
            banned = self.st.s.limiter.blocking(self.st.s.now_ms())
            reachable = bool(self.st.s.connections) and not self.fault_in_effect and not banned
            self.samples.append(inv.Sample(time.monotonic(), self.unprotected(), reachable))
            await asyncio.sleep(0.02)


class Scenario:
    def __init__(
        self, seed: int, workdir: Path, *, asl: bool = True, steps: int = 10, faults: tuple[str, ...] = FAULTS
    ) -> None:
        self.seed = seed
        self.home = workdir / f"home-{seed}"
        self.asl = asl
        self.result = Result(seed, plan(seed, steps, faults))
        self.account = f"soak{seed}"
        self.st = SimThread(seed, SimConfig(tick_ms=50))
        self.desk: Desk | None = None
        self.account_id = ""
        self.monitor: ProtectionMonitor | None = None
        self._intended: set[str] = set()

    # -- host ------------------------------------------------------------------------------------
    @property
    def d(self) -> Desk:
        assert self.desk is not None
        return self.desk

    def _start_host(self, first: bool, ident: dict[str, str] | None = None) -> None:
        self.desk = Desk(self.home)
        if first:
            assert ident is not None
            self.account_id = self.d.create_account(ident["apiKey"], ident["secret"])
            self.d.activate(self.account_id)
        else:  # a restart: unlocking the vault reconnects the account used last
            self.d.unlock()
            self.d.wait_connected(20)

    def _settle(self) -> None:
        """Bounded wait for the faults to be consumed and the host's account connected again."""

        def quiet() -> bool:
            active = self.st.control("GET", "/faults")
            return not active and bool(self.st.s.connections)

        with contextlib.suppress(AssertionError):
            eventually(quiet, 3.0, "faults consumed")
        self.st.clear_faults()
        # a forced 418 still waiting would otherwise be served later as a 120 s ban
        self.st.control("POST", "/rate-limits", {"clear": True, "ban_ms": 120_000})
        with contextlib.suppress(AssertionError, HostError, TimeoutError):
            self.d.wait_connected(10)

    # -- steps -------------------------------------------------------------------------------------
    def _act(self, step: Step) -> None:
        r, a = self.result, step.args
        r.actions[step.kind] += 1
        try:
            if step.kind in ("open", "limit"):
                if step.kind == "open":
                    reply = self.d.market(a["side"], a["qty"], a["symbol"])
                else:
                    mark = Decimal(self.st.control("GET", "/market", {"symbol": a["symbol"]})["mark"])
                    away = Decimal("0.97") if a["side"] == "BUY" else Decimal("1.03")
                    reply = self.d.limit(
                        a["side"], a["qty"], str((mark * away).quantize(Decimal("0.1"))), a["symbol"]
                    )
                if reply.get("status") == "placed":
                    r.acked.append(reply["client_id"])
            elif step.kind == "close":
                rows = [
                    p
                    for p in self.d.topics("positions")["positions"]["positions"]
                    if p["symbol"] == a["symbol"]
                ]
                if rows:
                    side = rows[0]["position_side"]
                    body = {"symbol": a["symbol"], "position_side": side, "fraction": a["fraction"]}
                    reply = self.d.call("position.close", body)
                    r.acked.append(reply["client_id"])
            elif step.kind == "cancel":
                rows = [o for o in self.d.topics("orders")["orders"]["orders"] if not o["conditional"]]
                if rows:
                    o = rows[int(a["pick"] * len(rows))]
                    self.d.call("order.cancel", {"symbol": o["symbol"], "order_id": o["order_id"]})
            elif step.kind == "cancel_all":
                self.d.call("orders.cancel_all", {})
            elif step.kind == "flatten":
                self.d.call("flatten", {}, timeout=30)
            elif step.kind == "price":
                mark = Decimal(self.st.control("GET", "/market", {"symbol": a["symbol"]})["last"])
                new = mark * (1 + Decimal(a["move_bp"]) / 10_000)
                self.st.price(a["symbol"], str(new.quantize(Decimal("0.01"))))
        except HostError as exc:
            r.errors[exc.code] += 1
            if exc.code not in EXPECTED_ERRORS:
                r.violations.append(f"{step.kind}: unexpected error {exc.code}: {exc.message}")
        except (TimeoutError, EOFError) as exc:
            r.violations.append(f"{step.kind}: the host did not answer ({exc})")

    def _inject(self, step: Step) -> None:
        st, a = self.st, step.args
        self.result.faults[step.kind] += 1
        if self.monitor is not None:
            self.monitor.fault_in_effect = True
        if step.kind == "drop_at_method":
            st.fault("drop_at_method", a["method"])
        elif step.kind == "drop_after_frames":
            st.fault("drop_after_frames", a["target"], frames=a["frames"])
        elif step.kind == "disconnect":
            st.disconnect(a["target"])
        elif step.kind == "lose_reply":
            st.fault("lose_reply", a["method"])
        elif step.kind == "duplicate_events":
            st.fault("duplicate_user_events", "user_events", count=a["count"])
        elif step.kind == "reorder_events":
            st.fault("reorder_user_events", "user_events", count=a["count"])
        elif step.kind == "delay_events":
            st.fault("delay", "user_events", ms=a["ms"])
        elif step.kind == "clock_skew":
            st.skew(a["ms"])
        elif step.kind == "rate_limit":
            st.control("POST", "/rate-limits", {"force": [a["status"]], "ban_ms": a["ban_ms"]})
        elif step.kind == "listenkey_expiry":
            st.control("POST", "/listen-keys/expire", {"account": self.account})
        elif step.kind == "rotation":  # every connection reaches the server's maximum age now
            st.set_max_connection_age(0.5)
            with contextlib.suppress(AssertionError):
                eventually(lambda: not st.s.connections, 3.0, "rotation")
            st.set_max_connection_age(DAY_S)
        elif step.kind == "host_kill":
            self.d.kill9()
            self._check_journal()  # what the crashed host acknowledged must be on disk already
            self._start_host(first=False)

    def _after_fault(self, step: Step) -> None:
        if step.kind not in ("duplicate_events", "reorder_events", "delay_events"):
            self._settle()
        elif self.monitor is not None:
            self.monitor.fault_in_effect = False

    # -- invariants ----------------------------------------------------------------------------------
    def _check_journal(self) -> None:
        path = self.home / "data" / "journal.sqlite3"
        candidates = [path] if path.exists() else sorted(self.home.rglob("journal*.sqlite*"))
        db_path = next((p for p in candidates if p.suffix in (".sqlite3", ".sqlite", ".db")), None)
        if db_path is None:
            self.result.violations.append(f"no journal file under {self.home}")
            return
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
            rows = [{"kind": k, "client_id": c} for k, c in db.execute("SELECT kind, client_id FROM journal")]
        self.result.violations += inv.journal_gaps(self.result.acked, rows)
        self._intended = {str(r["client_id"]) for r in rows if r["kind"] == "intent" and r["client_id"]}

    def _converge(self) -> None:
        last: list[str] = []

        def equal() -> bool:
            nonlocal last
            truth = inv.Truth.of(self.st.truth(self.account))
            last = inv.state_diff(self.d.topics("positions", "orders", "account"), truth, self.account_id)
            return not last

        try:
            eventually(equal, CONVERGE_S, "host state = exchange state", every=0.2)
        except AssertionError:
            self.result.violations += [f"after {CONVERGE_S} s: {d}" for d in last]

    def run(self) -> Result:
        t0 = time.monotonic()
        r = self.result
        self.home.mkdir(parents=True, exist_ok=True)
        with self.st:
            ident = self.st.new_account(self.account)
            write_config(self.home, self.st.rest_url, asl_enabled=self.asl)
            try:
                self._start_host(first=True, ident=ident)
                if self.asl:
                    self.monitor = ProtectionMonitor(self.st, self.account)
                    self.monitor.start()
                for step in r.steps:
                    if step.is_fault:
                        self._inject(step)
                    else:
                        self._act(step)
                        if step.kind in ("open", "close", "flatten") and self.monitor is not None:
                            self.monitor.fault_in_effect = False
                    if step.is_fault:
                        self._after_fault(step)
                        if self.monitor is not None:
                            self.monitor.fault_in_effect = False
                self.st.clear_faults()
                self._converge()
                if self.monitor is not None:
                    self.monitor.stop()
                    r.violations += inv.unprotected_spans(self.monitor.samples, ASL_WINDOW_S)
                r.violations += inv.duplicate_orders(self.st.order_log(self.account))
                r.corrections = sum(1 for e in self.d.logs if "corrected" in str(e.get("message", "")))
                self.d.kill9()
                self._check_journal()
                r.violations += inv.phantom_orders(self.st.order_log(self.account), self._intended)
            except Exception as exc:
                r.violations.append(f"scenario crashed: {type(exc).__name__}: {exc}")
            finally:
                if self.desk is not None and self.desk.proc.poll() is None:
                    self.desk.kill9()
        r.seconds = time.monotonic() - t0
        return r


def run_scenario(
    seed: int, workdir: Path, *, asl: bool = True, steps: int = 10, faults: tuple[str, ...] = FAULTS
) -> Result:
    return Scenario(seed, workdir, asl=asl, steps=steps, faults=faults).run()


def describe(r: Result) -> dict[str, Any]:
    return {
        "seed": r.seed,
        "seconds": round(r.seconds, 2),
        "faults": dict(r.faults),
        "violations": r.violations,
    }
