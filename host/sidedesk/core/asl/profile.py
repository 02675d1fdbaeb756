"""The ASL profile: when each level starts and how tight its stop is, validated at the edge.

Percentages are `Decimal` percent values ("2" = 2 %), the unit Binance uses for `callbackRate`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sidedesk.domain import Capabilities, WorkingType

MAX_LEVELS = 9  # one character of the client id carries the level


class ProfileError(ValueError):
    """The profile cannot be used with this broker (the message says which field and why)."""


class AslLevel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    profit_pct: Decimal = Field(gt=0, lt=1000)  # profit (price move or ROE) that starts this level
    callback_pct: Decimal = Field(gt=0, lt=100)  # trailing distance from the best price


def _default_levels() -> tuple[AslLevel, ...]:
    return (
        AslLevel(profit_pct=Decimal(1), callback_pct=Decimal(2)),
        AslLevel(profit_pct=Decimal(2), callback_pct=Decimal("1.5")),
        AslLevel(profit_pct=Decimal(4), callback_pct=Decimal(1)),
    )


class AslProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hard_stop_pct: Decimal = Field(default=Decimal(2), gt=0, lt=100)
    levels: tuple[AslLevel, ...] = Field(default_factory=_default_levels, max_length=MAX_LEVELS)
    safety_stop_pct: Decimal = Field(default=Decimal(10), gt=0, lt=100)
    # "price": profit = price move from entry; "roe": price move x leverage (return on margin)
    profit_basis: Literal["price", "roe"] = "price"
    working_type: WorkingType = WorkingType.MARK_PRICE
    price_protect: bool = False
    # software trailing moves its stop only once it can tighten by at least this much
    software_trail_step_pct: Decimal = Field(default=Decimal("0.1"), ge=0, lt=10)
    retry_base_ms: int = Field(default=500, ge=1)
    retry_max_ms: int = Field(default=30_000, ge=1)
    # a placed stop not confirmed (reply + working event) by then is cancelled and retried
    confirm_timeout_ms: int = Field(default=5_000, ge=1)
    # stops of a position that went flat (and unknown stops of ours) are cancelled after this, where
    # stops are reduce-only (Binance); on brokers without reduce-only they are cancelled at once
    orphan_grace_ms: int = Field(default=3_000, ge=0)
    # after our stop fires, give the exchange this long to close the position before re-arming
    trigger_settle_ms: int = Field(default=3_000, ge=0)
    cancel_retry_ms: int = Field(default=1_000, ge=1)
    # a confirmed stop missing from the host's open-orders view is dropped only after this long
    view_grace_ms: int = Field(default=1_500, ge=0)

    @model_validator(mode="after")
    def _check(self) -> AslProfile:
        if self.safety_stop_pct < self.hard_stop_pct:
            raise ValueError("safety_stop_pct must be at least hard_stop_pct (it is the wider fallback)")
        prev: AslLevel | None = None
        for i, lv in enumerate(self.levels, start=1):
            if prev is not None:
                if lv.profit_pct <= prev.profit_pct:
                    raise ValueError(f"level {i}: profit_pct must be greater than level {i - 1}'s")
                if lv.callback_pct > prev.callback_pct:
                    raise ValueError(f"level {i}: callback_pct must not be looser than level {i - 1}'s")
            prev = lv
        if self.retry_max_ms < self.retry_base_ms:
            raise ValueError("retry_max_ms must be at least retry_base_ms")
        return self

    def check_broker(self, caps: Capabilities) -> None:
        """Raise ProfileError if the broker cannot carry these callbacks as native trailing stops."""
        if not caps.native_trailing_stop:
            return  # software trailing: any callback works, the engine moves a plain stop
        lo, hi = caps.min_callback_pct, caps.max_callback_pct
        for i, lv in enumerate(self.levels, start=1):
            if lo is not None and lv.callback_pct < lo:
                raise ProfileError(
                    f"level {i}: callback_pct {lv.callback_pct} is below the broker minimum {lo}"
                )
            if hi is not None and lv.callback_pct > hi:
                raise ProfileError(
                    f"level {i}: callback_pct {lv.callback_pct} is above the broker maximum {hi}"
                )

    def backoff_ms(self, attempt: int) -> int:
        """Delay before retry number `attempt` (1-based): base x 2^(attempt-1), capped."""
        if attempt <= 1:
            return self.retry_base_ms
        return min(self.retry_max_ms, self.retry_base_ms << min(attempt - 1, 30))
