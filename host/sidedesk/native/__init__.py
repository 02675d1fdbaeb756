"""Chrome native messaging: pure framing (framing.py) and the stdio transport (transport.py)."""
