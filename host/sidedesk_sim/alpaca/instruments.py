"""US stocks for the Alpaca simulator: `Instrument`s of the shared engine, priced in USD.

Stocks trade in shares with fractions down to 1e-9 (Alpaca's fractional precision), a one-cent
tick, no commission, and margin at 2x (Reg T overnight buying power; the engine's "leverage").
Exchanges are values alpaca-py's `AssetExchange` accepts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sidedesk_sim.engine import Instrument

SHARE_STEP = Decimal("0.000000001")
MARGIN_LEVERAGE = 2


@dataclass(frozen=True, slots=True)
class Stock:
    symbol: str
    name: str
    exchange: str  # NASDAQ, NYSE, ARCA, ...
    price: str
    fractionable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True

    @property
    def asset_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sidedesk-alpaca-sim:{self.symbol}"))


STOCKS: tuple[Stock, ...] = (
    Stock("AAPL", "Apple Inc. Common Stock", "NASDAQ", "190.00"),
    Stock("MSFT", "Microsoft Corporation Common Stock", "NASDAQ", "420.00"),
    Stock("SPY", "SPDR S&P 500 ETF Trust", "ARCA", "520.00"),
    Stock("TSLA", "Tesla, Inc. Common Stock", "NASDAQ", "180.00"),
    Stock("NVDA", "NVIDIA Corporation Common Stock", "NASDAQ", "900.00"),
    Stock("QQQ", "Invesco QQQ Trust", "NASDAQ", "440.00"),
)


def instrument(stock: Stock) -> Instrument:
    return Instrument(
        symbol=stock.symbol,
        base_asset=stock.symbol,
        quote_asset="USD",
        margin_asset="USD",
        tick_size=Decimal("0.01"),
        min_price=Decimal("0.01"),
        max_price=Decimal(0),
        step_size=SHARE_STEP,
        min_qty=SHARE_STEP,
        max_qty=Decimal(10_000_000),
        market_step_size=SHARE_STEP,
        market_min_qty=SHARE_STEP,
        market_max_qty=Decimal(10_000_000),
        min_notional=Decimal(0),
        multiplier_up=Decimal(0),
        multiplier_down=Decimal(0),
        multiplier_decimal=4,
        max_num_orders=500,
        max_num_algo_orders=500,
        price_precision=2,
        quantity_precision=9,
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        maint_margin_rate=Decimal("0.25"),
        max_leverage=4,
        default_leverage=MARGIN_LEVERAGE,
        initial_price=Decimal(stock.price),
        volatility=Decimal("0.0001"),
        spread_ticks=1,
        book_qty=Decimal(2000),
        book_levels=10,
    )


def stocks() -> dict[str, Stock]:
    return {s.symbol: s for s in STOCKS}


def instruments() -> list[Instrument]:
    return [instrument(s) for s in STOCKS]
