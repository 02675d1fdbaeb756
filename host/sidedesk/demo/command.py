"""`sidedesk demo`: a working trading desk on the offline Binance simulator, no account needed.

sidedesk demo                         Chromium opens with the panel; stop with Ctrl-C or by closing it
sidedesk demo --headless --out DIR    a scripted session in headless Chromium: transcript + screenshots
  --password PW    the demo vault's password (default: a random one, printed once)
  --seed N         the simulator's seed (prices, the trend)
  --home DIR       the demo folder (default: `sidedesk-demo` under Sidedesk's data folder); wiped
                   on every run, removed at the end unless --keep (kept anyway when a step fails)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

from sidedesk.demo import browser, plan
from sidedesk.demo.preflight import (
    DemoProblem,
    find_chromium,
    find_extension,
    require_display,
    require_playwright,
    running_as_root,
)
from sidedesk.demo.prepare import (
    DemoHome,
    create_vault,
    default_demo_root,
    fresh_home,
    install_host,
    remove_home,
    stop_service,
)
from sidedesk.demo.simthread import SimError, SimThread
from sidedesk.demo.transcript import TRANSCRIPT_NAME, Transcript

TOTAL_STEPS = 6


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2] if __doc__ else None
    parser.add_argument("--headless", action="store_true", help="run a scripted session without a screen")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("sidedesk-demo-output"),
        metavar="DIR",
        help="where --headless writes transcript.jsonl and the screenshots (default ./sidedesk-demo-output)",
    )
    parser.add_argument(
        "--password", metavar="PW", help="demo vault password (default: random, printed once)"
    )
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="simulator seed (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the demo folder (logs, vault) afterwards")
    parser.add_argument("--home", type=Path, metavar="DIR", help="the demo folder (wiped on every run)")
    parser.add_argument("--extension", type=Path, metavar="DIR", help="the unpacked extension folder")


class Progress:
    """Numbered steps on stdout; problems on stderr with the fix."""

    def __init__(self, out: TextIO, err: TextIO, total: int = TOTAL_STEPS) -> None:
        self.out, self.err, self.total, self.n = out, err, total, 0

    def step(self, title: str, detail: str = "") -> None:
        self.n += 1
        line = f"[{self.n}/{self.total}] {title}"
        self.out.write(f"{line}{' ' if detail else ''}{detail}\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.out.write(f"      {text}\n")
        self.out.flush()

    def fail(self, problem: DemoProblem) -> None:
        self.err.write(f"sidedesk demo: {problem.problem}\n  fix: {problem.fix}\n")
        self.err.flush()


class TrendKeeper:
    """Keeps a gently rising scripted path running on each symbol (re-armed when it ends)."""

    def __init__(self, sim: SimThread, symbols: tuple[str, ...], seed: int) -> None:
        self.sim, self.symbols, self.seed = sim, symbols, seed
        self.round = 0
        self.next_at = 0.0

    def tick(self, now: float) -> None:
        if now < self.next_at:
            return
        longest = 0
        for i, symbol in enumerate(self.symbols):
            path = plan.trend_path(self.seed * 1000 + self.round * 10 + i)
            self.sim.control("POST", "/path", {"symbol": symbol, "path": path})
            longest = max(longest, plan.path_seconds(path))
        self.round += 1
        self.next_at = now + longest


def run(args: argparse.Namespace) -> int:
    progress = Progress(sys.stdout, sys.stderr)
    try:
        return _run(args, progress)
    except DemoProblem as exc:
        progress.fail(exc)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, progress: Progress) -> int:
    import sidedesk

    env = os.environ
    chromium = find_chromium(env)
    extension_dir = find_extension(
        args.extension, Path(sidedesk.__file__).resolve().parent, Path(sys.executable)
    )
    if args.headless:
        require_playwright()
    else:
        require_display(env)
    if args.password is not None and not args.password:
        raise DemoProblem("--password is empty", "give a password of at least 10 characters, or leave it out")
    as_root = running_as_root()
    progress.out.write(f"Sidedesk demo: {chromium}, extension {extension_dir}\n")

    home = fresh_home(args.home or default_demo_root())
    progress.step("Demo folder", str(home.root))
    failed = True
    sim = SimThread(seed=args.seed)
    try:
        try:
            sim.start()
        except SimError as exc:
            raise DemoProblem(
                str(exc), "see the message above; the simulator needs a free 127.0.0.1 port"
            ) from None
        btc = sim.market(plan.DEMO_SYMBOL)
        progress.step("Binance simulator", f"{sim.rest_url} (BTCUSDT {btc['last']}, seed {args.seed})")

        plan_config = plan.demo_config(sim.rest_url)
        from sidedesk.store.config import write_json_atomic

        write_json_atomic(home.config_file, plan_config)
        kdf = plan.DEMO_KDF
        progress.step(
            "Host settings",
            f"{home.config_file} (simulator; Argon2id {kdf['memory_kib'] // 1024} MiB, t={kdf['iterations']} "
            "for this throwaway vault only)",
        )

        password = args.password or plan.make_password()
        key = sim.hmac_key("main")
        entry = create_vault(home, password, key["apiKey"], key["secret"])
        progress.step("Demo vault", f"account {entry.get('name')!r} with the simulator's public test key")
        if args.password is None:
            progress.note(f"Vault password (shown once): {password}")
        if not args.headless:
            # After the unlock, the host reconnects this account by itself: one step less for a newcomer.
            write_json_atomic(home.config_file, {**plan_config, "active_account": entry["id"]})

        install_host(home)
        progress.step("Host registered", f"{home.manifest}")

        if args.headless:
            code = _headless(args, progress, home, sim, password, chromium, extension_dir, as_root)
        else:
            code = _interactive(progress, home, sim, chromium, extension_dir, as_root, args.seed)
        failed = code != 0
        return code
    finally:
        stop_service(home)
        sim.stop()
        if failed or args.keep:
            progress.out.write(f"Demo folder kept: {home.root} (host log: {home.host_log})\n")
        elif not remove_home(home):
            progress.out.write(f"Could not remove the demo folder {home.root}: delete it by hand\n")


def _interactive(
    progress: Progress,
    home: DemoHome,
    sim: SimThread,
    chromium: str,
    extension_dir: Path,
    as_root: bool,
    seed: int,
) -> int:
    trend = TrendKeeper(sim, plan.WATCHLIST, seed)
    trend.tick(time.monotonic())
    proc = browser.launch(chromium, home, extension_dir, as_root=as_root)
    progress.step("Chromium", f"running (pid {proc.pid}) with the Sidedesk panel open")
    progress.note("In the panel: Setup → Vault password → Unlock; the demo account connects by itself.")
    progress.note("Then trade from the Trade tab. Alt+Shift+L opens the side panel on any tab.")
    progress.note("Stop the demo with Ctrl-C here or by closing Chromium.")
    try:
        while True:
            try:
                code = proc.wait(1.0)
            except subprocess.TimeoutExpired:
                trend.tick(time.monotonic())
                continue
            if code != 0:
                tail = browser.log_tail(home)
                raise DemoProblem(
                    f"Chromium exited with status {code}{': ' + tail if tail else ''}",
                    f"see {home.root / 'logs' / 'chromium.log'}; with no desktop session try "
                    "`xvfb-run -a sidedesk demo` or `sidedesk demo --headless`",
                )
            progress.out.write("Chromium closed; demo stopped.\n")
            return 0
    except KeyboardInterrupt:
        progress.out.write("\nStopping the demo…\n")
        return 0
    finally:
        browser.stop(proc)


def _headless(
    args: argparse.Namespace,
    progress: Progress,
    home: DemoHome,
    sim: SimThread,
    password: str,
    chromium: str,
    extension_dir: Path,
    as_root: bool,
) -> int:
    from sidedesk.demo.session import Session, SessionFailed, SessionSetup

    out = args.out.expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    # The other watchlist symbols drift gently; the scripted symbol is driven by the script alone.
    TrendKeeper(sim, tuple(s for s in plan.WATCHLIST if s != plan.DEMO_SYMBOL), args.seed).tick(0.0)
    progress.step("Headless session", f"writing {out / TRANSCRIPT_NAME}")
    setup = SessionSetup(home, sim, out, password, chromium, extension_dir, as_root)
    with Transcript(out / TRANSCRIPT_NAME) as transcript:
        transcript.write("demo.started", simulator=sim.rest_url, seed=args.seed, home=str(home.root))
        try:
            shots = Session(setup, transcript, progress.note).run()
        except SessionFailed as exc:
            raise DemoProblem(
                f"the scripted session failed at {exc}", f"see {out / TRANSCRIPT_NAME} and {home.host_log}"
            ) from None
        transcript.write("demo.finished", screenshots=[p.name for p in shots])
    progress.out.write(f"Done: {out / TRANSCRIPT_NAME} and {len(shots)} screenshots in {out}\n")
    return 0
