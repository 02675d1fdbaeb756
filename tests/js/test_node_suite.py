"""Run the extension's JavaScript unit tests (node's built-in runner) as part of pytest.

The DOM modules' tests use happy-dom from npm (package.json); `make test` installs it
(scripts/setup-machine.sh runs `npm ci`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def test_extension_js_units() -> None:
    node = shutil.which("node")
    assert node is not None, (
        "node is not installed (apt-get install nodejs): the extension's JS tests need it; "
        "`make test` installs it"
    )
    assert (REPO / "node_modules" / "happy-dom" / "package.json").is_file(), (
        "happy-dom is not installed: run `make test` (or `npm ci`) to install the JS tests' packages"
    )
    files = sorted(str(p) for p in HERE.glob("*.test.mjs"))
    assert files, "no JS test files found"
    proc = subprocess.run(
        [node, "--test", *files], capture_output=True, text=True, timeout=180, check=False, cwd=REPO
    )
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-4000:]
    assert "# fail 0" in proc.stdout
