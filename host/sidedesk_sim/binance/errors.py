"""Binance error codes and exact messages (binance.md §8.3), and the exception that carries one.

Clients key on `code`, but the messages are copied verbatim so a client that logs them shows what
the real exchange would have said.
"""

from __future__ import annotations

from typing import Any

# code -> message (the default wording; `%s` slots are filled by the raiser)
MESSAGES: dict[int, str] = {
    -1000: "An unknown error occured while processing the request.",
    -1001: "Internal error; unable to process your request. Please try again.",
    -1002: "You are not authorized to execute this request.",
    -1003: "Too many requests; current limit is %s requests per minute. Please use the websocket for live "
    "updates to avoid polling the API.",
    -1006: "An unexpected response was received from the message bus. Execution status unknown.",
    -1007: "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
    -1014: "Unsupported order combination.",
    -1015: "Too many new orders; current limit is %s orders per %s.",
    -1118: "New client order ID was empty.",
    -1021: "Timestamp for this request is outside of the recvWindow.",
    -1022: "Signature for this request is not valid.",
    -1100: "Illegal characters found in parameter '%s'; legal range is '%s'.",
    -1101: "Duplicate values for a parameter detected.",
    -1102: "Mandatory parameter '%s' was not sent, was empty/null, or malformed.",
    -1106: "Parameter '%s' sent when not required.",
    -1111: "Precision is over the maximum defined for this asset.",
    -1114: "TimeInForce parameter sent when not required.",
    -1115: "Invalid timeInForce.",
    -1116: "Invalid orderType.",
    -1117: "Invalid side.",
    -1121: "Invalid symbol.",
    -1125: "This listenKey does not exist. Please use POST /fapi/v1/listenKey to recreate listenKey",
    -1130: "Data sent for parameter '%s' is not valid.",
    -1136: "Invalid newOrderRespType.",
    -2010: "NEW_ORDER_REJECTED",
    -2011: "Unknown order sent.",
    -2013: "Order does not exist.",
    -2014: "API-key format invalid.",
    -2015: "Invalid API-key, IP, or permissions for action.",
    -2018: "Balance is insufficient.",
    -2019: "Margin is insufficient.",
    -2021: "Order would immediately trigger.",
    -2022: "ReduceOnly Order is rejected.",
    -2025: "Reach max open order limit.",
    -4001: "Price less than 0.",
    -4002: "Price greater than max price.",
    -4003: "Quantity less than zero.",
    -4004: "Quantity less than min quantity.",
    -4005: "Quantity greater than max quantity.",
    -4006: "Stop price less than zero.",
    -4013: "Price less than min price.",
    -4014: "Price not increased by tick size.",
    -4015: "Client order id length should be less than 36 chars",
    -4016: "Price is higher than mark price multiplier cap.",
    -4023: "Qty not increased by step size.",
    -4024: "Price is lower than mark price multiplier floor.",
    -4028: "Leverage %s is not valid",
    -4031: "Invalid parameter working type: %s",
    -4045: "Reach max stop order limit.",
    -4046: "No need to change margin type.",
    -4059: "No need to change position side.",
    -4060: "Invalid position side.",
    -4061: "Order's position side does not match user's setting.",
    -4067: "Position side cannot be changed if there exists open orders.",
    -4068: "Position side cannot be changed if there exists position.",
    -4116: "clientOrderId is duplicated",
    -4118: "ReduceOnly Order Failed. Please check your existing position and open orders",
    -4120: "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
    -4130: "An open stop or take profit order with GTE and closePosition in the direction is existing.",
    -4131: "The counterparty's best price does not meet the PERCENT_PRICE filter limit",
    -4135: "Invalid activation price",
    -4136: "Target strategy invalid for orderType %s,closePosition %s",
    -2028: "Leverage is smaller than permitted: insufficient margin balance.",
    -4137: "Quantity must be zero with closePosition equals true",
    -4138: "Reduce only must be true with closePosition equals true",
    -4164: "Order's notional must be no smaller than %s (unless you choose reduce only)",
    -5021: "Due to the order could not be filled immediately, the FOK order has been rejected.",
    -5022: "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    -5025: "Only limit order is supported.",
    -5029: "Order's notional must be no smaller than %s",
    -5027: "No need to modify the order.",
}

# Codes whose HTTP status is not the generic 400.
HTTP_STATUS: dict[int, int] = {-1003: 429, -2014: 401, -2015: 401, -1006: 503, -1007: 503, -1001: 503}

UNKNOWN_OUTCOME_MSG = "Unknown error, please check your request or try again later."


class BinanceError(Exception):
    """A Binance `{"code", "msg"}` error with the HTTP / WS `status` it travels with."""

    def __init__(self, code: int, *args: object, status: int | None = None, msg: str | None = None) -> None:
        template = MESSAGES.get(code, MESSAGES[-1000])
        if msg is None:
            msg = template % args if args and "%s" in template else template
            if not args and "%s" in template:
                msg = _without_slots(code, template)
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status if status is not None else HTTP_STATUS.get(code, 400)
        self.data: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            out["data"] = self.data
        return out


# The slot-free wording Binance uses when it has nothing to put in a `%s`.
_GENERIC: dict[int, str] = {
    -1100: "Illegal characters found in a parameter.",
    -1102: "A mandatory parameter was not sent, was empty/null, or malformed.",
    -1106: "A parameter was sent when not required.",
    -1015: "Too many new orders.",
    -1130: "Data sent for a parameter is not valid.",
    -4028: "Invalid leverage",
    -4164: "Order's notional must be no smaller than 5.0 (unless you choose reduce only)",
}


def _without_slots(code: int, template: str) -> str:
    return _GENERIC.get(code, template.replace("%s", "").strip())


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, name)


def invalid(name: str) -> BinanceError:
    return BinanceError(-1130, name)
