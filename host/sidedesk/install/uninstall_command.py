"""`sidedesk uninstall`: remove every manifest, registry key and launcher `install` wrote.

With no selector everything registered at that level goes (user level, or `--system`); with
`--browser NAME` only what those browsers use and no other registered browser still needs;
with `--user-data-dir DIR` only that profile's manifest.
"""

from __future__ import annotations

import argparse
import sys

from sidedesk.install.browsers import BROWSERS, Platform, UnknownBrowser, lookup
from sidedesk.install.command import add_selectors


def configure(parser: argparse.ArgumentParser) -> None:
    add_selectors(parser, "unregister")


def run(args: argparse.Namespace) -> int:
    from sidedesk.install.apply import InstallError, UninstallRequest, uninstall
    from sidedesk.store.paths import default_paths

    platform = Platform.current()
    try:
        browsers = lookup(args.browser) if args.browser else BROWSERS
    except UnknownBrowser as exc:
        print(f"sidedesk uninstall: {exc}", file=sys.stderr)
        return 2
    if args.user_data_dir is not None and args.system:
        print("sidedesk uninstall: --user-data-dir and --system do not go together", file=sys.stderr)
        return 2
    registry = None
    if platform.system == "windows":
        from sidedesk.install.registry import default_backend

        registry = default_backend()
    request = UninstallRequest(
        browsers=browsers,
        scope="system" if args.system else "user",
        user_data_dir=args.user_data_dir.expanduser().resolve() if args.user_data_dir else None,
        everything=not args.browser and args.user_data_dir is None,
        dry_run=args.dry_run,
    )
    try:
        uninstall(request, platform, default_paths(), registry, sys.stdout)
    except InstallError as exc:
        print(f"sidedesk uninstall: {exc}", file=sys.stderr)
        return 1
    if args.service or request.everything:
        remove_login_start(platform, args.dry_run)
    return 0


def remove_login_start(platform: Platform, dry_run: bool) -> None:
    import getpass

    from sidedesk.install.login import login_start
    from sidedesk.store.paths import default_paths

    paths = default_paths()
    item = login_start(
        platform.system,
        platform.home,
        platform.config_home,
        paths.data_dir,
        paths.log_dir,
        ["sidedesk"],
        {},
        getpass.getuser(),
    )
    if item.path.exists():
        if dry_run:
            print(f"would remove {item.path}")
        else:
            item.path.unlink()
            print(f"removed {item.path} (the service no longer starts at login)")
