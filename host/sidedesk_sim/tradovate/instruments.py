"""CME equity-index futures for the Tradovate simulator: products, their listed contracts, and the
engine `Instrument` that trades each (brokers.md §1.6).

Contract names are root + month code + one-digit year (`MESZ6`). The simulator lists two contracts
per product, the front month and the next quarter on its clock when it starts (`sim.cme`: expiry
09:30 ET on the third Friday; `contractMaturity.isFront` marks the front); `valuePerPoint` is the engine's
`contract_multiplier`, so fills, positions and P&L are in US dollars per the CME contract specs
(ES 50, MES 5, NQ 20, MNQ 2 dollars per index point, tick 0.25). Commissions are not modelled
(maker and taker fees are zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sidedesk_sim import cme
from sidedesk_sim.engine import Instrument
from sidedesk_sim.engine.instruments import futures_instrument

LISTED_MONTHS = 2  # the front month and the next quarter


@dataclass(frozen=True)
class Product:
    root: str
    product_id: int
    description: str
    tick_size: Decimal
    value_per_point: Decimal
    initial_price: Decimal
    book_qty: Decimal  # contracts at the best level of the synthetic book


@dataclass(frozen=True)
class Contract:
    """One tradable contract: the product plus its maturity."""

    id: int
    name: str
    maturity_id: int
    product: Product
    month: cme.ContractMonth
    is_front: bool

    def product_json(self) -> dict[str, object]:
        p = self.product
        return {
            "id": p.product_id,
            "name": p.root,
            "currencyId": 1,
            "productType": "Futures",
            "description": p.description,
            "exchangeId": 1,
            "contractGroupId": 1,
            "riskDiscountContractGroupId": 1,
            "status": "Verified",
            "months": "HMUZ",
            "isSecured": False,
            "valuePerPoint": float(p.value_per_point),
            "priceFormatType": "Decimal",
            "priceFormat": -2,
            "tickSize": float(p.tick_size),
        }

    def contract_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "contractMaturityId": self.maturity_id}

    def maturity_json(self) -> dict[str, object]:
        # partner docs (contractMaturity/item): expirationMonth is an integer >= 1401, read here as
        # YYYYMM; expirationDate is the last trading moment (date-time)
        return {
            "id": self.maturity_id,
            "productId": self.product.product_id,
            "expirationMonth": self.month.year * 100 + self.month.month,
            "expirationDate": self.month.expiry.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "isFront": self.is_front,
            "archived": False,
        }


PRODUCTS: tuple[Product, ...] = (
    Product("ES", 1001, "E-Mini S&P 500", Decimal("0.25"), Decimal(50), Decimal("6000.00"), Decimal(40)),
    Product(
        "MES", 1002, "Micro E-Mini S&P 500", Decimal("0.25"), Decimal(5), Decimal("6000.00"), Decimal(40)
    ),
    Product("NQ", 1003, "E-Mini NASDAQ 100", Decimal("0.25"), Decimal(20), Decimal("21000.00"), Decimal(20)),
    Product(
        "MNQ", 1004, "Micro E-Mini NASDAQ 100", Decimal("0.25"), Decimal(2), Decimal("21000.00"), Decimal(20)
    ),
)


def contracts(month: str | None = None, now_ms: int | None = None) -> tuple[Contract, ...]:
    """The listed contracts at `now_ms` (default: the wall clock), front month first: every product
    in the front month, then every product in the next quarter. `month` (a quarterly code and a
    year digit, e.g. "H7") pins the first listed month instead of the clock's front month."""
    now = now_ms if now_ms is not None else cme.wall_ms()
    if month is not None and len(month) != 2:
        raise ValueError(f"month must be a month code and one year digit, e.g. Z6, got {month!r}")
    first = cme.parse_month(month, now) if month is not None else None
    months = cme.listed(now, LISTED_MONTHS, first)
    return tuple(
        Contract(
            id=2_000_000 + m.serial * 100 + i * 7 + 1,  # stable per contract, whatever the clock
            name=p.root + m.short,
            maturity_id=50_000 + m.serial * 10 + i,
            product=p,
            month=m,
            is_front=k == 0,
        )
        for k, m in enumerate(months)
        for i, p in enumerate(PRODUCTS)
    )


def front_name(root: str, now_ms: int | None = None) -> str:
    """The front-month contract name of `root` at `now_ms` (default: the wall clock), e.g. MESZ6."""
    return root + cme.front(now_ms if now_ms is not None else cme.wall_ms()).short


def engine_instrument(c: Contract) -> Instrument:
    p = c.product
    return futures_instrument(
        c.name,
        p.root,
        tick_size=p.tick_size,
        value_per_point=p.value_per_point,
        initial_price=p.initial_price,
        max_qty=Decimal(5000),
        book_qty=p.book_qty,
    )
