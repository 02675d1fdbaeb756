"""The composition root: every service is built here, once, with what it needs passed in, and
`sidedesk native` (the process Chrome starts for the extension's connectNative port) starts here.

Chrome passes the caller's origin as the first argument (and `--parent-window=N` on Windows).
We check it against the allowed list before touching stdio; the real boundary is the user
account, but a host started by a page it does not expect should refuse rather than serve.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from sidedesk.identity import allowed_origins
from sidedesk.store.paths import default_paths
from sidedesk.store.startup import read_start_settings

TYPE_CHECKING = False  # typing's constant without importing typing: `sidedesk native` starts here
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import Any, Protocol

    from sidedesk.api.context import Services
    from sidedesk.api.stream import Hub
    from sidedesk.store.config import HostConfig
    from sidedesk.store.paths import Paths
    from sidedesk.vault.kdf import KdfParams

    class Environment(Protocol):
        """What the services are built for: a native session, or the long-lived service."""

        paths: Paths
        initial_config: HostConfig | None
        hub: Hub
        started: float

        def clock(self) -> float: ...


log = logging.getLogger("sidedesk.native")

# Chrome SIGKILLs the host 2 s after closing its stdin; we leave by ourselves before that,
# whatever is still running (a KDF in a worker thread, a handler that ignores cancellation).
EXIT_DEADLINE_S = 1.2


def _exit_soon() -> None:
    import threading

    def hard_exit() -> None:
        log.error("shutdown overran %.1f s after input closed; exiting now", EXIT_DEADLINE_S)
        logging.shutdown()
        os._exit(0)

    timer = threading.Timer(EXIT_DEADLINE_S, hard_exit)
    timer.daemon = True
    timer.start()


def native(argv: list[str]) -> int:
    """The proxy to the service (the default) or, with `"service": {"enabled": false}` or where
    no service can run, the whole host in this process. The proxy's path imports only what it
    uses (no asyncio, no logging handlers, no pydantic): Chrome starts it on every connect."""
    from sidedesk.native import launch

    paths = default_paths()
    # only what the start path needs; the full settings load once the host is ready
    start = read_start_settings(paths.config_file)
    origin = launch.origin_of(argv)
    allowed = allowed_origins(start.extra_extension_ids)
    if origin not in allowed:
        _setup_logging(paths.log_file, start.log_level)
        msg = f"refusing to serve origin {origin!r}: not in {allowed}"
        log.error(msg)
        print(f"sidedesk native: {msg}", file=sys.stderr)
        return 2
    if start.service_enabled:
        if launch.IN_PROCESS_FLAG in argv:  # `sidedesk-native` found no service and none started
            reason = "the native proxy reached no service"
        else:  # the thin proxy: the service outlives the browser
            outcome = launch.via_service(paths.data_dir, origin)
            if isinstance(outcome, int):
                return outcome  # the service logs each panel that attaches; the proxy only errors
            reason = outcome
        _setup_logging(paths.log_file, start.log_level)
        log.warning("%s; serving in-process (protection stops when the browser closes)", reason)
    else:
        _setup_logging(paths.log_file, start.log_level)
    log.info("started by %s", origin)
    import asyncio

    from sidedesk.native.transport import StdioTransport
    from sidedesk.runtime import Host

    transport = StdioTransport.take_over_stdio(start.max_inbound_bytes)
    host = Host(transport, paths, start=start, compose=compose)
    host.on_input_closed(_exit_soon)
    try:
        asyncio.run(host.serve())
    except Exception:
        log.exception("host crashed")
        return 1
    finally:
        transport.flush_output()  # replies still queued for a browser slow to read
    log.info("host exited cleanly")
    return 0


def _setup_logging(path: Path, level: str) -> None:
    from sidedesk.logs import setup_logging

    setup_logging(path)
    logging.getLogger().setLevel(level)


def vault_kdf(config: HostConfig) -> KdfParams | None:
    k = config.vault_kdf
    if k is None:
        return None
    from sidedesk.vault.kdf import KdfParams

    return KdfParams.argon2id(k.memory_kib, k.iterations, k.lanes)


def compose(host: Environment) -> Services:
    """Build every service once, publishing on `host.hub`. Imports stay inside: the start path
    (up to the `hello` reply) loads none of this."""
    from contextlib import suppress

    from sidedesk.api.context import Services
    from sidedesk.app.books import Books
    from sidedesk.app.entry import OrderEntry
    from sidedesk.app.last_known import restore_all_last_known
    from sidedesk.app.links import AccountLinks
    from sidedesk.app.notices import Notices
    from sidedesk.app.protection import ProtectionService
    from sidedesk.app.recorder import Recorder
    from sidedesk.app.settings import Settings
    from sidedesk.app.status import Status
    from sidedesk.brokers.registry import build_broker
    from sidedesk.core.link_ids import split_link_id
    from sidedesk.domain import Broker, EventSink
    from sidedesk.localstream.service import LocalStream
    from sidedesk.store.journal import Journal
    from sidedesk.vault.entries import AnyEntry
    from sidedesk.vault.keychain import OsKeychain
    from sidedesk.vault.service import VaultService

    settings = Settings(host.paths.config_file, host.initial_config)
    config = settings.config
    vault = VaultService(
        host.paths.vault_file,
        kdf=vault_kdf(config),
        autolock_s=config.vault_autolock_s,
        keychain=OsKeychain(host.paths.vault_file),  # unattended unlock, when the user turned it on
    )
    topic_listeners: list[Callable[[str], None]] = []

    def publish(topic: str, payload: Any) -> None:
        """To every panel's stream, then to every topic listener (the local stream)."""
        host.hub.publish(topic, payload)
        for listener in topic_listeners:
            try:
                listener(topic)
            except Exception:  # a listener's failure never stops the panel's updates
                log.exception("topic listener failed on %s", topic)

    def build(entry: AnyEntry, sink: EventSink, account: str | None, link_id: str) -> Broker:
        c = settings.config
        return build_broker(
            entry, sink, c.simulators, c.volumetrica_contracts, account=account, link_id=link_id
        )

    async def remember(entry_id: str, account: str) -> None:
        """The account of a login the entry trades, kept in the entry (Setup shows it)."""
        await vault.put({"id": entry_id, "account": account})

    notices = Notices(publish)
    recorder = Recorder(Journal(host.paths.journal_file), notices)
    books = Books(publish, recorder, notices)

    def publish_status() -> None:  # called only once the services run, after `status` exists
        publish("status", status.payload)

    links = AccountLinks(
        settings=settings,
        entries=vault.get_entry,
        build=build,
        remember=remember,
        books=books,
        notices=notices,
        publish_status=publish_status,
    )
    entry = OrderEntry(
        links=links,
        books=books,
        recorder=recorder,
        notices=notices,
        settings=settings,
        vault_state=lambda: vault.state,
        activity=vault.note_activity,
    )
    protection = ProtectionService(
        settings=settings,
        books=books,
        links=links,
        entry=entry,
        recorder=recorder,
        notices=notices,
        publish=publish,
    )
    status = Status(
        vault=vault,
        links=links,
        settings=settings,
        books=books,
        protection=protection,
        started=host.started,
        clock=host.clock,
    )

    views: dict[str, Callable[[], Any]] = {
        "status": status.payload,
        "positions": lambda: books.positions_view(every=True),
        "orders": lambda: books.orders_view(every=True),
        "account": lambda: books.account_view(every=True),
        "quotes": books.quotes_view,
        "asl": protection.view,
    }
    localstream = LocalStream(settings, vault, lambda topic: views[topic]())
    topic_listeners.append(localstream.notify)

    unlocked_before = False

    def vault_changed() -> None:
        nonlocal unlocked_before
        # a connected account's link keeps its keys whatever the vault now holds (locked, the
        # entry removed, its key rotated): they stay redacted (README)
        links.keep_redacted()
        opened = vault.state == "unlocked" and not unlocked_before
        unlocked_before = vault.state == "unlocked"
        if vault.state == "unlocked":
            forget_removed_accounts()
        publish_status()
        # After an unlock, reconnect the account the trader last used (its keys are readable now),
        # retrying until it connects, and every other account the last service held something on
        # (another login's, a sibling of the login): until each is up with its own snapshot, its
        # last known positions stay Unprotected. Locking does not disconnect: a connected account
        # keeps managing its stops.
        if not opened:
            return
        wanted = settings.config.active_account
        with suppress(RuntimeError):  # no running loop: nothing to reconnect yet
            if wanted and links.active_id is None:
                links.activate_soon(wanted)
            for account_id in sorted(books.last_known):
                if account_id != wanted and books.holds_last_known(account_id):
                    links.connect_soon(account_id)

    def forget_removed_accounts() -> None:
        """Last known rows of an account whose entry is gone from the vault are not shown."""
        try:
            kept = {e.id for e in vault.entries()}
        except Exception:  # the vault listener never fails for this
            log.exception("could not list the vault's entries")
            return
        dropped = [a for a in list(books.last_known) if split_link_id(a)[0] not in kept]
        for account_id in dropped:
            books.drop_last_known(account_id)
        if dropped:
            log.info("no longer showing the last known state of removed accounts: %s", ", ".join(dropped))
            books.publish_tables()

    vault.add_listener(vault_changed)
    if vault.state != "unlocked":
        # no keys yet (a restart after a crash, a start at login): show what the journal last knew
        # of every account, and name its positions as Unprotected until each account reconnects
        restore_all_last_known(books, recorder.journal)
    settings.on_change(publish_status)
    hub = host.hub
    hub.provide_snapshot("positions", books.positions_view)
    hub.provide_snapshot("orders", books.orders_view)
    hub.provide_snapshot("account", books.account_view)
    hub.provide_snapshot("quotes", books.quotes_view)
    hub.provide_snapshot("asl", protection.view)
    hub.provide_snapshot("status", status.payload)
    return Services(
        settings=settings,
        vault=vault,
        books=books,
        links=links,
        entry=entry,
        protection=protection,
        status=status,
        notices=notices,
        localstream=localstream,
        recorder=recorder,
    )


def configure(parser: argparse.ArgumentParser) -> None:
    """`sidedesk native ORIGIN` through the generic subcommand path (the CLI takes a faster one)."""
    parser.add_argument("origin", nargs="?", help="chrome-extension://<id>/ (Chrome passes it)")
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    return native([a for a in [args.origin, *args.rest] if a])
