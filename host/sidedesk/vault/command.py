"""`sidedesk vault init|status|add|remove|passwd|list|unattended`: the vault without a browser.

Passwords come from a prompt (no echo) or, with `--password-stdin`, one per line on stdin (for
`passwd`: old, then new). Secrets are never taken as command-line arguments (they would land in
shell history and `ps`): `add` prompts for them, or reads a JSON entry with `--json FILE` (`-` for
stdin, after the password line when both come from stdin).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TextIO

from sidedesk.logs import setup_logging
from sidedesk.store.config import ConfigError, HostConfig, load_config
from sidedesk.store.paths import default_paths
from sidedesk.vault import format as fmt
from sidedesk.vault.entries import BROKER_ENVIRONMENTS, EntryInvalid
from sidedesk.vault.kdf import KdfParams
from sidedesk.vault.keychain import OsKeychain
from sidedesk.vault.service import VaultError, VaultService
from sidedesk.vault.store import VaultStoreError

# Prompted fields per broker: (name, secret?, shown only for this auth kind)
PROMPTS: dict[str, list[tuple[str, bool, str | None]]] = {
    "binance": [
        ("api_key", True, None),
        ("secret", True, "hmac"),
        ("private_key_pem_file", False, "ed25519"),
    ],
    "tradovate": [
        ("username", False, None),
        ("password", True, None),
        ("cid", False, None),
        ("sec", True, None),
    ],
    "volumetrica": [("login", False, None), ("password", True, None), ("platform_key", True, None)],
    "alpaca": [("key_id", True, None), ("secret_key", True, None)],
}


def configure(parser: argparse.ArgumentParser) -> None:
    help_ = "read password(s) from stdin, one per line"
    parser.add_argument("--password-stdin", action="store_true", help=help_)
    common = argparse.ArgumentParser(add_help=False)  # so the option also works after the action
    common.add_argument("--password-stdin", action="store_true", default=argparse.SUPPRESS, help=help_)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("init", help="create a new vault", parents=[common])
    sub.add_parser("status", help="where the vault is and whether it exists", parents=[common])
    ls = sub.add_parser("list", help="list entries (masked)", parents=[common])
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    add = sub.add_parser("add", help="add or update a broker account", parents=[common])
    add.add_argument("--json", metavar="FILE", help="entry as a JSON object from FILE ('-' = stdin)")
    add.add_argument("--broker", choices=sorted(PROMPTS))
    add.add_argument("--name")
    add.add_argument("--environment", choices=("live", "testnet", "demo", "simulator"))
    add.add_argument("--auth", choices=("hmac", "ed25519"), default="hmac", help="Binance key type")
    add.add_argument("--id", help="update the entry with this id")
    rm = sub.add_parser("remove", help="remove an entry", parents=[common])
    rm.add_argument("id")
    sub.add_parser("passwd", help="change the vault password", parents=[common])
    un = sub.add_parser(
        "unattended",
        help="unlock without a password after a restart: a key in the OS keychain (see the README's risk)",
        parents=[common],
    )
    un.add_argument("switch", choices=("on", "off"))


class Io:
    """Where passwords and entries come from; one stdin reader so several values can share it."""

    def __init__(self, use_stdin: bool, stdin: TextIO, prompt: Callable[[str], str]) -> None:
        self.use_stdin = use_stdin
        self.stdin = stdin
        self.prompt = prompt

    def password(self, label: str, confirm: bool = False) -> str:
        if self.use_stdin:
            line = self.stdin.readline()
            if not line:
                raise VaultError(f"expected the {label} on stdin")
            return line.rstrip("\r\n")
        value = self.prompt(f"{label}: ")
        if confirm and self.prompt(f"{label} (again): ") != value:
            raise VaultError("the two passwords differ")
        return value


def _service() -> VaultService:
    paths = default_paths()
    setup_logging(paths.log_file)  # warnings go to the host log, not between the prompts
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        print(f"sidedesk vault: {exc}; using defaults", file=sys.stderr)
        config = HostConfig()
    kdf = None
    if config.vault_kdf is not None:
        k = config.vault_kdf
        kdf = KdfParams.argon2id(k.memory_kib, k.iterations, k.lanes)
    return VaultService(
        paths.vault_file, kdf=kdf, autolock_s=config.vault_autolock_s, keychain=OsKeychain(paths.vault_file)
    )


def _read_entry(args: argparse.Namespace, io: Io) -> dict[str, Any]:
    if args.json:
        text = io.stdin.read() if args.json == "-" else open(args.json, encoding="utf-8").read()  # noqa: SIM115
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise VaultError(f"--json: not valid JSON ({exc.msg} at position {exc.pos})") from None
        if not isinstance(data, dict):
            raise VaultError("--json: expected a JSON object")
        return data
    if not (args.broker and args.name and args.environment):
        raise VaultError(
            "give --json FILE, or --broker, --name and --environment (secrets are then prompted)"
        )
    if args.environment not in BROKER_ENVIRONMENTS[args.broker]:
        raise VaultError(f"{args.broker} supports {', '.join(BROKER_ENVIRONMENTS[args.broker])}")
    entry: dict[str, Any] = {"broker": args.broker, "name": args.name, "environment": args.environment}
    if args.id:
        entry["id"] = args.id
    if args.broker == "binance":
        entry["auth"] = args.auth
    for name, secret, only in PROMPTS[args.broker]:
        if only is not None and only != args.auth:
            continue
        value = getpass.getpass(f"{name}: ") if secret else input(f"{name}: ")
        if name == "private_key_pem_file":
            with open(value, encoding="utf-8") as f:
                entry["private_key_pem"] = f.read()
        elif value:
            entry[name] = int(value) if name == "cid" and value.isdigit() else value
    return entry


async def _act(args: argparse.Namespace, vault: VaultService, io: Io, out: TextIO) -> int:
    action = args.action
    if action == "status":
        s = vault.summary()
        print(f"vault: {s['state']}\nfile: {s['path']}\nbackup: {'yes' if s['backup'] else 'no'}", file=out)
        print(f"unattended unlock: {'on' if s['unattended'] else 'off'}", file=out)
        if s["retry_after_s"]:
            print(f"next password attempt in {s['retry_after_s']} s", file=out)
        return 0
    if action == "init":
        await vault.create(io.password("new vault password", confirm=True))
        print(f"created {vault.path} ({vault.kdf.describe()})", file=out)
        return 0
    if action == "passwd":
        old = io.password("current vault password")
        new = io.password("new vault password", confirm=True)
        await vault.change_password(old, new)
        print("password changed", file=out)
        return 0
    await vault.unlock(io.password("vault password"))
    try:
        if action == "list":
            rows = [e.model_dump(mode="json") for e in vault.entries()]
            if args.json:
                print(json.dumps(rows, indent=2), file=out)
            for r in [] if args.json else rows:
                keys = " ".join(f"{k}={v}" for k, v in r["masked"].items())
                print(f"{r['id']}  {r['broker']:<11} {r['environment']:<9} {r['name']}  {keys}", file=out)
            if not rows and not args.json:
                print("(no entries)", file=out)
        elif action == "add":
            summary = await vault.put(_read_entry(args, io))
            print(f"saved {summary.id} ({summary.broker}, {summary.name})", file=out)
        elif action == "remove":
            await vault.remove(args.id)
            print(f"removed {args.id}", file=out)
        elif action == "unattended":
            if args.switch == "on":
                await vault.enable_unattended()
                print("unattended unlock on: a restarted service opens the vault with no password", file=out)
            else:
                warning = await vault.disable_unattended()
                print("unattended unlock off" + (f" ({warning})" if warning else ""), file=out)
    finally:
        vault.lock()
    return 0


def run(
    args: argparse.Namespace,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> int:
    io = Io(args.password_stdin, stdin or sys.stdin, prompt)
    out = out or sys.stdout
    runner: Callable[[], Coroutine[Any, Any, int]] = lambda: _act(args, _service(), io, out)  # noqa: E731
    try:
        return asyncio.run(runner())
    except fmt.WrongPassword as exc:
        print(f"sidedesk vault: {exc}", file=sys.stderr)
        return 1
    except fmt.VaultFormatError as exc:
        backup = default_paths().vault_file.with_name("vault.sdv.bak")
        hint = (
            f"; the previous version is in {backup}: copy it over the damaged file" if backup.exists() else ""
        )
        print(f"sidedesk vault: {exc}{hint}", file=sys.stderr)
        return 1
    except (VaultError, VaultStoreError, OSError) as exc:
        msg = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"sidedesk vault: {msg}", file=sys.stderr)
        return 1
    except EntryInvalid as exc:
        for e in exc.errors:
            print(f"sidedesk vault: {e['field']}: {e['problem']}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nsidedesk vault: cancelled", file=sys.stderr)
        return 1
