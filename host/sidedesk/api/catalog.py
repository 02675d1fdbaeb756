"""Every domain module that registers handlers, and which message types each one serves.

`hello` must answer fast (Chrome starts the host on every connect), so only the system domain
is imported at start; the others are imported when their first message arrives (or by the
host's warm-up right after start), each costing its pydantic models once.
"""

from __future__ import annotations

import importlib

SYSTEM = "sidedesk.api.system"
# message-type prefix -> module
PREFIXES: dict[str, str] = {
    "hello": SYSTEM,  # answered by api/fast.py; the module holds its model for the schema
    "ping": SYSTEM,
    "subscribe": SYSTEM,
    "unsubscribe": SYSTEM,
    "stats": SYSTEM,
    "vault.": "sidedesk.api.vault",
    "accounts.": "sidedesk.api.trading",
    "market.": "sidedesk.api.trading",
    "order.": "sidedesk.api.trading",
    "orders.": "sidedesk.api.trading",
    "position.breakeven": "sidedesk.api.asl",
    "position.": "sidedesk.api.trading",
    "asl.": "sidedesk.api.asl",
    "risk.": "sidedesk.api.trading",
    "settings.": "sidedesk.api.trading",
    "flatten": "sidedesk.api.trading",
    "command": "sidedesk.api.trading",
    "localstream.": "sidedesk.api.localstream",
    "service.": "sidedesk.api.service",
}
DOMAINS: tuple[str, ...] = tuple(dict.fromkeys((SYSTEM, *PREFIXES.values())))


def load_handlers() -> None:
    for name in DOMAINS:
        importlib.import_module(name)


def load_for(type_: str) -> None:
    """Import the domain that serves `type_`; an unknown type loads them all (to list them)."""
    for prefix, module in PREFIXES.items():
        if type_ == prefix or (prefix.endswith(".") and type_.startswith(prefix)):
            importlib.import_module(module)
            return
    load_handlers()
