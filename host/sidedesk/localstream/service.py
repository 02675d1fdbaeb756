"""The host's local stream: its settings, its tokens (kept in the vault) and the server's lifecycle.

One `LocalStream` per host, built by the composition root with what it reads: the settings, the
vault (tokens live there) and the topics' payloads; the root tells it of every topic change.
Tokens are read from the vault when it is unlocked and kept in memory as digests after it locks
again, as a connected broker account keeps trading after a lock: a local program
keeps following the portfolio without the vault staying open. Until the vault has been unlocked
once since the host started, every connection is refused with "unlock the vault".

`websockets` is imported only when the stream is first switched on or its API is used, so a host
with the stream off pays nothing for it at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sidedesk import __version__, logs
from sidedesk.localstream.stats import Stats
from sidedesk.localstream.tokens import VAULT_ITEM, TokenError, TokenRecord, TokenSet
from sidedesk.store.config import LocalStreamSettings

if TYPE_CHECKING:
    from sidedesk.app.settings import Settings
    from sidedesk.localstream.server import LocalStreamServer
    from sidedesk.vault.service import VaultService

log = logging.getLogger(__name__)


class LocalStreamError(Exception):
    """A request the stream cannot carry out (the message says why and what to do)."""


class HostSource:
    """The server's view of the host: the topics' payloads (every account) and a few settings."""

    host_version = __version__

    def __init__(self, views: Callable[[str], Any], settings: Settings) -> None:
        self._views = views
        self._settings = settings

    def view(self, topic: str) -> Any:
        return self._views(topic)

    def watchlist(self) -> list[str]:
        return list(self._settings.config.watchlist)

    def status_interval_s(self) -> float:
        return self._settings.config.status_interval_s


class LocalStream:
    def __init__(self, settings: Settings, vault: VaultService, views: Callable[[str], Any]) -> None:
        self._settings = settings
        self.vault = vault
        self._source = HostSource(views, settings)
        self.tokens: TokenSet | None = None
        self.server: LocalStreamServer | None = None
        self.last_error: str | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        vault.add_listener(self._vault_changed)
        self._vault_changed()

    @property
    def settings(self) -> LocalStreamSettings:
        return self._settings.config.localstream

    # -- tokens -------------------------------------------------------------------------------------
    def _vault_changed(self) -> None:
        vault = self.vault
        if vault.state != "unlocked":
            return  # locking keeps the digests read so far (see the module docstring)
        try:
            tokens = TokenSet.from_storage(vault.item(VAULT_ITEM))
        except TokenError as exc:
            self.last_error = str(exc)
            log.error("local stream: %s", exc)
            tokens = TokenSet()
        self.tokens = tokens
        if self.server is not None:  # a token gone from the vault (restored backup) stops working
            for conn in list(self.server.conns):
                if tokens.get(conn.record.id) != conn.record:
                    self.server.drop_token(conn.record.id)

    def token_rows(self) -> list[dict[str, Any]]:
        return [self._row(r) for r in (self.tokens or ())]

    def _row(self, r: TokenRecord) -> dict[str, Any]:
        return {
            "id": r.id,
            "name": r.name,
            "accounts": None if r.accounts is None else list(r.accounts),
            "masked": r.masked,
            "created_at": r.created_at,
            "rotated_at": r.rotated_at,
            "connections": self.server.connections_of(r.id) if self.server is not None else 0,
        }

    async def _save(self, tokens: TokenSet) -> None:
        await self.vault.put_item(VAULT_ITEM, tokens.to_storage())
        self.tokens = tokens

    def _current(self) -> TokenSet:
        if self.vault.state == "unlocked":
            return TokenSet.from_storage(self.vault.item(VAULT_ITEM))
        return self.tokens or TokenSet()

    async def create_token(self, name: str, accounts: list[str] | None) -> tuple[dict[str, Any], str]:
        """A new token; the plaintext is returned this once and never stored."""
        if accounts is not None:
            known = {e.id for e in self.vault.entries()}
            unknown = sorted(set(accounts) - known)
            if unknown:
                raise LocalStreamError(f"no broker account with id {', '.join(unknown)} in the vault")
        async with self._lock:
            tokens, record, token = self._current().create(name, accounts)
            logs.register_secret(token)
            await self._save(tokens)
        log.info("local stream: token %s created", record.id)
        return self._row(record), token

    async def rotate_token(self, token_id: str) -> tuple[dict[str, Any], str]:
        async with self._lock:
            tokens, record, token = self._current().rotate(token_id)
            logs.register_secret(token)
            await self._save(tokens)
        if self.server is not None:
            self.server.drop_token(token_id)
        log.info("local stream: token %s rotated", token_id)
        return self._row(record), token

    async def revoke_token(self, token_id: str) -> None:
        async with self._lock:
            await self._save(self._current().revoke(token_id))
        if self.server is not None:
            self.server.drop_token(token_id)
        log.info("local stream: token %s revoked", token_id)

    # -- the server ---------------------------------------------------------------------------------
    def notify(self, topic: str) -> None:
        if self.server is not None:
            self.server.notify(topic)

    def _ensure_server(self) -> LocalStreamServer:
        if self.server is None:
            from sidedesk.localstream.server import LocalStreamServer

            self.server = LocalStreamServer(self._source, self.settings, lambda: self.tokens)
        return self.server

    @property
    def running(self) -> bool:
        return self.server is not None and self.server.running

    async def apply(self) -> None:
        """Make the server match the settings: started, stopped, or moved to a new port."""
        async with self._lock:
            s = self.settings
            if not s.enabled:
                if self.server is not None:
                    await self.server.stop()
                self.last_error = None
                return
            server = self._ensure_server()
            moved = server.running and server.settings.port != s.port
            server.configure(s)
            if moved:
                await server.stop()
            if not server.running:
                try:
                    await server.start()
                except OSError as exc:
                    self.last_error = f"could not listen on 127.0.0.1:{s.port}: {exc.strerror or exc}"
                    log.error("local stream: %s", self.last_error)
                    raise LocalStreamError(f"{self.last_error}; choose another port") from None
            self.last_error = None

    def start_soon(self) -> None:
        """At host start: switch the server on if the settings say so (errors are shown in Setup)."""
        if not self.settings.enabled:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to start
            self._task = asyncio.get_running_loop().create_task(self._start_quietly())

    async def _start_quietly(self) -> None:
        with contextlib.suppress(LocalStreamError):
            await self.apply()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()

    def stats(self) -> dict[str, Any]:
        return (self.server.stats if self.server is not None else Stats()).report()

    def describe(self) -> dict[str, Any]:
        return {
            "settings": self.settings.model_dump(mode="json"),
            "running": self.running,
            "url": f"ws://127.0.0.1:{self.server.port}" if self.running and self.server is not None else None,
            "tokens_loaded": self.tokens is not None,
            "error": self.last_error,
        }
