"""Local stream messages: settings, tokens, statistics (Setup's "Local stream" section).

A token's secret is in exactly one reply: the `create_token` or `rotate_token` that made it.
Every other reply shows it masked (`sdls_AbCd…wxyz`); the host keeps only its digest.
Errors: vault locked -> `locked`; no vault, unknown account or token, bad settings -> `invalid`;
the port is taken -> `rejected` (the previous settings stay in force).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sidedesk.api.errors import ApiError
from sidedesk.api.registry import handler
from sidedesk.api.vault import api_error as vault_error
from sidedesk.localstream.service import LocalStreamError
from sidedesk.localstream.tokens import TokenError
from sidedesk.store.config import LocalStreamSettings
from sidedesk.vault.service import VaultError
from sidedesk.vault.store import VaultStoreError

if TYPE_CHECKING:
    from sidedesk.api.context import Ctx, Services


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Empty(Strict):
    pass


class LocalStreamInfo(BaseModel):
    settings: LocalStreamSettings
    running: bool
    url: str | None = Field(description="ws://127.0.0.1:<port> while running")
    tokens_loaded: bool = Field(
        description="false until the vault has been unlocked once since the host started"
    )
    error: str | None = Field(description="why the server is not running although enabled")


class SetRequest(Strict):
    enabled: bool | None = None
    port: int | None = Field(None, description="1024-65535 (0: any free port)")
    batch_ms: int | None = Field(None, description="positions: at most one event per window (ms)")
    allowed_origins: list[str] | None = Field(
        None, description="browser origins allowed to connect, e.g. http://localhost:3000"
    )


class TokenRow(BaseModel):
    id: str
    name: str
    accounts: list[str] | None = Field(description="vault account ids this token sees; null: every account")
    masked: str = Field(description="sdls_AbCd…wxyz")
    created_at: float
    rotated_at: float | None
    connections: int = Field(description="open right now")


class TokensReply(BaseModel):
    tokens: list[TokenRow]


class CreateTokenRequest(Strict):
    name: str = Field(min_length=1, max_length=64)
    accounts: list[str] | None = Field(
        None, max_length=64, description="limit to these vault account ids; omit for every account"
    )


class TokenIdRequest(Strict):
    id: str = Field(min_length=1, max_length=64)


class NewTokenReply(BaseModel):
    token: TokenRow
    secret: str = Field(description="the bearer token itself: shown this once, never again")


class RevokeReply(BaseModel):
    revoked: str


class LocalStreamStats(BaseModel):
    active_connections: int
    connections_total: int
    messages_sent: int
    messages_received: int
    latency_avg_ms: float | None = Field(description="payload built -> frame handed to the socket")
    latency_p99_ms: float | None
    disconnects: dict[str, int] = Field(description="by reason")
    disconnect_rate: float | None = Field(description="unclean disconnects per connection")
    refused: dict[str, int] = Field(description="refused handshakes by reason")
    errors: dict[str, int]
    error_rate: float | None = Field(description="errors per handshake or client message")


class StatsReply(BaseModel):
    running: bool
    localstream: LocalStreamStats


def _info(svc: Services) -> LocalStreamInfo:
    return LocalStreamInfo.model_validate(svc.localstream.describe())


def _error(svc: Services, exc: Exception) -> ApiError:
    if isinstance(exc, TokenError):
        return ApiError("invalid", str(exc))
    if isinstance(exc, LocalStreamError):
        return ApiError("invalid", str(exc))
    if isinstance(exc, VaultError | VaultStoreError):
        return vault_error(exc, svc.vault)
    raise exc


@handler("localstream.get", Empty, LocalStreamInfo)
async def get(ctx: Ctx, req: Empty) -> LocalStreamInfo:
    """Settings and state of the local stream for other programs."""
    return _info(ctx.services)


@handler("localstream.set", SetRequest, LocalStreamInfo)
async def set_(ctx: Ctx, req: SetRequest) -> LocalStreamInfo:
    """Change settings and apply them (start, stop, move to another port). If the server cannot
    listen, the previous settings are restored and the error says why."""
    svc = ctx.services.localstream
    before = ctx.services.settings.config.localstream
    changes: dict[str, Any] = req.model_dump(exclude_none=True)
    try:
        settings = LocalStreamSettings.model_validate({**before.model_dump(), **changes})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise ApiError("invalid", f"local stream settings: {problems}") from None
    ctx.services.settings.update(localstream=settings)
    try:
        await svc.apply()
    except LocalStreamError as exc:
        ctx.services.settings.update(localstream=before)
        with contextlib.suppress(LocalStreamError):  # the old port went too: `error` in get says so
            await svc.apply()
        raise ApiError("rejected", str(exc), {"field": "port"}) from None
    return _info(ctx.services)


@handler("localstream.tokens", Empty, TokensReply)
async def tokens(ctx: Ctx, req: Empty) -> TokensReply:
    """Every token, masked, with its open connections."""
    return TokensReply(tokens=[TokenRow.model_validate(r) for r in ctx.services.localstream.token_rows()])


@handler("localstream.create_token", CreateTokenRequest, NewTokenReply)
async def create_token(ctx: Ctx, req: CreateTokenRequest) -> NewTokenReply:
    """A new token (vault unlocked), optionally limited to some accounts; its secret is in this reply only."""
    ctx.services.vault.touch()
    try:
        row, secret = await ctx.services.localstream.create_token(req.name, req.accounts)
    except (TokenError, LocalStreamError, VaultError, VaultStoreError) as exc:
        raise _error(ctx.services, exc) from None
    return NewTokenReply(token=TokenRow.model_validate(row), secret=secret)


@handler("localstream.rotate_token", TokenIdRequest, NewTokenReply)
async def rotate_token(ctx: Ctx, req: TokenIdRequest) -> NewTokenReply:
    """A new secret for a token (same name and accounts); its connections are closed."""
    ctx.services.vault.touch()
    try:
        row, secret = await ctx.services.localstream.rotate_token(req.id)
    except (TokenError, LocalStreamError, VaultError, VaultStoreError) as exc:
        raise _error(ctx.services, exc) from None
    return NewTokenReply(token=TokenRow.model_validate(row), secret=secret)


@handler("localstream.revoke_token", TokenIdRequest, RevokeReply)
async def revoke_token(ctx: Ctx, req: TokenIdRequest) -> RevokeReply:
    """Delete a token; its connections are closed."""
    ctx.services.vault.touch()
    try:
        await ctx.services.localstream.revoke_token(req.id)
    except (TokenError, LocalStreamError, VaultError, VaultStoreError) as exc:
        raise _error(ctx.services, exc) from None
    return RevokeReply(revoked=req.id)


@handler("localstream.stats", Empty, StatsReply)
async def stats(ctx: Ctx, req: Empty) -> StatsReply:
    """Active connections, messages sent, delivery latency (avg, p99), disconnect and error rates."""
    svc = ctx.services.localstream
    return StatsReply(running=svc.running, localstream=LocalStreamStats.model_validate(svc.stats()))
