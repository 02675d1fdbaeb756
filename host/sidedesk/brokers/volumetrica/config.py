"""A Volumetrica account's typed config: its environment, the auth service it asks for tokens,
its credentials (kept out of repr), whether other platforms' sessions stay, and the user's
contract pins, built from the vault entry and the host settings by `config_from`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sidedesk.brokers.common import Settings
from sidedesk.brokers.volumetrica.protocol.auth import PRODUCTION, STAGING, Credentials
from sidedesk.domain import BrokerError
from sidedesk.vault.entries import VolumetricaEntry, reveal

LIVE_AUTH_URL = "https://authdxfeed.volumetricatrading.com"
# The body's `environment`, as Volumetrica's Trading API v4.0 PDF (03/01/2025, "AUTH REQUEST")
# names them: "0 - Production = used by propfirms' users", "1 - Staging = used for testing
# purposes by propfirms' managers/developers" (public copy of the integration pack:
# github.com/apptradescale-glitch/PropMap, "Platform Development/Trading API - v4.pdf"; the
# VolumetricaFX platform doc of 06/2025 agrees: staging for the firm's testing, production for
# real users and accounts). A trader's accounts - evaluation, funded, trial, training, live -
# all live on Production, so the vault's "demo" (simulated money) and "live" both mean it.
# ("demo" used to send Staging, where a trader's login does not exist.)
ENVIRONMENTS = {
    "production": PRODUCTION,
    "staging": STAGING,
    "live": PRODUCTION,
    "demo": PRODUCTION,
    "simulator": PRODUCTION,  # the simulator ignores it
}


@dataclass(frozen=True, slots=True)
class VolumetricaConfig:
    environment: str  # live | demo | simulator (production | staging accepted too)
    auth_url: str  # the token service's base URL
    credentials: Credentials = field(repr=False)
    keep_other_sessions: bool = True  # log in without closing the trader's other platforms
    contracts: Mapping[str, int] = field(default_factory=dict)  # symbol -> contract id pins
    account: str | None = None  # the account number to trade (None: the first enabled for trading)


def config_from(entry: VolumetricaEntry, settings: Settings) -> VolumetricaConfig:
    auth_url = LIVE_AUTH_URL
    if entry.environment == "simulator":
        auth_url = settings.simulator("volumetrica", "`sidedesk sim volumetrica`")
    if entry.environment not in ENVIRONMENTS:
        raise BrokerError(
            "invalid", f"unknown Volumetrica environment {entry.environment!r} ({', '.join(ENVIRONMENTS)})"
        )
    creds = Credentials(
        reveal(entry, "platform_key") or "",
        entry.login,
        reveal(entry, "password") or "",
        ENVIRONMENTS[entry.environment],
    )
    return VolumetricaConfig(
        entry.environment, auth_url, creds, entry.keep_other_sessions, dict(settings.volumetrica_contracts)
    )
