"""The host's saved settings as a service: read, validated changes saved atomically, listeners
told (the status topic carries `settings_rev` so every panel view reloads what changed)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sidedesk.store.config import ConfigError, HostConfig, load_config, save_config

log = logging.getLogger(__name__)


class Settings:
    def __init__(self, path: Path, config: HostConfig | None = None) -> None:
        self.path = path
        if config is None:
            try:
                config = load_config(path)
            except ConfigError as exc:
                log.error("%s; using the defaults", exc)
                config = HostConfig()
        self.config = config
        self.rev = 0
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def update(self, **changes: Any) -> HostConfig:
        """Validate, apply and save settings changes (the file is replaced atomically)."""
        data = self.config.model_dump()
        data.update({k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in changes.items()})
        self.config = HostConfig.model_validate(data)
        save_config(self.path, self.config)
        self.rev += 1
        for listener in self._listeners:
            listener()
        return self.config
