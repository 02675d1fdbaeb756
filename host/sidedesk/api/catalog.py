"""Every domain module that registers handlers. Importing them fills the registry."""

from __future__ import annotations

import importlib

DOMAINS = ("sidedesk.api.system", "sidedesk.api.vault", "sidedesk.api.trading")


def load_handlers() -> None:
    for name in DOMAINS:
        importlib.import_module(name)
