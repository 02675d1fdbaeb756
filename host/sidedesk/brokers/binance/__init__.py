"""Binance USDⓈ-M futures: `protocol/` (pure: signing, messages, events, errors, filters, rate-limit
pools), `config.py` (environments, hosts, the key), `session.py` (WS API, REST, streams),
`clock.py` (server time sync), `adapter.py` and `checks.py`. Follows shared/research/binance.md."""
