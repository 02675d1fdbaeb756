"""Binance error codes → host error codes plus a message a trader can act on (binance.md §8).

Key on `code`, never on `msg` ("messages can vary"). The exchange's own text is appended in
parentheses so the trader sees exactly what Binance said; it never contains secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

from sidedesk.domain import BrokerError
from sidedesk.domain.errors import ErrorCode, Reason


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    code: ErrorCode
    message: str
    retry: bool = False  # the request may be retried once as is (after the fix the message names)


_R: ErrorCode = "rejected"
_I: ErrorCode = "invalid"

# Every code in binance.md §8.3 (and the observed ones in §2.2/§6.1).
ERRORS: dict[int, ErrorInfo] = {
    -1000: ErrorInfo(
        "unknown_outcome", "Binance reported an unknown error; checking whether the order exists"
    ),
    -1001: ErrorInfo("not_connected", "Binance could not process the request (internal error); try again"),
    -1002: ErrorInfo("auth", "this API key is not authorised for the request; check its permissions"),
    -1003: ErrorInfo("rate_limited", "too many requests to Binance; wait before sending more"),
    -1006: ErrorInfo("unknown_outcome", "Binance's answer was lost inside the exchange; checking the order"),
    -1007: ErrorInfo("unknown_outcome", "Binance timed out internally; checking whether the order exists"),
    -1008: ErrorInfo(
        "rate_limited", "Binance is overloaded and throttled the request; reduce-only closes still go"
    ),
    -1014: ErrorInfo(_I, "this order combination is not supported by Binance"),
    -1015: ErrorInfo("rate_limited", "too many new orders; wait a few seconds"),
    -1016: ErrorInfo("not_connected", "this Binance service is no longer available"),
    -1021: ErrorInfo(_R, "the computer clock is out of sync with Binance; resynced, try again", retry=True),
    -1022: ErrorInfo(
        "auth", "Binance rejected the signature: the API secret in the vault does not match the key"
    ),
    -1100: ErrorInfo(_I, "a parameter contains characters Binance does not accept"),
    -1101: ErrorInfo(_I, "too many or duplicate parameters for this request"),
    -1102: ErrorInfo(_I, "a required parameter is missing or malformed"),
    -1103: ErrorInfo(_I, "Binance does not know one of the parameters sent"),
    -1104: ErrorInfo(_I, "Binance did not read every parameter sent"),
    -1105: ErrorInfo(_I, "a parameter was empty"),
    -1106: ErrorInfo(_I, "a parameter was sent that this order does not take (hedge mode: no reduce-only)"),
    -1111: ErrorInfo(_I, "too many decimals for this symbol: round price or size to the tick/step"),
    -1112: ErrorInfo(_R, "there are no orders on the book for this symbol"),
    -1114: ErrorInfo(_I, "time in force must not be sent for this order type"),
    -1115: ErrorInfo(_I, "invalid time in force"),
    -1116: ErrorInfo(_I, "invalid order type"),
    -1117: ErrorInfo(_I, "invalid side"),
    -1118: ErrorInfo(_I, "the new client order id was empty"),
    -1119: ErrorInfo(_I, "the original client order id was empty"),
    -1121: ErrorInfo(_I, "Binance does not list this symbol"),
    -1125: ErrorInfo("not_connected", "the user-data stream key expired; reconnecting the account stream"),
    -1128: ErrorInfo(_I, "this combination of optional parameters is not valid"),
    -1130: ErrorInfo(_I, "a parameter value is not valid"),
    -1136: ErrorInfo(_I, "invalid response type requested"),
    -2010: ErrorInfo(_R, "Binance rejected the new order"),
    -2011: ErrorInfo(_R, "cancel rejected: the order is unknown or already closed"),
    -2013: ErrorInfo(_R, "the order does not exist (filled, cancelled or never placed)"),
    -2014: ErrorInfo("auth", "the API key format is invalid: re-enter the key in the vault"),
    -2015: ErrorInfo(
        "auth", "invalid API key, IP or permissions: check the key's futures permission and IP list"
    ),
    -2018: ErrorInfo(_R, "insufficient balance: reduce size or add funds"),
    -2019: ErrorInfo(_R, "insufficient margin: reduce size or add funds"),
    -2020: ErrorInfo(_R, "the order could not be filled"),
    -2021: ErrorInfo(_R, "the order would trigger immediately: move the trigger price to the other side"),
    -2022: ErrorInfo(_R, "reduce-only rejected: there is no position (or less than this size) to reduce"),
    -2023: ErrorInfo(_R, "the account is being liquidated; trading is blocked"),
    -2024: ErrorInfo(_R, "the position is smaller than this close"),
    -2025: ErrorInfo(_R, "too many open orders on this symbol: cancel some first"),
    -2026: ErrorInfo(_I, "this order type cannot be reduce-only"),
    -2027: ErrorInfo(
        _R, "the position would exceed the maximum for the current leverage: lower leverage or size"
    ),
    -2028: ErrorInfo(_R, "leverage too low for the margin balance: add funds or lower the position"),
    -4001: ErrorInfo(_I, "the price must be above 0"),
    -4002: ErrorInfo(_I, "the price is above the symbol's maximum price"),
    -4003: ErrorInfo(_I, "the quantity must be above 0"),
    -4004: ErrorInfo(_I, "the quantity is below the symbol's minimum"),
    -4005: ErrorInfo(_I, "the quantity is above the symbol's maximum"),
    -4006: ErrorInfo(_I, "the stop price must be above 0"),
    -4007: ErrorInfo(_I, "the stop price is above the symbol's maximum price"),
    -4013: ErrorInfo(_I, "the price is below the symbol's minimum price"),
    -4014: ErrorInfo(_I, "the price is not on the tick grid: round it to the tick size"),
    -4015: ErrorInfo(_I, "the client order id is not valid (at most 36 of A-Z a-z 0-9 . : / _ -)"),
    -4016: ErrorInfo(_R, "the price is too far above the mark price (percent-price cap)"),
    -4023: ErrorInfo(_I, "the quantity is not a multiple of the step size"),
    -4024: ErrorInfo(_R, "the price is too far below the mark price (percent-price floor)"),
    -4028: ErrorInfo(_I, "this leverage is not allowed for the symbol"),
    -4031: ErrorInfo(_I, "invalid working type for the stop price"),
    -4045: ErrorInfo(_R, "too many open stop orders (200 across all symbols): cancel some first"),
    -4046: ErrorInfo(_R, "the margin type is already set"),
    -4047: ErrorInfo(_R, "the margin type cannot change while orders are open"),
    -4048: ErrorInfo(_R, "the margin type cannot change while a position is open"),
    -4059: ErrorInfo(_R, "the position mode is already set"),
    -4060: ErrorInfo(_I, "invalid position side"),
    -4061: ErrorInfo(_R, "the position side does not match the account's mode (hedge vs one-way); refresh"),
    -4062: ErrorInfo(_I, "invalid reduce-only value"),
    -4067: ErrorInfo(_R, "the position mode cannot change while orders are open"),
    -4068: ErrorInfo(_R, "the position mode cannot change while a position is open"),
    -4109: ErrorInfo(_R, "the futures account is inactive: transfer any amount to the futures wallet"),
    -4116: ErrorInfo(_R, "this client order id is already used by an open order"),
    -4117: ErrorInfo(_R, "the stop order is triggering right now; try again in a moment"),
    -4118: ErrorInfo(_R, "reduce-only failed: open orders on the same side would flip the position"),
    -4120: ErrorInfo(_I, "conditional orders must go through the algo order API"),
    -4130: ErrorInfo(_R, "a close-position stop in this direction already exists: cancel it first"),
    -4131: ErrorInfo(
        _R, "the best price is outside the percent-price limit: the market order was not placed"
    ),
    -4135: ErrorInfo(_I, "invalid activation price for the trailing stop"),
    -4136: ErrorInfo(_I, "a trailing stop cannot close the whole position; give a quantity"),
    -4137: ErrorInfo(_I, "close-position orders take no quantity"),
    -4138: ErrorInfo(_I, "close-position orders must be reduce-only"),
    -4142: ErrorInfo(_R, "the stop or take-profit would trigger immediately: move the trigger price"),
    -4164: ErrorInfo(_R, "the order is below the minimum notional: increase size (reduce-only is exempt)"),
    -4183: ErrorInfo(_R, "the limit price is too high relative to the trigger price"),
    -4184: ErrorInfo(_R, "the limit price is too low relative to the trigger price"),
    -4400: ErrorInfo(_R, "Binance's trading rules allow only reduce-only orders for now; try later"),
    -4401: ErrorInfo(_R, "Binance's compliance rules restrict this account; see Binance notifications"),
    -4402: ErrorInfo(_R, "Binance's compliance rules restrict this order; see Binance notifications"),
    -4403: ErrorInfo(_R, "Binance's risk rules restrict leverage or size for this account"),
    -4531: ErrorInfo(_R, "position mode change needs COIN-M synced: close COIN-M positions and orders first"),
    -5021: ErrorInfo(_R, "fill-or-kill could not fill completely, so nothing was placed"),
    -5022: ErrorInfo(_R, "post-only would have taken liquidity, so it was not placed: move the price away"),
    -5024: ErrorInfo(_R, "the symbol is not trading, so the order cannot be modified"),
    -5025: ErrorInfo(_I, "only limit orders can be modified"),
    -5026: ErrorInfo(_R, "this order was modified too many times: cancel and place a new one"),
    -5027: ErrorInfo(_R, "nothing to modify: price and size are unchanged"),
    -5028: ErrorInfo(
        _R, "the clock is out of sync with Binance's matching engine; resynced, try again", retry=True
    ),
    -5029: ErrorInfo(_R, "the modified order would be below the minimum notional"),
    -5037: ErrorInfo(_I, "invalid price match mode"),
    -5038: ErrorInfo(_I, "price match only works with limit, stop and take-profit orders"),
    -5039: ErrorInfo(_I, "invalid self-trade prevention mode"),
    -5040: ErrorInfo(_I, "good-till-date must be 10 minutes to year 9999 ahead"),
    -5041: ErrorInfo(_R, "no book depth to match this best-bid/offer order"),
    -5043: ErrorInfo(_R, "a modification of this order is already pending"),
}

# Codes whose outcome is not known even though an error came back (binance.md §8.1).
UNKNOWN_OUTCOME_STATUS = frozenset({500, 502, 503, 504})
CLOCK_CODES = frozenset({-1021, -5028})


def describe(
    status: int,
    code: int | None,
    msg: str,
    *,
    retry_after_s: float | None = None,
) -> BrokerError:
    """One Binance failure (WS `status` + `error`, or REST HTTP status + body) as a BrokerError."""
    said = f" (Binance {code}: {msg})" if code is not None else (f" (HTTP {status}: {msg})" if msg else "")
    if status == 418:
        wait = f" for {retry_after_s:.0f} s" if retry_after_s else ""
        return BrokerError(
            "rate_limited",
            f"Binance banned this IP{wait} after too many requests; wait, then trade again{said}",
            code if code is not None else 418,
            retry_after_s,
        )
    if status == 429 or code == -1003:
        wait = f"; retry in {retry_after_s:.0f} s" if retry_after_s else ""
        return BrokerError(
            "rate_limited",
            f"too many requests to Binance{wait}{said}",
            code if code is not None else 429,
            retry_after_s,
        )
    info = ERRORS.get(code) if code is not None else None
    if info is None and status in UNKNOWN_OUTCOME_STATUS and "Service Unavailable" not in msg:
        # 5xx "Unknown error…": the order may exist; reconcile before anything is re-sent.
        info = ErrorInfo("unknown_outcome", "Binance did not say whether the request took effect; checking")
    if info is None and status == 503:
        info = ErrorInfo("not_connected", "Binance is unavailable right now; try again shortly")
    if info is None and status in (401, 403):
        info = ErrorInfo("auth", "Binance refused the API key; check it and its permissions")
    if info is None:
        info = ErrorInfo(_R, "Binance refused the request")
    reason = REASONS.get(code) if code is not None else None
    return BrokerError(
        info.code, info.message + said, code if code is not None else status, retry_after_s, reason
    )


# "Order would immediately trigger" (-2021) and its algo-service twin (-4142); unknown order
# on cancel/query (-2011, -2013): the neutral reasons services act on.
REASONS: dict[int, Reason] = {
    -2021: "would_trigger",
    -4142: "would_trigger",
    -2011: "order_not_found",
    -2013: "order_not_found",
}


def is_clock_error(err: BrokerError) -> bool:
    return err.broker_code in CLOCK_CODES
