"""Test connection for a Binance USDⓈ-M account: the six checks, against the account's own hosts.

1. reachability: the REST host answers `GET /fapi/v1/time` (five samples, which also measure the
   clock) and the WS API socket, where orders go, opens;
2. key: a signed REST call (`GET /fapi/v1/positionSide/dual`) and a signed WS API call
   (`v2/account.balance`) both accepted: REST and the WS API reach the same account;
3. permissions and 4. IP restriction: `GET /sapi/v1/account/apiRestrictions` (Wallet API,
   developers.binance.com/docs/wallet/account/api-key-permission) reports `enableFutures`,
   `enableWithdrawals` and `ipRestrict`. The futures testnet has no /sapi, so there they are not
   checked (and said so). Other permissions (spot, margin, options) are not looked at;
5. position mode: one-way or hedge, from the same REST call (both are supported);
6. clock: the offset measured in step 1 (Sidedesk signs with Binance's time either way).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sidedesk.brokers.binance.adapter import BinanceBroker
from sidedesk.brokers.binance.protocol import messages as msg
from sidedesk.brokers.binance.protocol import replies
from sidedesk.brokers.binance.protocol.fields import MalformedMessage
from sidedesk.domain import BrokerError
from sidedesk.domain.checks import TIME_SYNC_HINT, Check, clock_check, skipped

CLOCK_TOLERANCE_MS = 1000.0  # well inside the 5 s recvWindow Sidedesk signs with
# The key's permissions: GET /sapi/v1/account/apiRestrictions, USER_DATA, weight 1, on the Wallet
# API host (developers.binance.com/docs/wallet/account/api-key-permission).
API_RESTRICTIONS = msg.RestCall("GET", "/sapi/v1/account/apiRestrictions", {}, "signed", weight=1)

# Where a key for each environment is made (said when Binance refuses one).
KEY_HOME = {
    "live": "a live key made on binance.com (testnet and Demo Trading keys do not work on live)",
    "testnet": "a Demo Trading key made on demo.binance.com (live keys do not work on the testnet)",
    "demo": "a Demo Trading key made on demo.binance.com (live keys do not work there)",
    "simulator": "one of the simulator's keys (`sidedesk sim binance` prints them)",
}


def ms(value: float) -> str:
    return "under 1 ms" if value < 1 else f"{value:.0f} ms"


def host(url: str | None) -> str:
    return urlsplit(url or "").netloc or str(url)


def key_refused(exc: BrokerError, environment: str) -> str:
    """One sentence for a refused key, by Binance's code (binance.md §8)."""
    home = KEY_HOME.get(environment, KEY_HOME["live"])
    code = exc.broker_code
    if code == -2015:
        return (
            f"Binance refused the key (-2015: unknown key, IP not allowed, or no futures permission): "
            f"use {home}, tick Enable Futures, and if the key is IP-restricted, add this computer's IP"
        )
    if code == -2014:
        return "Binance says the API key is malformed (-2014): copy it again from API Management"
    if code == -2008:
        return f"Binance does not know this key here (-2008): use {home}"
    if code == -1022:
        return (
            "Binance refused the signature (-1022): the secret or Ed25519 private key does not belong "
            "to this API key; paste both again"
        )
    if code in (-1021, -5028):
        return f"Binance refused the timestamp even after Sidedesk synced with it: {TIME_SYNC_HINT}"
    return exc.message


def judge_restrictions(data: Any) -> tuple[Check, Check]:
    """apiRestrictions -> (permissions, ip_restriction). Pure."""
    if not isinstance(data, dict):
        raise MalformedMessage("apiRestrictions: expected an object")
    problems: list[str] = []
    status = "ok"
    if data.get("enableFutures") is not True:
        status = "fail"
        problems.append(
            "futures trading is off for this key: in Binance's API Management, edit the key and tick "
            "Enable Futures (a key made before the futures account was opened cannot: make a new one)"
        )
    if data.get("enableWithdrawals") is True:
        status = "fail" if status == "fail" else "warn"
        problems.append(
            "withdrawals are on for this key: Sidedesk never withdraws, so untick Enable Withdrawals "
            "in API Management"
        )
    perm = (
        Check("permissions", status, "; ".join(problems))  # type: ignore[arg-type]
        if problems
        else Check(
            "permissions",
            "ok",
            "futures trading on, withdrawals off (spot, margin and options are not looked at)",
        )
    )
    if data.get("ipRestrict") is True:
        ip = Check("ip_restriction", "ok", "the key only works from the IP addresses listed on Binance")
    else:
        ip = Check(
            "ip_restriction",
            "warn",
            "the key works from any IP address: restrict it to this computer's public IP in API Management",
        )
    return perm, ip


async def run_checks(broker: BinanceBroker, environment: str) -> list[Check]:
    client, ep = broker.session, broker.endpoints
    out: list[Check] = []
    # 1. reachability (and the clock, from the same round trips)
    try:
        await client.sync_time()
    except BrokerError as exc:
        out.append(
            Check(
                "reachability",
                "fail",
                f"{host(ep.rest)} did not answer ({exc.message}): check this computer's internet "
                "connection, a firewall or proxy, and that Binance serves your country",
            )
        )
        reason = "not checked: Binance could not be reached"
        return out + skipped(("key", "permissions", "ip_restriction", "position_mode", "clock"), reason)
    rtt = client.clock.last_rtt_ms or 0.0
    clock = clock_check(client.clock.offset_ms, "Binance", tolerance_ms=CLOCK_TOLERANCE_MS, corrected=True)
    try:
        await client.start_api()
    except BrokerError as exc:
        out.append(
            Check(
                "reachability",
                "fail",
                f"{host(ep.rest)} answers but the trading socket {host(ep.ws_api)} does not open "
                f"({exc.message}): let WebSockets (wss://, port 443) through the firewall or proxy",
            )
        )
        reason = "not checked: the trading socket could not be opened"
        return [*out, *skipped(("key", "permissions", "ip_restriction", "position_mode"), reason), clock]
    out.append(
        Check(
            "reachability",
            "ok",
            f"{host(ep.rest)} and the trading socket {host(ep.ws_api)} answer ({ms(rtt)} round trip)",
        )
    )
    # 2. the key, on REST and on the WS API; 5. the position mode from the same REST call
    try:
        hedge = replies.dual_side(await client.rest(msg.get_position_mode()))
    except (BrokerError, MalformedMessage) as exc:
        detail = key_refused(exc, environment) if isinstance(exc, BrokerError) else str(exc)
        out.append(Check("key", "fail", detail))
        reason = "not checked: the key was refused"
        return [*out, *skipped(("permissions", "ip_restriction", "position_mode"), reason), clock]
    try:
        await client.call(msg.account_balance())
    except BrokerError as exc:
        out.append(
            Check(
                "key",
                "fail",
                f"{host(ep.rest)} accepted the key but the trading socket {host(ep.ws_api)} refused it "
                f"({key_refused(exc, environment)}): orders would fail",
            )
        )
    else:
        out.append(
            Check("key", "ok", f"accepted for account data by {host(ep.rest)} and by the trading socket")
        )
    mode = "hedge (a long and a short position per symbol)" if hedge else "one-way (one position per symbol)"
    position = Check("position_mode", "ok", f"{mode}; Sidedesk supports both")
    # 3. permissions and 4. IP restriction
    if ep.sapi is None:
        why = (
            "not checked: Binance's futures testnet has no /sapi endpoint to report the key's permissions "
            "(the first order shows whether trading is allowed)"
        )
        out += [Check("permissions", "skip", why), Check("ip_restriction", "skip", why)]
    else:
        try:
            perm, ip = judge_restrictions(await client.rest(API_RESTRICTIONS, base=ep.sapi))
            out += [perm, ip]
        except (BrokerError, MalformedMessage) as exc:
            said = exc.message if isinstance(exc, BrokerError) else str(exc)
            why = f"{host(ep.sapi)} did not say what the key may do ({said})"
            out += [
                Check(
                    "permissions",
                    "warn",
                    f"{why}: check Enable Futures and Enable Withdrawals in API Management",
                ),
                Check("ip_restriction", "skip", "not checked: the key's restrictions could not be read"),
            ]
    return [*out, position, clock]
