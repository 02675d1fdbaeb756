"""The positions last seen on each live account, kept on disk beside the journal (none of it is
secret), so that a service restarted with the vault locked can still name the positions it
cannot protect. Rows: {account_id, symbol, position_side, quantity (a decimal string)}."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sidedesk.store.config import write_json_atomic

log = logging.getLogger(__name__)

MAX_ROWS = 10_000  # far above any real book; bounds what a damaged file can make us hold
FIELDS = ("account_id", "symbol", "position_side", "quantity")


def load_held(path: Path) -> list[dict[str, str]]:
    """The rows on disk; none if the file is missing or unreadable (then with a warning)."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        log.warning("the remembered positions (%s) are unreadable; starting without them", path.name)
        return []
    rows = raw.get("positions") if isinstance(raw, dict) else None
    if not isinstance(rows, list):
        return []
    return [
        {k: str(r[k]) for k in FIELDS}
        for r in rows[:MAX_ROWS]
        if isinstance(r, dict) and all(isinstance(r.get(k), str) for k in FIELDS)
    ]


def save_held(path: Path, rows: list[dict[str, str]]) -> bool:
    """Replace the rows on disk; False (after a warning) if the folder refused."""
    try:
        write_json_atomic(path, {"positions": rows[:MAX_ROWS]})
    except OSError as exc:
        log.warning("could not remember the open positions: %s", exc.strerror)
        return False
    return True
