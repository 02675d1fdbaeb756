"""`sidedesk doctor [--json] [--user-data-dir DIR]`: check every browser registration.

Exit status 0 when the setup works (warnings allowed), 1 when something blocks the extension.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="machine-readable report (attach it to bug reports)"
    )
    parser.add_argument(
        "--user-data-dir",
        type=Path,
        metavar="DIR",
        help="check only <DIR>/NativeMessagingHosts/, for a browser started with --user-data-dir=DIR",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the host's hello reply (default 10)",
    )


def run(args: argparse.Namespace) -> int:
    from sidedesk.install.browsers import Platform
    from sidedesk.install.doctor import render_json, render_table, run_doctor
    from sidedesk.store.paths import default_paths

    if not 0 < args.timeout <= 120:
        print("sidedesk doctor: --timeout must be between 0 and 120 seconds", file=sys.stderr)
        return 2
    platform = Platform.current()
    registry = None
    if platform.system == "windows":
        from sidedesk.install.registry import default_backend

        registry = default_backend()
    user_data_dir = args.user_data_dir.expanduser().resolve() if args.user_data_dir else None
    report = run_doctor(
        platform, default_paths(), registry=registry, user_data_dir=user_data_dir, timeout=args.timeout
    )
    sys.stdout.write(render_json(report) + "\n" if args.json else render_table(report))
    return 1 if report.status == "error" else 0
