"""The imperative shell of install/uninstall: turn plans into files and registry keys.

Every write is recorded in the receipt as it happens (even when a later one fails), so
`uninstall` can always take back what `install` managed to do.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sidedesk.identity import EXTENSION_IDS, NATIVE_HOST_NAME
from sidedesk.install import manifest as mf
from sidedesk.install.browsers import Browser, Platform, Scope
from sidedesk.install.launcher import HostCommand
from sidedesk.install.plan import (
    USER_DATA_DIR,
    BadReceipt,
    Claim,
    Receipt,
    Target,
    browser_claims,
    plan_uninstall,
    receipt_from_json,
    receipt_to_json,
    unique_targets,
    user_data_dir_claim,
    windows_manifest_path,
)
from sidedesk.install.registry import RegistryBackend
from sidedesk.store.config import ConfigError, load_config, save_config, write_json_atomic
from sidedesk.store.paths import Paths

RECEIPT_NAME = "install-receipt.json"


class InstallError(RuntimeError):
    """A failure the user can act on; the message says how."""


def receipt_path(paths: Paths) -> Path:
    return paths.config_dir / RECEIPT_NAME


def load_receipt(paths: Paths, out: TextIO) -> Receipt:
    path = receipt_path(paths)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Receipt()
    try:
        return receipt_from_json(json.loads(raw))
    except (json.JSONDecodeError, BadReceipt) as exc:
        # Keep the damaged file for inspection rather than overwrite what it might still tell.
        backup = path.with_name(path.name + ".damaged")
        os.replace(path, backup)
        print(f"warning: {path} was unreadable ({exc}); moved to {backup}, continuing without it", file=out)
        return Receipt()


def save_receipt(paths: Paths, receipt: Receipt) -> None:
    path = receipt_path(paths)
    if not receipt.claims and not receipt.launchers and not receipt.config_ids:
        path.unlink(missing_ok=True)
        return
    write_json_atomic(path, receipt_to_json(receipt))


def write_text_atomic(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class InstallRequest:
    browsers: tuple[Browser, ...]
    scope: Scope
    user_data_dir: Path | None
    extension_ids: tuple[str, ...]  # in addition to the built-in ones
    dry_run: bool


def _permission_hint(scope: Scope, system: str) -> str:
    if scope == "system":
        return "system folders need administrator rights: run it with sudo (or as Administrator)"
    return "check the folder's owner and permissions"


def install(
    req: InstallRequest,
    platform: Platform,
    paths: Paths,
    host: HostCommand,
    registry: RegistryBackend | None,
    out: TextIO,
) -> list[Claim]:
    """Write the manifest (and launcher, keys, receipt); returns the claims written."""
    config_ids = _config_ids(paths)
    new_ids = tuple(
        i for i in dict.fromkeys(req.extension_ids) if i not in EXTENSION_IDS and i not in config_ids
    )
    manifest = mf.build(NATIVE_HOST_NAME, str(host.path), (*EXTENSION_IDS, *config_ids, *new_ids))
    problems = mf.validate(manifest, stem=NATIVE_HOST_NAME, system=platform.system)
    if problems:  # only reachable with a broken host path; never write a manifest Chrome rejects
        raise InstallError("refusing to write an invalid manifest: " + "; ".join(problems))
    win_manifest: Path | None = None
    if platform.system == "windows" and req.user_data_dir is None:
        win_manifest = windows_manifest_path(platform, req.scope, paths.data_dir, NATIVE_HOST_NAME)
    claims = browser_claims(req.browsers, platform, req.scope, NATIVE_HOST_NAME, win_manifest)
    if req.user_data_dir is not None:
        claims = [user_data_dir_claim(req.user_data_dir, NATIVE_HOST_NAME)]
    targets = unique_targets(claims)
    owners = _owners(claims)
    manifest_path = str(win_manifest) if win_manifest else None

    if req.dry_run:
        if host.script is not None:
            print(f"would write launcher {host.path} (mode 755):", file=out)
            print(_indent(host.script), file=out)
        print("would write this manifest:", file=out)
        print(_indent(mf.render(manifest)), file=out)
        for t in targets:
            if t.kind == "file":
                print(f"would write {t.location}  [{', '.join(owners[t.identity])}]", file=out)
            else:
                print(
                    f"would set {t.describe()} = {manifest_path}  [{', '.join(owners[t.identity])}]", file=out
                )
        if new_ids:
            print(f"would add extension ids to {paths.config_file}: {', '.join(new_ids)}", file=out)
        print("dry run: nothing was written", file=out)
        return []

    receipt = load_receipt(paths, out)
    written: list[Claim] = []
    launcher = str(host.path) if host.script is not None else None
    try:
        if host.script is not None:
            write_text_atomic(host.path, host.script, 0o755)
            print(f"wrote launcher {host.path}", file=out)
        if new_ids:
            _add_config_ids(paths, new_ids)
            print(f"added extension ids to {paths.config_file}: {', '.join(new_ids)}", file=out)
        text = mf.render(manifest)
        done: set[tuple[str, str, str, str]] = set()
        for claim in claims:
            t = claim.target
            if t.identity not in done:
                _write_target(t, text, manifest_path, registry)
                done.add(t.identity)
                label = t.location if t.kind == "file" else f"{t.describe()} = {manifest_path}"
                print(f"wrote {label}  [{', '.join(owners[t.identity])}]", file=out)
            written.append(claim)
    except PermissionError as exc:
        raise InstallError(
            f"cannot write {exc.filename or exc}: {_permission_hint(req.scope, platform.system)}"
        ) from exc
    except OSError as exc:
        raise InstallError(f"cannot write {exc.filename or ''}: {exc.strerror or exc}") from exc
    finally:
        save_receipt(paths, receipt.merged(written, launcher, new_ids))
    return written


def _write_target(t: Target, text: str, manifest_path: str | None, registry: RegistryBackend | None) -> None:
    if t.kind == "file":
        write_text_atomic(Path(t.location), text, 0o644)
        return
    if registry is None or manifest_path is None or t.hive is None or t.view is None:
        raise InstallError("the Windows registry is not available")
    registry.set_default(t.hive, t.view, t.location, manifest_path)


def _owners(claims: list[Claim]) -> dict[tuple[str, str, str, str], list[str]]:
    owners: dict[tuple[str, str, str, str], list[str]] = {}
    for c in claims:
        names = owners.setdefault(c.target.identity, [])
        if c.owner not in names:
            names.append(c.owner)
    return owners


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").splitlines())


def _config_ids(paths: Paths) -> tuple[str, ...]:
    try:
        return tuple(load_config(paths.config_file).extra_extension_ids)
    except ConfigError as exc:
        raise InstallError(f"{exc}; fix or remove it, then run install again") from exc


def _add_config_ids(paths: Paths, ids: tuple[str, ...]) -> None:
    # The host refuses origins it does not know, so an id the manifest allows must be known to it too.
    config = load_config(paths.config_file)
    config.extra_extension_ids = list(dict.fromkeys([*config.extra_extension_ids, *ids]))
    save_config(paths.config_file, config)


def _remove_config_ids(paths: Paths, ids: tuple[str, ...]) -> None:
    try:
        config = load_config(paths.config_file)
    except ConfigError:
        return  # never rewrite a settings file we cannot read
    kept = [i for i in config.extra_extension_ids if i not in ids]
    if kept != config.extra_extension_ids:
        config.extra_extension_ids = kept
        save_config(paths.config_file, config)


# -- uninstall ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UninstallRequest:
    browsers: tuple[Browser, ...]
    scope: Scope
    user_data_dir: Path | None
    everything: bool  # no selector given: every claim in the receipt goes too
    dry_run: bool


def uninstall(
    req: UninstallRequest,
    platform: Platform,
    paths: Paths,
    registry: RegistryBackend | None,
    out: TextIO,
) -> list[Target]:
    receipt = load_receipt(paths, out) if not req.dry_run else _peek_receipt(paths)
    selected: Callable[[Claim], bool]
    if req.user_data_dir is not None:
        only = user_data_dir_claim(req.user_data_dir, NATIVE_HOST_NAME)
        candidates = [only]

        def selected(c: Claim) -> bool:
            return c.owner == USER_DATA_DIR and c.target.identity == only.target.identity

    else:
        win_manifest = None
        if platform.system == "windows":
            win_manifest = windows_manifest_path(platform, req.scope, paths.data_dir, NATIVE_HOST_NAME)
        candidates = browser_claims(
            req.browsers, platform, req.scope, NATIVE_HOST_NAME, win_manifest, for_removal=True
        )
        names = {b.name for b in req.browsers}

        def selected(c: Claim) -> bool:
            return c.scope == req.scope and (req.everything or c.owner in names)

    removal = plan_uninstall(candidates, receipt, selected)
    verb = "would remove" if req.dry_run else "removed"
    removed: list[Target] = []
    for t in removal.targets:
        if _target_exists(t, registry):
            if not req.dry_run:
                _remove_target(t, registry, req.scope, platform.system)
            removed.append(t)
            print(f"{verb} {t.describe()}", file=out)
    for t in removal.kept:
        if _target_exists(t, registry):
            print(f"kept {t.describe()}: another browser still uses it", file=out)
    for launcher in removal.launchers:
        if Path(launcher).exists():
            if not req.dry_run:
                Path(launcher).unlink()
            print(f"{verb} launcher {launcher}", file=out)
    if not removal.receipt.claims and receipt.config_ids:
        print(f"{verb} extension ids {', '.join(receipt.config_ids)} from {paths.config_file}", file=out)
        if not req.dry_run:
            _remove_config_ids(paths, receipt.config_ids)
    if req.dry_run:
        print("dry run: nothing was removed", file=out)
        return removed
    final = removal.receipt if removal.receipt.claims else Receipt()
    save_receipt(paths, final)
    if not removed and not removal.launchers and not removal.kept:
        print("nothing to remove: Sidedesk was not registered there", file=out)
    return removed


def _peek_receipt(paths: Paths) -> Receipt:
    try:
        return receipt_from_json(json.loads(receipt_path(paths).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, BadReceipt):
        return Receipt()


def _target_exists(t: Target, registry: RegistryBackend | None) -> bool:
    if t.kind == "file":
        return Path(t.location).is_file()
    if registry is None or t.hive is None or t.view is None:
        return False
    return registry.get_default(t.hive, t.view, t.location) is not None


def _remove_target(t: Target, registry: RegistryBackend | None, scope: Scope, system: str) -> None:
    try:
        if t.kind == "file":
            Path(t.location).unlink(missing_ok=True)
        elif registry is not None and t.hive is not None and t.view is not None:
            registry.delete_key(t.hive, t.view, t.location)
    except PermissionError as exc:
        raise InstallError(f"cannot remove {t.describe()}: {_permission_hint(scope, system)}") from exc
