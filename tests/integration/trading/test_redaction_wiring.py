"""A connected account's keys stay redacted from the log whatever the vault does after it
connected: its entry removed, its key rotated, the vault locked. The link keeps using the keys it
connected with, so the vault's own redaction (which follows the entries it holds) is not enough.
The composed services (main.compose) over the Binance simulator, in process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sidedesk import logs
from sidedesk.main import compose
from sidedesk.runtime import Host
from sidedesk.store.config import HostConfig, VaultKdfOverride
from sidedesk.store.paths import Paths
from tests.integration.trading.conftest import Sim
from tests.support.config import PASSWORD
from tests.support.transport import NullTransport


def _entry(key: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "broker": "binance",
        "name": "sim",
        "environment": "simulator",
        "auth": "hmac",
        "api_key": key["apiKey"],
        "secret": key["secret"],
        **extra,
    }


def _redacted(secret: str) -> bool:
    line = f"a library's debug line: signing with {secret} now"
    return secret not in logs.redact(line) and logs.REDACTED in logs.redact(line)


async def test_a_connected_accounts_secret_stays_redacted_after_its_entry_is_removed_or_rotated(
    sim: Sim, tmp_path: Path
) -> None:
    config = HostConfig.model_validate(
        {
            "vault_kdf": VaultKdfOverride(memory_kib=64, iterations=1, lanes=1).model_dump(),
            "simulators": {"binance": sim.url},
            "watchlist": ["BTCUSDT"],
        }
    )
    host = Host(
        NullTransport(), Paths(tmp_path / "c", tmp_path / "d", tmp_path / "l"), config, compose=compose
    )
    svc = host.services
    key = sim.key("main")
    try:
        await svc.vault.create(PASSWORD)
        entry_id = (await svc.vault.put(_entry(key))).id
        link = await svc.links.activate(entry_id)
        assert link.tradable
        assert _redacted(key["secret"])
        # the key rotated in Setup: the link still holds the old one until it reconnects
        rotated = "R" * 64
        await svc.vault.put({"id": entry_id, "secret": rotated})
        assert _redacted(rotated)
        assert _redacted(key["secret"])
        # the entry removed while its account is still connected
        await svc.vault.remove(entry_id)
        assert svc.links.links[entry_id].tradable
        assert _redacted(key["secret"])
    finally:
        await svc.close()
