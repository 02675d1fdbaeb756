"""Without a registered host the panel explains `sidedesk install`; after installing, Retry connects.

The browser starts with no host manifest in its profile, so Chromium reports "Specified native
messaging host not found." The worker must show install help (no retry loop), and once the user
runs the installer and presses Retry the same browser session connects.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sidedesk import __version__
from sidedesk.identity import DEV_EXTENSION_ID
from tests.e2e.conftest import SidedeskBrowser, install_host, launch_sidedesk, snapshot

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SidedeskBrowser]:
    root = tmp_path_factory.mktemp("sidedesk-bare")
    with launch_sidedesk(root / "profile", root / "home", install=False) as browser:
        yield browser


def test_install_help_then_retry_after_installing(bare: SidedeskBrowser, artifacts: Path) -> None:
    panel = bare.open_panel()
    expect(panel.locator("#status-state")).to_have_text("Host not installed", timeout=TIMEOUT_MS)
    help_box = panel.locator("#install-help")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("sidedesk install")
    expect(help_box).to_contain_text("Specified native messaging host not found.")
    expect(panel.locator("#install-ext-id")).to_have_text(DEV_EXTENSION_ID)
    status = bare.service_worker.evaluate("() => globalThis.sidedesk.native.status")
    assert status["state"] == "install"
    assert status["reason"] == "not_found"
    assert status["nextRetryMs"] is None, "a missing host is not retried in a loop"
    # Requests fail at once with a message a person can act on.
    error = panel.evaluate(
        """async () => {
          const { HostClient } = await import('../lib/client.js');
          const c = new HostClient();
          await new Promise((r) => setTimeout(r, 200));
          try { await c.request('stats'); return null; }
          catch (e) { return {code: e.code, message: e.message}; }
        }"""
    )
    assert error is not None
    assert error["code"] == "disconnected"
    assert "not found" in error["message"]
    snapshot(panel, artifacts, "panel-install-help", height=700)

    install_host(bare.profile, bare.home)
    panel.get_by_role("button", name="Retry").click()
    expect(panel.locator("#status-state")).to_have_text("Connected", timeout=TIMEOUT_MS)
    expect(panel.locator("#status-host")).to_have_text(f"host {__version__}")
    expect(help_box).to_be_hidden()
    assert bare.page_errors == []
