"""Stable error codes of the host API and the exception that carries one to the reply."""

from __future__ import annotations

from sidedesk.domain.errors import ERROR_CODES, ErrorCode, Refused

# the codes live on the ground floor (brokers and services use them too)
__all__ = ["ERROR_CODES", "ApiError", "ErrorCode", "Refused"]


class ApiError(Refused):
    """Raised by handlers; becomes `{"error": {"code", "message", "details"?}}` in the reply.
    Services raise the domain's `Refused` (or `BrokerError`); the dispatcher answers both."""
