"""The encrypted credential vault: file format (pure), KDF, entries, atomic store and the service."""
