"""API-key registry and Binance signature checks (binance.md §3). Pure: bytes and strings in, verdicts out.

REST signs the query string + body exactly as transmitted; the WS API signs the params sorted by key,
rendered from their raw JSON literals with no percent-encoding. HMAC signatures are hex (compared
case-insensitively); Ed25519 and RSA (PKCS#1 v1.5, SHA-256) signatures are base64 (case-sensitive).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

KeyKind = Literal["hmac", "ed25519", "rsa"]

# Binance API keys are 64 alphanumerics; anything else is "API-key format invalid." (-2014).
API_KEY_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")

# Known-answer identities from binance.md §3.3 (KAT-1, KAT-2, KAT-4). Public test material, not secrets.
KAT1_API_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
KAT1_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"  # noqa: S105
KAT2_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
KAT2_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # noqa: S105
KAT4_PRIVATE_PEM = (
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n"
    "-----END PRIVATE KEY-----\n"
)
_KAT4_PUBLIC_B64 = "MCowBQYDK2VwAyEAGUIKv9dSpWXBViXp2m6vAIb8QMFJYBgyFEQsFJlqgA0="
KAT4_PUBLIC_PEM = f"-----BEGIN PUBLIC KEY-----\n{_KAT4_PUBLIC_B64}\n-----END PUBLIC KEY-----\n"
# The dossier publishes no API key for the KAT-4 pair; this one is the simulator's own choice.
ED25519_API_KEY = "SidedeskSimEd25519KeyKAT4xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"


@dataclass(frozen=True)
class Identity:
    """One API key: how it signs, which engine account it trades, and its permissions."""

    api_key: str
    kind: KeyKind
    account_id: str
    secret: str = ""  # HMAC secret
    public_pem: str = ""  # Ed25519 / RSA public key (SPKI PEM)
    private_pem: str = field(default="", repr=False)  # only kept for built-in test identities
    can_trade: bool = True
    # What GET /sapi/v1/account/apiRestrictions reports (developers.binance.com/docs/wallet/account/
    # api-key-permission): the simulator's keys are served on 127.0.0.1 only, so IP-restricted.
    enable_withdrawals: bool = False
    ip_restrict: bool = True

    def describe(self) -> dict[str, str]:
        """The identity as printed for test clients (test keys are public by design)."""
        out = {"apiKey": self.api_key, "type": self.kind, "account": self.account_id}
        if self.secret:
            out["secret"] = self.secret
        if self.private_pem:
            out["privateKey"] = self.private_pem
        if self.public_pem:
            out["publicKey"] = self.public_pem
        return out


def builtin_identities() -> list[Identity]:
    return [
        Identity(KAT1_API_KEY, "hmac", "main", secret=KAT1_SECRET),
        Identity(
            ED25519_API_KEY, "ed25519", "main", public_pem=KAT4_PUBLIC_PEM, private_pem=KAT4_PRIVATE_PEM
        ),
        Identity(KAT2_API_KEY, "hmac", "second", secret=KAT2_SECRET),
    ]


def load_public_key(kind: KeyKind, pem: str) -> ed25519.Ed25519PublicKey | rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if kind == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
        return key
    raise ValueError(f"public key is not an {kind} key")


def verify(identity: Identity, payload: bytes, signature: str) -> bool:
    """Does `signature` sign `payload` under this identity's key?"""
    if identity.kind == "hmac":
        expected = hmac.new(identity.secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature.lower())
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = load_public_key(identity.kind, identity.public_pem)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, payload)
        else:
            key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign(identity: Identity, payload: bytes) -> str:
    """Sign as a client would (tests and the control plane's 'another platform' helper)."""
    if identity.kind == "hmac":
        return hmac.new(identity.secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()
    if not identity.private_pem:
        raise ValueError("identity has no private key")
    key = serialization.load_pem_private_key(identity.private_pem.encode("ascii"), password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return base64.b64encode(key.sign(payload)).decode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        return base64.b64encode(key.sign(payload, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")
    raise ValueError("unsupported private key type")


# ---- REST payload ---------------------------------------------------------------------------------


def strip_signature(raw: str) -> tuple[str, str | None]:
    """Remove the `signature=...` pair from a raw urlencoded string; return (rest, raw signature value)."""
    if not raw:
        return raw, None
    parts = raw.split("&")
    kept: list[str] = []
    sig: str | None = None
    for part in parts:
        if part.startswith("signature=") and sig is None:
            sig = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), sig


def rest_payload(raw_query: str, raw_body: str) -> tuple[bytes, str | None]:
    """The REST `totalParams` (query + body, as sent, no separator) and the signature (decoded)."""
    query, sig_q = strip_signature(raw_query)
    body, sig_b = strip_signature(raw_body)
    sig = sig_q if sig_q is not None else sig_b
    return (query + body).encode("utf-8"), (urllib.parse.unquote(sig) if sig is not None else None)


# ---- WS API payload -------------------------------------------------------------------------------


class RawNumber(str):
    """A JSON number kept as its literal text, so `0.10` stays `0.10` for the signature payload."""

    __slots__ = ()


def render_ws_value(value: object) -> str:
    """How a WS param value appears in the signature payload (binance.md §3.1: raw, not encoded)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def ws_payload(params: dict[str, object]) -> bytes:
    """`k1=v1&k2=v2…` over every param except `signature`, sorted by key, raw UTF-8 values."""
    pairs = sorted((k, v) for k, v in params.items() if k != "signature")
    return "&".join(f"{k}={render_ws_value(v)}" for k, v in pairs).encode("utf-8")


def ws_payload_percent_encoded(params: dict[str, object]) -> bytes:
    """What a percent-encoding client (official SDK, `urlencode`) signs instead; used only for diagnostics."""
    pairs = sorted((k, render_ws_value(v)) for k, v in params.items() if k != "signature")
    return urllib.parse.urlencode(pairs).encode("ascii")
