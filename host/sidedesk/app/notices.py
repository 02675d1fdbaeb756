"""What the trader is told: one line to the host log and to the panel's `log` topic."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("sidedesk.app")

Publish = Callable[[str, Any], None]
LEVELS = {"error": logging.ERROR, "warning": logging.WARNING}


def now_ms() -> int:
    return int(time.time() * 1000)


class Notices:
    def __init__(self, publish: Publish) -> None:
        self._publish = publish

    def tell(self, level: str, message: str) -> None:
        level = level if level in ("info", "warning", "error") else "info"
        log.log(LEVELS.get(level, logging.INFO), message)
        self._publish("log", {"level": level, "message": message, "ts_ms": now_ms()})

    def entry(self, payload: dict[str, Any] | Callable[[], dict[str, Any]]) -> None:
        """A prepared `log` entry (an order's status change with the order as data), or what
        builds it when a push goes out."""
        self._publish("log", payload)
