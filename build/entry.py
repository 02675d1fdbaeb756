"""Entry point of the frozen host.

Chrome starts the host as `<path> chrome-extension://<id>/ [--parent-window=N]`, and in a frozen
build `<path>` is this executable itself, so an origin as the first argument means "run as the
native host"; anything else is the ordinary `sidedesk` command line (install, doctor, ...).
"""

from __future__ import annotations

import sys


def main() -> int:
    argv = sys.argv[1:]
    if argv and argv[0].startswith("chrome-extension://"):
        from sidedesk.main import native as native_main

        return native_main(argv)
    from sidedesk.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
