"""Shared fixtures for the end-to-end tests: a real Chromium with the unpacked extension and the host.

Each test module gets one browser (launching costs ~1-2 s) on a fresh profile under a pytest temp
folder. The host is registered exactly as a user would do it, with `sidedesk install --browser
chromium --user-data-dir <profile>`, and `SIDEDESK_HOME` isolates its config, data and logs (the
installer bakes it into the launcher; we also pass it in Chromium's environment).

Debian's `chromium` is used as installed; no browser is ever downloaded. Chromium honours
`--load-extension` (only Google-Chrome-branded builds dropped it), and Playwright's default
`--disable-extensions` is overridden by `--disable-extensions-except` (research/chrome.md §5).

Later suites reuse `launch_sidedesk()` (e.g. `headless=False` under Xvfb for hotkey tests with
xdotool) or the module-scoped `sidedesk` fixture.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize

REPO = Path(__file__).resolve().parents[2]
# SIDEDESK_E2E_EXTENSION runs the suite against another copy of the extension (e.g. an older
# commit's, to check that a new test fails there).
EXTENSION_DIR = Path(os.environ.get("SIDEDESK_E2E_EXTENSION") or REPO / "extension")
ARTIFACTS = REPO / "test-artifacts"
PANEL_PATH = "sidepanel/panel.html"
PANEL_VIEWPORT: ViewportSize = {"width": 420, "height": 780}  # about a side panel's size


def chromium_path() -> str | None:
    explicit = os.environ.get("SIDEDESK_CHROMIUM")
    if explicit:
        return explicit
    for candidate in ("/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def install_host(profile: Path, home: Path) -> str:
    """Register the host for this profile with the real installer; returns its output."""
    env = {**os.environ, "SIDEDESK_HOME": str(home)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sidedesk.cli",
            "install",
            "--browser",
            "chromium",
            "--user-data-dir",
            str(profile),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, f"sidedesk install failed:\n{proc.stdout}\n{proc.stderr}"
    manifest = profile / "NativeMessagingHosts" / "com.sidedesk.host.json"
    assert manifest.is_file(), f"the installer did not write {manifest}:\n{proc.stdout}"
    return proc.stdout


@dataclass
class SidedeskBrowser:
    context: Any  # playwright BrowserContext
    extension_id: str
    profile: Path
    home: Path
    page_errors: list[str] = field(default_factory=list)

    @property
    def service_worker(self) -> Any:
        workers = self.context.service_workers
        assert workers, "the extension's service worker is not running"
        return workers[0]

    def panel_url(self, query: str = "") -> str:
        return f"chrome-extension://{self.extension_id}/{PANEL_PATH}{query}"

    def open_panel(self, query: str = "") -> Page:
        """The side panel page opened as a tab (chrome.* and runtime ports work the same there)."""
        page: Page = self.context.new_page()
        page.on("pageerror", lambda exc: self.page_errors.append(f"{page.url}: {exc}"))
        page.goto(self.panel_url(query))
        return page

    def host_log(self) -> str:
        log = self.home / "logs" / "host.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else "(no host log)"


def snapshot(page: Page, artifacts: Path, name: str, height: int = 1400) -> None:
    """Save `name`-light.png and `name`-dark.png, tall enough to show the whole panel."""
    size = page.viewport_size or PANEL_VIEWPORT
    page.set_viewport_size({"width": PANEL_VIEWPORT["width"], "height": height})
    try:
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.screenshot(path=str(artifacts / f"{name}-{scheme}.png"))
    finally:
        page.emulate_media(color_scheme=None)
        page.set_viewport_size(size)


@contextlib.contextmanager
def launch_sidedesk(
    profile: Path,
    home: Path,
    *,
    install: bool = True,
    headless: bool = True,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    host_config: dict[str, Any] | None = None,
) -> Iterator[SidedeskBrowser]:
    """Chromium with the unpacked extension on a fresh `profile`; the host registered unless install=False.

    `host_config` is written as the host's settings file (`<home>/config/config.json`).
    """
    executable = chromium_path()
    if executable is None or not Path(executable).exists():
        pytest.fail("Debian chromium is not installed (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    profile.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    if host_config is not None:
        (home / "config").mkdir(parents=True, exist_ok=True)
        (home / "config" / "config.json").write_text(json.dumps(host_config), encoding="utf-8")
    if install:
        install_host(profile, home)
    browser_env: dict[str, str | float | bool] = {**os.environ, **(env or {}), "SIDEDESK_HOME": str(home)}
    args = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--disable-extensions-except={EXTENSION_DIR}",
        f"--load-extension={EXTENSION_DIR}",
        *extra_args,
    ]
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=headless,
            args=args,
            env=browser_env,
            viewport=PANEL_VIEWPORT,
        )
        try:
            workers = context.service_workers
            worker = workers[0] if workers else context.wait_for_event("serviceworker", timeout=15_000)
            extension_id = worker.url.split("/")[2]
            yield SidedeskBrowser(context, extension_id, profile, home)
        finally:
            context.close()


@pytest.fixture(scope="module")
def sidedesk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SidedeskBrowser]:
    """One browser per test module, host installed, isolated SIDEDESK_HOME."""
    root = tmp_path_factory.mktemp("sidedesk-e2e")
    # Status pushes every second instead of five, so push fan-out is seen quickly.
    with launch_sidedesk(root / "profile", root / "home", host_config={"status_interval_s": 1.0}) as browser:
        yield browser


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and other things worth a human look (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
