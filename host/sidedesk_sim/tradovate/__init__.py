"""Tradovate simulator: REST auth and queries, the trading and md WebSockets (SockJS-like text
frames) and a control plane, on the shared engine (brokers.md §1)."""

from sidedesk_sim.tradovate.sim import BUILTIN_USER, SimConfig, TradovateSim

__all__ = ["BUILTIN_USER", "SimConfig", "TradovateSim"]
