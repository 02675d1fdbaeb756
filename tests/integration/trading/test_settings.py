"""Pinned contract ids (Setup -> Contracts) through the real host: validated, saved, reloaded."""

from __future__ import annotations

import json
from pathlib import Path

from tests.hostproc import HostProcess


def test_contract_pins_are_validated_saved_and_survive_a_restart(tmp_path: Path) -> None:
    with HostProcess(tmp_path) as h:
        assert h.request("settings.contracts.get")["ok"] == {"volumetrica": {}}
        bad = h.request("settings.contracts.set", {"volumetrica": {"ES Z6": 4}})
        assert bad["error"]["code"] == "invalid"
        zero = h.request("settings.contracts.set", {"volumetrica": {"ESZ26": 0}})
        assert zero["error"]["code"] == "invalid"
        ok = h.request("settings.contracts.set", {"volumetrica": {"/ESZ26:XCME": 4242}})
        assert ok["ok"] == {"volumetrica": {"/ESZ26:XCME": 4242}}
    saved = json.loads((tmp_path / "config" / "config.json").read_text())
    assert saved["volumetrica_contracts"] == {"/ESZ26:XCME": 4242}
    with HostProcess(tmp_path) as h:
        assert h.request("settings.contracts.get")["ok"] == {"volumetrica": {"/ESZ26:XCME": 4242}}
