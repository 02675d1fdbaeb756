"""The lock decision as the composed services use it (main.compose): order entry refuses what the
locked vault does not allow, and a trader's allowed action counts as activity for the auto-lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidedesk.core.lock import LOCKED_TO_TRADE
from sidedesk.domain.errors import Refused
from sidedesk.main import compose
from sidedesk.runtime import Host
from sidedesk.store.config import HostConfig, VaultKdfOverride
from sidedesk.store.paths import Paths
from tests.support.config import PASSWORD
from tests.support.transport import NullTransport


async def test_trading_pushes_the_autolock_back_and_a_lock_refuses_new_risk(tmp_path: Path) -> None:
    config = HostConfig(
        vault_kdf=VaultKdfOverride(memory_kib=64, iterations=1, lanes=1), vault_autolock_s=600
    )
    host = Host(
        NullTransport(), Paths(tmp_path / "c", tmp_path / "d", tmp_path / "l"), config, compose=compose
    )
    svc = host.services
    try:
        await svc.vault.create(PASSWORD)
        svc.vault._last_activity -= 500  # ten minutes without a vault request...
        assert svc.vault.idle_remaining() < 101
        svc.entry.allow("open")  # ...but the trader just placed an order
        assert svc.vault.idle_remaining() > 599
        svc.vault.lock()
        with pytest.raises(Refused) as refused:
            svc.entry.allow("open")
        assert (refused.value.code, refused.value.message) == ("locked", LOCKED_TO_TRADE)
        svc.entry.allow("reduce")  # the switch is off by default
        svc.entry.allow("protect")
    finally:
        await svc.close()
