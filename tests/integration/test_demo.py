"""`sidedesk demo`: its pure choices, its preflight messages, and the real thing in Chromium.

The headless run is the CI check of issue 15: the real command, the real simulator, host, installer
and Chromium, and its transcript must show the order filled, the ASL levels reached and the flatten.
The interactive run is checked under a private Xvfb: the panel reaches the host, Ctrl-C ends it all.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from sidedesk.demo import plan
from sidedesk.demo.preflight import (
    DemoProblem,
    find_chromium,
    find_extension,
    require_display,
    require_playwright,
)
from sidedesk.demo.prepare import MARKER, PID_FILE, fresh_home
from sidedesk.demo.transcript import Transcript, read_transcript
from sidedesk.identity import DEV_EXTENSION_ID
from sidedesk.store.config import HostConfig, VaultKdfOverride
from sidedesk.vault import strength
from sidedesk_sim.engine.prices import parse_path
from tests.support import services

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "demo-Test-Vault-4821"
ASL_WIRED = importlib.util.find_spec("sidedesk.api.asl") is not None


# -- pure choices ---------------------------------------------------------------------------------


def test_demo_config_is_a_valid_host_config_with_an_explicit_moderate_kdf() -> None:
    config = HostConfig.model_validate(plan.demo_config("http://127.0.0.1:9"))
    assert config.simulators == {"binance": "http://127.0.0.1:9"}
    assert config.vault_kdf == VaultKdfOverride(memory_kib=19 * 1024, iterations=2, lanes=1)
    assert config.watchlist == list(plan.WATCHLIST)
    assert config.risk.confirm_above_notional is not None
    assert Decimal(plan.DEMO_NOTIONAL) < config.risk.confirm_above_notional  # the buy needs no confirmation
    # The product default stays strong: the override lives only in the demo's own file.
    assert HostConfig().vault_kdf is None


def test_trend_path_is_deterministic_parseable_and_rises_gently() -> None:
    path = plan.trend_path(7)
    assert path == plan.trend_path(7) != plan.trend_path(8)
    legs = parse_path(path)  # the simulator's own parser accepts it
    assert len(legs) == 60
    assert plan.path_seconds(path) == sum(leg.duration_ms for leg in legs) // 1000
    assert 5 * 60 <= plan.path_seconds(path) <= 15 * 60
    growth = Decimal(1)
    for leg in legs:
        assert leg.change_pct is not None and abs(leg.change_pct) <= Decimal("0.16")
        growth *= 1 + leg.change_pct / 100
    assert Decimal("1.005") < growth < Decimal("1.05")  # up, gently
    with pytest.raises(ValueError):
        plan.trend_path(1, legs=0)


def test_level_targets_pass_each_threshold_on_the_tick() -> None:
    entry, tick = Decimal("60049.8"), Decimal("0.1")
    targets = plan.level_targets(entry, [Decimal(1), Decimal(2), Decimal(4)], tick)
    assert [t.level for t in targets] == [1, 2, 3]
    for t in targets:
        assert t.price > entry * (1 + t.profit_pct / 100)  # past the threshold...
        assert t.price < entry * (1 + (t.profit_pct + 1) / 100)  # ...but short of the next level's
        assert t.price % tick == 0


def test_run_up_path_reaches_the_target_with_a_dip_smaller_than_the_pullback() -> None:
    start, target, tick = Decimal("60000"), Decimal("60900.5"), Decimal("0.1")
    path = plan.run_up_path(start, target, tick, Decimal("0.25"), seconds=4)
    legs = parse_path(path)
    assert [leg.target for leg in legs][-1] == target
    up, dip = legs[0].target, legs[1].target
    assert up is not None and dip is not None and start < dip < up < target
    assert (up - dip) / up * 100 <= Decimal("0.26")
    assert sum(leg.duration_ms for leg in legs) == 4000
    for bad in ((2, Decimal("0.25")), (4, Decimal(1))):
        with pytest.raises(ValueError):
            plan.run_up_path(start, target, tick, bad[1], seconds=bad[0])
    assert plan.pullback_for([Decimal(2), Decimal("1.5"), Decimal(1)]) == Decimal("0.25")
    assert plan.pullback_for([Decimal("0.4")]) == Decimal("0.1")
    parse_path(plan.warm_up_path())


def test_generated_passwords_pass_the_vault_floor() -> None:
    rng = random.Random(5)
    passwords = {plan.make_password(rng) for _ in range(50)}
    assert len(passwords) == 50
    for pw in passwords:
        assert strength.problem(pw) is None
        assert len(pw) == 23


def test_interactive_args_open_the_panel_on_the_demo_profile(tmp_path: Path) -> None:
    ext = tmp_path / "extension"
    url = f"chrome-extension://{DEV_EXTENSION_ID}/sidepanel/panel.html"
    args = plan.interactive_args("/x/chromium", tmp_path / "p", ext, [url], as_root=False)
    assert args[0] == "/x/chromium" and args[-1] == url
    assert f"--user-data-dir={tmp_path / 'p'}" in args
    assert f"--disable-extensions-except={ext}" in args and f"--load-extension={ext}" in args
    assert "--no-first-run" in args and "--disable-background-networking" in args
    assert "--no-sandbox" not in args
    assert "--no-sandbox" in plan.interactive_args("/x/chromium", tmp_path, ext, [url], as_root=True)


# -- preflight and the demo folder --------------------------------------------------------------


def test_missing_chromium_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(DemoProblem) as info:
        find_chromium({}, candidates=(str(tmp_path / "none"),), which=lambda _: None)
    assert info.value.problem == "Chromium not found"
    assert "sudo apt-get install chromium" in info.value.fix
    not_exec = tmp_path / "chromium"
    not_exec.write_text("")
    with pytest.raises(DemoProblem, match="not an executable file"):
        find_chromium({"SIDEDESK_CHROMIUM": str(not_exec)})
    snap = tmp_path / "snap" / "bin" / "chromium"
    snap.parent.mkdir(parents=True)
    snap.write_text("#!/bin/sh\n")
    snap.chmod(0o755)
    with pytest.raises(DemoProblem, match="Snap build"):
        find_chromium({"SIDEDESK_CHROMIUM": str(snap)})
    good = tmp_path / "bin" / "chromium"
    good.parent.mkdir()
    good.write_text("#!/bin/sh\n")
    good.chmod(0o755)
    assert find_chromium({"SIDEDESK_CHROMIUM": str(good)}) == str(good)
    assert find_chromium({}, candidates=(str(good),)) == str(good)


def test_extension_playwright_and_display_checks(tmp_path: Path) -> None:
    pkg = REPO / "host" / "sidedesk"
    assert find_extension(None, pkg, tmp_path / "python") == REPO / "extension"
    frozen = tmp_path / "release" / "sidedesk"
    (frozen.parent / "extension").mkdir(parents=True)
    (frozen.parent / "extension" / "manifest.json").write_text("{}")
    assert find_extension(None, tmp_path / "a" / "b", frozen) == frozen.parent / "extension"
    with pytest.raises(DemoProblem, match="--extension DIR"):
        find_extension(tmp_path / "nothing", pkg, frozen)
    with pytest.raises(DemoProblem) as info:
        require_playwright(lambda _: None)
    assert "pip install playwright" in info.value.fix
    require_playwright()  # a dev install has it
    with pytest.raises(DemoProblem, match="DISPLAY"):
        require_display({}, "linux")
    require_display({"DISPLAY": ":0"}, "linux")
    require_display({}, "darwin")


def test_fresh_home_wipes_only_a_demo_folder(tmp_path: Path) -> None:
    home = fresh_home(tmp_path / "demo")
    (home.root / "data").mkdir()
    (home.root / "data" / "old.txt").write_text("old")
    again = fresh_home(tmp_path / "demo")
    assert (again.root / MARKER).is_file() and not (again.root / "data").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(DemoProblem, match="not a Sidedesk demo folder"):
        fresh_home(foreign)
    assert (foreign / "precious.txt").read_text() == "keep me"
    # A live demo's folder is never wiped from under it; a stale pid file does not block.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (again.root / PID_FILE).write_text(f"{sleeper.pid}\n")
        with pytest.raises(DemoProblem, match=f"another demo \\(pid {sleeper.pid}\\)"):
            fresh_home(again.root)
    finally:
        sleeper.kill()
        sleeper.wait(5)
    fresh_home(again.root)
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(DemoProblem, match="not a folder"):
        fresh_home(a_file)


def test_transcript_is_json_lines_flushed_as_written(tmp_path: Path) -> None:
    path = tmp_path / "out" / "t.jsonl"
    with Transcript(path) as t:
        t.write("order.filled", qty=Decimal("0.016"))
        assert read_transcript(path)[0]["data"] == {"qty": "0.016"}  # readable while running
        t.write("flattened", ok=False, error="x")
    records = read_transcript(path)
    assert [(r["step"], r["ok"]) for r in records] == [("order.filled", True), ("flattened", False)]
    assert records[0]["t"].endswith("Z") and records[1]["elapsed_s"] >= records[0]["elapsed_s"]


# -- the command -------------------------------------------------------------------------------------


def demo_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "sidedesk.cli", "demo", *args]


def test_demo_without_chromium_fails_with_the_fix(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SIDEDESK_CHROMIUM": str(tmp_path / "no-such-browser"),
        "SIDEDESK_HOME": str(tmp_path),
    }
    proc = subprocess.run(
        demo_cmd("--headless", "--out", str(tmp_path / "out")),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "is not an executable file" in proc.stderr and "fix:" in proc.stderr
    assert not (tmp_path / "data" / "sidedesk-demo").exists()  # nothing was set up


def test_demo_without_a_display_says_how_to_run_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed (apt-get install chromium; .ci/run installs it)")
    proc = subprocess.run(
        demo_cmd("--home", str(tmp_path / "demo")),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "DISPLAY is not set" in proc.stderr and "--headless" in proc.stderr


@pytest.mark.e2e
def test_headless_demo_transcript_shows_fill_asl_levels_and_flatten(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed (apt-get install chromium; .ci/run installs it)")
    out, home = tmp_path / "out", tmp_path / "demo"
    proc = subprocess.run(
        demo_cmd("--headless", "--out", str(out), "--home", str(home), "--password", PASSWORD, "--seed", "3"),
        env={**os.environ, "SIDEDESK_HOME": str(tmp_path / "user")},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    log = home / "logs" / "host.log"
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{log.read_text() if log.exists() else ''}"
    for n in range(1, 7):
        assert f"[{n}/6]" in proc.stdout
    assert "shown once" not in proc.stdout  # the password was given, so it is not printed
    records = read_transcript(out / "transcript.jsonl")
    steps = {r["step"]: r for r in records}
    assert all(r["ok"] for r in records), [r for r in records if not r["ok"]]
    # A click the panel swallowed while re-rendering is retried, boundedly.
    assert len([r for r in records if r["step"] in ("vault.unlock.retry", "accounts.reload")]) <= 2

    assert steps["vault.unlocked"]["data"]["host"]["state"] == "unlocked"
    account = steps["account.activated"]["data"]["host"]
    assert account["state"] == "live" and account["active"] and account["environment"] == "simulator"
    filled = steps["order.filled"]["data"]
    assert filled["host"]["status"] == "placed" and filled["host"]["quantity"] == filled["position"]["size"]
    assert filled["exchange"]["type"] == "MARKET" and Decimal(filled["exchange"]["executedQty"]) > 0
    assert filled["position"]["side"] == "LONG"

    levels = [r["data"]["level"] for r in records if r["step"] == "asl.level"]
    if ASL_WIRED:
        assert levels == ["hard", "1", "2", "3"], levels
        stops = [Decimal(r["data"]["stop_price"]) for r in records if r["step"] == "asl.level"]
        assert stops[-1] > Decimal(filled["position"]["entry"])  # level 3 locks in profit
    else:
        assert levels == [] and steps["asl.profile"]["data"]["available"] is False
        assert len([r for r in records if r["step"] == "price.reached"]) == 3

    flat = steps["flattened"]["data"]
    assert flat["host"]["name"] == "flatten"
    assert flat["host"]["result"]["closed"] == 1 and flat["host"]["result"]["errors"] == []
    assert flat["open_orders"] == 0 and "BTCUSDT" not in flat["positions"]
    assert flat["notice"]["level"] == "info"

    shots = steps["demo.finished"]["data"]["screenshots"]
    assert shots == ["setup.png", "panel.png", "positions.png", "action-bar.png", "flattened.png"]
    for name in shots:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (out / "transcript.jsonl").read_text()
    assert PASSWORD not in text and "secret" not in text.lower()
    assert not home.exists()  # removed at the end (no --keep)


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str, int]:
    """A private X server on a free display; returns it, ":N" and the pipe to close after it ends."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    ready, _, _ = select.select([read_fd], [], [], 15)
    number = os.read(read_fd, 16).decode().strip() if ready else ""
    if not number:
        xvfb.kill()
        xvfb.wait(5)
        os.close(read_fd)
        pytest.fail("Xvfb did not report a display")
    # The read end stays open while Xvfb runs: closing it early makes Xvfb exit.
    return xvfb, f":{number}", read_fd


@pytest.mark.e2e
def test_interactive_demo_opens_the_panel_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("Xvfb") is None:
        pytest.fail("needs Debian chromium and xvfb (.ci/run installs them)")
    home = tmp_path / "demo"
    xvfb, display, xvfb_fd = _start_xvfb()
    demo = subprocess.Popen(
        demo_cmd("--home", str(home), "--seed", "2"),
        env={**os.environ, "DISPLAY": display, "SIDEDESK_HOME": str(tmp_path / "user")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        log = home / "logs" / "host.log"
        config = home / "config" / "config.json"
        deadline = time.monotonic() + 60
        # The extension starts the host through the demo profile's manifest: the second start logged
        # (by the service a panel attaches to, or by a host started in-process)
        origin = f"chrome-extension://{DEV_EXTENSION_ID}/"
        while time.monotonic() < deadline and demo.poll() is None:
            text = log.read_text() if log.exists() else ""
            if text.count(f"started by {origin}") + text.count(f"panel attached ({origin})") >= 2:
                break
            time.sleep(0.2)
        else:
            out, err = demo.communicate(timeout=10) if demo.poll() is not None else ("", "")
            pytest.fail(f"the panel never reached the host\n{out}\n{err}")
        saved = json.loads(config.read_text())
        assert saved["active_account"] and saved["simulators"]["binance"].startswith("http://127.0.0.1:")
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate(timeout=10)
        xvfb.terminate()
        xvfb.wait(10)
        os.close(xvfb_fd)
    assert demo.returncode == 0, err
    assert "Vault password (shown once): " in out
    password = out.split("Vault password (shown once): ", 1)[1].split()[0]
    assert strength.problem(password) is None
    assert "[6/6] Chromium" in out and "Stopping the demo" in out
    assert not home.exists()  # Chromium was stopped and the throwaway folder removed
    assert services.serving_pid(home) is None  # and the demo's service with it
