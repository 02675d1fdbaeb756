"""Request bodies and answers of Tradovate's REST/WS endpoints, pure (brokers.md §1.2, §1.4, §1.5).

Orders: `action` Buy/Sell with a positive integer `orderQty`; `isAutomated` is true for every
order a person did not place (ASL and anything not from the panel or a hotkey), as the docs
require. The client id goes out as `clOrdId` and as `text` (the order version echoes `text`, so
the id survives a restart; Tradovate's order entity has no client id field).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sidedesk.brokers.tradovate.protocol.frames import iso_ms
from sidedesk.domain import OrderRequest, OrderType, Side, TimeInForce

# entityTypes sent explicitly (partner docs: "the default is an empty array", brokers.md §1.4)
ENTITY_TYPES = (
    "account",
    "cashBalance",
    "position",
    "order",
    "orderVersion",
    "executionReport",
    "fill",
    "fillPair",
    "orderStrategy",
    "orderStrategyLink",
    "contract",
    "product",
    "commandReport",
)
# panel (`sdm…`) and hotkey (`sdh…`) orders are a person's; everything else is automated
HUMAN_PREFIXES = ("sdm", "sdh")

_TYPES = {
    OrderType.MARKET: "Market",
    OrderType.LIMIT: "Limit",
    OrderType.STOP_MARKET: "Stop",
    OrderType.STOP_LIMIT: "StopLimit",
    OrderType.TRAILING_STOP_MARKET: "TrailingStop",
}
TV_TYPES = {v: k for k, v in _TYPES.items()}
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.DAY: "Day"}


class RequestError(ValueError):
    """An order this broker cannot carry (the message says why)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    name: str
    password: str
    app_id: str
    cid: int
    sec: str
    app_version: str = "1.0"
    device_id: str = ""

    def __repr__(self) -> str:  # never show the password or secret
        return f"Credentials(name={self.name!r}, app_id={self.app_id!r}, cid={self.cid})"


def access_token_body(creds: Credentials, ticket: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": creds.name,
        "password": creds.password,
        "appId": creds.app_id,
        "appVersion": creds.app_version,
        "cid": creds.cid,
        "sec": creds.sec,
    }
    if creds.device_id:
        body["deviceId"] = creds.device_id
    if ticket is not None:
        body["p-ticket"] = ticket
    return body


@dataclass(frozen=True, slots=True)
class Token:
    access: str
    md: str
    expires_ms: int
    issued_ms: int
    user_id: int

    def __repr__(self) -> str:
        return f"Token(user_id={self.user_id}, expires_ms={self.expires_ms})"

    def renew_at_ms(self, lead_ms: int) -> int:
        """When to renew: `lead_ms` before expiry, but never earlier than 3/4 of the token's life
        (an 80-minute token renews at 70 minutes; a test's 4-second token at 3 seconds)."""
        life = max(0, self.expires_ms - self.issued_ms)
        return self.expires_ms - min(lead_ms, life // 4)

    def expired(self, now_ms: int) -> bool:
        return now_ms >= self.expires_ms


class TokenError(ValueError):
    pass


def parse_token(data: Any, now_ms: int) -> Token:
    """An AccessTokenResponse; raises TokenError with `errorText` (or what is missing)."""
    if not isinstance(data, dict):
        raise TokenError("Tradovate answered the sign-in with something unreadable")
    if isinstance(data.get("errorText"), str) and data["errorText"]:
        raise TokenError(data["errorText"])
    access, md = data.get("accessToken"), data.get("mdAccessToken")
    if not isinstance(access, str) or not access:
        raise TokenError("the sign-in answer has no accessToken")
    expires = iso_ms(data.get("expirationTime"))
    if expires <= 0:
        expires = now_ms + 80 * 60 * 1000  # the documented life when the field is unreadable
    user = data.get("userId")
    return Token(
        access,
        md if isinstance(md, str) and md else access,
        expires,
        now_ms,
        user if isinstance(user, int) and not isinstance(user, bool) else 0,
    )


def sync_body(user_id: int) -> dict[str, Any]:
    return {"users": [user_id], "entityTypes": list(ENTITY_TYPES)}


def is_automated(client_id: str) -> bool:
    return not client_id.startswith(HUMAN_PREFIXES)


def _qty(value: Decimal) -> int:
    if value <= 0 or value != value.to_integral_value():
        raise RequestError(f"Tradovate quantities are whole contracts; {value} is not")
    return int(value)


def _leg(
    order_type: OrderType,
    side: Side,
    price: Decimal | None,
    stop: Decimal | None,
    tif: TimeInForce | None,
    peg: Decimal | None,
) -> dict[str, Any]:
    tv = _TYPES.get(order_type)
    if tv is None:
        raise RequestError(f"{order_type.value} orders are not available on Tradovate through Sidedesk")
    out: dict[str, Any] = {"action": "Buy" if side is Side.BUY else "Sell", "orderType": tv}
    if tv in ("Limit", "StopLimit"):
        if price is None or price <= 0:
            raise RequestError(f"a {tv} order needs a price")
        out["price"] = price
    if tv in ("Stop", "StopLimit"):
        if stop is None or stop <= 0:
            raise RequestError(f"a {tv} order needs a stop price")
        out["stopPrice"] = stop
    if tv == "TrailingStop":
        if peg is None or peg <= 0:
            raise RequestError("a trailing stop needs a trailing distance")
        # sign convention (inference): a sell stop trails below the price, a buy stop above it
        out["pegDifference"] = -peg if side is Side.SELL else peg
    if tv != "Market":
        if tif is TimeInForce.GTX:
            raise RequestError("Tradovate has no post-only orders")
        out["timeInForce"] = _TIF.get(tif, "GTC") if tif is not None else "GTC"
    return out


def order_body(
    order: OrderRequest, account_id: int, account_spec: str, *, peg: Decimal | None = None
) -> dict[str, Any]:
    """order/placeorder. `peg`: the trailing distance in points (TrailingStop only)."""
    body: dict[str, Any] = {
        "accountSpec": account_spec,
        "accountId": account_id,
        "symbol": order.symbol,
        "orderQty": _qty(order.quantity),
    }
    body.update(_leg(order.type, order.side, order.price, order.stop_price, order.time_in_force, peg))
    if order.client_id:
        body["clOrdId"] = order.client_id
        body["text"] = order.client_id
    body["isAutomated"] = is_automated(order.client_id)
    return body


@dataclass(frozen=True, slots=True)
class BracketLeg:
    type: OrderType  # LIMIT (take profit) or STOP_MARKET (stop loss)
    price: Decimal


def oso_body(
    entry: OrderRequest, account_id: int, account_spec: str, brackets: tuple[BracketLeg, ...]
) -> dict[str, Any]:
    """order/placeoso: the entry plus one or two exit legs (two form an OCO)."""
    if not 1 <= len(brackets) <= 2:
        raise RequestError("a bracket has one or two exit orders")
    body = order_body(entry, account_id, account_spec)
    for i, b in enumerate(brackets, start=1):
        if b.type is OrderType.LIMIT:
            leg = _leg(OrderType.LIMIT, entry.side.opposite, b.price, None, TimeInForce.GTC, None)
        elif b.type is OrderType.STOP_MARKET:
            leg = _leg(OrderType.STOP_MARKET, entry.side.opposite, None, b.price, TimeInForce.GTC, None)
        else:
            raise RequestError("bracket exits are a limit (target) or a stop")
        body[f"bracket{i}"] = leg
    return body


def modify_body(
    order_id: int,
    quantity: Decimal,
    order_type: OrderType,
    *,
    price: Decimal | None = None,
    stop: Decimal | None = None,
    client_id: str = "",
) -> dict[str, Any]:
    tv = _TYPES.get(order_type)
    if tv is None or tv == "Market":
        raise RequestError(f"{order_type.value} orders cannot be modified on Tradovate")
    body: dict[str, Any] = {"orderId": order_id, "orderQty": _qty(quantity), "orderType": tv}
    if tv in ("Limit", "StopLimit"):
        if price is None or price <= 0:
            raise RequestError("a new price is required")
        body["price"] = price
    if tv in ("Stop", "StopLimit") and stop is not None:
        body["stopPrice"] = stop
    body["isAutomated"] = is_automated(client_id)
    return body


def cancel_body(order_id: int, client_id: str = "") -> dict[str, Any]:
    return {"orderId": order_id, "isAutomated": is_automated(client_id)}


def liquidate_body(account_id: int, contract_id: int, *, automated: bool = True) -> dict[str, Any]:
    """order/liquidateposition: cancel the contract's working orders and close the position
    (LiquidatePosition: accountId, contractId, admin required; isAutomated optional)."""
    return {"accountId": account_id, "contractId": contract_id, "admin": False, "isAutomated": automated}
