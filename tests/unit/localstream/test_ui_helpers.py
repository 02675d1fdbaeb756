"""Run the Setup section's JavaScript unit tests (node's built-in runner)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_localstream_ui_helpers() -> None:
    node = shutil.which("node")
    assert node is not None, "node is not installed; the extension's JS unit tests need it"
    proc = subprocess.run(
        [node, "--test", str(HERE / "localstream_ui.test.mjs")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout
