"""Test connection for a Volumetrica account (the six checks of domain/checks.py).

1. reachability: the login service answers, then the trading server logs in;
2. key: the login service grants a trading token for the platform key, login and password;
3. permissions: the login's accounts include one enabled for trading and not archived;
4. IP restriction: Volumetrica logins cannot be restricted by IP: not checked;
5. position mode: net, the only one Volumetrica has;
6. clock: the login service's `Date` header (one-second resolution).

While Sidedesk may be connected with the same login (`in_use`), the trading server is not tried:
a second login would sign the first one out (brokers.md §2), so 1 and 3 say what was not checked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sidedesk.brokers.probe import DATE_RESOLUTION_MS, http_probe
from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
from sidedesk.brokers.volumetrica.protocol import wire
from sidedesk.brokers.volumetrica.protocol.auth import TokenRefused
from sidedesk.domain import BrokerError
from sidedesk.domain.checks import Check, clock_check, skipped

IP = Check("ip_restriction", "skip", "not checked: Volumetrica logins cannot be restricted to IP addresses")
POSITION = Check("position_mode", "ok", "net: one position per contract (the only mode Volumetrica has)")


async def run_checks(broker: VolumetricaBroker, environment: str, *, in_use: bool = False) -> list[Check]:
    client = broker.session
    auth_host = urlsplit(client.auth_url).netloc
    try:
        probe = await http_probe(client.auth_url)
    except BrokerError as exc:
        reason = "not checked: Volumetrica could not be reached"
        return [
            Check(
                "reachability",
                "fail",
                f"{exc.message}: check this computer's internet connection, a firewall or proxy",
            ),
            *skipped(("key", "permissions"), reason),
            IP,
            POSITION,
            Check("clock", "skip", reason),
        ]
    clock = (
        clock_check(
            probe.offset_ms,
            "Volumetrica",
            tolerance_ms=2 * DATE_RESOLUTION_MS,
            resolution_ms=DATE_RESOLUTION_MS,
        )
        if probe.offset_ms is not None
        else Check("clock", "skip", f"not checked: {auth_host} sent no Date header")
    )
    answered = f"the login service {auth_host} answers ({probe.rtt_ms:.0f} ms)"
    try:
        await client.fetch_grant()
    except TokenRefused as exc:
        return [
            Check("reachability", "ok", answered),
            Check(
                "key",
                "fail",
                f"{exc.message}: check the login and password, and the platform key your firm gave you",
            ),
            *skipped(("permissions",), "not checked: the login was refused"),
            IP,
            POSITION,
            clock,
        ]
    except BrokerError as exc:
        return [
            Check("reachability", "fail", f"{answered} but gave no trading token ({exc.message})"),
            *skipped(("key", "permissions"), "not checked: no trading token"),
            IP,
            POSITION,
            clock,
        ]
    key = Check("key", "ok", "Volumetrica granted a trading token for this platform key, login and password")
    if in_use:
        why = (
            "not tried: a second login would sign out the session Sidedesk has open with this login "
            "(disconnect the account, then test again, or run `sidedesk doctor --account ID --login`)"
        )
        return [Check("reachability", "ok", f"{answered}; trading server {why}"), key,
                Check("permissions", "skip", why), IP, POSITION, clock]  # fmt: skip
    try:
        await client.start()
        info = await client.request("info", wire.info_request)
    except BrokerError as exc:
        return [
            Check(
                "reachability", "fail", f"{answered} but the trading server did not log in ({exc.message})"
            ),
            key,
            Check("permissions", "skip", "not checked: the trading server did not log in"),
            IP,
            POSITION,
            clock,
        ]
    reach = Check("reachability", "ok", f"{answered} and the trading server logs in")
    accounts = list(info.account_list)
    usable = [a for a in accounts if a.is_trading_enabled and not a.archived]
    want = broker.wanted_account
    if want is not None and usable and not any(a.account_number == want for a in usable):
        names = ", ".join(a.account_header or str(a.account_number) for a in usable)
        perm = Check(
            "permissions",
            "fail",
            f"this login holds no account {want} enabled for trading: pick one of {names} in Setup",
        )
    elif usable:
        names = ", ".join(a.account_header or str(a.account_number) for a in usable)
        perm = Check("permissions", "ok", f"trading enabled on {names}; this API cannot withdraw")
    elif accounts:
        perm = Check(
            "permissions",
            "fail",
            "no account of this login is enabled for trading: ask your firm to enable it",
        )
    else:
        perm = Check("permissions", "fail", "this login has no account: ask your firm which login to use")
    return [reach, key, perm, IP, POSITION, clock]
