"""A read-only WebSocket stream of the portfolio for programs on this computer (opt-in).

`server.py` is the shell; `handshake`, `scope`, `tokens`, `limits`, `stats` and `models` are pure.
`service.py` binds it to the host (settings, vault-kept tokens, start/stop). See docs/localstream.md.
"""
