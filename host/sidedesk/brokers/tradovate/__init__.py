"""Tradovate futures: `protocol/` (pure: frames, request bodies, the contract calendar, the
account mirror), `config.py` (environments, hosts, credentials), `session.py` (REST and the two
sockets), `adapter.py` and `checks.py` (brokers.md §1)."""
