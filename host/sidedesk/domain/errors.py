"""Neutral error codes: the one vocabulary brokers, services and the host API share.

Venue codes (Binance's -2021, Tradovate's failure texts) are translated into these inside
`brokers/<name>/`; nothing above a broker sees a venue's own code except as detail.
"""

from __future__ import annotations

from typing import Literal

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


class BrokerError(Exception):
    """A broker said no (or could not be asked). `code` is a host API error code."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        broker_code: int | str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.broker_code = broker_code
        self.retry_after_s = retry_after_s
