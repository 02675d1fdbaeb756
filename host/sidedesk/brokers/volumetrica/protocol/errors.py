"""Volumetrica's refusals in neutral words (`domain.errors.Reason`), pure.

Volumetrica answers an order it refuses with `OrderInfo{OrderState: Error, Reason: <text>}` and
a refused remove with `OrderInfo{OrderState: ErrorModify, Reason: <text>}`: there is no code,
only the text, so the reason is read from the text. The texts below are the simulator's
(`sidedesk_sim/volumetrica/exchange.py`); the vendor documents none (brokers.md §2), so a real
refusal worded otherwise simply carries no reason and is handled as a plain refusal.
"""

from __future__ import annotations

from sidedesk.domain import OrderType
from sidedesk.domain.errors import Reason

# a stop whose trigger the market has already crossed (the engine's "order would immediately trigger")
WOULD_TRIGGER_TEXTS = ("immediately trigger",)
# a remove of an order that is no longer working ("order not found or not open")
GONE_TEXTS = ("not found", "not open")


def place_reason(order_type: OrderType, text: str | None) -> Reason | None:
    """Why an order was refused, where services act on the why."""
    said = (text or "").lower()
    if order_type.is_conditional and any(t in said for t in WOULD_TRIGGER_TEXTS):
        return "would_trigger"
    return None


def cancel_reason(text: str | None) -> Reason | None:
    """Why a remove was refused: the order is gone already (filled, cancelled, never known)."""
    said = (text or "").lower()
    return "order_not_found" if any(t in said for t in GONE_TEXTS) else None
