"""The `status` topic's payload: the host, the vault and every account link, with revisions that
tell each panel view when to reload what changed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from sidedesk import PROTOCOL_VERSION, __version__
from sidedesk.app.links import AccountLinks
from sidedesk.app.settings import Settings
from sidedesk.vault.service import VaultService


class Status:
    def __init__(
        self,
        *,
        vault: VaultService,
        links: AccountLinks,
        settings: Settings,
        started: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._vault = vault
        self._links = links
        self._settings = settings
        self._started = started
        self._clock = clock
        self.vault_rev = 0  # bumped on every vault change (unlock, lock, an account added or removed)
        vault.add_listener(self._vault_changed)

    def _vault_changed(self) -> None:
        self.vault_rev += 1

    def payload(self) -> dict[str, Any]:
        return {
            "host_version": __version__,
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "uptime_s": round(self._clock() - self._started, 3),
            "vault": self._vault.state,
            "vault_rev": self.vault_rev,
            "settings_rev": self._settings.rev,
            "brokers": self._links.brokers_status(),
        }
