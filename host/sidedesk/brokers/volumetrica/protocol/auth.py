"""The REST step before every connection: login + password + platform key -> a one-shot WSS token.

`POST {auth}/api/v2/auth/token` with header `PltfKey` and a JSON body (brokers.md §2.1 a). The
answer is `{"success": true, "data": {"tradingWssEndpoint", "tradingWssToken", ...}}`, or
`{"success": false, "statusCode", "message"}` whose message is shown to the user. A token works
for one login only, so every (re)connection asks for a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sidedesk.domain import BrokerError

TOKEN_PATH = "/api/v2/auth/token"  # noqa: S105 (a URL path, not a secret)
API_VERSION = 3  # the trading API version the vendor's C# sample and PDF ask for
# The body's `environment` (config.py says which one each vault environment sends).
PRODUCTION, STAGING = 0, 1


@dataclass(frozen=True, slots=True)
class Credentials:
    platform_key: str
    login: str
    password: str
    environment: int = 0

    def __repr__(self) -> str:  # never show the secrets
        return f"Credentials(login={self.login!r}, environment={self.environment})"


@dataclass(frozen=True, slots=True)
class Grant:
    wss_endpoint: str
    wss_token: str
    report_host: str = ""
    report_token: str = ""

    def __repr__(self) -> str:
        return f"Grant(wss_endpoint={self.wss_endpoint!r})"


class TokenRefused(BrokerError):
    """The auth service said no: wrong login, password or platform key (retrying will not help)."""


def token_body(creds: Credentials) -> dict[str, Any]:
    return {
        "login": creds.login,
        "password": creds.password,
        "withDetails": False,
        "version": API_VERSION,
        "environment": creds.environment,
        "connectOnlyTrading": True,  # no market data: up to 5 such sessions instead of 1
    }


def parse_grant(status: int, body: Any) -> Grant:
    """The auth answer -> a Grant; TokenRefused for refused credentials, BrokerError otherwise."""
    if not isinstance(body, dict):
        raise BrokerError(
            "not_connected", f"the Volumetrica login service answered HTTP {status} without JSON"
        )
    if body.get("success") is True and isinstance(body.get("data"), dict):
        data = body["data"]
        endpoint, token = data.get("tradingWssEndpoint"), data.get("tradingWssToken")
        if not isinstance(endpoint, str) or not endpoint.startswith(("ws://", "wss://")):
            raise BrokerError(
                "not_connected", "the Volumetrica login service gave no trading WebSocket address"
            )
        if not isinstance(token, str) or not token:
            raise BrokerError("not_connected", "the Volumetrica login service gave no trading token")
        return Grant(
            endpoint,
            token,
            str(data.get("tradingRestReportHost") or ""),
            str(data.get("tradingRestReportToken") or ""),
        )
    message = body.get("message")
    text = message if isinstance(message, str) and message else f"HTTP {status}"
    code = body.get("statusCode", status)
    if status in (401, 403) or code in (401, 403):
        raise TokenRefused("auth", f"Volumetrica refused the login: {text}", code)
    if status == 429 or code == 429:
        raise BrokerError("rate_limited", f"Volumetrica's login service is busy: {text}", code)
    raise BrokerError("not_connected", f"Volumetrica's login service failed: {text}", code)
