"""Protection: the Advanced Stop Loss for every live account.

`Protection` is the shell around the pure ASL engine for one broker account: it feeds the
engine the account's position and order events, mark ticks and time (a 100 ms timer tick and
the 500 ms watchdog over the books' live orders and positions), and carries out the commands it
returns (place a stop, cancel a stop, close a position) through order entry, so its orders are
journaled intents like any other and every reply reaches the books. Each command's outcome goes
back in as a value (placed, rejected, cancelled, cancel failed), so every decision stays in the
pure engine and can be replayed in tests. `ProtectionService` runs one per live account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sidedesk.app.books import Books
from sidedesk.app.entry import OrderEntry
from sidedesk.app.links import AccountLink, AccountLinks
from sidedesk.app.notices import Notices, Publish
from sidedesk.app.recorder import Recorder
from sidedesk.app.settings import Settings
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
    follow_positions,
    watchdog,
)
from sidedesk.core.trailing import at_or_beyond_breakeven, loose_on_tick
from sidedesk.core.views import AslInfo
from sidedesk.domain import (
    Broker,
    BrokerError,
    OrderAck,
    OrderEvent,
    OrderRequest,
    PositionEvent,
    PositionSide,
    Side,
)
from sidedesk.domain.errors import Refused

log = logging.getLogger(__name__)

TICK_S = 0.1
# While the user stream is up, events keep the view exact; but an event can be late or lost, so
# every `reconcile_s` (host setting, default 2 s) the stops of protected symbols are also read from
# the exchange itself (the cheapest listing the adapter offers: on Binance openAlgoOrders with a
# symbol, weight 1).

PlaceFn = Callable[[OrderRequest], Awaitable[OrderAck]]
CancelFn = Callable[[str, str | None, str | None], Awaitable[OrderAck]]
# client id of one of the account's trailing stops -> its current level (the books follow it)
TrailingFn = Callable[[str], Decimal | None]


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
    approx = "≈ " if ev.stop_estimated else ""
    stop = "" if ev.stop_price is None else f", stop {approx}{ev.stop_price.normalize():f}"
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
        place: PlaceFn,
        cancel: CancelFn,
        overrides: dict[PositionKey, bool] | None = None,
        reconcile_s: float = 2.0,
        trailing: TrailingFn | None = None,
    ) -> None:
        self._place = place
        self._trailing: TrailingFn = trailing or (lambda client_id: None)
        self._cancel_stop = cancel
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
        self._ticks = ticks
        self.engine = AslEngine(profile, broker.capabilities, tick_sizes=ticks)
        self.info: dict[tuple[str, str, PositionSide], AslInfo] = {}
        self.events: dict[PositionKey, AslEvent] = {}  # the latest per position (as recorded)
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
        self._follow_due = False  # a look at the books' positions is scheduled

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

    def on_user_event(self) -> None:
        """One of the account's events is about to be applied to the books. Without reduce-only,
        once the burst it came in is applied, a position the books now hold flat (or reversed) is
        told to the engine at once: a fill may close a position with no position update saying
        so (the books move it on the fill), and its stops must not wait for the watchdog."""
        if self.broker.capabilities.reduce_only or self._follow_due:
            return
        self._follow_due = True
        asyncio.get_running_loop().call_soon(self._follow)

    def _follow(self) -> None:
        self._follow_due = False
        try:
            self.run(follow_positions(self.engine, list(self._positions()), now_ms()))
        except Exception:
            log.exception("ASL position check failed for %s", self.account_id)

    def on_mark(self, symbol: str, mark: Decimal) -> None:
        out = self.engine.on_mark(symbol, mark, now_ms())
        if out:
            self.run(out)

    def closing(self, key: PositionKey, client_id: str) -> None:
        self.run(self.engine.closing(key, client_id, now_ms()))

    def close_failed(self, client_id: str, reason: str) -> None:
        self.run(self.engine.handle(PlaceRejected(client_id, reason, now_ms(), False), now_ms()))

    def set_enabled(self, key: PositionKey, on: bool) -> None:
        self.overrides[key] = on
        self.run(self.engine.set_enabled(key, on, now_ms()))

    def breakeven(self, key: PositionKey) -> None:
        now = now_ms()
        ev = self.events.get(key)
        if ev is not None and ev.stop_estimated and ev.stop_kind == "trailing":
            ev = self._stop_now(ev)
            tick = self._ticks.get(key.symbol, Decimal(0))
            if ev.stop_price is not None and at_or_beyond_breakeven(
                ev.long, ev.entry_price, ev.stop_price, tick
            ):
                # the trailing stop has moved past the entry since it was placed: a breakeven
                # stop would replace it with a looser one
                stop = f"{ev.stop_price.normalize():f}"
                why = f"the trailing stop (≈ {stop}) is already at or beyond breakeven"
                self.run([Notify(key, "refused", f"{key.symbol}: breakeven refused: {why}", "warning", now)])
                return
        self.run(self.engine.move_to_breakeven(key, now))

    # -- the current stop -----------------------------------------------------------------------
    def _stop_now(self, ev: AslEvent) -> AslEvent:
        """`ev` with the stop where it is now: a native trailing stop at the level the books
        follow from the marks (else the engine's estimate, on the tick), marked as an estimate;
        a fixed stop (also one Sidedesk moves itself) at its own price."""
        if ev.stop_kind != "trailing" or ev.stop_client_id is None:
            return ev
        level = self._trailing(ev.stop_client_id)
        if level is None and ev.stop_price is not None:
            side = Side.SELL if ev.long else Side.BUY
            level = loose_on_tick(ev.stop_price, self._ticks.get(ev.key.symbol, Decimal(0)), side)
        return replace(ev, stop_price=level, stop_estimated=True)

    def stops_now(self) -> dict[tuple[str, str, PositionSide], AslInfo]:
        """What the positions table shows per position, trailing stops where they are now."""
        out = dict(self.info)
        for key, ev in self.events.items():
            k = (key.account_id, key.symbol, key.position_side)
            if ev.stop_estimated and k in out:
                out[k] = replace(out[k], stop_price=self._stop_now(ev).stop_price)
        return out

    def latest_now(self) -> dict[str, dict[str, Any]]:
        """The latest `asl` payload per position, trailing stops where they are now."""
        out = dict(self.latest)
        for ev in self.events.values():
            if ev.stop_estimated:
                payload = asl_payload(self._stop_now(ev))
                if payload["position_id"] in out:
                    out[payload["position_id"]] = payload
        return out

    def snapshot(self) -> dict[str, Any]:
        return {"positions": self.latest_now()}

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
        ev = self._stop_now(ev)  # the event carries the stop where it trails now
        key = (ev.key.account_id, ev.key.symbol, ev.key.position_side)
        payload = asl_payload(ev)
        if ev.transition == "flat" or ev.quantity == 0:
            self.info.pop(key, None)
            self.events.pop(ev.key, None)
            self.latest.pop(payload["position_id"], None)
        else:
            self.info[key] = AslInfo(level_name(ev), ev.stop_price, ev.next_trigger, ev.stop_estimated)
            self.events[ev.key] = ev
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
        try:
            ack = await self._place(req)  # journaled and resolved as an intent by order entry
        except BrokerError as exc:
            if exc.code == "unknown_outcome":
                # order entry looks it up by client id; the engine's confirm timeout decides
                # what happens next, never a blind re-send
                return
            immediate = exc.reason == "would_trigger"
            self.run(
                self.engine.handle(PlaceRejected(req.client_id, exc.message, now_ms(), immediate), now_ms())
            )
            return
        except Refused as exc:  # the journal could not record it: nothing was sent
            self.run(self.engine.handle(PlaceRejected(req.client_id, exc.message, now_ms(), False), now_ms()))
            return
        self.run(self.engine.handle(PlaceAcked(req.client_id, ack.order_id, now_ms()), now_ms()))

    async def _cancel(self, cmd: CancelStop) -> None:
        try:
            await self._cancel_stop(cmd.key.symbol, cmd.order_id, cmd.client_id)
        except BrokerError as exc:
            if exc.reason == "order_not_found":
                self.run(self.engine.handle(CancelDone(cmd.client_id, now_ms()), now_ms()))
            else:
                self.run(self.engine.handle(CancelFailed(cmd.client_id, exc.message, now_ms()), now_ms()))
            return
        self.run(self.engine.handle(CancelDone(cmd.client_id, now_ms()), now_ms()))


class ProtectionService:
    """One `Protection` per live account, the ASL settings, and the ASL views."""

    def __init__(
        self,
        *,
        settings: Settings,
        books: Books,
        links: AccountLinks,
        entry: OrderEntry,
        recorder: Recorder,
        notices: Notices,
        publish: Publish,
    ) -> None:
        self._settings = settings
        self._books = books
        self._links = links
        self._entry = entry
        self._recorder = recorder
        self._notices = notices
        self._publish = publish
        self.runners: dict[str, Protection] = {}
        # per-position on/off chosen by the trader; kept here so it outlives an engine restart
        self.overrides: dict[str, dict[PositionKey, bool]] = {}
        books.asl_info = self.info
        books.order_listeners.append(self._on_order)
        books.position_listeners.append(self._on_position)
        books.mark_listeners.append(self._on_mark)
        books.user_event_listeners.append(self._on_user_event)
        links.live_listeners.append(lambda link, first: self.start(link))
        links.down_listeners.append(lambda link: self._stopped(link.account_id))
        entry.on_new_position = self._new_position
        entry.pause_protection = self.pause
        entry.resume_protection = self.start
        entry.on_closing = self._closing
        entry.on_close_failed = self._close_failed

    # -- views ----------------------------------------------------------------------------------
    def info(self) -> dict[tuple[str, str, PositionSide], AslInfo]:
        return {k: v for p in self.runners.values() for k, v in p.stops_now().items()}

    def view(self) -> dict[str, Any]:
        positions: dict[str, Any] = {}
        for p in self.runners.values():
            positions.update(p.latest_now())
        return {"enabled": self._settings.config.asl_enabled, "positions": positions}

    def profile(self) -> AslProfile:
        raw = self._settings.config.asl_profile
        return AslProfile() if raw is None else AslProfile.model_validate(raw)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, link: AccountLink) -> None:
        if not self._settings.config.asl_enabled or link.account_id in self.runners:
            return
        account_id = link.account_id
        broker = link.broker
        entry = self._entry

        async def place(req: OrderRequest) -> OrderAck:
            return (await entry.place(link, req, "asl")).ack

        async def cancel(symbol: str, order_id: str | None, client_id: str | None) -> OrderAck:
            return await entry.cancel_on(
                link, symbol, order_id=order_id, client_id=client_id, conditional=True
            )

        def journal(kind: str, data: dict[str, Any], cid: str | None) -> None:
            # in the burst's transaction, with the exchange events that caused it (a commit of
            # its own after every fill sat in front of the trader's next order)
            self._recorder.soon(kind, data, account_id, cid)

        prot = Protection(
            account_id,
            broker,
            self.profile(),
            open_orders=lambda: self._books.open_orders(account_id),
            positions=lambda: self._books.live_positions(account_id),
            on_event=self._asl_event,
            on_notify=lambda n: self._notices.tell(n.severity, f"ASL {n.message}"),
            journal=journal,
            place=place,
            cancel=cancel,
            overrides=self.overrides.setdefault(account_id, {}),
            reconcile_s=self._settings.config.asl_reconcile_s,
            trailing=lambda client_id: self._books.trails.level(account_id, client_id),
        )
        self.runners[account_id] = prot
        prot.start(self._books.marks())

    async def pause(self, account_id: str) -> bool:
        """Stop the engine of one account (flatten); True if one was running."""
        prot = self.runners.pop(account_id, None)
        if prot is None:
            return False
        await prot.stop()
        return True

    async def _stopped(self, account_id: str) -> None:
        await self.pause(account_id)

    async def set_asl(self, enabled: bool | None, profile: AslProfile | None) -> None:
        changes: dict[str, Any] = {}
        if enabled is not None:
            changes["asl_enabled"] = enabled
        if profile is not None:
            changes["asl_profile"] = profile.model_dump(mode="json")
        if changes:
            self._settings.update(**changes)
        # a new profile or switch applies from now on: restart each account's engine, which
        # rebuilds from the exchange's open stops (levels already reached are kept by their ids)
        for account_id in list(self.runners):
            await self.pause(account_id)
        if self._settings.config.asl_enabled:
            for link in self._links.links.values():
                if link.tradable:
                    self.start(link)
        self._publish("asl", self.view)

    def toggle(self, symbol: str, position_side: PositionSide, enabled: bool) -> None:
        link = self._links.active()
        prot = self.runners.get(link.account_id)
        if prot is None:
            raise Refused("invalid", "ASL is switched off in Setup")
        prot.set_enabled(PositionKey(link.account_id, symbol, position_side), enabled)

    def breakeven(self, symbol: str, position_side: PositionSide) -> None:
        link = self._links.active()
        prot = self.runners.get(link.account_id)
        if prot is None:
            raise Refused("invalid", "move-to-breakeven needs ASL, which is switched off in Setup")
        pos = self._books.portfolio.positions.get(link.account_id, symbol, position_side)
        if pos is None or pos.quantity == 0:
            raise Refused("invalid", f"no open {symbol} {position_side.value} position")
        prot.breakeven(PositionKey(link.account_id, symbol, position_side))

    # -- events ---------------------------------------------------------------------------------
    def _new_position(self, account_id: str, symbol: str, side: PositionSide, on: bool) -> None:
        prot = self.runners.get(account_id)
        if prot is not None:
            prot.set_enabled(PositionKey(account_id, symbol, side), on)

    def _closing(self, account_id: str, symbol: str, side: PositionSide, client_id: str) -> None:
        prot = self.runners.get(account_id)
        if prot is not None:
            prot.closing(PositionKey(account_id, symbol, side), client_id)

    def _close_failed(self, account_id: str, client_id: str, reason: str) -> None:
        prot = self.runners.get(account_id)
        if prot is not None:
            prot.close_failed(client_id, reason)

    def _on_order(self, account_id: str, ev: OrderEvent) -> None:
        prot = self.runners.get(account_id)
        if prot is not None:
            prot.on_order(ev)

    def _on_user_event(self, account_id: str, mono: float) -> None:
        prot = self.runners.get(account_id)
        if prot is not None:
            prot.on_user_event()

    def _on_position(self, account_id: str, ev: PositionEvent) -> None:
        prot = self.runners.get(account_id)
        if prot is not None:
            prot.on_position(ev)

    def _on_mark(self, symbol: str, mark: Decimal) -> None:
        for prot in self.runners.values():
            prot.on_mark(symbol, mark)

    def _asl_event(self, ev: AslEvent) -> None:
        self._publish("asl", asl_payload(ev))
        self._publish("positions", self._books.positions_view)

    async def close(self) -> None:
        for account_id in list(self.runners):
            await self.pause(account_id)
