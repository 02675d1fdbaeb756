"""Advanced Stop Loss messages: the profile, the switch, per-position on/off and breakeven."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sidedesk.api.dispatch import field_errors
from sidedesk.api.errors import ApiError
from sidedesk.api.registry import handler
from sidedesk.core.asl import AslProfile, ProfileError
from sidedesk.domain import PositionSide

if TYPE_CHECKING:
    from sidedesk.api.context import Ctx, Services


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Empty(Strict):
    pass


class AslState(BaseModel):
    enabled: bool
    profile: dict[str, Any]
    positions: dict[str, Any]


def state(svc: Services) -> AslState:
    view = svc.protection.view()
    return AslState(
        enabled=svc.settings.config.asl_enabled,
        profile=svc.protection.profile().model_dump(mode="json"),
        positions=view["positions"],
    )


@handler("asl.get", Empty, AslState)
async def asl_get(ctx: Ctx, req: Empty) -> AslState:
    """The ASL switch, the profile (hard stop, levels, safety stop) and each position's state."""
    return state(ctx.services)


class AslSetRequest(Strict):
    enabled: bool | None = None
    profile: dict[str, Any] | None = Field(None, description="an AslProfile; omitted fields keep defaults")


@handler("asl.set", AslSetRequest, AslState)
async def asl_set(ctx: Ctx, req: AslSetRequest) -> AslState:
    """Switch ASL on/off and/or replace the profile (validated: levels tighten, callbacks fit the broker)."""
    if req.enabled is False or req.profile is not None:  # weakens protection: not while locked
        ctx.services.entry.allow("unprotect")
    profile = None
    if req.profile is not None:
        try:
            profile = AslProfile.model_validate(req.profile)
        except ValidationError as exc:
            raise ApiError("invalid", "the ASL profile is not valid", {"errors": field_errors(exc)}) from None
        for link in ctx.services.links.links.values():
            try:
                profile.check_broker(link.broker.capabilities)
            except ProfileError as exc:
                raise ApiError("invalid", f"{link.broker.broker}: {exc}") from None
    await ctx.services.protection.set_asl(req.enabled, profile)
    return state(ctx.services)


class PositionRequest(Strict):
    symbol: str = Field(min_length=1, max_length=32)
    position_side: Literal["BOTH", "LONG", "SHORT"] = "BOTH"


class ToggleRequest(PositionRequest):
    enabled: bool


@handler("asl.toggle", ToggleRequest, Empty)
async def asl_toggle(ctx: Ctx, req: ToggleRequest) -> Empty:
    """ASL on or off for one position (off: its stops stay, nothing tightens or replaces them)."""
    ctx.services.entry.allow("protect" if req.enabled else "unprotect")
    ctx.services.protection.toggle(req.symbol.upper(), PositionSide(req.position_side), req.enabled)
    return Empty()


@handler("position.breakeven", PositionRequest, Empty)
async def position_breakeven(ctx: Ctx, req: PositionRequest) -> Empty:
    """Move the position's stop to its entry price, if that tightens it (new stop first, then cancel)."""
    ctx.services.protection.breakeven(req.symbol.upper(), PositionSide(req.position_side))
    return Empty()
