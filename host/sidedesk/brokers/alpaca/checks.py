"""Test connection for an Alpaca account (the six checks of domain/checks.py).

1. reachability: the REST host answers (orders go over REST; the streams are not opened here, as
   a second market-data connection can push out the one Sidedesk already has);
2. key: `GET /v2/account` with the key id and secret is answered (not 401/403);
3. permissions: the account is ACTIVE and neither `trading_blocked`, `account_blocked` nor
   `trade_suspended_by_user` (docs.alpaca.markets, Account). API keys cannot withdraw;
4. IP restriction: Alpaca keys cannot be restricted by IP: not checked;
5. position mode: net, the only one Alpaca has;
6. clock: the REST host's `Date` header (one-second resolution; the simulator's /v2/clock can
   run on a simulated session time, so it is not used).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sidedesk.brokers.alpaca.adapter import AlpacaBroker
from sidedesk.brokers.probe import DATE_RESOLUTION_MS, http_probe
from sidedesk.domain import BrokerError
from sidedesk.domain.checks import Check, clock_check, skipped

IP = Check("ip_restriction", "skip", "not checked: Alpaca API keys cannot be restricted to IP addresses")
POSITION = Check("position_mode", "ok", "net: one position per symbol (the only mode Alpaca has)")
KEY_HOME = {
    "demo": "a paper-trading key (Alpaca dashboard, Paper account)",
    "live": "a live-trading key (live keys and paper keys are separate)",
    "simulator": "the simulator's key",
}


async def run_checks(broker: AlpacaBroker, environment: str) -> list[Check]:
    rest = broker.endpoints.rest
    rest_host = urlsplit(rest).netloc
    try:
        probe = await http_probe(rest)
    except BrokerError as exc:
        reason = "not checked: Alpaca could not be reached"
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
    reach = Check("reachability", "ok", f"{rest_host} answers ({probe.rtt_ms:.0f} ms)")
    clock = (
        clock_check(
            probe.offset_ms, "Alpaca", tolerance_ms=2 * DATE_RESOLUTION_MS, resolution_ms=DATE_RESOLUTION_MS
        )
        if probe.offset_ms is not None
        else Check("clock", "skip", f"not checked: {rest_host} sent no Date header")
    )
    try:
        account = await broker.session.rest("GET", "/account")
    except BrokerError as exc:
        if exc.code == "auth" or exc.broker_code in (40110000, 40310000) or exc.code == "rejected":
            detail = f"{exc.message.rstrip('.')}: it must be {KEY_HOME.get(environment, KEY_HOME['live'])}"
            key = Check("key", "fail", detail)
        else:
            key = Check("key", "fail", exc.message)
        return [
            reach,
            key,
            *skipped(("permissions",), "not checked: the key was refused"),
            IP,
            POSITION,
            clock,
        ]
    key = Check("key", "ok", "Alpaca accepted the key id and secret")
    if not isinstance(account, dict):
        perm = Check(
            "permissions",
            "warn",
            "Alpaca's account answer was unreadable: check the account on its dashboard",
        )
        return [reach, key, perm, IP, POSITION, clock]
    problems: list[str] = []
    status = str(account.get("status", ""))
    if status != "ACTIVE":
        problems.append(
            f"the account's status is {status or 'unknown'}, not ACTIVE: check it on Alpaca's dashboard"
        )
    if account.get("account_blocked") is True:
        problems.append("the account is blocked: contact Alpaca support")
    if account.get("trading_blocked") is True:
        problems.append("trading is blocked on the account: contact Alpaca support")
    if account.get("trade_suspended_by_user") is True:
        problems.append("you suspended trading on the dashboard: turn it back on there")
    perm = (
        Check("permissions", "fail", "; ".join(problems))
        if problems
        else Check("permissions", "ok", "the account is active and may trade; API keys cannot withdraw")
    )
    return [reach, key, perm, IP, POSITION, clock]
