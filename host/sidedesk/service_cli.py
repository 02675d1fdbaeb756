"""`sidedesk service [start|stop|status] [--foreground]`: run or control the per-user service
(a command, beside the composition root it builds the service with)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from sidedesk.service import endpoint


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("start", "stop", "status"), default="start")
    parser.add_argument("--foreground", action="store_true", help="run here (for debugging, or a login unit)")


def run(args: argparse.Namespace) -> int:
    from sidedesk.logs import setup_logging
    from sidedesk.native.proxy import stop_service, wait_connect
    from sidedesk.store.paths import default_paths
    from sidedesk.store.startup import read_start_settings

    if not endpoint.supported():
        print("sidedesk service: not available on this system yet; the host runs in the browser's process")
        return 2
    paths = default_paths()
    sock_path = endpoint.address(paths.data_dir)
    if args.action == "stop":
        stop_service(sock_path)
        print("sidedesk service: stopped")
        return 0
    if args.action == "status":
        try:
            sock = endpoint.connect(sock_path)
        except OSError:
            print(json.dumps({"running": False, "socket": str(sock_path)}))
            return 1
        try:
            endpoint.send_frame(sock, {"type": "service.status"})
            status = endpoint.recv_frame(sock)
        finally:
            sock.close()
        status.pop("type", None)
        print(json.dumps({"running": True, **status}, indent=2))
        return 0
    if not args.foreground:
        try:
            endpoint.connect(sock_path).close()
            print("sidedesk service: already running")
            return 0
        except OSError:
            wait_connect(sock_path, 10.0).close()  # starts it (again, if an old one was leaving)
            print("sidedesk service: started")
            return 0
    start = read_start_settings(paths.config_file)
    setup_logging(paths.log_file, level=start.log_level)
    from sidedesk.main import compose
    from sidedesk.service.server import Service

    code = asyncio.run(Service(paths, compose, start).run())
    sys.stdout.flush()
    return code
