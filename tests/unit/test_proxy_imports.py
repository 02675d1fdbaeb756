"""The proxy Chrome starts on every connect imports only what it uses: no pydantic, no broker
code, none of the services (they live in the service), no asyncio. Checked in a fresh interpreter,
where nothing else has loaded them first."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# typing: 10-20 ms of CPU at start on its own (the modules on this path import it for type checking only)
FORBIDDEN = (
    "pydantic",
    "sidedesk.brokers",
    "sidedesk.app",
    "sidedesk.api",
    "sidedesk.runtime",
    "asyncio",
    "typing",
)


@pytest.mark.parametrize(
    "modules",
    [
        ["sidedesk.native.proxy"],
        # the whole path `sidedesk native ORIGIN` takes before it forwards
        ["sidedesk.cli", "sidedesk.main", "sidedesk.native.proxy", "sidedesk.store.startup"],
        # all that the frozen `sidedesk-native` runs (build/native_entry.py)
        ["sidedesk.native.launch", "sidedesk.native.proxy"],
    ],
    ids=["proxy", "native-entry", "frozen-native"],
)
def test_the_proxy_imports_nothing_heavy(modules: list[str]) -> None:
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    heavy = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert heavy == []
    assert "sidedesk.native.proxy" in loaded  # the probe did import what it names
