"""Stable error codes of the host API and the exception that carries one to the reply."""

from __future__ import annotations

from typing import Any, Literal

ErrorCode = Literal[
    "bad_request",  # not a well-formed envelope
    "unknown_type",  # no handler for `type`
    "invalid",  # payload failed validation, or the request makes no sense now
    "locked",  # needs the vault unlocked
    "auth",  # wrong password, revoked key, refused sign-in
    "rejected",  # the exchange or the risk check said no
    "rate_limited",  # a local or exchange rate limit
    "not_connected",  # the broker connection is down
    "unknown_outcome",  # the request may or may not have taken effect; reconciling
    "internal",  # a bug: details are in the host log, never in the reply
]

ERROR_CODES: tuple[str, ...] = ErrorCode.__args__  # type: ignore[attr-defined]


class ApiError(Exception):
    """Raised by handlers; becomes `{"error": {"code", "message", "details"?}}` in the reply."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out
