"""Vault messages. Replies never carry a secret: entries come back as masked summaries.

Errors: wrong password -> `auth` (with `details.retry_after_s`), too many tries -> `rate_limited`,
locked -> `locked`, damaged file -> `invalid` offering the `.bak` (`vault.restore_backup`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sidedesk.api.errors import ApiError
from sidedesk.api.registry import handler
from sidedesk.vault import format as fmt
from sidedesk.vault.entries import EntryInvalid, EntrySummary
from sidedesk.vault.service import (
    EntryNotFound,
    TooManyAttempts,
    UnattendedUnavailable,
    VaultAbsent,
    VaultError,
    VaultIsLocked,
    VaultService,
    WeakPassword,
)
from sidedesk.vault.store import VaultBusy, VaultChanged, VaultExists, VaultStoreError, VaultWriteError

if TYPE_CHECKING:
    from sidedesk.api.context import Ctx
    from sidedesk.vault.service import VaultService

Password = Field(min_length=1, max_length=1024, description="never logged, never echoed")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Empty(Strict):
    pass


class VaultStatus(BaseModel):
    state: Literal["absent", "locked", "unlocked"]
    path: str = Field(description="where the vault file lives (for backups)")
    autolock_s: float
    entries: int | None = Field(description="entry count while unlocked")
    kdf: str | None = Field(description="key-derivation settings of the open vault")
    backup: bool = Field(description="a .bak of the previous version exists")
    retry_after_s: int = Field(description="seconds before another password attempt is accepted")
    unattended: bool = Field(
        False, description="unattended unlock is on: a key in the OS keychain opens the vault after a restart"
    )
    unattended_error: str | None = Field(
        None, description="why the last unattended unlock failed (the vault then waits for its password)"
    )
    require_unlock_to_reduce: bool = Field(
        False, description="while locked, close, flatten and cancel need an unlock too (opening always does)"
    )


class UnattendedRequest(Strict):
    enabled: bool = Field(description="on: add the keychain slot and item; off: remove both")


class UnattendedStatus(VaultStatus):
    warning: str | None = Field(None, description="what could not be undone (e.g. a keychain item left)")


class PasswordRequest(Strict):
    password: str = Password


class ChangePasswordRequest(Strict):
    old_password: str = Password
    new_password: str = Password


class EntriesReply(BaseModel):
    entries: list[EntrySummary]


class PutRequest(Strict):
    entry: dict[str, Any] = Field(
        description="broker account: {id?, name, broker, environment, ...broker fields}; on update, "
        "secret fields left out keep their stored values"
    )


class PutReply(BaseModel):
    entry: EntrySummary


class RemoveRequest(Strict):
    id: str = Field(min_length=1, max_length=64)


class RemoveReply(BaseModel):
    removed: str


class ConfigureRequest(Strict):
    autolock_s: float | None = Field(
        None, ge=60, le=24 * 3600, description="lock after this long without vault activity"
    )
    require_unlock_to_reduce: bool | None = Field(
        None, description="Setup: require unlock to close, flatten and cancel while locked"
    )


def status_of(vault: VaultService, ctx: Ctx | None = None) -> VaultStatus:
    out = VaultStatus.model_validate(vault.summary())
    if ctx is not None:
        out.require_unlock_to_reduce = ctx.services.settings.config.require_unlock_to_reduce
    return out


def api_error(exc: Exception, vault: VaultService) -> ApiError:
    """Map a vault exception to the stable API error. Messages come from our own code, never input."""
    if isinstance(exc, fmt.WrongPassword):
        return ApiError("auth", str(exc), {"retry_after_s": exc.retry_after_s})
    if isinstance(exc, TooManyAttempts):
        return ApiError("rate_limited", str(exc), {"retry_after_s": exc.retry_after_s})
    if isinstance(exc, VaultIsLocked):
        return ApiError("locked", str(exc))
    if isinstance(exc, fmt.VaultFormatError):
        has_backup = vault.store.backup.exists()
        offer = (
            f"; a backup of the previous version exists ({vault.store.backup.name}): "
            "restore it from the Setup tab or with `vault.restore_backup`"
            if has_backup
            else "; there is no backup: restore vault.sdv from your own copy"
        )
        return ApiError(
            "invalid",
            f"{exc}{offer}",
            {"damaged": True, "kind": type(exc).__name__, "backup": has_backup, "path": str(vault.path)},
        )
    if isinstance(exc, EntryInvalid):
        return ApiError("invalid", f"the entry is not valid: {exc}", {"errors": exc.errors})
    if isinstance(exc, UnattendedUnavailable):
        return ApiError("rejected", str(exc))
    if isinstance(exc, VaultBusy | VaultChanged):
        return ApiError("rejected", str(exc), {"retry": True})
    if isinstance(exc, VaultWriteError | VaultExists | VaultStoreError):
        return ApiError("rejected", str(exc))
    if isinstance(exc, VaultAbsent | EntryNotFound | WeakPassword | VaultError):
        return ApiError("invalid", str(exc))
    raise exc


async def _run(vault: VaultService, op: Any) -> None:
    try:
        await op
    except (fmt.WrongPassword, fmt.VaultFormatError, VaultError, VaultStoreError, EntryInvalid) as exc:
        raise api_error(exc, vault) from None


def _sync(vault: VaultService, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except (VaultError, EntryInvalid) as exc:
        raise api_error(exc, vault) from None


@handler("vault.status", Empty, VaultStatus)
async def status(ctx: Ctx, req: Empty) -> VaultStatus:
    """State (absent / locked / unlocked), file location, auto-lock and wrong-password delay."""
    return status_of(ctx.services.vault, ctx)


@handler("vault.create", PasswordRequest, VaultStatus)
async def create(ctx: Ctx, req: PasswordRequest) -> VaultStatus:
    """Create an empty vault with this password (weak passwords are refused); it opens unlocked."""
    await _run(ctx.services.vault, ctx.services.vault.create(req.password))
    return status_of(ctx.services.vault, ctx)


@handler("vault.unlock", PasswordRequest, VaultStatus)
async def unlock(ctx: Ctx, req: PasswordRequest) -> VaultStatus:
    """Open the vault. The KDF takes a moment; other messages keep being served meanwhile."""
    await _run(ctx.services.vault, ctx.services.vault.unlock(req.password))
    return status_of(ctx.services.vault, ctx)


@handler("vault.lock", Empty, VaultStatus)
async def lock(ctx: Ctx, req: Empty) -> VaultStatus:
    """Forget the keys and every decrypted secret now."""
    ctx.services.vault.lock()
    return status_of(ctx.services.vault, ctx)


@handler("vault.change_password", ChangePasswordRequest, VaultStatus)
async def change_password(ctx: Ctx, req: ChangePasswordRequest) -> VaultStatus:
    """Re-encrypt under a new password (new salt, current KDF settings), replacing the file atomically."""
    await _run(ctx.services.vault, ctx.services.vault.change_password(req.old_password, req.new_password))
    return status_of(ctx.services.vault, ctx)


@handler("vault.entries", Empty, EntriesReply)
async def entries(ctx: Ctx, req: Empty) -> EntriesReply:
    """Masked summaries of every broker account."""
    ctx.services.vault.touch()
    return EntriesReply(entries=_sync(ctx.services.vault, ctx.services.vault.entries))


@handler("vault.put", PutRequest, PutReply)
async def put(ctx: Ctx, req: PutRequest) -> PutReply:
    """Add or update a broker account; the reply is its masked summary."""
    ctx.services.vault.touch()
    try:
        summary = await ctx.services.vault.put(req.entry)
    except (VaultError, VaultStoreError, EntryInvalid) as exc:
        raise api_error(exc, ctx.services.vault) from None
    return PutReply(entry=summary)


@handler("vault.remove", RemoveRequest, RemoveReply)
async def remove(ctx: Ctx, req: RemoveRequest) -> RemoveReply:
    """Delete a broker account."""
    ctx.services.vault.touch()
    await _run(ctx.services.vault, ctx.services.vault.remove(req.id))
    return RemoveReply(removed=req.id)


@handler("vault.configure", ConfigureRequest, VaultStatus)
async def configure(ctx: Ctx, req: ConfigureRequest) -> VaultStatus:
    """Set the auto-lock delay and whether closing needs an unlock; saved in the settings file."""
    vault = ctx.services.vault
    # everything is checked before anything is applied: a refused request changes nothing
    if req.require_unlock_to_reduce is not None and vault.state != "unlocked":
        # else whoever finds the desk locked could switch it off
        raise ApiError("locked", "unlock the vault to change what needs an unlock")
    changes: dict[str, Any] = {}
    if req.autolock_s is not None:
        vault.set_autolock(req.autolock_s)
        changes["vault_autolock_s"] = req.autolock_s
    if req.require_unlock_to_reduce is not None:
        changes["require_unlock_to_reduce"] = req.require_unlock_to_reduce
    try:
        if changes:
            ctx.services.settings.update(**changes)
    except OSError as exc:
        raise ApiError("rejected", f"changed for this session but not saved: {exc.strerror}") from None
    return status_of(vault, ctx)


@handler("vault.unattended", UnattendedRequest, UnattendedStatus)
async def unattended(ctx: Ctx, req: UnattendedRequest) -> UnattendedStatus:
    """Turn unattended unlock on or off (needs the vault unlocked). On: a random key kept in the
    OS keychain opens the vault when the service restarts, with no password; anyone who can run
    programs as this OS user can then trade. Off: the key slot and the keychain item are removed."""
    vault = ctx.services.vault
    vault.touch()
    warning = None
    try:
        if req.enabled:
            await vault.enable_unattended()
        else:
            warning = await vault.disable_unattended()
    except (VaultError, VaultStoreError) as exc:
        raise api_error(exc, vault) from None
    return UnattendedStatus.model_validate(
        {
            **vault.summary(),
            "warning": warning,
            "require_unlock_to_reduce": ctx.services.settings.config.require_unlock_to_reduce,
        }
    )


@handler("vault.restore_backup", Empty, VaultStatus)
async def restore_backup(ctx: Ctx, req: Empty) -> VaultStatus:
    """Replace a damaged vault with its `.bak`; the damaged file is kept beside it, renamed."""
    await _run(ctx.services.vault, ctx.services.vault.restore_backup())
    return status_of(ctx.services.vault, ctx)
