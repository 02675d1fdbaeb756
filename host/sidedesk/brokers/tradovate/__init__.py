"""Tradovate futures: pure protocol (framing, messages, entity state) and the adapter (brokers.md §1)."""
