"""Which program `sidedesk-native` runs for what it does not do itself: the main `sidedesk`
beside it when frozen (to start the service, or to serve in-process), this interpreter from source."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sidedesk.native import launch, proxy


def test_from_source_the_main_command_is_this_interpreter() -> None:
    assert launch.main_command(["native", "x"]) == [sys.executable, "-m", "sidedesk.cli", "native", "x"]
    assert proxy.service_command() == [sys.executable, "-m", "sidedesk.cli", "service", "--foreground"]


@pytest.mark.parametrize("running", ["sidedesk-native", "sidedesk"])
def test_frozen_the_main_command_is_the_main_executable_beside(
    running: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / running))
    main = str(tmp_path / "sidedesk")
    assert proxy.service_command() == [main, "service", "--foreground"]
    assert launch.main_command(["native", "o", "--in-process"]) == [main, "native", "o", "--in-process"]


def test_frozen_on_windows_the_suffix_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "sidedesk-native.exe"))
    assert launch.main_executable() == str(tmp_path / "sidedesk.exe")


def test_the_origin_is_the_first_argument_not_a_flag() -> None:
    assert launch.origin_of(["--parent-window=5", "chrome-extension://a/", "--in-process"]) == (
        "chrome-extension://a/"
    )
    assert launch.origin_of(["--parent-window=5"]) is None
