"""The `sidedesk` command.

Each subcommand lives in its own module exposing `configure(parser)` and `run(args) -> int`,
imported only when chosen, so `sidedesk native` (which Chrome starts on every connect) loads
nothing it does not need.
"""

from __future__ import annotations

import importlib
import sys

from sidedesk import __version__

TYPE_CHECKING = False  # typing's constant without importing typing: `sidedesk native` starts here

if TYPE_CHECKING:
    import argparse

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "native": ("sidedesk.main", "run as the native-messaging host (Chrome starts this)"),
    "service": (
        "sidedesk.service_cli",
        "run or control the per-user service that keeps protecting with the browser closed",
    ),
    "install": ("sidedesk.install.command", "register the host with your browsers"),
    "uninstall": ("sidedesk.install.uninstall_command", "remove every registration `install` wrote"),
    "doctor": (
        "sidedesk.install.doctor_command",
        "check every browser registration and explain what is wrong",
    ),
    "vault": ("sidedesk.vault.command", "create and manage the encrypted credential vault (headless)"),
    "sim": ("sidedesk_sim.command", "run an offline exchange simulator (`sidedesk sim binance`)"),
    "demo": (
        "sidedesk.demo.command",
        "a working desk on the offline Binance simulator (--headless: scripted)",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    import argparse  # not on `sidedesk native`'s path

    parser = argparse.ArgumentParser(prog="sidedesk", description="Sidedesk host and tools.")
    parser.add_argument("--version", action="version", version=f"sidedesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_) in COMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "native":  # fast path: no argparse tree for the browser's launch
        from sidedesk.main import native as native_main

        return native_main(args[1:])
    if not args or args[0] not in COMMANDS:
        build_parser().parse_args(args)  # prints help / version / the error and exits
        build_parser().print_help()
        return 2
    import argparse

    module = importlib.import_module(COMMANDS[args[0]][0])
    parser = argparse.ArgumentParser(prog=f"sidedesk {args[0]}", description=COMMANDS[args[0]][1])
    module.configure(parser)
    return int(module.run(parser.parse_args(args[1:])))


if __name__ == "__main__":
    sys.exit(main())
