"""The scripted headless session: a person's first five minutes with the desk, in about thirty seconds.

Headless Chromium (Playwright, with the machine's own chromium) loads the extension on the demo
profile; the panel page is opened as a tab (chrome.* and the native port work the same there).
The script clicks what a person would click: unlock the vault, use the demo account, buy with the
ticket. Then it walks the simulator's price up through the control plane so the Advanced Stop Loss
moves from the hard stop through every level, minimises to the action bar, and flattens through
the hotkey's own code path (the worker's `runCommand("flatten")`, which sends the `command`
request). Every step goes to the transcript with the host's answers; screenshots go beside it.

The host's answers are read from a tap installed in the service worker: it records the replies
to a few request types (never a request payload, so no password) and the `positions` and `asl`
pushes, which the script polls.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sidedesk.demo.plan import (
    ACCOUNT_NAME,
    BASE_FLAGS,
    DEMO_LEVERAGE,
    DEMO_NOTIONAL,
    DEMO_SYMBOL,
    extension_flags,
    level_targets,
    pullback_for,
    run_up_path,
    warm_up_path,
)
from sidedesk.demo.prepare import DemoHome
from sidedesk.demo.simthread import SimThread
from sidedesk.demo.transcript import Transcript
from sidedesk.identity import DEV_EXTENSION_ID

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page, Worker

PANEL_PATH = "sidepanel/panel.html"
VIEWPORT = {"width": 420, "height": 900}  # about a side panel's size
STEP_TIMEOUT_S = 25.0
POLL_S = 0.1
RUN_UP_SECONDS = 4  # each level's part of the price run
WARM_UP_S = 4.0
UNLOCK_ATTEMPTS = 3
UNLOCK_WAIT_S = 5.0
ACCOUNT_ATTEMPTS = 3
ACCOUNT_WAIT_S = 5.0  # the warm-up path's length
DEFAULT_PROFITS = [Decimal(1), Decimal(2), Decimal(4)]  # the design's default ASL levels

# Installed once per worker start; idempotent. Records replies (never request payloads) and pushes.
TAP_JS = """() => {
  const n = globalThis.sidedesk?.native;
  if (!n) return false;
  if (globalThis.__demoTap) return true;
  const log = (globalThis.__demoLog = []);
  const RECORD = new Set([
    'vault.unlock', 'accounts.activate', 'order.place', 'command', 'asl.get', 'market.symbols',
  ]);
  const request = n.request.bind(n);
  n.request = async (type, payload, opts) => {
    try {
      const ok = await request(type, payload, opts);
      if (RECORD.has(type)) log.push({ t: Date.now(), kind: 'reply', type, ok });
      return ok;
    } catch (e) {
      const error = { code: e.code, message: e.message };
      if (RECORD.has(type)) log.push({ t: Date.now(), kind: 'reply', type, error });
      throw e;
    }
  };
  n.onEvent((ev) => {
    if (ev.topic === 'positions' || ev.topic === 'asl') {
      const { topic, payload } = ev;
      log.push({ t: Date.now(), kind: 'event', topic, snapshot: Boolean(ev.snapshot), payload });
    }
  });
  globalThis.__demoTap = true;
  return true;
}"""

HOST_REQUEST_JS = """async ([type, payload]) => {
  const n = globalThis.sidedesk.native;
  n.start();
  for (let i = 0; i < 100 && n.status.state !== 'connected'; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  try { return { ok: await n.request(type, payload, { timeoutMs: 20000 }) }; }
  catch (e) { return { error: { code: e.code ?? 'internal', message: e.message } }; }
}"""


class SessionFailed(RuntimeError):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


@dataclass
class SessionSetup:
    home: DemoHome
    sim: SimThread
    out: Path
    password: str
    chromium: str
    extension_dir: Path
    as_root: bool


class Tap:
    """The service worker's record of replies and pushes, read incrementally."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.cursor = 0
        self.replies: list[dict[str, Any]] = []
        self.positions: list[dict[str, Any]] = []  # rows of the latest `positions` payload
        self.asl_events: list[dict[str, Any]] = []

    def install(self) -> None:
        if not self.worker.evaluate(TAP_JS):
            raise SessionFailed("tap", "the extension's service worker has no `sidedesk` handle")

    def poll(self) -> None:
        new = self.worker.evaluate("(i) => (globalThis.__demoLog ?? []).slice(i)", self.cursor)
        self.cursor += len(new)
        for item in new:
            if item.get("kind") == "reply":
                self.replies.append(item)
            elif item.get("topic") == "positions":
                self.positions = list((item.get("payload") or {}).get("positions") or [])
            elif item.get("topic") == "asl" and not item.get("snapshot"):
                self.asl_events.append(item.get("payload") or {})

    def last_reply(self, type_: str) -> dict[str, Any] | None:
        self.poll()
        return next((r for r in reversed(self.replies) if r.get("type") == type_), None)

    def position(self, symbol: str) -> dict[str, Any] | None:
        return next(
            (p for p in self.positions if p.get("symbol") == symbol and p.get("size") not in (None, "0")),
            None,
        )

    def request(self, type_: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Ask the host directly through the worker's native port (`{"ok": ...}` or `{"error": ...}`)."""
        out = self.worker.evaluate(HOST_REQUEST_JS, [type_, payload or {}])
        assert isinstance(out, dict)
        return out


def on_tick(value: Any, tick: Decimal) -> str | None:
    """A price as the panel shows it, on the instrument's tick (a trailing stop's estimate such as
    60230.9960000000 becomes 60231.0), as a plain decimal string; None stays None."""
    if value is None or value == "":
        return None
    grid = tick.normalize()  # "0.10" -> 0.1: as many decimals as the tick needs
    steps = (Decimal(str(value)) / grid).to_integral_value(rounding=ROUND_HALF_UP)
    return f"{(steps * grid).quantize(grid):f}"


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = STEP_TIMEOUT_S) -> Any:
    """Poll `check` until it returns something truthy; bounded."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise SessionFailed(what, f"not seen within {timeout_s:.0f} s")
        time.sleep(POLL_S)


class Session:
    def __init__(self, setup: SessionSetup, transcript: Transcript, say: Callable[[str], None]) -> None:
        self.s = setup
        self.t = transcript
        self.say = say
        self.shots: list[Path] = []

    # -- helpers --------------------------------------------------------------------------------
    def shot(self, page: Page, name: str, *, clip_height: int | None = None) -> None:
        path = self.s.out / f"{name}.png"
        if clip_height is not None:
            page.screenshot(
                path=str(path), clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": clip_height}
            )
        else:
            page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        self.t.write("screenshot", name=name, file=path.name)

    def expect_text(self, page: Page, selector: str, text: str, step: str) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            page.wait_for_function(
                "([sel, text]) => (document.querySelector(sel)?.textContent ?? '').includes(text)",
                arg=[selector, text],
                timeout=STEP_TIMEOUT_S * 1000,
            )
        except PlaywrightError:
            seen = (
                page.locator(selector).first.text_content(timeout=1000)
                if page.locator(selector).count()
                else None
            )
            raise SessionFailed(step, f"expected {text!r} in {selector}, saw {seen!r}") from None

    # -- the script -------------------------------------------------------------------------------
    def run(self) -> list[Path]:
        from playwright.sync_api import sync_playwright

        env: dict[str, str | float | bool] = {**os.environ, "SIDEDESK_HOME": str(self.s.home.root)}
        args = ["--disable-gpu", *BASE_FLAGS, *extension_flags(self.s.extension_dir)]
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(self.s.home.profile),
                executable_path=self.s.chromium,
                headless=True,
                args=args,
                env=env,
                viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]},
                chromium_sandbox=not self.s.as_root,
            )
            try:
                self._script(context)
            finally:
                context.close()
        return self.shots

    def _script(self, context: BrowserContext) -> None:
        workers = context.service_workers
        worker = (
            workers[0] if workers else context.wait_for_event("serviceworker", timeout=STEP_TIMEOUT_S * 1000)
        )
        extension_id = worker.url.split("/")[2]
        self.t.write("browser.launched", extension_id=extension_id, chromium=self.s.chromium)
        if extension_id != DEV_EXTENSION_ID:
            raise SessionFailed("browser.launched", f"unexpected extension id {extension_id}")
        tap = Tap(worker)
        tap.install()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            self._drive(page, tap)
            if errors:  # the session went through, but the panel threw: worth a look
                self.t.write("panel.errors", ok=False, errors=errors)
        except Exception as exc:  # a timeout, a closed page...: recorded, pictured, then reported
            failure = (
                exc
                if isinstance(exc, SessionFailed)
                else SessionFailed("session", f"{type(exc).__name__}: {exc}")
            )
            self.t.write(failure.step, ok=False, error=str(failure), page_errors=errors)
            try:
                self.shot(page, "failure")
            except Exception as shot_exc:  # the failure itself is what matters; say why no picture
                self.t.write("screenshot", ok=False, name="failure", error=str(shot_exc))
            if failure is exc:
                raise
            raise failure from exc

    def _drive(self, page: Page, tap: Tap) -> None:
        s, t = self.s, self.t
        page.goto(f"chrome-extension://{DEV_EXTENSION_ID}/{PANEL_PATH}")
        self.expect_text(page, "#status-state", "Connected", "panel.connected")
        t.write("panel.connected")
        self.say("panel open, host connected")

        # Unlock the vault from Setup, as a person would.
        page.get_by_role("tab", name="Setup").click()
        self._unlock(page)
        reply = wait_for("vault.unlocked", lambda: tap.last_reply("vault.unlock"))
        t.write("vault.unlocked", ok="ok" in reply, host=reply.get("ok") or reply.get("error"))
        self.say("vault unlocked")

        # Use the demo account.
        row = self._account_row(page)
        if row.get_attribute("data-active") != "true":
            page.get_by_role("button", name=f"Use {ACCOUNT_NAME}").click()
            activated = wait_for("account.activated", lambda: tap.last_reply("accounts.activate"))
            if "ok" not in activated:
                raise SessionFailed("account.activated", f"the host refused: {activated.get('error')}")
        page.wait_for_function(
            "(name) => [...document.querySelectorAll('#accounts-list li.acct')].some("
            "(li) => li.textContent.includes(name) && li.dataset.state === 'live')",
            arg=ACCOUNT_NAME,
            timeout=STEP_TIMEOUT_S * 1000,
        )
        listed = tap.request("accounts.list")
        account = next(
            (a for a in (listed.get("ok") or {}).get("accounts", []) if a.get("name") == ACCOUNT_NAME), None
        )
        t.write(
            "account.activated", ok=bool(account and account.get("active")), host=account, name=ACCOUNT_NAME
        )
        self.say(f"account {ACCOUNT_NAME!r} connected to the simulator")
        self.shot(page, "setup")

        # ASL: is the engine in this host, and what are its levels?
        profile = tap.request("asl.get")
        asl_on = "ok" in profile and bool(profile["ok"].get("enabled", True))
        profits, callbacks = DEFAULT_PROFITS, [Decimal(1)]
        if "ok" in profile:
            levels = (profile["ok"].get("profile") or {}).get("levels") or []
            profits = [Decimal(str(lv["profit_pct"])) for lv in levels] or DEFAULT_PROFITS
            callbacks = [Decimal(str(lv["callback_pct"])) for lv in levels] or callbacks
            t.write("asl.profile", enabled=asl_on, profile=profile["ok"].get("profile"))
        else:
            t.write("asl.profile", ok=False, available=False, host=profile.get("error"))
            self.say(f"no ASL in this host ({profile.get('error', {}).get('message')}); the price still runs")

        # The ticket: no random walk on the symbol (the script alone moves it), a few seconds of
        # gentle movement for the chart, then buy.
        page.get_by_role("tab", name="Trade").click()
        s.sim.control("POST", "/volatility", {"symbol": DEMO_SYMBOL, "volatility": "0"})
        s.sim.control("POST", "/path", {"symbol": DEMO_SYMBOL, "path": warm_up_path()})
        warm_up_ends = time.monotonic() + WARM_UP_S
        ticket = page.locator("#trade-ticket")
        ticket.locator('input[name="symbol"]').fill(DEMO_SYMBOL)
        page.wait_for_function(
            "() => document.querySelector('#ticket-badge')?.textContent === 'Live'",
            timeout=STEP_TIMEOUT_S * 1000,
        )
        ticket.locator('input[name="notional"]').fill(DEMO_NOTIONAL)
        ticket.locator('input[name="leverage"]').fill(str(DEMO_LEVERAGE))
        page.evaluate("() => document.activeElement?.blur()")
        time.sleep(max(0.0, warm_up_ends - time.monotonic()))
        self.shot(page, "panel")
        page.locator("#ticket-buy").click()
        page.wait_for_function(
            "() => ['ok', 'error'].includes(document.querySelector('#ticket-result')?.dataset.tone)",
            timeout=STEP_TIMEOUT_S * 1000,
        )
        placed = wait_for("order.place", lambda: tap.last_reply("order.place"))
        if "ok" not in placed:
            raise SessionFailed("order.filled", f"the host refused the order: {placed.get('error')}")

        def opened() -> dict[str, Any] | None:
            tap.poll()
            return tap.position(DEMO_SYMBOL)

        position = wait_for("order.filled", opened)
        # The ticket's line follows the order to its fill ("Bought 0.005 BTC at 60,093.5 USDT").
        self.expect_text(page, "#ticket-result", "Bought ", "order.filled")
        fills = [
            e
            for e in s.sim.control("GET", "/order-log", {"account": "main"})
            if e.get("kind") == "order" and e.get("status") == "FILLED" and e.get("side") == "BUY"
        ]
        tick = self._tick(tap)
        shown = {k: position.get(k) for k in ("symbol", "side", "size", "entry", "mark", "leverage")}
        shown.update(entry=on_tick(shown["entry"], tick), mark=on_tick(shown["mark"], tick))
        t.write(
            "order.filled",
            ok=bool(fills),
            host=placed["ok"],
            panel=page.locator("#ticket-result").text_content(),
            position=shown,
            exchange={k: fills[-1].get(k) for k in ("orderId", "type", "executedQty", "avgPrice")}
            if fills
            else None,
        )
        self.say(f"bought {position.get('size')} {DEMO_SYMBOL} at {shown['entry']}")

        self._asl_run(page, tap, Decimal(str(position["entry"])), profits, pullback_for(callbacks), asl_on)

        # The minimised action bar: BUY, SELL and the total P&L in 60 px.
        page.locator("#minimise-toggle").click()
        page.locator("#actionbar").wait_for(state="visible", timeout=STEP_TIMEOUT_S * 1000)
        t.write("actionbar.shown", pnl=page.locator("#bar-pnl").text_content())
        self.shot(page, "action-bar", clip_height=120)
        page.locator("#bar-restore").click()

        self._flatten(page, tap)

    def _account_row(self, page: Page) -> Locator:
        """The demo account's row in Setup: the list follows the vault by itself once it opens."""
        from playwright.sync_api import Error as PlaywrightError

        row = page.locator("#accounts-list li.acct").filter(has_text=ACCOUNT_NAME)
        try:
            row.wait_for(timeout=ACCOUNT_ATTEMPTS * ACCOUNT_WAIT_S * 1000)
        except PlaywrightError:
            seen = page.locator("#accounts-list").text_content()
            raise SessionFailed(
                "account.activated", f"{ACCOUNT_NAME!r} is not in the account list: {seen!r}"
            ) from None
        return row

    def _unlock(self, page: Page) -> None:
        """Type the password and press Unlock. The section re-renders when the host's status
        arrives, which can swallow a click made just before; so retry (bounded) until it opens."""
        from playwright.sync_api import Error as PlaywrightError

        for attempt in range(1, UNLOCK_ATTEMPTS + 1):
            field = page.get_by_label("Vault password")
            field.wait_for(timeout=STEP_TIMEOUT_S * 1000)
            field.fill(self.s.password)
            page.get_by_role("button", name="Unlock").click()
            try:
                page.wait_for_function(
                    "() => (document.querySelector('#setup-vault')?.textContent ?? '').includes('Unlocked')",
                    timeout=UNLOCK_WAIT_S * 1000,
                )
                return
            except PlaywrightError:
                self.t.write(
                    "vault.unlock.retry",  # informational: the click did not take, try again
                    attempt=attempt,
                    panel=page.locator("#setup-vault").text_content(),
                )
        raise SessionFailed("vault.unlocked", f"the vault did not open after {UNLOCK_ATTEMPTS} attempts")

    def _asl_run(
        self, page: Page, tap: Tap, entry: Decimal, profits: list[Decimal], pullback: Decimal, asl_on: bool
    ) -> None:
        s, t = self.s, self.t
        symbols = tap.request("market.symbols")
        rules = next(
            (r for r in (symbols.get("ok") or {}).get("symbols", []) if r.get("symbol") == DEMO_SYMBOL), None
        )
        tick = self._tick(tap, rules)
        seen: list[str] = []

        def level_now() -> str | None:
            tap.poll()
            p = tap.position(DEMO_SYMBOL)
            level = None if p is None else p.get("asl_level")
            return None if level is None else str(level)

        def note_level(level: str) -> None:
            if seen and seen[-1] == level:
                return
            seen.append(level)
            p = tap.position(DEMO_SYMBOL) or {}
            stop = on_tick(p.get("stop_price"), tick)
            row = page.locator(f'#trade-positions tbody.pos[data-symbol="{DEMO_SYMBOL}"]')
            cell = row.locator(".pos-main td").nth(4)
            t.write("asl.level", level=level, stop_price=stop, mark=on_tick(p.get("mark"), tick),
                    next_threshold=on_tick(p.get("asl_next_threshold"), tick),
                    panel=cell.inner_text() if cell.count() else None)  # fmt: skip
            self.say(f"ASL {'hard stop' if level == 'hard' else 'level ' + level}, stop at {stop}")

        if asl_on:
            note_level(wait_for("asl.hard", level_now))
        for target in level_targets(entry, profits, tick):
            start = Decimal(str(s.sim.market(DEMO_SYMBOL)["last"]))
            path = run_up_path(start, target.price, tick, pullback, RUN_UP_SECONDS)
            s.sim.control("POST", "/path", {"symbol": DEMO_SYMBOL, "path": path})
            t.write("price.run", path=path, profit_pct=f"{target.profit_pct:f}", seconds=RUN_UP_SECONDS)
            if asl_on:

                def at_least(want: int = target.level) -> str | None:
                    level = level_now()
                    return level if level is not None and level.isdigit() and int(level) >= want else None

                note_level(wait_for(f"asl.level {target.level}", at_least))
            else:

                def reached(price: Decimal = target.price) -> bool:
                    tap.poll()
                    p = tap.position(DEMO_SYMBOL)
                    return p is not None and p.get("mark") is not None and Decimal(str(p["mark"])) >= price

                wait_for("price.run", reached)
                t.write("price.reached", to=f"{target.price:f}")
        p = tap.position(DEMO_SYMBOL) or {}
        t.write("position.in_profit", pnl=p.get("unrealized_pnl"), roe_pct=p.get("roe_pct"), asl_levels=seen,
                asl_events=len(tap.asl_events))  # fmt: skip
        page.locator(f'#trade-positions tbody.pos[data-symbol="{DEMO_SYMBOL}"]').wait_for(
            timeout=STEP_TIMEOUT_S * 1000
        )
        page.locator("#chart-box[data-ready='true']").wait_for(
            state="attached", timeout=STEP_TIMEOUT_S * 1000
        )
        time.sleep(0.5)  # let the chart draw the last ticks before the picture
        self.shot(page, "positions")

    def _tick(self, tap: Tap, rules: dict[str, Any] | None = None) -> Decimal:
        """The demo symbol's tick size, as market.symbols gives it."""
        if rules is None:
            symbols = tap.request("market.symbols")
            rules = next(
                (r for r in (symbols.get("ok") or {}).get("symbols", []) if r.get("symbol") == DEMO_SYMBOL),
                None,
            )
        return Decimal(str(rules["tick_size"])) if rules else Decimal("0.1")

    def _flatten(self, page: Page, tap: Tap) -> None:
        s, t = self.s, self.t
        # Exactly what the Alt+Shift+F hotkey runs in the worker (CDP key presses never reach
        # chrome.commands, research/chrome.md §5.1): it sends the `command` request named flatten.
        view = tap.worker.evaluate("() => globalThis.sidedesk.runCommand('flatten')")
        reply = wait_for("flatten", lambda: tap.last_reply("command"))
        if "ok" not in reply:
            raise SessionFailed("flattened", f"the host refused flatten: {reply.get('error')}")

        def flat() -> bool:
            tap.poll()
            return tap.position(DEMO_SYMBOL) is None

        wait_for("flattened", flat)
        open_orders = s.sim.control("GET", "/orders", {"account": "main"}).get("orders", [])
        page.locator(f'#trade-positions tbody.pos[data-symbol="{DEMO_SYMBOL}"]').wait_for(
            state="detached", timeout=STEP_TIMEOUT_S * 1000
        )
        t.write(
            "flattened",
            ok=not open_orders,
            host=reply["ok"],
            notice=view,
            open_orders=len(open_orders),
            positions=[p.get("symbol") for p in tap.positions],
        )
        self.say(str(reply["ok"].get("summary")))
        self.shot(page, "flattened")
