"""Setup -> "Keep protecting when the browser closes": the service's lifetime settings (the
lifetime rule itself is service/lifetime.py; the service reads these every second)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from sidedesk.api.errors import ApiError, Refused
from sidedesk.api.registry import handler

if TYPE_CHECKING:
    from sidedesk.api.context import Ctx


LOCKED_TO_STOP_PROTECTING = "Locked — unlock to let the service stop protecting when the browser closes"


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceInfo(BaseModel):
    enabled: bool = Field(description="the browser's host forwards to the service (else in-process)")
    keep_protecting: bool = Field(description="stay while a connected account has a position or order")
    always: bool = Field(description="never exit by itself")
    idle_exit_s: float = Field(description="exit after this long with nothing to protect and no panel")
    pid: int = Field(description="the process serving this panel")


class SetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keep_protecting: bool | None = Field(None, strict=True)
    always: bool | None = Field(None, strict=True)


def _info(ctx: Ctx) -> ServiceInfo:
    s = ctx.services.settings.config.service
    return ServiceInfo(
        enabled=s.enabled,
        keep_protecting=s.keep_protecting,
        always=s.always,
        idle_exit_s=s.idle_exit_s,
        pid=os.getpid(),
    )


@handler("service.get", Empty, ServiceInfo)
async def get(ctx: Ctx, req: Empty) -> ServiceInfo:
    """How long the service keeps running with the browser closed."""
    return _info(ctx)


@handler("service.set", SetRequest, ServiceInfo)
async def set_(ctx: Ctx, req: SetRequest) -> ServiceInfo:
    """Change when the service leaves by itself (saved; the running service applies it at once)."""
    settings = ctx.services.settings
    changes = req.model_dump(exclude_none=True)
    current = settings.config.service
    if any(value is False and getattr(current, name) for name, value in changes.items()):
        # switching off what keeps protecting with the browser closed weakens protection:
        # refused while locked (core/lock.py), like ASL switched off
        try:
            ctx.services.entry.allow("unprotect")
        except Refused as exc:  # the lock's sentence, said of what this switches off
            raise ApiError(exc.code, LOCKED_TO_STOP_PROTECTING, exc.details) from None
    try:
        settings.update(service=current.model_copy(update=changes))
    except OSError as exc:
        raise ApiError("rejected", f"changed for this session but not saved: {exc.strerror}") from None
    return _info(ctx)
