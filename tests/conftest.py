from __future__ import annotations

import sys
from pathlib import Path

# `tests` is a package so shared helpers (tests/hostproc.py) import as `tests.hostproc`.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
