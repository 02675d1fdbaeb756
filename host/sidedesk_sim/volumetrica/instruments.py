"""CME equity-index futures as Volumetrica lists them: dxFeed feed symbols (`/ESZ26:XCME`),
contract ids, tick size and tick value, and the engine `Instrument` that trades each one.

The engine symbol is the feed symbol without slash and exchange (`ESZ26`), which is also the
symbol the adapter shows. Value per point = tick value / tick size (ES 50, MES 5, NQ 20, MNQ 2
dollars). Commissions are not modelled.

Two months are listed per product, the front month and the next quarter on the simulator's clock
when it starts (`sim.cme`: expiry 09:30 ET on the third Friday). Both answer `ContractReq`;
`SymbolLookup` returns the front month, and the next one too within the eight days before the
front expires (brokers.md §2: "the front month (and the next one if expiry is close)").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sidedesk_sim import cme
from sidedesk_sim.engine import Instrument
from sidedesk_sim.engine.instruments import futures_instrument

LISTED_MONTHS = 2  # the front month and the next quarter


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
    month: cme.ContractMonth
    symbol_id: int  # one per product (root), shared by its months

    @property
    def value_per_point(self) -> Decimal:
        return self.tick_value / self.tick_size


_PRODUCTS = (
    ("ES", "E-mini S&P 500", "0.25", "12.50", "6000.00"),
    ("MES", "Micro E-mini S&P 500", "0.25", "1.25", "6000.00"),
    ("NQ", "E-mini Nasdaq-100", "0.25", "5.00", "21000.00"),
    ("MNQ", "Micro E-mini Nasdaq-100", "0.25", "0.50", "21000.00"),
)


def contracts(month: str | None = None, now_ms: int | None = None) -> tuple[SimContract, ...]:
    """The listed contracts at `now_ms` (default: the wall clock), front month first: every product
    in the front month, then every product in the next quarter. `month` (a quarterly code and two
    year digits, e.g. "H27") pins the first listed month instead of the clock's front month."""
    now = now_ms if now_ms is not None else cme.wall_ms()
    if month is not None and len(month) != 3:
        raise ValueError(f"month must be a month code and two year digits, e.g. Z26, got {month!r}")
    first = cme.parse_month(month, now) if month is not None else None
    out = []
    for m in cme.listed(now, LISTED_MONTHS, first):
        for i, (root, desc, tick, value, price) in enumerate(_PRODUCTS):
            symbol = root + m.long
            out.append(
                SimContract(
                    m.serial * 10_000 + 4242 + i * 101,  # stable per contract, whatever the clock
                    root,
                    symbol,
                    f"/{symbol}:XCME",
                    desc,
                    Decimal(tick),
                    Decimal(value),
                    Decimal(price),
                    m,
                    42 + i,
                )
            )
    return tuple(out)


def looked_up(listed: tuple[SimContract, ...], now_ms: int) -> list[SimContract]:
    """What `SymbolLookup` shows: the first listed month, plus the next within the roll window."""
    first = min(c.month for c in listed)
    return [c for c in listed if c.month == first or cme.rolling(first, now_ms)]


def front_symbol(root: str, now_ms: int | None = None) -> str:
    """The front-month symbol of `root` at `now_ms` (default: the wall clock), e.g. ESZ26."""
    return root + cme.front(now_ms if now_ms is not None else cme.wall_ms()).long


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
