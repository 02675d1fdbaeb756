"""`sidedesk install`: register the host with your browsers.

sidedesk install                      every browser found on this machine (user level)
sidedesk install --browser chrome     just these (repeatable; `all` for every one)
sidedesk install --system             system folders / HKLM (needs sudo / Administrator)
sidedesk install --user-data-dir DIR  <DIR>/NativeMessagingHosts/ only (a profile started
                                      with --user-data-dir; tests use this)
sidedesk install --dry-run            print what would be written, write nothing
sidedesk install --service            also start the Sidedesk service at login (systemd user
                                      unit, LaunchAgent, or a logon task on Windows)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from sidedesk.install.browsers import NAMES, Browser, Platform, UnknownBrowser, lookup
from sidedesk.install.detect import SNAP_GUIDANCE, detect_all, flatpak_guidance
from sidedesk.install.manifest import InvalidExtensionId, check_extension_id


def add_selectors(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument(
        "--browser",
        action="append",
        default=[],
        metavar="NAME",
        help=f"{verb} only for this browser (repeatable): {', '.join(NAMES)}, or all",
    )
    parser.add_argument(
        "--system", action="store_true", help="system-wide folders / HKLM (needs admin rights)"
    )
    parser.add_argument(
        "--user-data-dir",
        type=Path,
        metavar="DIR",
        help="only <DIR>/NativeMessagingHosts/, for a browser started with --user-data-dir=DIR",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    parser.add_argument(
        "--service",
        action="store_true",
        help=f"the login start of the Sidedesk service too (when you {verb})",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n", 2)[2] if __doc__ else None
    add_selectors(parser, "register")
    parser.add_argument(
        "--extension-id",
        action="append",
        default=[],
        metavar="ID",
        help="also allow this extension id (e.g. a store or self-packed build); repeatable",
    )


def resolve_browsers(names: list[str], platform: Platform, out: TextIO) -> tuple[Browser, ...]:
    """Named browsers, or (none named) the ones found here; sandboxed ones get a warning."""
    if names:
        return lookup(names)
    found = []
    for presence in detect_all(platform):
        if presence.snap:
            print(f"warning: {presence.browser.label} is a Snap: {SNAP_GUIDANCE}", file=out)
        if presence.flatpak:
            print(f"warning: {flatpak_guidance(presence.browser)}", file=out)
        if presence.installed:
            found.append(presence.browser)
    return tuple(found)


def write_login_start(platform: Platform, dry_run: bool, out: TextIO) -> None:
    """Write the file that starts the service at login and say how to turn it on."""
    import getpass
    import os

    from sidedesk.install.login import login_start, service_argv_env
    from sidedesk.store.paths import default_paths

    paths = default_paths()
    argv, env = service_argv_env(dict(os.environ))
    item = login_start(
        platform.system,
        platform.home,
        platform.config_home,
        paths.data_dir,
        paths.log_dir,
        argv,
        env,
        getpass.getuser(),
    )
    if dry_run:
        print(f"would write {item.path}:\n{item.content}", file=out)
        return
    item.path.parent.mkdir(parents=True, exist_ok=True)
    item.path.write_text(item.content, encoding="utf-16" if item.kind == "task" else "utf-8")
    print(f"wrote {item.path}; turn it on with: {item.enable}", file=out)


def run(args: argparse.Namespace) -> int:
    from sidedesk.install.apply import InstallError, InstallRequest, install
    from sidedesk.install.launcher import UnsafeLauncherPath, host_command
    from sidedesk.store.paths import default_paths

    out = sys.stdout
    platform = Platform.current()
    paths = default_paths()
    try:
        ids = tuple(check_extension_id(i.strip()) for i in args.extension_id)
        browsers = resolve_browsers(args.browser, platform, out)
    except (InvalidExtensionId, UnknownBrowser) as exc:
        print(f"sidedesk install: {exc}", file=sys.stderr)
        return 2
    if args.user_data_dir is not None:
        if args.system:
            print("sidedesk install: --user-data-dir and --system do not go together", file=sys.stderr)
            return 2
        if platform.system == "windows":
            print(
                "sidedesk install: Windows browsers have no per-profile host folder; "
                "install without --user-data-dir (registry keys apply to every profile)",
                file=sys.stderr,
            )
            return 2
        if any(not b.follows_user_data_dir for b in browsers if args.browser):
            print(
                "note: Brave ignores --user-data-dir for native hosts; install --browser brave too", file=out
            )
    elif not browsers:
        print(
            "sidedesk install: no supported browser found here; name one with --browser "
            f"({', '.join(NAMES)}, or all)",
            file=sys.stderr,
        )
        return 1
    registry = None
    if platform.system == "windows" and args.user_data_dir is None:
        from sidedesk.install.registry import default_backend

        registry = default_backend()
    try:
        host = host_command(platform.system, paths.data_dir / "bin")
        user_data_dir = args.user_data_dir.expanduser().resolve() if args.user_data_dir else None
        request = InstallRequest(
            browsers=browsers,
            scope="system" if args.system else "user",
            user_data_dir=user_data_dir,
            extension_ids=ids,
            dry_run=args.dry_run,
        )
        written = install(request, platform, paths, host, registry, out)
    except (InstallError, UnsafeLauncherPath) as exc:
        print(f"sidedesk install: {exc}", file=sys.stderr)
        return 1
    if args.service:
        write_login_start(platform, args.dry_run, out)
    if not args.dry_run and written:
        where = "that profile" if user_data_dir else ", ".join(b.label for b in browsers)
        print(
            f"Sidedesk host registered for {where}. Restart the browser if it was open, load the "
            "extension, then run `sidedesk doctor` to check the setup.",
            file=out,
        )
    return 0
