"""Volumetrica (dxFeed trading API): `protocol/` (pure: protobuf bindings, v5/v5.1 dialects,
frames, conversions, client ids, error wording, the token request), `config.py` (environments,
the auth service, credentials), `session.py` (token REST and the trading socket), `adapter.py` and
`checks.py` (brokers.md §2)."""
