"""The few settings the host needs before its first reply, read without pydantic.

The full settings (`config.py`, pydantic-validated) load right after the host is ready; this
reads only what the start path uses, and any value that is missing or odd falls back to its
default here (the full load then reports the problem in the log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

TYPE_CHECKING = False  # typing's constant without importing typing: `sidedesk native` starts here
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MAX_INBOUND = 1024 * 1024  # = native.framing.DEFAULT_MAX_INBOUND (a test keeps them equal)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True, slots=True)
class StartSettings:
    max_inbound_bytes: int = DEFAULT_MAX_INBOUND
    status_interval_s: float = 5.0
    log_level: str = "INFO"
    extra_extension_ids: tuple[str, ...] = field(default_factory=tuple)
    # `sidedesk native` as a thin proxy to the long-lived service (`sidedesk service`); on unless
    # the settings say `"service": {"enabled": false}` (the host then runs in the browser's process)
    service_enabled: bool = True


def _int(raw: dict[str, Any], key: str, lo: int, hi: int, default: int) -> int:
    v = raw.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi else default


def _float(raw: dict[str, Any], key: str, lo: float, hi: float, default: float) -> float:
    v = raw.get(key)
    if isinstance(v, int | float) and not isinstance(v, bool) and lo < v <= hi:
        return float(v)
    return default


def read_start_settings(path: Path) -> StartSettings:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return StartSettings()
    if not isinstance(raw, dict):
        return StartSettings()
    level = raw.get("log_level")
    ids = raw.get("extra_extension_ids")
    return StartSettings(
        max_inbound_bytes=_int(raw, "max_inbound_bytes", 1024, 64 * 1024 * 1024, DEFAULT_MAX_INBOUND),
        status_interval_s=_float(raw, "status_interval_s", 0.0, 3600.0, 5.0),
        log_level=level if level in LOG_LEVELS else "INFO",
        extra_extension_ids=tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else (),
        service_enabled=_service_enabled(raw),
    )


def _service_enabled(raw: dict[str, Any]) -> bool:
    service = raw.get("service")
    return not (isinstance(service, dict) and service.get("enabled") is False)
