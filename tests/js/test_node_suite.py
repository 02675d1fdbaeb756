"""Run the extension's JavaScript unit tests (node's built-in runner) as part of pytest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_extension_js_units() -> None:
    node = shutil.which("node")
    assert node is not None, (
        "node is not installed (apt-get install nodejs): the extension's JS tests need it"
    )
    files = sorted(str(p) for p in HERE.glob("*.test.mjs"))
    assert files, "no JS test files found"
    proc = subprocess.run([node, "--test", *files], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-4000:]
    assert "# fail 0" in proc.stdout
