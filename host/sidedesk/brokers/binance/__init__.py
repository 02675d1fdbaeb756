"""Binance USDⓈ-M futures adapter: pure protocol modules (signing, messages, events, errors, filters)
and the I/O shell (client, adapter). Follows shared/research/binance.md."""
