"""Alpaca wire protocol: request bodies and reply/stream parsing (pure, no I/O)."""
