"""Test connection: build a vault entry's adapter (brokers/registry.py), run its broker's checks,
close it. Used by the panel (`accounts.test`) and by `sidedesk doctor --account ID`.

The adapter is a fresh one, apart from the account's link: nothing is traded, no stream is
subscribed, and it is closed afterwards whatever happens. The whole run is bounded in time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sidedesk.brokers.registry import build_broker
from sidedesk.core.link_ids import link_id
from sidedesk.domain import Broker, BrokerError, BrokerEvent
from sidedesk.domain.checks import Check, CheckStatus, in_order, skipped, worst
from sidedesk.vault.entries import AnyEntry

log = logging.getLogger(__name__)

TIMEOUT_S = 45.0


@dataclass(frozen=True, slots=True)
class AccountChecks:
    account_id: str
    name: str
    broker: str
    environment: str
    checks: list[Check] = field(default_factory=list)

    @property
    def status(self) -> CheckStatus:
        return worst(self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "name": self.name,
            "broker": self.broker,
            "environment": self.environment,
            "status": self.status,
            "checks": [
                {"name": c.name, "label": c.label, "status": c.status, "detail": c.detail}
                for c in self.checks
            ],
        }


def _drop(_ev: BrokerEvent) -> None:
    """The test adapter's events go nowhere: the books only follow the account's own link."""


async def _run(broker: Broker, entry: AnyEntry, in_use: bool) -> list[Check]:
    env = entry.environment
    if entry.broker == "binance":
        from sidedesk.brokers.binance.adapter import BinanceBroker
        from sidedesk.brokers.binance.checks import run_checks as binance

        assert isinstance(broker, BinanceBroker)
        return await binance(broker, env)
    if entry.broker == "tradovate":
        from sidedesk.brokers.tradovate.adapter import TradovateBroker
        from sidedesk.brokers.tradovate.checks import run_checks as tradovate

        assert isinstance(broker, TradovateBroker)
        return await tradovate(broker, env)
    if entry.broker == "volumetrica":
        from sidedesk.brokers.volumetrica.adapter import VolumetricaBroker
        from sidedesk.brokers.volumetrica.checks import run_checks as volumetrica

        assert isinstance(broker, VolumetricaBroker)
        return await volumetrica(broker, env, in_use=in_use)
    from sidedesk.brokers.alpaca.adapter import AlpacaBroker
    from sidedesk.brokers.alpaca.checks import run_checks as alpaca

    assert isinstance(broker, AlpacaBroker)
    return await alpaca(broker, env)


async def check_account(
    entry: AnyEntry,
    simulators: Mapping[str, str],
    *,
    contracts: Mapping[str, int] | None = None,
    in_use: bool = False,
    account: str | None = None,
    timeout_s: float = TIMEOUT_S,
) -> AccountChecks:
    """Every check for one vault entry: `account` of its login (`ENTRY:ACCOUNT`), or the one it
    remembers. `in_use`: Sidedesk is connected with this account now (a broker that allows one
    session per login is then not logged in a second time)."""
    out = AccountChecks(link_id(entry.id, account), entry.name, entry.broker, entry.environment)
    try:
        chosen = account or getattr(entry, "account", None)
        broker = build_broker(entry, _drop, simulators, contracts, account=chosen)
    except BrokerError as exc:
        # the entry cannot even make an adapter (a key with spaces, no simulator configured)
        out.checks.extend(
            in_order(
                [
                    Check("key", "fail", exc.message),
                    *skipped(("reachability",), "not checked: " + exc.message),
                ]
            )
        )
        return out
    try:
        checks = await asyncio.wait_for(_run(broker, entry, in_use), timeout_s)
    except TimeoutError:
        checks = [
            Check(
                "reachability",
                "fail",
                f"the checks took longer than {timeout_s:g} s: {entry.broker} is unreachable or too slow",
            )
        ]
    except BrokerError as exc:
        checks = [Check("reachability", "fail", exc.message)]
    except Exception:  # a bug must not leave the adapter open or the panel without an answer
        log.exception("test connection of %s failed", entry.id)
        checks = [
            Check("reachability", "fail", "the test itself failed (a bug; the host log has the details)")
        ]
    finally:
        try:
            await asyncio.wait_for(broker.close(), 10)
        except Exception:
            log.exception("closing the test adapter of %s failed", entry.id)
    out.checks.extend(in_order(checks))
    return out
