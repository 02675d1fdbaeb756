"""The Alpaca simulator: trading REST, the trading stream, the market-data stream, control plane."""

from sidedesk_sim.alpaca.sim import BUILTIN_KEY_ID, BUILTIN_SECRET, AlpacaSim, SimConfig

__all__ = ["BUILTIN_KEY_ID", "BUILTIN_SECRET", "AlpacaSim", "SimConfig"]
