"""`sidedesk native`: the process Chrome starts for the extension's connectNative port.

Chrome passes the caller's origin as the first argument (and `--parent-window=N` on Windows).
We check it against the allowed list before touching stdio; the real boundary is the user
account, but a host started by a page it does not expect should refuse rather than serve.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from sidedesk.identity import allowed_origins
from sidedesk.logs import setup_logging
from sidedesk.store.config import ConfigError, HostConfig, load_config
from sidedesk.store.paths import default_paths

log = logging.getLogger("sidedesk.native")


def main(argv: list[str]) -> int:
    paths = default_paths()
    setup_logging(paths.log_file)
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        log.error("%s; starting with defaults", exc)
        config = HostConfig()
    logging.getLogger().setLevel(config.log_level)
    origin = next((a for a in argv if not a.startswith("--")), None)
    allowed = allowed_origins(tuple(config.extra_extension_ids))
    if origin not in allowed:
        msg = f"refusing to serve origin {origin!r}: not in {allowed}"
        log.error(msg)
        print(f"sidedesk native: {msg}", file=sys.stderr)
        return 2
    log.info("started by %s", origin)

    from sidedesk.native.transport import StdioTransport
    from sidedesk.runtime import Host

    transport = StdioTransport.take_over_stdio(config.max_inbound_bytes)
    host = Host(transport, paths, config)
    try:
        asyncio.run(host.serve())
    except Exception:
        log.exception("host crashed")
        return 1
    log.info("host exited cleanly")
    return 0
