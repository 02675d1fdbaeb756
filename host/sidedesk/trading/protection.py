"""The shell around the pure ASL engine for one broker account.

It feeds the engine the account's position and order events, mark ticks and time (a 100 ms
timer tick and the 500 ms watchdog over the desk's live orders and positions), and carries out
the commands it returns: place a stop, cancel a stop, close a position. Each command's outcome
goes back in as a value (placed, rejected, cancelled, cancel failed), so every decision stays
in the pure engine and can be replayed in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from sidedesk.core.asl import (
    WATCHDOG_PERIOD_MS,
    AslEngine,
    AslEvent,
    AslProfile,
    CancelDone,
    CancelFailed,
    CancelStop,
    ClosePosition,
    Notify,
    Output,
    Phase,
    PlaceAcked,
    PlaceRejected,
    PlaceStop,
    PositionKey,
    watchdog,
)
from sidedesk.core.views import AslInfo
from sidedesk.domain import Broker, BrokerError, OrderEvent, PositionEvent, PositionSide

log = logging.getLogger(__name__)

TICK_S = 0.1
# While the user stream is up, events keep the view exact; but an event can be late or lost, so
# every `reconcile_s` (host setting, default 2 s) the stops of protected symbols are also read from
# the exchange itself: on Binance openAlgoOrders with a symbol, weight 1, i.e. 30/min per symbol
# of the 2 400 weight a minute allows.
# Binance: "Order would immediately trigger" (-2021) and its algo-service twin (-4142)
IMMEDIATE_TRIGGER_CODES = (-2021, -4142)
UNKNOWN_ORDER_CODES = (-2011, -2013)


def now_ms() -> int:
    return int(time.time() * 1000)


def level_name(ev: AslEvent) -> str:
    """What the positions table shows: hard, 1..n, safety or breakeven (see core/asl/ids.py tags)."""
    if ev.stop_tag == "S":
        return "safety"
    if ev.stop_tag == "E":
        return "breakeven"
    return "hard" if ev.level == 0 else str(ev.level)


def asl_payload(ev: AslEvent) -> dict[str, Any]:
    """The `asl` topic's payload for one transition: the engine's fields plus the names the panel
    shows (`level_name`, `next_threshold`, a readable `message` without client ids)."""
    payload = ev.to_payload()
    payload["position_id"] = f"{ev.key.account_id}|{ev.key.symbol}|{ev.key.position_side.value}"
    payload["level_name"] = level_name(ev)
    payload["next_threshold"] = payload["next_trigger"]
    stop = "" if ev.stop_price is None else f", stop {ev.stop_price.normalize():f}"
    payload["message"] = f"{ev.key.symbol}: {ev.transition} (level {level_name(ev)}{stop})"
    return payload


class Protection:
    """ASL for one account: owns the engine, runs its timers, executes its commands."""

    def __init__(
        self,
        account_id: str,
        broker: Broker,
        profile: AslProfile,
        *,
        open_orders: Callable[[], Iterable[OrderEvent]],
        positions: Callable[[], Iterable[PositionEvent]],
        on_event: Callable[[AslEvent], None],
        on_notify: Callable[[Notify], None],
        journal: Callable[[str, dict[str, Any], str | None], None],
        overrides: dict[PositionKey, bool] | None = None,
        reconcile_s: float = 2.0,
    ) -> None:
        self.account_id = account_id
        self.broker = broker
        self.profile = profile
        self._open_orders = open_orders
        self._positions = positions
        self._on_event = on_event
        self._on_notify = on_notify
        self._journal = journal
        # per-position on/off chosen by the trader; owned by the desk so it outlives this engine
        self.overrides: dict[PositionKey, bool] = overrides if overrides is not None else {}
        ticks = {s: r.tick_size for s, r in broker.instruments().items()}
        self.engine = AslEngine(profile, broker.capabilities, tick_sizes=ticks)
        self.info: dict[tuple[str, str, PositionSide], AslInfo] = {}
        self.latest: dict[str, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.Task[None] | None = None
        self._reconciler: asyncio.Task[None] | None = None
        self.reconcile_s = reconcile_s
        # the cheapest listing that shows our stops (Binance: algo orders only), else all open orders
        self._list_stops = getattr(broker, "open_conditional_orders", None) or getattr(
            broker, "open_orders", None
        )
        self.commands_sent = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, marks: dict[str, Decimal]) -> None:
        """Rebuild from the exchange's open orders and positions (restart safety), then run."""
        ticks = {s: r.tick_size for s, r in self.broker.instruments().items()}
        self.engine, out = AslEngine.rebuild(
            self.profile,
            self.broker.capabilities,
            list(self._open_orders()),
            list(self._positions()),
            now_ms(),
            tick_sizes=ticks,
            marks=marks,
            enabled=self.overrides,
        )
        self.run(out)
        loop = asyncio.get_running_loop()
        if self._timer is None:
            self._timer = loop.create_task(self._tick_loop(), name=f"asl:{self.account_id}")
        if self._reconciler is None and self._list_stops is not None and self.reconcile_s > 0:
            self._reconciler = loop.create_task(
                self._reconcile_loop(), name=f"asl-reconcile:{self.account_id}"
            )

    async def stop(self) -> None:
        tasks = [t for t in (self._timer, self._reconciler, *self._tasks) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._timer = None
        self._reconciler = None
        self._tasks.clear()

    async def _tick_loop(self) -> None:
        last_watch = 0
        while True:
            await asyncio.sleep(TICK_S)
            now = now_ms()
            try:
                self.run(self.engine.on_time(now))
                if now - last_watch >= WATCHDOG_PERIOD_MS:
                    last_watch = now
                    self.run(watchdog(self.engine, list(self._open_orders()), list(self._positions()), now))
            except Exception:
                log.exception("ASL tick failed for %s", self.account_id)

    async def _reconcile_loop(self) -> None:
        fetch = self._list_stops
        assert fetch is not None
        while True:
            await asyncio.sleep(self.reconcile_s)
            symbols = sorted({m.key.symbol for m in self.engine.machines() if m.phase is Phase.ACTIVE})
            fresh: dict[str, list[OrderEvent]] = {}
            for symbol in symbols:
                try:
                    fresh[symbol] = list(await fetch(symbol))
                except BrokerError as exc:
                    log.info("ASL reconcile of %s skipped: %s", symbol, exc.message)
            if not fresh:
                continue
            try:
                orders = [o for o in self._open_orders() if o.symbol not in fresh]
                orders += [o for lst in fresh.values() for o in lst]
                self.run(watchdog(self.engine, orders, list(self._positions()), now_ms()))
            except Exception:
                log.exception("ASL reconcile failed for %s", self.account_id)

    # -- inputs ---------------------------------------------------------------------------------
    def on_position(self, ev: PositionEvent) -> None:
        self.run(self.engine.on_position(ev, now_ms()))

    def on_order(self, ev: OrderEvent) -> None:
        self.run(self.engine.on_order(ev, now_ms()))

    def on_mark(self, symbol: str, mark: Decimal) -> None:
        out = self.engine.on_mark(symbol, mark, now_ms())
        if out:
            self.run(out)

    def set_enabled(self, key: PositionKey, on: bool) -> None:
        self.overrides[key] = on
        self.run(self.engine.set_enabled(key, on, now_ms()))

    def breakeven(self, key: PositionKey) -> None:
        self.run(self.engine.move_to_breakeven(key, now_ms()))

    def snapshot(self) -> dict[str, Any]:
        return {"positions": {pid: ev for pid, ev in self.latest.items()}}

    # -- outputs --------------------------------------------------------------------------------
    def run(self, outputs: Sequence[Output]) -> None:
        for o in outputs:
            if isinstance(o, AslEvent):
                self._record(o)
            elif isinstance(o, Notify):
                self._journal("asl", {"notify": o.kind, "message": o.message, "severity": o.severity}, None)
                self._on_notify(o)
            else:
                self._spawn(self._execute(o))

    def _record(self, ev: AslEvent) -> None:
        key = (ev.key.account_id, ev.key.symbol, ev.key.position_side)
        payload = asl_payload(ev)
        if ev.transition == "flat" or ev.quantity == 0:
            self.info.pop(key, None)
            self.latest.pop(payload["position_id"], None)
        else:
            self.info[key] = AslInfo(level_name(ev), ev.stop_price, ev.next_trigger)
            self.latest[payload["position_id"]] = payload
        self._journal("asl", payload, ev.stop_client_id)
        self._on_event(ev)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _execute(self, cmd: PlaceStop | CancelStop | ClosePosition) -> None:
        self.commands_sent += 1
        if isinstance(cmd, CancelStop):
            await self._cancel(cmd)
            return
        req = cmd.request
        self._journal("intent", {"source": "asl", "request": req}, req.client_id)
        try:
            ack = await self.broker.place(req)
        except BrokerError as exc:
            if exc.code == "unknown_outcome":
                # the adapter already looked the order up by client id; the engine's confirm
                # timeout decides what happens next, never a blind re-send
                self._journal(
                    "outcome", {"status": "unknown — reconciling", "message": exc.message}, req.client_id
                )
                return
            self._journal("outcome", {"status": "refused", "message": exc.message}, req.client_id)
            immediate = exc.broker_code in IMMEDIATE_TRIGGER_CODES
            self.run(
                self.engine.handle(PlaceRejected(req.client_id, exc.message, now_ms(), immediate), now_ms())
            )
            return
        self._journal("outcome", {"status": ack.status.value, "ack": ack}, req.client_id)
        self.run(self.engine.handle(PlaceAcked(req.client_id, ack.order_id, now_ms()), now_ms()))

    async def _cancel(self, cmd: CancelStop) -> None:
        try:
            await self.broker.cancel(
                cmd.key.symbol, order_id=cmd.order_id, client_id=cmd.client_id, conditional=True
            )
        except BrokerError as exc:
            if exc.broker_code in UNKNOWN_ORDER_CODES:
                self.run(self.engine.handle(CancelDone(cmd.client_id, now_ms()), now_ms()))
            else:
                self.run(self.engine.handle(CancelFailed(cmd.client_id, exc.message, now_ms()), now_ms()))
            return
        self._journal("outcome", {"cancel": cmd.client_id}, cmd.client_id)
        self.run(self.engine.handle(CancelDone(cmd.client_id, now_ms()), now_ms()))
