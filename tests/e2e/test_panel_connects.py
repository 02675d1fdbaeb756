"""The foundation slice in a real Chromium: panel -> service worker -> native port -> host, and back.

The tests in this module share one browser (module-scoped fixture) and each opens its own panel,
so they run alone and in any order: connect, diagnostics, a keyboard command's answer, a host crash
and the reconnect (the worker starts a new host; the tests after it use that one).
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sidedesk import PROTOCOL_VERSION, __version__
from sidedesk.identity import DEV_EXTENSION_ID
from tests.e2e.conftest import SidedeskBrowser, snapshot

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000
PANEL_HEIGHT = 600


@pytest.fixture
def panel(sidedesk: SidedeskBrowser) -> Iterator[Page]:
    """A new panel page on the Trade tab (the tab a first start shows), closed after the test."""
    sidedesk.page_errors.clear()
    page = sidedesk.open_panel("?tab=trade")
    try:
        yield page
    finally:
        page.close()


def connected(sidedesk: SidedeskBrowser, panel: Page) -> None:
    try:
        expect(panel.locator("#status-state")).to_have_text("Connected", timeout=TIMEOUT_MS)
    except AssertionError:
        raise AssertionError(f"panel never connected; host log:\n{sidedesk.host_log()}") from None


def test_extension_id_is_pinned_by_the_manifest_key(sidedesk: SidedeskBrowser) -> None:
    assert sidedesk.extension_id == DEV_EXTENSION_ID


def test_panel_shows_connected_with_host_version(
    sidedesk: SidedeskBrowser, panel: Page, artifacts: Path
) -> None:
    connected(sidedesk, panel)
    expect(panel.locator("#status-host")).to_have_text(f"host {__version__}")
    expect(panel.locator("#status-protocol")).to_have_text(f"protocol v{PROTOCOL_VERSION}")
    # The first ping follows hello at once, so a round trip is shown.
    expect(panel.locator("#status-rtt")).to_contain_text("RTT", timeout=TIMEOUT_MS)
    expect(panel.locator("#install-help")).to_be_hidden()
    expect(panel.locator("#trade-empty")).to_have_text("No broker account yet — add one in Setup")
    snapshot(panel, artifacts, "panel-trade-connected", height=PANEL_HEIGHT)
    assert sidedesk.page_errors == []


def test_setup_tab_shows_diagnostics_and_shortcuts(
    sidedesk: SidedeskBrowser, panel: Page, artifacts: Path
) -> None:
    connected(sidedesk, panel)
    panel.get_by_role("tab", name="Setup").click()
    expect(panel.get_by_role("tab", name="Setup")).to_have_attribute("aria-selected", "true")
    expect(panel.locator("#panel-setup")).to_be_visible()
    expect(panel.locator("#panel-trade")).to_be_hidden()

    # Diagnostics: the hello facts and the host's `stats` reply, refreshed on demand.
    expect(panel.locator("#diag-host-version")).to_have_text(__version__)
    expect(panel.locator("#diag-ext-id")).to_have_text(DEV_EXTENSION_ID)
    expect(panel.locator("#diag-pid")).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=TIMEOUT_MS)
    pid = int(panel.locator("#diag-pid").inner_text())
    assert pid > 0
    expect(panel.locator("#diag-stats")).to_have_attribute("data-loaded", "true", timeout=TIMEOUT_MS)
    before = panel.locator("#stat-frames").inner_text()
    frames_in_before = int(before.split("/")[0])
    assert frames_in_before >= 2  # at least hello + a ping + stats
    panel.locator("#diag-refresh").click()
    expect(panel.locator("#stat-frames")).not_to_have_text(before, timeout=TIMEOUT_MS)
    assert int(panel.locator("#stat-frames").inner_text().split("/")[0]) > frames_in_before
    # The worker reports each measured round trip in its next ping (every 5 s): refresh until the
    # host's counters include one.
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while "p50" not in panel.locator("#stat-rtt").inner_text() and time.monotonic() < deadline:
        panel.wait_for_timeout(500)
        panel.locator("#diag-refresh").click()
    expect(panel.locator("#stat-rtt")).to_contain_text("p50")
    # The panel subscribed to the host's `status` topic and got its snapshot (seq 0 or later).
    expect(panel.locator("#diag-uptime")).to_have_attribute("data-status-seq", re.compile(r"^\d+$"))
    expect(panel.locator("#diag-uptime")).not_to_have_text("—", timeout=TIMEOUT_MS)
    # ...and the periodic pushes after it reach the panel through the worker's fan-out.
    expect(panel.locator("#diag-uptime")).to_have_attribute(
        "data-status-seq", re.compile(r"^[1-9]\d*$"), timeout=TIMEOUT_MS
    )

    # Shortcuts: the real bindings from chrome.commands.getAll(); unbound ones say "unassigned".
    # (Chromium leaves a suggested key unassigned when the browser uses it, e.g. Alt+Shift+B.)
    commands = sidedesk.service_worker.evaluate("() => chrome.commands.getAll()")
    assert {c["name"] for c in commands} >= {"_execute_action", "buy", "sell", "flatten", "cancel_all"}
    expect(panel.locator("#shortcuts-body tr")).to_have_count(len(commands))
    for command in commands:
        row = panel.locator(f'#shortcuts-body tr[data-command="{command["name"]}"] td').nth(1)
        expect(row).to_have_text(command["shortcut"] or "unassigned")
    assert any(not c["shortcut"] for c in commands), "commands without a suggested key are unassigned"
    expect(panel.locator("#shortcuts-link")).to_have_text("chrome://extensions/shortcuts")

    # The vault section is mounted by vault.js, or shows why it could not be.
    expect(panel.locator("#setup-vault")).not_to_be_empty(timeout=TIMEOUT_MS)
    snapshot(panel, artifacts, "panel-setup")
    assert sidedesk.page_errors == []


def test_keyboard_command_shows_the_hosts_answer(sidedesk: SidedeskBrowser, panel: Page) -> None:
    # Real key presses need X (a separate suite); here the worker's command path is driven directly.
    connected(sidedesk, panel)
    worker = sidedesk.service_worker
    expected = worker.evaluate(
        """async () => {
          try { return {ok: await globalThis.sidedesk.native.request('command', {name: 'buy'})}; }
          catch (e) { return {error: {code: e.code, message: e.message}}; }
        }"""
    )
    view = worker.evaluate("() => globalThis.sidedesk.runCommand('buy')")
    badge = worker.evaluate("() => chrome.action.getBadgeText({})")
    notice = panel.locator("#notices .notice").last
    if "error" in expected:
        # Today the host has no `command` handler: the unknown_type error must be visible, not swallowed.
        assert view["level"] == "error"
        assert f"[{expected['error']['code']}]" in view["title"]
        assert expected["error"]["message"] in view["message"]
        assert badge == "!"
        expect(notice).to_contain_text(expected["error"]["message"], timeout=TIMEOUT_MS)
        expect(notice).to_have_class("notice notice-error")
    else:
        assert view["level"] == "info"
        assert badge == ""
        expect(notice).to_contain_text("Sidedesk — Buy", timeout=TIMEOUT_MS)


def test_killing_the_host_shows_reconnecting_then_connected_with_a_new_pid(
    sidedesk: SidedeskBrowser, panel: Page, artifacts: Path
) -> None:
    connected(sidedesk, panel)
    panel.get_by_role("tab", name="Setup").click()
    expect(panel.locator("#diag-pid")).to_have_text(re.compile(r"^[1-9]\d*$"), timeout=TIMEOUT_MS)
    pid = int(panel.locator("#diag-pid").inner_text())
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    assert b"sidedesk" in cmdline, f"pid {pid} is not the host: {cmdline!r}"
    # Record every status-bar text, so a reconnect window shorter than a poll is still seen.
    panel.evaluate(
        """() => {
          window.__seen = [];
          const el = document.getElementById('status-state');
          new MutationObserver(() => window.__seen.push(el.textContent))
            .observe(el, {childList: true, characterData: true, subtree: true});
        }"""
    )
    os.kill(pid, signal.SIGKILL)
    expect(panel.locator("#diag-pid")).not_to_have_text(str(pid), timeout=TIMEOUT_MS)
    expect(panel.locator("#status-state")).to_have_text("Connected", timeout=TIMEOUT_MS)
    new_pid = int(panel.locator("#diag-pid").inner_text())
    assert new_pid != pid
    seen = panel.evaluate("() => window.__seen")
    # attempt 1, or N+1 when the connection that was killed followed N failed attempts less than
    # the stable period (10 s) before: the counter is not reset by a connection that short
    assert any(re.fullmatch(r"Reconnecting \(attempt [1-9]\d*\)", s) for s in seen), seen
    assert seen[-1] == "Connected"
    expect(panel.locator("#diag-log")).to_contain_text("Native host has exited.")
    # The worker kept one port: requests work again against the new process.
    panel.locator("#diag-refresh").click()
    expect(panel.locator("#diag-stats-error")).to_be_hidden()
    _wait_gone(pid)
    snapshot(panel, artifacts, "panel-after-reconnect")
    assert sidedesk.page_errors == []


def _wait_gone(pid: int) -> None:
    """Chromium reaps the killed host; make sure it did not linger (bounded wait)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return
        if "State:\tZ" in status:
            return  # killed, waiting to be reaped by its parent
        time.sleep(0.05)
    raise AssertionError(f"host pid {pid} still running after SIGKILL")
