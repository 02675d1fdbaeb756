"""Offline exchange simulators: a broker-neutral engine (`sim.engine`) and one wire front-end per broker.

`sim.binance.BinanceSim` serves Binance USDⓈ-M futures (REST, WS API, routed streams) on 127.0.0.1.
"""
