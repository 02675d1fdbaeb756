"""Who may open a connection: the checks made on the HTTP upgrade request, before any data. Pure.

Order matters. The `Origin` header comes first: browsers always send it on a WebSocket
handshake and a page cannot forge it, so a web page whose origin is not on the allow-list is
refused whatever it presents (programs send no Origin and are let through to the token check).
Then the bearer token, then the per-token connection limit. A refusal is a plain HTTP error;
no upgrade happens, so not one byte of the portfolio is sent.

A program sends `Authorization: Bearer <token>`. A browser page (on an allowed origin) cannot set
headers on a WebSocket, so it may offer the subprotocols `sidedesk.v1` and `bearer.<token>`;
the server then answers with `sidedesk.v1`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from sidedesk.localstream.tokens import TokenRecord, TokenSet

SUBPROTOCOL = "sidedesk.v1"
BEARER_PROTOCOL = "bearer."


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    reason: str  # the statistics key
    text: str  # the response body: says what to do, never echoes what was sent


def normalise_origin(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


def origin_allowed(origin: str | None, allowed: Collection[str]) -> bool:
    """No Origin: a local program. Otherwise it must be on the list ("null" never is)."""
    if origin is None:
        return True
    o = normalise_origin(origin)
    return o != "null" and o in allowed


def offered_protocols(values: Iterable[str]) -> list[str]:
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def presented_token(authorization: str | None, protocols: Iterable[str]) -> str | None:
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    for p in protocols:
        if p.startswith(BEARER_PROTOCOL) and len(p) > len(BEARER_PROTOCOL):
            return p[len(BEARER_PROTOCOL) :]
    return None


def check(
    *,
    origin: str | None,
    authorization: str | None,
    protocols: list[str],
    allowed_origins: Collection[str],
    tokens: TokenSet | None,
    connections_of: Callable[[str], int],
    max_per_token: int,
) -> TokenRecord | Refusal:
    """The token record a connection runs under, or why it is refused. `tokens` is None while
    the host has not read them yet (its vault was never unlocked since it started)."""
    if not origin_allowed(origin, allowed_origins):
        return Refusal(403, "origin", "This origin may not read the Sidedesk portfolio.\n")
    if tokens is None:
        return Refusal(
            503,
            "locked",
            "Sidedesk has not read its access tokens yet: unlock the vault in the side panel.\n",
        )
    token = presented_token(authorization, protocols)
    if token is None:
        return Refusal(401, "auth_missing", "A bearer token is required (Authorization: Bearer <token>).\n")
    record = tokens.find(token)
    if record is None:
        return Refusal(401, "auth_invalid", "The bearer token is not valid (revoked or rotated?).\n")
    if connections_of(record.id) >= max_per_token:
        return Refusal(429, "connection_limit", f"This token already has {max_per_token} connections open.\n")
    return record
