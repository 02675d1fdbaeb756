"""Volumetrica (VolSys "PropTradingProtocol"): protobuf over a binary WebSocket, one-shot login tokens."""
