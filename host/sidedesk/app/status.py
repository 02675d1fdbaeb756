"""The `status` topic's payload: the host, the vault and every account link, with revisions that
tell each panel view when to reload what changed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
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
from sidedesk.store.held import load_held, save_held
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
        held_file: Path | None = None,
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
        # What the last service saw on its live accounts: until the vault is unlocked here, these
        # are the positions nothing protects (store/held.py).
        self._held_file = held_file
        self._remembered = _parse_held(load_held(held_file)) if held_file is not None else []

    def _vault_changed(self) -> None:
        self.vault_rev += 1
        self.vault_ever_unlocked |= self._vault.state == "unlocked"

    def unprotected(self) -> list[Unprotected]:
        """Open positions without a working managed stop (core/unprotected.py decides)."""
        books, links, prot = self._books, self._links.links, self._protection

        def link_live(account_id: str) -> bool:
            link = links.get(account_id)
            return link is not None and link.state in (LinkState.LIVE, LinkState.SYNCING)

        held = [
            Held(p.account_id, p.symbol, p.position_side, p.quantity)
            for account_id in {*links, *books.last_known}
            for p in books.known_positions(account_id)
        ]
        # What the last service saw, for accounts this one does not see yet: all of them until the
        # vault is unlocked here, then those whose link is in the list but not up with a position
        # in the books (a reconnect that has not succeeded since the restart).
        seen = {h.account_id for h in held}
        held += [
            h
            for h in self._remembered
            if h.account_id not in seen
            and (h.account_id not in links if not self.vault_ever_unlocked else h.account_id in links)
            and not link_live(h.account_id)
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

    def remember(self) -> None:
        """Keep the positions of every live account on disk (only when they changed), so a
        restart with the vault locked still names them. Accounts not live keep their last rows."""
        if self._held_file is None:
            return
        live = {a for a, link in self._links.links.items() if link.state is LinkState.LIVE}
        if not live:
            return
        current = [h for h in self._remembered if h.account_id not in live] + [
            Held(p.account_id, p.symbol, p.position_side, p.quantity)
            for account_id in sorted(live)
            for p in self._books.portfolio.positions.positions(account_id)
        ]
        if current == self._remembered:
            return
        rows = [
            {
                "account_id": h.account_id,
                "symbol": h.symbol,
                "position_side": h.position_side.value,
                "quantity": format(h.quantity, "f"),
            }
            for h in current
        ]
        if save_held(self._held_file, rows):
            self._remembered = current

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


def _parse_held(rows: list[dict[str, str]]) -> list[Held]:
    out: list[Held] = []
    for r in rows:
        try:
            out.append(
                Held(r["account_id"], r["symbol"], PositionSide(r["position_side"]), Decimal(r["quantity"]))
            )
        except (ValueError, InvalidOperation):  # a row this build cannot read is skipped
            continue
    return out
