"""Per-user folders for config, data (vault, journal) and logs.

`SIDEDESK_HOME`, when set, puts everything under one folder (tests, the demo, portable use).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP = "sidedesk"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def vault_file(self) -> Path:
        return self.data_dir / "vault.sdv"

    @property
    def journal_file(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "host.log"


def default_paths() -> Paths:
    home = os.environ.get("SIDEDESK_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return Paths(root / "config", root / "data", root / "logs")
    import platformdirs  # deferred: only needed when no SIDEDESK_HOME is set

    return Paths(
        Path(platformdirs.user_config_dir(APP, appauthor=False)),
        Path(platformdirs.user_data_dir(APP, appauthor=False)),
        Path(platformdirs.user_log_dir(APP, appauthor=False)),
    )


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (0700) if needed; an existing folder keeps its mode unless it is ours to tighten."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path
