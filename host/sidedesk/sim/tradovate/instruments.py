"""CME equity-index futures for the Tradovate simulator: products, one contract each, and the
engine `Instrument` that trades it (brokers.md §1.6).

Contract names are root + month code + one-digit year (`MESH6`). The simulator lists one contract
per product (the front month it was started with); `valuePerPoint` is the engine's
`contract_multiplier`, so fills, positions and P&L are in US dollars per the CME contract specs
(ES 50, MES 5, NQ 20, MNQ 2 dollars per index point, tick 0.25). Commissions are not modelled
(maker and taker fees are zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sidedesk.sim.engine import Instrument
from sidedesk.sim.engine.instruments import futures_instrument

DEFAULT_MONTH = "H6"  # March 2026: any code works; it only names the contracts
_MONTH_CODES = "FGHJKMNQUVXZ"


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
        return {
            "id": self.maturity_id,
            "productId": self.product.product_id,
            "expirationMonth": _MONTH_CODES.index(self.name[-2]) + 1,
            "isFront": True,
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


def contracts(month: str = DEFAULT_MONTH) -> tuple[Contract, ...]:
    """One contract per product for `month` (a month code and a year digit, e.g. "H6")."""
    if len(month) != 2 or month[0] not in _MONTH_CODES or not month[1].isdigit():
        raise ValueError(f"month must be a month code and a year digit, e.g. H6, got {month!r}")
    return tuple(
        Contract(id=2_100_000 + i * 7 + 1, name=p.root + month, maturity_id=50_000 + i, product=p)
        for i, p in enumerate(PRODUCTS)
    )


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
