"""Alpaca (US stocks): pure messages/parse, the REST + WebSocket client, and the adapter."""
