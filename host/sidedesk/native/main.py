"""`sidedesk native`: the process Chrome starts for the extension's connectNative port.

Chrome passes the caller's origin as the first argument (and `--parent-window=N` on Windows).
We check it against the allowed list before touching stdio; the real boundary is the user
account, but a host started by a page it does not expect should refuse rather than serve.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading

from sidedesk.identity import allowed_origins
from sidedesk.logs import setup_logging
from sidedesk.store.paths import default_paths
from sidedesk.store.startup import read_start_settings

log = logging.getLogger("sidedesk.native")

# Chrome SIGKILLs the host 2 s after closing its stdin; we leave by ourselves before that,
# whatever is still running (a KDF in a worker thread, a handler that ignores cancellation).
EXIT_DEADLINE_S = 1.8


def _exit_soon() -> None:
    def hard_exit() -> None:
        log.error("shutdown overran %.1f s after input closed; exiting now", EXIT_DEADLINE_S)
        logging.shutdown()
        os._exit(0)

    timer = threading.Timer(EXIT_DEADLINE_S, hard_exit)
    timer.daemon = True
    timer.start()


def main(argv: list[str]) -> int:
    paths = default_paths()
    setup_logging(paths.log_file)
    # only what the start path needs; the full settings load once the host is ready
    start = read_start_settings(paths.config_file)
    logging.getLogger().setLevel(start.log_level)
    origin = next((a for a in argv if not a.startswith("--")), None)
    allowed = allowed_origins(start.extra_extension_ids)
    if origin not in allowed:
        msg = f"refusing to serve origin {origin!r}: not in {allowed}"
        log.error(msg)
        print(f"sidedesk native: {msg}", file=sys.stderr)
        return 2
    log.info("started by %s", origin)

    from sidedesk.native.transport import StdioTransport
    from sidedesk.runtime import Host

    transport = StdioTransport.take_over_stdio(start.max_inbound_bytes)
    host = Host(transport, paths, start=start)
    host.on_input_closed(_exit_soon)
    try:
        asyncio.run(host.serve())
    except Exception:
        log.exception("host crashed")
        return 1
    log.info("host exited cleanly")
    return 0
