"""Neutral error codes: the one vocabulary brokers, services and the host API share.

Venue codes (Binance's -2021, Tradovate's failure texts) are translated into these inside
`brokers/<name>/`; nothing above a broker sees a venue's own code except as detail.
"""

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

# Why a broker said no, where services act on the why (each adapter maps its venue's codes):
# the trigger is already crossed (a stop must go the other side or the position be closed), or
# the order is unknown to the exchange (already gone: a cancel has nothing left to do).
Reason = Literal["would_trigger", "order_not_found"]


class Refused(Exception):
    """A service's "no": a neutral code, a sentence a trader can act on, and optional details
    (the field at fault, the limit). The API layer turns it into the reply's `error`."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class BrokerError(Refused):
    """A broker said no (or could not be asked). `code` is a host API error code."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        broker_code: int | str | None = None,
        retry_after_s: float | None = None,
        reason: Reason | None = None,
    ) -> None:
        details: dict[str, Any] = {}
        if broker_code is not None:
            details["broker_code"] = broker_code
        if retry_after_s is not None:
            details["retry_after_s"] = round(retry_after_s, 1)
        super().__init__(code, message, details or None)
        self.broker_code = broker_code  # the venue's own code: detail for the trader, never logic
        self.retry_after_s = retry_after_s
        self.reason: Reason | None = reason
