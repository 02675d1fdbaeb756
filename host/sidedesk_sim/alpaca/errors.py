"""Alpaca's REST errors as the simulator returns them: HTTP status + `{"code": N, "message": "..."}`.

The code's first three digits are the HTTP status, except 40010001 (a failed validation of a
well-formed request), which Alpaca sends with HTTP 422. Sources (brokers.md §3.4 and observed
answers quoted in public issues):
- 40010000 / 400: "request body format is invalid" (the body is not JSON, or a field has the
  wrong JSON type) — alpacahq/Alpaca-API#89, Petersoj/alpaca-java#90 (HTTP 400).
- 40010001 / 422: validation, e.g. "us_equity orders not allowed for account", an unknown asset,
  a path id that is not an order id — Petersoj/alpaca-java#147, alpacahq/Alpaca-API#184, #135.
- 40110000 / 401: not authorized.
- 40310000 / 403: refused for the account, e.g. buying power, held or shortable shares.
- 40410000 / 404: not found.
- 42210000 / 422: unprocessable, e.g. a sub-penny price ("invalid limit_price 41.085. sub-penny
  increment does not fulfill minimum pricing criteria", alpacahq/alpaca-trade-api-go#260) or an
  order that is no longer cancelable ('order is already in "filled" state',
  bennycode/trading-signals#1079).
- 42910000 / 429: rate limited.
"""

from __future__ import annotations

from typing import Any

MALFORMED = 40010000
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


def malformed(message: str = "request body format is invalid") -> AlpacaError:
    return AlpacaError(400, MALFORMED, message)


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
