"""Binance USD-M wire protocol: pure builders, parsers and signing (no I/O)."""
