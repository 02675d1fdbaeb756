"""Tradovate wire protocol: pure frame parsing, request bodies, the contract calendar and the
account mirror (no I/O)."""
