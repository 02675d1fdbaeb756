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
from sidedesk.sim.engine.instruments import futures_instrument

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
    return futures_instrument(
        c.symbol,
        c.root,
        tick_size=c.tick_size,
        value_per_point=c.value_per_point,
        initial_price=c.initial_price,
        max_qty=Decimal(10_000),
        book_qty=Decimal(50),
    )
