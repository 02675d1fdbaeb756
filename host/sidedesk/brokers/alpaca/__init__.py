"""Alpaca (US stocks): `protocol/` (pure: request bodies, reply and stream parsing), `config.py`
(environments, hosts, the key), `session.py` (REST and the two WebSockets), `adapter.py` and
`checks.py`."""
