"""Bearer tokens of the local stream: generation, the stored record, lookup. Pure.

A token is `sdls_` + 43 URL-safe characters (256 random bits). The vault keeps a record per
token (its SHA-256 digest, a masked form, a name and the accounts it may see), never the token
itself: it is shown once, in the reply that created or rotated it, and afterwards only masked.
Looking a token up by its digest compares digests of 256-bit random values, so the time a lookup
takes tells an attacker nothing useful about any stored token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

PREFIX = "sdls_"
TOKEN_LEN = len(PREFIX) + 43
MAX_TOKENS = 32
VAULT_ITEM = "localstream.tokens"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def looks_like_token(value: str) -> bool:
    return (
        len(value) == TOKEN_LEN
        and value.startswith(PREFIX)
        and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in value[len(PREFIX) :])
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def mask_token(token: str) -> str:
    """`sdls_AbCd…wxyz`: enough to tell tokens apart, far too little to use one."""
    return f"{token[: len(PREFIX) + 4]}…{token[-4:]}"


def new_token_id() -> str:
    return secrets.token_hex(6)


class TokenRecord(BaseModel):
    """What the vault stores about one token."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-f0-9]{12}$")
    name: str = Field(min_length=1, max_length=64)
    accounts: tuple[str, ...] | None = Field(description="vault account ids it may see; None: all")
    digest: str = Field(pattern=r"^[a-f0-9]{64}$")
    masked: str = Field(max_length=16)
    created_at: float
    rotated_at: float | None = None

    @field_validator("name")
    @classmethod
    def _printable(cls, v: str) -> str:
        if any(ord(ch) < 32 for ch in v):
            raise ValueError("must not contain control characters")
        return v

    @property
    def scope(self) -> frozenset[str] | None:
        return None if self.accounts is None else frozenset(self.accounts)


_RECORDS: TypeAdapter[list[TokenRecord]] = TypeAdapter(list[TokenRecord])


class TokenError(ValueError):
    pass


class TokenSet:
    """The token records, indexed by id and by digest. Changes return the plaintext token once."""

    def __init__(self, records: Iterable[TokenRecord] = ()) -> None:
        self._by_id: dict[str, TokenRecord] = {}
        self._by_digest: dict[str, TokenRecord] = {}
        for r in records:
            self._put(r)

    @classmethod
    def from_storage(cls, raw: Any) -> TokenSet:
        """Records as stored in the vault item; None (no item yet) is an empty set."""
        if raw is None:
            return cls()
        try:
            return cls(_RECORDS.validate_python(raw))
        except ValidationError:
            raise TokenError("the stored local-stream tokens are not readable; create new ones") from None

    def to_storage(self) -> list[dict[str, Any]]:
        return [r.model_dump(mode="json") for r in self]

    def __iter__(self) -> Iterator[TokenRecord]:
        return iter(sorted(self._by_id.values(), key=lambda r: (r.created_at, r.id)))

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, token_id: str) -> TokenRecord | None:
        return self._by_id.get(token_id)

    def find(self, token: str) -> TokenRecord | None:
        """The record of a presented token, or None."""
        if not looks_like_token(token):
            return None
        return self._by_digest.get(token_digest(token))

    def _put(self, record: TokenRecord) -> None:
        old = self._by_id.pop(record.id, None)
        if old is not None:
            self._by_digest.pop(old.digest, None)
        self._by_id[record.id] = record
        self._by_digest[record.digest] = record

    def create(
        self, name: str, accounts: Iterable[str] | None, now: float | None = None
    ) -> tuple[TokenSet, TokenRecord, str]:
        """A new set with one more token: (set, record, plaintext token)."""
        if len(self._by_id) >= MAX_TOKENS:
            raise TokenError(f"at most {MAX_TOKENS} tokens: revoke one first")
        name = name.strip()
        if any(r.name.lower() == name.lower() for r in self):
            raise TokenError("another token already has this name")
        token = new_token()
        scope = None if accounts is None else tuple(sorted(set(accounts)))
        if scope is not None and not scope:
            raise TokenError("give at least one account, or none at all for every account")
        try:
            record = TokenRecord(
                id=new_token_id(),
                name=name,
                accounts=scope,
                digest=token_digest(token),
                masked=mask_token(token),
                created_at=time.time() if now is None else now,
            )
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise TokenError(f"the token is not valid: {problems}") from None
        out = TokenSet(self._by_id.values())
        out._put(record)
        return out, record, token

    def rotate(self, token_id: str, now: float | None = None) -> tuple[TokenSet, TokenRecord, str]:
        """Same id, name and accounts; a new secret (the old one stops working at once)."""
        old = self._need(token_id)
        token = new_token()
        record = old.model_copy(
            update={
                "digest": token_digest(token),
                "masked": mask_token(token),
                "rotated_at": time.time() if now is None else now,
            }
        )
        out = TokenSet(self._by_id.values())
        out._put(record)
        return out, record, token

    def revoke(self, token_id: str) -> TokenSet:
        self._need(token_id)
        return TokenSet(r for r in self._by_id.values() if r.id != token_id)

    def _need(self, token_id: str) -> TokenRecord:
        record = self._by_id.get(token_id)
        if record is None:
            raise TokenError(f"no local-stream token with id {token_id!r}")
        return record
