"""`sidedesk native ORIGIN`, for when it is reached through the generic subcommand path."""

from __future__ import annotations

import argparse

from sidedesk.native.main import main


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("origin", nargs="?", help="chrome-extension://<id>/ (Chrome passes it)")
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    return main([a for a in [args.origin, *args.rest] if a])
