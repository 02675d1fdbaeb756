"""Broker account entries: validated models, storage form, masked summaries.

Secret fields are pydantic `SecretStr`, so a model's repr, str and JSON dump never show them;
only `to_storage` (the plaintext going into the encrypted body) and the broker adapters, through
`reveal`, see the values. Validation messages never quote what was submitted.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

Broker = Literal["binance", "tradovate", "volumetrica", "alpaca"]
Environment = Literal["live", "testnet", "demo", "simulator"]
BROKER_ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "binance": ("live", "testnet", "demo", "simulator"),
    "tradovate": ("live", "demo", "simulator"),
    "volumetrica": ("live", "demo", "simulator"),
    "alpaca": ("live", "demo", "simulator"),  # demo = Alpaca paper trading
}


def _secret_check(min_len: int, max_len: int, token: bool) -> Callable[[Any], Any]:
    """Length and charset checks on a secret before it becomes a SecretStr (messages omit it)."""

    def check(value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            raise ValueError("must be a string")
        value = value.strip()
        if not min_len <= len(value) <= max_len:
            raise ValueError(f"must be {min_len} to {max_len} characters long")
        if token and any(not 0x21 <= ord(ch) <= 0x7E for ch in value):
            raise ValueError("must be printable ASCII without spaces (copy it again from the broker)")
        return value

    return check


# Keys and secrets as brokers issue them (printable ASCII, no spaces), and passwords people type.
ApiKey = Annotated[SecretStr, BeforeValidator(_secret_check(16, 128, token=True))]
KeyId = Annotated[SecretStr, BeforeValidator(_secret_check(12, 64, token=True))]
AppSecret = Annotated[SecretStr, BeforeValidator(_secret_check(8, 256, token=True))]
Password = Annotated[SecretStr, BeforeValidator(_secret_check(1, 256, token=False))]
Pem = Annotated[SecretStr, BeforeValidator(_secret_check(40, 4096, token=False))]


# The account of a login the entry trades (Tradovate: the account id or name; Volumetrica: the
# account number). Absent in entries saved before accounts could be picked: the host then trades
# the venue's default (Tradovate: the lowest id; Volumetrica: the first enabled for trading) and
# remembers it here once connected.
AccountChoice = Annotated[str | None, Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class EntryInvalid(ValueError):
    """Field-level problems, never containing the submitted values."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['problem']}" for e in errors))
        self.errors = errors


def new_entry_id() -> str:
    return secrets.token_hex(8)


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)
    id: str = Field(default_factory=new_entry_id, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str = Field(min_length=1, max_length=64)
    environment: Environment
    updated_at: float = Field(default_factory=time.time)

    # Fields shown masked (first 4 … last 4) and fields never shown at all.
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ()
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ()

    @field_validator("name")
    @classmethod
    def _printable_name(cls, v: str) -> str:
        if any(ord(ch) < 32 for ch in v):
            raise ValueError("must not contain control characters")
        return v


class BinanceEntry(_Base):
    """A Binance USDⓈ-M key. `environment` picks one consistent set of hosts
    (brokers/binance/config.py): `live` (*.binance.com), `testnet` and `demo` (Binance's
    Demo Trading: both on the futures testnet's *.binancefuture.com hosts, so entries saved as
    either keep working), `simulator` (the local simulator, from the host settings)."""

    broker: Literal["binance"]
    auth: Literal["hmac", "ed25519"]
    api_key: ApiKey
    secret: ApiKey | None = None
    private_key_pem: Pem | None = None

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("api_key",)
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("secret", "private_key_pem")

    @field_validator("private_key_pem")
    @classmethod
    def _ed25519(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return v
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(v.get_secret_value().encode("utf-8"), password=None)
        except (ValueError, TypeError):
            raise ValueError("is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("is a PEM private key but not Ed25519")
        return v

    @model_validator(mode="after")
    def _one_secret(self) -> BinanceEntry:
        if self.auth == "hmac" and self.secret is None:
            raise ValueError("an HMAC key needs its secret")
        if self.auth == "ed25519" and self.private_key_pem is None:
            raise ValueError("an Ed25519 key needs its private key (PEM)")
        if self.secret is not None and self.private_key_pem is not None:
            raise ValueError("give either an HMAC secret or an Ed25519 private key, not both")
        return self


class TradovateEntry(_Base):
    broker: Literal["tradovate"]
    username: str = Field(min_length=1, max_length=128)
    password: Password
    cid: int = Field(ge=0, le=2**31 - 1)
    sec: AppSecret
    app_id: str = Field("Sidedesk", min_length=1, max_length=64)
    account: AccountChoice = None

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("username",)
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("password", "sec")


class VolumetricaEntry(_Base):
    """`environment`: live and demo both reach Volumetrica's Production, where every trader
    account is (evaluation, funded, live); its Staging is for firms' managers and developers."""

    broker: Literal["volumetrica"]
    platform_key: AppSecret
    login: str = Field(min_length=1, max_length=128)
    password: Password
    # KeepConcurrentSessionOn: true keeps the user's other sessions (their main platform) logged
    # in beside Sidedesk; false makes Sidedesk's login throw them out (the vendor's default).
    # Entries saved before this field existed read as true.
    keep_other_sessions: bool = True
    account: AccountChoice = None  # the account number (AccNumber)

    @field_validator("account")
    @classmethod
    def _account_number(cls, v: str | None) -> str | None:
        if v is not None and not v.isdigit():
            raise ValueError("must be the account's number (Volumetrica's AccNumber)")
        return v

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("login",)
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("platform_key", "password")


class AlpacaEntry(_Base):
    broker: Literal["alpaca"]
    key_id: KeyId
    secret_key: ApiKey

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("key_id",)
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("secret_key",)


Entry = Annotated[
    BinanceEntry | TradovateEntry | VolumetricaEntry | AlpacaEntry,
    Field(discriminator="broker"),
]
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)
AnyEntry = BinanceEntry | TradovateEntry | VolumetricaEntry | AlpacaEntry


_BROKERS = ("binance", "tradovate", "volumetrica", "alpaca")
_PLAIN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,23}$")


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Field and problem only. Pydantic puts some inputs into messages (a discriminator tag) and
    an unexpected key is itself input, so those are rewritten: a pasted secret stays unseen."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in _BROKERS:
            loc = loc[1:]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc, msg = ["broker"], f"must be one of {', '.join(_BROKERS)}"
        elif err["type"] == "extra_forbidden" and loc and not _PLAIN_NAME.match(loc[-1]):
            loc, msg = ["(unexpected field)"], "this entry has a field it does not accept"
        out.append({"field": ".".join(loc) or "(entry)", "problem": msg})
    return out


def parse_entry(data: Mapping[str, Any]) -> AnyEntry:
    try:
        entry = _ENTRY.validate_python(dict(data))
    except ValidationError as exc:
        raise EntryInvalid(_field_errors(exc)) from None
    allowed = BROKER_ENVIRONMENTS[entry.broker]
    if entry.environment not in allowed:
        raise EntryInvalid(
            [{"field": "environment", "problem": f"{entry.broker} supports {', '.join(allowed)}"}]
        )
    return entry


def merge_update(existing: AnyEntry | None, data: Mapping[str, Any]) -> AnyEntry:
    """An update may leave secret fields out (the UI never has them): keep the stored ones."""
    merged = dict(data)
    if existing is not None:
        if merged.get("broker", existing.broker) != existing.broker:
            raise EntryInvalid(
                [{"field": "broker", "problem": "cannot change the broker of an existing entry"}]
            )
        for key, value in to_storage(existing).items():
            if merged.get(key) in (None, "") and key != "updated_at":
                merged[key] = value
        if isinstance(existing, BinanceEntry) and data.get("auth") not in (None, existing.auth):
            # switching HMAC <-> Ed25519 drops the other kind's stored secret
            merged.pop("secret" if data["auth"] == "ed25519" else "private_key_pem", None)
    merged.pop("updated_at", None)
    return parse_entry(merged)


def reveal(entry: AnyEntry, name: str) -> str | None:
    value = getattr(entry, name)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value if isinstance(value, str) else None


def to_storage(entry: AnyEntry) -> dict[str, Any]:
    """The full entry with secrets in clear: only ever serialized into the encrypted body."""
    out = entry.model_dump(mode="python")
    for key, value in out.items():
        if isinstance(value, SecretStr):
            out[key] = value.get_secret_value()
    return {k: v for k, v in out.items() if v is not None}


def secret_values(entry: AnyEntry) -> list[str]:
    """Every value that must never appear in a log, reply or error (keys and secrets)."""
    out = []
    for name in (*entry.KEY_FIELDS, *entry.SECRET_FIELDS):
        value = reveal(entry, name)
        if value:
            out.append(value)
            if name == "private_key_pem":  # the base64 body lines, in case one is logged alone
                out.extend(line for line in value.splitlines() if line and not line.startswith("-----"))
    return out


def mask(value: str) -> str:
    """first 4 … last 4; short values show less so that most of them stays hidden."""
    if len(value) >= 12:
        return f"{value[:4]}…{value[-4:]}"
    if len(value) >= 6:
        return f"{value[:2]}…{value[-1:]}"
    return "…"


class EntrySummary(BaseModel):
    """What the extension may see of an entry."""

    id: str
    name: str
    broker: Broker
    environment: Environment
    auth: str | None = None
    account: str | None = Field(None, description="the login's account it trades (none: the venue default)")
    masked: dict[str, str] = Field(description="key fields, masked to first 4 … last 4")
    secrets_set: list[str] = Field(description="names of the secret fields that hold a value")
    updated_at: float


def summarize(entry: AnyEntry) -> EntrySummary:
    masked = {}
    for name in entry.KEY_FIELDS:
        value = reveal(entry, name)
        if value:
            masked[name] = mask(value)
    return EntrySummary(
        id=entry.id,
        name=entry.name,
        broker=entry.broker,
        environment=entry.environment,
        auth=getattr(entry, "auth", None),
        account=getattr(entry, "account", None),
        masked=masked,
        secrets_set=[n for n in entry.SECRET_FIELDS if getattr(entry, n) is not None],
        updated_at=entry.updated_at,
    )
