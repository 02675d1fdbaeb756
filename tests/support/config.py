"""The host's settings file, as a test's host reads it: `<SIDEDESK_HOME>/config/config.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Small Argon2id parameters: the vault is real, its KDF just cheap (the host's settings allow it).
SMALL_KDF: dict[str, int] = {"memory_kib": 64, "iterations": 1, "lanes": 1}
PASSWORD = "correct horse battery staple 9"  # the test vaults' password (they hold public test keys)


def write_config(home: Path, settings: dict[str, Any]) -> Path:
    """Write `settings` as the host's settings file under `home`; returns its path."""
    path = home / "config" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings), encoding="utf-8")
    return path
