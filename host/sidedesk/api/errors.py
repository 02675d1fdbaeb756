"""Stable error codes of the host API and the exception that carries one to the reply."""

from __future__ import annotations

from typing import Any

from sidedesk.domain.errors import ERROR_CODES, ErrorCode

# the codes live on the ground floor (brokers and services use them too)
__all__ = ["ERROR_CODES", "ApiError", "ErrorCode"]


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
