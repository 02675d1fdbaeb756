"""Alpaca's REST errors as the simulator returns them: HTTP status + `{"code": N, "message": "..."}`.

Codes as Alpaca uses them (brokers.md §3.4): 40010001 validation (422), 40110000 not authorized
(401), 40310000 forbidden, e.g. buying power or held shares (403), 40410000 not found (404),
42210000 unprocessable, e.g. an order no longer cancelable (422), 42910000 rate limited (429).
"""

from __future__ import annotations

from typing import Any

INVALID = 40010001
UNAUTHORIZED = 40110000
FORBIDDEN = 40310000
NOT_FOUND = 40410000
UNPROCESSABLE = 42210000
RATE_LIMITED = 42910000


class AlpacaError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def invalid(message: str) -> AlpacaError:
    return AlpacaError(422, INVALID, message)


def forbidden(message: str) -> AlpacaError:
    return AlpacaError(403, FORBIDDEN, message)


def not_found(message: str = "order not found") -> AlpacaError:
    return AlpacaError(404, NOT_FOUND, message)


def unprocessable(message: str) -> AlpacaError:
    return AlpacaError(422, UNPROCESSABLE, message)


def unauthorized() -> AlpacaError:
    return AlpacaError(401, UNAUTHORIZED, "request is not authorized")
