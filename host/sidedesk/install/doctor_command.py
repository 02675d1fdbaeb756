"""`sidedesk doctor [--json] [--user-data-dir DIR]`: check every browser registration.
`sidedesk doctor --account ID [--json] [--login]`: Test connection for one broker account.

Exit status 0 when the setup works (warnings allowed), 1 when something blocks the extension
(or, with --account, when a check fails), 2 for bad arguments.

--account needs the vault unlocked: the password is asked on the terminal (no echo), or read from
the environment variable SIDEDESK_VAULT_PASSWORD when it is set (scripts and tests).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

PASSWORD_ENV = "SIDEDESK_VAULT_PASSWORD"  # noqa: S105 (the variable's name, not a password)


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
    parser.add_argument(
        "--account",
        metavar="ID",
        help="test one broker account instead (id or name from `sidedesk vault list`): "
        "reachability, key, permissions, IP restriction, position mode, clock; asks the vault "
        f"password (or reads {PASSWORD_ENV})",
    )
    parser.add_argument(
        "--login",
        action="store_true",
        help="with --account on Volumetrica: also log in to the trading server (this signs out a "
        "Sidedesk session open with the same login)",
    )


def run(args: argparse.Namespace) -> int:
    if args.account is not None:
        return run_account(args)
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


def run_account(args: argparse.Namespace) -> int:
    from sidedesk.install.doctor import render_account_checks
    from sidedesk.logs import setup_logging
    from sidedesk.store.config import ConfigError, HostConfig, load_config
    from sidedesk.store.paths import default_paths
    from sidedesk.vault import format as fmt
    from sidedesk.vault.kdf import KdfParams
    from sidedesk.vault.service import VaultError, VaultService
    from sidedesk.vault.store import VaultStoreError

    paths = default_paths()
    setup_logging(paths.log_file)  # the adapters' warnings go to the host log, not to the report
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        print(f"sidedesk doctor: {exc}; using defaults", file=sys.stderr)
        config = HostConfig()
    k = config.vault_kdf
    kdf = KdfParams.argon2id(k.memory_kib, k.iterations, k.lanes) if k is not None else None
    vault = VaultService(paths.vault_file, kdf=kdf, autolock_s=config.vault_autolock_s)
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not vault.path.exists():
            print(f"sidedesk doctor: no vault at {vault.path}; create one first", file=sys.stderr)
            return 1
        password = getpass.getpass("vault password: ")
    try:
        result = asyncio.run(_test(vault, password, args.account, config, login=args.login))
    except fmt.WrongPassword as exc:
        print(f"sidedesk doctor: {exc}", file=sys.stderr)
        return 1
    except (VaultError, VaultStoreError, fmt.VaultFormatError, LookupError) as exc:
        print(f"sidedesk doctor: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.json else render_account_checks(result))
    return 1 if result["status"] == "fail" else 0


async def _test(vault: Any, password: str, wanted: str, config: Any, *, login: bool) -> dict[str, Any]:
    from sidedesk.app.checks import check_account
    from sidedesk.core.link_ids import split_link_id

    await vault.unlock(password)
    try:
        summaries = vault.entries()
        # an entry's id or name, or `ENTRY:ACCOUNT` (one account of a login, as Setup lists it)
        entry_id, account = split_link_id(wanted)
        match = [s for s in summaries if s.id == entry_id] or [s for s in summaries if s.name == wanted]
        if len(match) != 1:
            known = ", ".join(f"{s.id} ({s.name})" for s in summaries) or "none"
            what = "no" if not match else "more than one"
            raise LookupError(f"{what} account {wanted!r} in the vault; accounts: {known}")
        entry = vault.get_entry(match[0].id)
    finally:
        vault.lock()
    result = await check_account(
        entry,
        config.simulators,
        contracts=config.volumetrica_contracts,
        # Volumetrica allows one session per login: only log in when asked to (--login)
        in_use=entry.broker == "volumetrica" and not login,
        account=account,
    )
    return result.to_json()
