"""Test connection for a Tradovate account (the six checks of domain/checks.py).

1. reachability: the REST host answers, then the trading socket opens and syncs;
2. key: the sign-in (`/auth/accesstokenrequest`) with username, password, cid and sec succeeds;
3. permissions: `/account/list` has an active, unarchived account (Tradovate's API cannot
   withdraw, so there is no withdrawal permission to check);
4. IP restriction: Tradovate's API keys cannot be restricted by IP: not checked;
5. position mode: net, the only one Tradovate has;
6. clock: the REST host's `Date` header (one-second resolution).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sidedesk.brokers.probe import DATE_RESOLUTION_MS, http_probe
from sidedesk.brokers.tradovate.adapter import TradovateBroker
from sidedesk.domain import BrokerError
from sidedesk.domain.checks import Check, clock_check, skipped

IP = Check("ip_restriction", "skip", "not checked: Tradovate API keys cannot be restricted to IP addresses")
POSITION = Check("position_mode", "ok", "net: one position per contract (the only mode Tradovate has)")


async def run_checks(broker: TradovateBroker, environment: str) -> list[Check]:
    client, ep = broker.session, broker.endpoints
    rest_host = urlsplit(ep.rest).netloc
    try:
        probe = await http_probe(ep.rest)
    except BrokerError as exc:
        reach = Check(
            "reachability",
            "fail",
            f"{exc.message}: check this computer's internet connection, a firewall or proxy",
        )
        reason = "not checked: Tradovate could not be reached"
        return [reach, *skipped(("key", "permissions"), reason), IP, POSITION, Check("clock", "skip", reason)]
    clock = (
        clock_check(
            probe.offset_ms,
            "Tradovate",
            tolerance_ms=2 * DATE_RESOLUTION_MS,
            resolution_ms=DATE_RESOLUTION_MS,
        )
        if probe.offset_ms is not None
        else Check("clock", "skip", f"not checked: {rest_host} sent no Date header")
    )
    try:
        await client.sign_in()
    except BrokerError as exc:
        if exc.code == "auth":
            detail = (
                f"{exc.message.rstrip('.')}: check the username and password (your Tradovate "
                "login) and the cid and sec from Tradovate's API Access page"
            )
        else:
            detail = exc.message
        reach = Check("reachability", "ok", f"{rest_host} answers ({probe.rtt_ms:.0f} ms)")
        return [
            reach,
            Check("key", "fail", detail),
            *skipped(("permissions",), "not checked: the sign-in failed"),
            IP,
            POSITION,
            clock,
        ]
    key = Check("key", "ok", "Tradovate accepted the sign-in (username, password, cid and sec)")
    try:
        await client.start()
        reach = Check(
            "reachability",
            "ok",
            f"{rest_host} answers ({probe.rtt_ms:.0f} ms) and the trading socket opens and syncs",
        )
    except BrokerError as exc:
        reach = Check(
            "reachability",
            "fail",
            f"{rest_host} answers but the trading socket {urlsplit(ep.ws).netloc} does not ({exc.message}): "
            "let WebSockets (wss://, port 443) through the firewall or proxy",
        )
    try:
        accounts = await client.get("/account/list")
    except BrokerError as exc:
        perm = Check("permissions", "warn", f"could not list the Tradovate accounts ({exc.message})")
    else:
        usable = [
            a
            for a in accounts or []
            if isinstance(a, dict) and a.get("active") is True and a.get("archived") is not True
        ]
        spec = broker.account_spec
        if spec and usable and not any(spec in (str(a.get("id")), a.get("name")) for a in usable):
            names = ", ".join(str(a.get("name")) for a in usable)
            perm = Check(
                "permissions",
                "fail",
                f"this login holds no active account {spec}: pick one of {names} in Setup",
            )
        elif usable:
            names = ", ".join(str(a.get("name")) for a in usable)
            perm = Check(
                "permissions",
                "ok",
                f"active account {names}; Tradovate's API cannot withdraw, so there is nothing to turn off",
            )
        else:
            perm = Check(
                "permissions",
                "fail",
                "this user has no active Tradovate account to trade: check the account on Tradovate's "
                "website (or ask Tradovate to activate it)",
            )
    return [reach, key, perm, IP, POSITION, clock]
