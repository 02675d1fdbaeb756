"""CME equity-index futures as Volumetrica lists them: dxFeed feed symbols (`/ESZ26:XCME`),
contract ids, tick size and tick value, and the engine `Instrument` that trades each one.

The engine symbol is the feed symbol without slash and exchange (`ESZ26`), which is also the
symbol the adapter shows. Value per point = tick value / tick size (ES 50, MES 5, NQ 20, MNQ 2
dollars). Commissions are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sidedesk.sim.engine import Instrument

DEFAULT_MONTH = "Z26"
_MONTHS = "FGHJKMNQUVXZ"


@dataclass(frozen=True)
class SimContract:
    contract_id: int
    root: str
    symbol: str  # ESZ26
    feed_symbol: str  # /ESZ26:XCME
    description: str
    tick_size: Decimal
    tick_value: Decimal
    initial_price: Decimal

    @property
    def value_per_point(self) -> Decimal:
        return self.tick_value / self.tick_size


_PRODUCTS = (
    ("ES", "E-mini S&P 500", "0.25", "12.50", "6000.00"),
    ("MES", "Micro E-mini S&P 500", "0.25", "1.25", "6000.00"),
    ("NQ", "E-mini Nasdaq-100", "0.25", "5.00", "21000.00"),
    ("MNQ", "Micro E-mini Nasdaq-100", "0.25", "0.50", "21000.00"),
)


def contracts(month: str = DEFAULT_MONTH) -> tuple[SimContract, ...]:
    """One contract per product for `month` (month code + two-digit year, e.g. Z26)."""
    if len(month) != 3 or month[0] not in _MONTHS or not month[1:].isdigit():
        raise ValueError(f"month must be a month code and two year digits, e.g. Z26, got {month!r}")
    out = []
    for i, (root, desc, tick, value, price) in enumerate(_PRODUCTS):
        symbol = root + month
        out.append(
            SimContract(
                4242 + i * 101,
                root,
                symbol,
                f"/{symbol}:XCME",
                desc,
                Decimal(tick),
                Decimal(value),
                Decimal(price),
            )
        )
    return tuple(out)


def engine_instrument(c: SimContract) -> Instrument:
    return Instrument(
        symbol=c.symbol,
        base_asset=c.root,
        quote_asset="USD",
        margin_asset="USD",
        tick_size=c.tick_size,
        min_price=c.tick_size,
        max_price=Decimal(0),
        step_size=Decimal(1),
        min_qty=Decimal(1),
        max_qty=Decimal(10_000),
        market_step_size=Decimal(1),
        market_min_qty=Decimal(1),
        market_max_qty=Decimal(10_000),
        min_notional=Decimal(0),
        multiplier_up=Decimal(2),
        multiplier_down=Decimal("0.5"),
        multiplier_decimal=0,
        max_num_orders=500,
        max_num_algo_orders=500,
        price_precision=2,
        quantity_precision=0,
        contract_multiplier=c.value_per_point,
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        maint_margin_rate=Decimal("0.05"),
        max_leverage=100,
        default_leverage=50,
        initial_price=c.initial_price,
        volatility=Decimal("0.00005"),
        spread_ticks=1,
        book_qty=Decimal(50),
    )
