"""Binance USDⓈ-M futures simulator front-end (REST, WS API, routed streams, control plane).

Use `BinanceSim` in-process (tests, demo) or `sidedesk sim binance` standalone.
"""

from sidedesk_sim.binance.auth import Identity, builtin_identities
from sidedesk_sim.binance.limits import LimitConfig
from sidedesk_sim.binance.sim import BinanceSim, SimConfig

__all__ = ["BinanceSim", "Identity", "LimitConfig", "SimConfig", "builtin_identities"]
