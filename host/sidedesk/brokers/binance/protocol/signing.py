"""Request signing for the WS API and REST (binance.md §3). Pure: strings in, signatures out.

WS API: the payload is every param except `signature`, sorted by key, joined `k=v&…` with the raw
UTF-8 values (no percent-encoding). REST: the payload is the query string followed by the body,
exactly as transmitted. HMAC-SHA256 signatures are hex; Ed25519 (RFC 8032) and RSA (PKCS#1 v1.5,
SHA-256) signatures are base64, and must be percent-encoded when placed in a REST query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

KeyKind = Literal["hmac", "ed25519", "rsa"]
ParamValue = str | int | bool | Decimal


def render_value(value: ParamValue) -> str:
    """The text of one param as it appears both in the JSON we send and in the signature payload.

    Decimals are rendered as plain strings (never exponent form) and sent as JSON strings, so what
    we sign is exactly what the server reads back; booleans are the strings "true"/"false".
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    return value


def ws_payload(params: Mapping[str, ParamValue]) -> str:
    """The WS API signature payload: sorted by key, raw values, `signature` excluded."""
    return "&".join(f"{k}={render_value(params[k])}" for k in sorted(params) if k != "signature")


def rest_payload(query: str, body: str = "") -> str:
    """The REST `totalParams`: query string and body concatenated exactly as sent (no `&` between)."""
    return query + body


@dataclass(frozen=True)
class Signer:
    """Signs payloads with one API key's secret. Build with `make_signer`; never log or repr it."""

    kind: KeyKind
    _hmac_secret: bytes = field(default=b"", repr=False)
    _private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | None = field(default=None, repr=False)

    def sign(self, payload: str) -> str:
        data = payload.encode("utf-8")
        if self.kind == "hmac":
            return hmac.new(self._hmac_secret, data, hashlib.sha256).hexdigest()
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            return base64.b64encode(self._private.sign(data)).decode("ascii")
        if isinstance(self._private, rsa.RSAPrivateKey):
            raw = self._private.sign(data, padding.PKCS1v15(), hashes.SHA256())
            return base64.b64encode(raw).decode("ascii")
        raise ValueError("signer has no key")

    @property
    def supports_session_logon(self) -> bool:
        # binance.md §2.4: "Only Ed25519 keys are supported" for session.logon.
        return self.kind == "ed25519"


class KeyFormatError(ValueError):
    """The secret is neither an HMAC secret nor a usable PEM private key (message has no secret)."""


def make_signer(secret: str) -> Signer:
    """An HMAC secret, or a PKCS#8 PEM private key (Ed25519 or RSA), as stored in the vault entry."""
    text = secret.strip()
    if not text:
        raise KeyFormatError("the API secret is empty")
    if "PRIVATE KEY" not in text:
        if any(c.isspace() for c in text):
            raise KeyFormatError("the HMAC secret contains whitespace; paste it exactly as Binance shows it")
        return Signer("hmac", _hmac_secret=text.encode("utf-8"))
    try:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise KeyFormatError("the private key is not a readable unencrypted PEM (PKCS#8)") from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Signer("ed25519", _private=key)
    if isinstance(key, rsa.RSAPrivateKey):
        return Signer("rsa", _private=key)
    raise KeyFormatError("only Ed25519 and RSA private keys are supported")
