"""What a broker can do and what one instrument allows: the facts validation rests on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Capabilities:
    native_trailing_stop: bool
    hedge_mode: bool
    reduce_only: bool
    modify_order: bool
    # conditional orders are held apart from regular ones (Binance's algo orders)
    separate_conditional_orders: bool
    fractional_quantity: bool
    # trailing callback bounds in percent, where the broker has native trailing stops
    min_callback_pct: Decimal | None = None
    max_callback_pct: Decimal | None = None
    quantity_unit: str = "base"  # "base" (coins), "contracts", "shares"
    # the shortest spacing of account snapshots the venue's request limits allow when a silent
    # user stream earns a refresh (Binance: a tenth of its weight budget); 0: no limit of ours
    snapshot_min_interval_s: float = 0.0
    # an order with `closes_position` also cancels the symbol's working orders at the venue
    # (Tradovate liquidatePosition, Volumetrica FLAT_CANCEL): flatten sends no cancels of its
    # own for that symbol
    close_cancels_orders: bool = False


@dataclass(frozen=True, slots=True)
class InstrumentRules:
    """Everything pre-flight validation needs about one symbol (from exchangeInfo or equivalent)."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step_size: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    price_precision: int
    quantity_precision: int
    min_price: Decimal = Decimal(0)
    max_price: Decimal = Decimal(0)  # 0 = no limit
    percent_up: Decimal | None = None  # PERCENT_PRICE multiplierUp
    percent_down: Decimal | None = None
    max_num_orders: int | None = None
    max_num_algo_orders: int | None = None
    contract_multiplier: Decimal = Decimal(1)  # value of a 1.0 price move per unit of quantity
    trading: bool = True
