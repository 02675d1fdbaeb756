"""The host's settings file: validated on load, written atomically, unknown keys refused."""

from __future__ import annotations

import json
import os
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sidedesk.store.startup import DEFAULT_MAX_INBOUND


class ConfigError(ValueError):
    pass


class VaultKdfOverride(BaseModel):
    """Explicit Argon2id parameters for new vaults (tests use tiny ones); None keeps the strong default."""

    model_config = ConfigDict(extra="forbid")
    memory_kib: int = Field(ge=8, le=4 * 1024 * 1024)
    iterations: int = Field(ge=1, le=100)
    lanes: int = Field(ge=1, le=64)

    @model_validator(mode="after")
    def _argon2_minimum(self) -> VaultKdfOverride:
        if self.memory_kib < 8 * self.lanes:
            raise ValueError("memory_kib must be at least 8 x lanes (an Argon2 rule)")
        return self


BrokerName = Literal["binance", "tradovate", "volumetrica", "alpaca"]

# The confirmation threshold per broker, in the account's own currency, on the order's notional
# (the contract multiplier included): one size fits no one, since 1 MES is about 30 000 USD and
# 1 BTC about 60 000 USDT. Futures accounts: 1 to 5 MES go at once, 1 ES or more asks. Stocks:
# about a day trader's usual ticket. Binance keeps `confirm_above_notional` (5 000 USDT).
BROKER_CONFIRM_ABOVE: dict[str, Decimal] = {
    "tradovate": Decimal(150_000),
    "volumetrica": Decimal(150_000),
    "alpaca": Decimal(25_000),
}


class RiskSettings(BaseModel):
    """Pre-trade limits in each account's own currency (USDT on Binance, USD on the others). None
    disables a check; reducing orders are never blocked."""

    model_config = ConfigDict(extra="forbid")
    max_order_notional: Decimal | None = Field(None, gt=0)
    max_position_notional: Decimal | None = Field(None, gt=0)
    max_orders_per_minute: int | None = Field(60, gt=0, le=10_000)
    # Ask before a larger order: the threshold for Binance and for any broker without its own (see
    # `confirm_threshold`); None means never ask, on every broker.
    confirm_above_notional: Decimal | None = Field(Decimal(5000), gt=0)
    # Per-broker thresholds over the defaults of BROKER_CONFIRM_ABOVE (a None: never ask there).
    confirm_above_by_broker: dict[BrokerName, Annotated[Decimal, Field(gt=0)] | None] = Field(
        default_factory=dict
    )

    def confirm_threshold(self, broker: str) -> Decimal | None:
        """The threshold for an account of `broker`: off when `confirm_above_notional` is None,
        else this broker's own (set here, or its default), else `confirm_above_notional`."""
        if self.confirm_above_notional is None:
            return None
        if broker in self.confirm_above_by_broker:
            return self.confirm_above_by_broker[broker]
        return BROKER_CONFIRM_ABOVE.get(broker, self.confirm_above_notional)


ORIGIN = re.compile(r"^(https?|chrome-extension|moz-extension)://[a-z0-9.\-\[\]:]{1,253}$")


class LocalStreamSettings(BaseModel):
    """The read-only WebSocket stream for local programs (localstream/). Off by default; 127.0.0.1 only."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    port: int = Field(37651, ge=0, le=65535, description="0 = any free port (tests)")
    batch_ms: int = Field(1000, ge=50, le=60_000, description="positions: one event per window")
    # Browser pages allowed to connect (exact `Origin` values). Programs send no Origin and are allowed.
    allowed_origins: list[str] = Field(default_factory=list, max_length=32)
    heartbeat_s: float = Field(15.0, gt=0, le=300)
    idle_timeout_s: float = Field(30.0, gt=0, le=3600, description="silence before disconnect")
    max_connections_per_token: int = Field(8, ge=1, le=1000)
    max_messages_per_s: float = Field(20.0, gt=0, le=10_000, description="client messages per token")
    send_timeout_s: float = Field(
        5.0, gt=0, le=300, description="a frame the client does not take in this time closes it (4002)"
    )
    max_outbound_bytes: int = Field(
        2 * 1024 * 1024,
        ge=64 * 1024,
        le=64 * 1024 * 1024,
        description="bytes waiting for a client before it is closed (4002)",
    )

    @field_validator("port")
    @classmethod
    def _unprivileged(cls, v: int) -> int:
        if 0 < v < 1024:
            raise ValueError("must be 1024 to 65535 (or 0 for any free port)")
        return v

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        out = []
        for origin in v:
            o = origin.strip().lower().rstrip("/")
            if not ORIGIN.match(o):
                raise ValueError("each origin must look like https://example.com or http://localhost:3000")
            out.append(o)
        return list(dict.fromkeys(out))


class ServiceSettings(BaseModel):
    """The long-lived service (`sidedesk service`) that keeps protecting with the browser closed."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(True, description="`sidedesk native` forwards to the service")
    keep_protecting: bool = Field(True, description="stay while a connected account has a position or order")
    always: bool = Field(False, description="never exit by itself")
    idle_exit_s: float = Field(
        60.0, ge=0, le=7 * 24 * 3600, description="with nothing to protect and no panel"
    )
    keychain_retry_s: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="a locked service with unattended unlock on asks the OS keychain again this often "
        "(for two hours at most)",
    )


class HostConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_inbound_bytes: int = Field(DEFAULT_MAX_INBOUND, ge=1024, le=64 * 1024 * 1024)
    status_interval_s: float = Field(5.0, gt=0, le=3600)
    log_level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    extra_extension_ids: list[str] = Field(default_factory=list)
    vault_autolock_s: float = Field(15 * 60, ge=1, le=7 * 24 * 3600)
    # while the vault is locked, close / flatten / cancel need an unlock too (core/lock.py)
    require_unlock_to_reduce: bool = False
    vault_kdf: VaultKdfOverride | None = None
    # broker -> base URL of a local simulator serving it (written by `sidedesk demo` / tests)
    simulators: dict[str, str] = Field(default_factory=dict)
    # Volumetrica contract ids pinned by the user: feed symbol (/ESZ26:XCME) or symbol (ESZ26) -> id;
    # contracts not listed are found by SymbolLookup/ContractReq
    volumetrica_contracts: dict[str, int] = Field(default_factory=dict, max_length=200)
    active_account: str | None = Field(None, description="reconnected after the vault is unlocked")
    watchlist: list[str] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], max_length=50)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    # Advanced Stop Loss: on for new positions by default; the profile is validated by
    # core/asl/profile.py when set and when loaded (None: the default profile)
    asl_enabled: bool = True
    asl_profile: dict[str, Any] | None = None
    # seconds between reads of the exchange's open stops for protected symbols, besides the
    # user-data events (a late or lost event cannot leave a position unprotected); 0 = off
    asl_reconcile_s: float = Field(2.0, ge=0, le=3600)
    localstream: LocalStreamSettings = Field(default_factory=LocalStreamSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)


def load_config(path: Path) -> HostConfig:
    """Missing file -> defaults. A damaged file is an error that names the file and the problem."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return HostConfig()
    try:
        return HostConfig.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ConfigError(f"settings file {path} is invalid: {exc}") from exc


def write_json_atomic(path: Path, data: object, mode: int = 0o600) -> None:
    """Temp file in the same folder, fsync, rename, fsync the folder: old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if os.name == "posix":
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save_config(path: Path, config: HostConfig) -> None:
    write_json_atomic(path, config.model_dump(mode="json"))
