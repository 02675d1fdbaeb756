"""Tradable instruments: exchange filters, fees, margin rates and the price-process defaults.

`Instrument` is broker-neutral. The `check_*` helpers let a front-end validate an order against
the filters and map the neutral `FilterFailure` to its own error codes; the engine itself does not
apply tick/step/notional/percent-price filters (the front-end owns those errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from .enums import FilterFailure, Side

ZERO = Decimal(0)


def _decimals(value: Decimal) -> int:
    """Number of decimals actually used by `value` (trailing zeros ignored)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _on_grid(value: Decimal, origin: Decimal, step: Decimal) -> bool:
    return step == ZERO or (value - origin) % step == ZERO


@dataclass(frozen=True)
class Instrument:
    """One linear contract. All money values are in `quote_asset` (= `margin_asset` here).

    Filter semantics (Binance USDⓈ-M, dossier §7.2): a zero `min_price`/`max_price`/`tick_size`
    disables that part of the price filter. `min_notional` applies to price × qty (mark price for
    MARKET orders) unless the order is reduce-only. Percent price: BUY price ≤ mark × up, SELL price
    ≥ mark × down. `max_num_orders` counts open regular + algo orders per symbol;
    `max_num_algo_orders` is the per-account conditional-order cap across all symbols.
    """

    symbol: str
    base_asset: str
    quote_asset: str
    margin_asset: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_step_size: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    multiplier_up: Decimal
    multiplier_down: Decimal
    multiplier_decimal: int
    max_num_orders: int
    max_num_algo_orders: int
    price_precision: int
    quantity_precision: int
    base_asset_precision: int = 8
    quote_precision: int = 8
    contract_multiplier: Decimal = Decimal(1)
    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.0005")
    maint_margin_rate: Decimal = Decimal("0.004")  # fraction of notional
    max_leverage: int = 125
    default_leverage: int = 20
    trigger_protect: Decimal = Decimal("0.05")
    liquidation_fee: Decimal = Decimal("0.0125")
    market_take_bound: Decimal = Decimal("0.05")
    onboard_ms: int = 1569398400000
    # price-process defaults (simulation only)
    initial_price: Decimal = Decimal(100)
    volatility: Decimal = Decimal("0.0002")  # std-dev of relative move per sqrt(second)
    spread_ticks: int = 1  # best ask - best bid, in ticks
    book_qty: Decimal = Decimal(1)  # size at the best level; level k holds book_qty × (k + 1)
    book_levels: int = 10  # depth of the synthetic book on each side

    # ---- rounding / formatting -------------------------------------------------------------
    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
        """Round to the tick grid (anchored at `min_price`)."""
        if self.tick_size == ZERO:
            return price
        steps = ((price - self.min_price) / self.tick_size).to_integral_value(rounding=rounding)
        return (self.min_price + steps * self.tick_size).quantize(self.tick_size)

    def round_qty(self, qty: Decimal, market: bool = False) -> Decimal:
        """Round a quantity down to the (market) step grid."""
        step = self.market_step_size if market else self.step_size
        if step == ZERO:
            return qty
        return ((qty / step).to_integral_value(rounding=ROUND_DOWN) * step).quantize(step)

    def format_price(self, price: Decimal) -> str:
        """Wire text at `price_precision` decimals (Binance prints prices this way)."""
        return f"{price.quantize(Decimal(1).scaleb(-self.price_precision), rounding=ROUND_HALF_UP):f}"

    def format_qty(self, qty: Decimal) -> str:
        return f"{qty.quantize(Decimal(1).scaleb(-self.quantity_precision), rounding=ROUND_HALF_UP):f}"

    # ---- filter checks (pure; None = passes) -----------------------------------------------
    def check_price(self, price: Decimal) -> FilterFailure | None:
        """PRICE_FILTER for a limit price or a trigger price."""
        if price <= ZERO:
            return FilterFailure.NOT_POSITIVE
        if _decimals(price) > self.price_precision:
            return FilterFailure.PRICE_TOO_PRECISE
        if self.min_price != ZERO and price < self.min_price:
            return FilterFailure.PRICE_BELOW_MIN
        if self.max_price != ZERO and price > self.max_price:
            return FilterFailure.PRICE_ABOVE_MAX
        if not _on_grid(price, self.min_price, self.tick_size):
            return FilterFailure.PRICE_NOT_ON_TICK
        return None

    def check_qty(self, qty: Decimal, market: bool = False) -> FilterFailure | None:
        """LOT_SIZE (limit-like orders) or MARKET_LOT_SIZE (`market=True`)."""
        step, lo, hi = (
            (self.market_step_size, self.market_min_qty, self.market_max_qty)
            if market
            else (self.step_size, self.min_qty, self.max_qty)
        )
        if qty <= ZERO:
            return FilterFailure.NOT_POSITIVE
        if _decimals(qty) > self.quantity_precision:
            return FilterFailure.QTY_TOO_PRECISE
        if qty < lo:
            return FilterFailure.QTY_BELOW_MIN
        if hi != ZERO and qty > hi:
            return FilterFailure.QTY_ABOVE_MAX
        if not _on_grid(qty, lo, step):
            return FilterFailure.QTY_NOT_ON_STEP
        return None

    def check_notional(self, price: Decimal, qty: Decimal, reduce_only: bool = False) -> FilterFailure | None:
        """MIN_NOTIONAL: price × qty × multiplier ≥ min_notional; reduce-only orders are exempt.

        Pass the mark price as `price` for MARKET orders.
        """
        if reduce_only:
            return None
        if price * qty * self.contract_multiplier < self.min_notional:
            return FilterFailure.NOTIONAL_TOO_SMALL
        return None

    def check_percent_price(self, side: Side, price: Decimal, mark: Decimal) -> FilterFailure | None:
        """PERCENT_PRICE: a BUY may not be above mark × up, a SELL not below mark × down."""
        if side is Side.BUY and price > mark * self.multiplier_up:
            return FilterFailure.PRICE_ABOVE_MULTIPLIER_UP
        if side is Side.SELL and price < mark * self.multiplier_down:
            return FilterFailure.PRICE_BELOW_MULTIPLIER_DOWN
        return None

    def percent_price_bounds(self, mark: Decimal) -> tuple[Decimal, Decimal]:
        """(lowest SELL price, highest BUY price) allowed at this mark price."""
        return mark * self.multiplier_down, mark * self.multiplier_up


def _usdt(
    symbol: str,
    base: str,
    *,
    tick: str,
    min_price: str,
    max_price: str,
    step: str,
    min_qty: str,
    max_qty: str,
    market_max_qty: str,
    min_notional: str,
    up: str,
    down: str,
    price_precision: int,
    quantity_precision: int,
    maint: str,
    max_leverage: int,
    initial_price: str,
    volatility: str,
    book_qty: str,
) -> Instrument:
    return Instrument(
        symbol=symbol,
        base_asset=base,
        quote_asset="USDT",
        margin_asset="USDT",
        tick_size=Decimal(tick),
        min_price=Decimal(min_price),
        max_price=Decimal(max_price),
        step_size=Decimal(step),
        min_qty=Decimal(min_qty),
        max_qty=Decimal(max_qty),
        market_step_size=Decimal(step),
        market_min_qty=Decimal(min_qty),
        market_max_qty=Decimal(market_max_qty),
        min_notional=Decimal(min_notional),
        multiplier_up=Decimal(up),
        multiplier_down=Decimal(down),
        multiplier_decimal=4,
        max_num_orders=200,
        max_num_algo_orders=200,
        price_precision=price_precision,
        quantity_precision=quantity_precision,
        maint_margin_rate=Decimal(maint),
        max_leverage=max_leverage,
        initial_price=Decimal(initial_price),
        volatility=Decimal(volatility),
        book_qty=Decimal(book_qty),
    )


def futures_instrument(
    symbol: str,
    root: str,
    *,
    tick_size: Decimal,
    value_per_point: Decimal,
    initial_price: Decimal,
    max_qty: Decimal,
    book_qty: Decimal,
) -> Instrument:
    """A CME-style future quoted in USD: whole contracts, no fees or notional floor, P&L in
    `value_per_point` per point (the Tradovate and Volumetrica simulators share these)."""
    return Instrument(
        symbol=symbol,
        base_asset=root,
        quote_asset="USD",
        margin_asset="USD",
        tick_size=tick_size,
        min_price=tick_size,
        max_price=Decimal(0),
        step_size=Decimal(1),
        min_qty=Decimal(1),
        max_qty=max_qty,
        market_step_size=Decimal(1),
        market_min_qty=Decimal(1),
        market_max_qty=max_qty,
        min_notional=Decimal(0),
        multiplier_up=Decimal(2),
        multiplier_down=Decimal("0.5"),
        multiplier_decimal=0,
        max_num_orders=500,
        max_num_algo_orders=500,
        price_precision=2,
        quantity_precision=0,
        contract_multiplier=value_per_point,
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        maint_margin_rate=Decimal("0.05"),
        max_leverage=100,
        default_leverage=50,
        initial_price=initial_price,
        volatility=Decimal("0.00005"),
        spread_ticks=1,
        book_qty=book_qty,
    )


def default_instruments() -> dict[str, Instrument]:
    """Binance USDⓈ-M perpetuals with typical live filter values (BTCUSDT per dossier §7.2;
    the others from typical exchangeInfo snapshots; they drift on the real exchange)."""
    items = [
        _usdt(
            "BTCUSDT", "BTC", tick="0.10", min_price="261.10", max_price="809484", step="0.001",
            min_qty="0.001", max_qty="1000", market_max_qty="120", min_notional="100",
            up="1.0500", down="0.9500", price_precision=2, quantity_precision=3, maint="0.004",
            max_leverage=125, initial_price="60000.00", volatility="0.0002", book_qty="0.5",
        ),
        _usdt(
            "ETHUSDT", "ETH", tick="0.01", min_price="39.86", max_price="306177", step="0.001",
            min_qty="0.001", max_qty="10000", market_max_qty="2000", min_notional="20",
            up="1.0500", down="0.9500", price_precision=2, quantity_precision=3, maint="0.004",
            max_leverage=125, initial_price="3000.00", volatility="0.0003", book_qty="5",
        ),
        _usdt(
            "SOLUSDT", "SOL", tick="0.0100", min_price="0.4200", max_price="6857", step="1",
            min_qty="1", max_qty="1000000", market_max_qty="5000", min_notional="5",
            up="1.0500", down="0.9500", price_precision=4, quantity_precision=0, maint="0.005",
            max_leverage=100, initial_price="150.0000", volatility="0.0004", book_qty="50",
        ),
        _usdt(
            "BNBUSDT", "BNB", tick="0.010", min_price="6.600", max_price="100000", step="0.01",
            min_qty="0.01", max_qty="100000", market_max_qty="2000", min_notional="5",
            up="1.0500", down="0.9500", price_precision=3, quantity_precision=2, maint="0.005",
            max_leverage=75, initial_price="600.000", volatility="0.0003", book_qty="10",
        ),
        _usdt(
            "XRPUSDT", "XRP", tick="0.0001", min_price="0.0143", max_price="100000", step="0.1",
            min_qty="0.1", max_qty="10000000", market_max_qty="2000000", min_notional="5",
            up="1.0500", down="0.9500", price_precision=4, quantity_precision=1, maint="0.005",
            max_leverage=75, initial_price="0.6000", volatility="0.0004", book_qty="20000",
        ),
        _usdt(
            "DOGEUSDT", "DOGE", tick="0.000010", min_price="0.002440", max_price="30", step="1",
            min_qty="1", max_qty="50000000", market_max_qty="30000000", min_notional="5",
            up="1.0500", down="0.9500", price_precision=6, quantity_precision=0, maint="0.005",
            max_leverage=75, initial_price="0.150000", volatility="0.0005", book_qty="100000",
        ),
    ]  # fmt: skip
    return {i.symbol: i for i in items}
