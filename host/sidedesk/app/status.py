"""The `status` topic's payload: the host, the vault and every account link, with revisions that
tell each panel view when to reload what changed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from sidedesk import PROTOCOL_VERSION, __version__
from sidedesk.app.books import Books
from sidedesk.app.links import AccountLinks
from sidedesk.app.protection import ProtectionService
from sidedesk.app.settings import Settings
from sidedesk.core.asl import PositionKey
from sidedesk.core.link import LinkState
from sidedesk.core.unprotected import Held, Unprotected, unprotected
from sidedesk.domain import PositionSide
from sidedesk.vault.service import VaultService


class Status:
    def __init__(
        self,
        *,
        vault: VaultService,
        links: AccountLinks,
        settings: Settings,
        books: Books,
        protection: ProtectionService,
        started: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._vault = vault
        self._links = links
        self._settings = settings
        self._books = books
        self._protection = protection
        self._started = started
        self.vault_ever_unlocked = vault.state == "unlocked"
        self._clock = clock
        self.vault_rev = 0  # bumped on every vault change (unlock, lock, an account added or removed)
        vault.add_listener(self._vault_changed)

    def _vault_changed(self) -> None:
        self.vault_rev += 1
        self.vault_ever_unlocked |= self._vault.state == "unlocked"

    def unprotected(self) -> list[Unprotected]:
        """Open positions without a working managed stop (core/unprotected.py decides). The books
        are the one source: live accounts, and every account shown as last known from the journal
        (app/last_known.py), which stays unprotected until its own link is up with a snapshot."""
        books, links, prot = self._books, self._links.links, self._protection

        def link_live(account_id: str) -> bool:
            link = links.get(account_id)
            return (
                link is not None
                and link.state in (LinkState.LIVE, LinkState.SYNCING)
                and account_id not in books.last_known
            )

        held = [
            Held(p.account_id, p.symbol, p.position_side, p.quantity)
            for account_id in sorted({*links, *books.last_known})
            for p in books.known_positions(account_id)
        ]

        def asl_on(account_id: str, symbol: str, side: PositionSide) -> bool:
            if not self._settings.config.asl_enabled:
                return False
            return prot.overrides.get(account_id, {}).get(PositionKey(account_id, symbol, side), True)

        def covered(h: Held) -> bool:
            cov = books.orders.stop_coverage(h.account_id, h.symbol, h.position_side, h.quantity)
            return cov.fully_covered

        return unprotected(
            held,
            link_live=link_live,
            vault_ever_unlocked=self.vault_ever_unlocked,
            asl_on=asl_on,
            engine_running=lambda account_id: account_id in prot.runners,
            covered=covered,
        )

    def payload(self) -> dict[str, Any]:
        return {
            "host_version": __version__,
            "protocol": PROTOCOL_VERSION,
            "pid": os.getpid(),
            "uptime_s": round(self._clock() - self._started, 3),
            "vault": self._vault.state,
            "vault_rev": self.vault_rev,
            # while locked, close / flatten / cancel need an unlock too (core/lock.py)
            "require_unlock_to_reduce": self._settings.config.require_unlock_to_reduce,
            "settings_rev": self._settings.rev,
            "brokers": self._links.brokers_status(),
            "unprotected": [u.to_payload() for u in self.unprotected()],
        }
