"""`make package`: freeze the host with PyInstaller and assemble the release for this OS.

    python build/package.py [--out DIR]      (default: build/out)

Produces in DIR:
  dist/sidedesk/                      the frozen host (onedir): `sidedesk` (the host and command
                                      line) and `sidedesk-native` (the proxy the browsers start);
                                      `.exe` on Windows
  sidedesk-<version>-<os>-<arch>.tar.gz (.zip on Windows): a folder holding the frozen host,
                                      the unpacked `extension/`, the store zip and INSTALL.txt
  sidedesk-extension-<version>.zip    the extension for store upload: manifest without "key"
                                      (the stores assign their own id)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build" / "sidedesk.spec"
EXTENSION = ROOT / "extension"
SKIP_NAMES = {".DS_Store", "__pycache__", "Thumbs.db"}

INSTALL_TXT = """Sidedesk {version}

1. Register the host with your browsers (writes small files in your home folder; no admin needed):
     {exe} install
   Only one browser:   {exe} install --browser chrome    (chromium, edge, brave, vivaldi, opera, ...)
   For all users:      sudo {exe} install --system
2. Load the extension: open chrome://extensions, turn on Developer mode, "Load unpacked", choose
   the extension/ folder next to this file.
3. Open the side panel from the toolbar. If it cannot reach the host, run:
     {exe} doctor
To remove the registration: {exe} uninstall
Keep this folder where it is: the browser registration points at the program inside it.
"""


def os_tag() -> str:
    system = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("aarch64", "arm64")
    return f"{system}-{machine}"


def version() -> str:
    sys.path.insert(0, str(ROOT / "host"))
    try:
        from sidedesk import __version__
    finally:
        sys.path.pop(0)
    return str(__version__)


def store_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest the stores accept: no "key" (it pins the development id only)."""
    return {k: v for k, v in manifest.items() if k != "key"}


def extension_files(src: Path) -> list[Path]:
    files = []
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_file() and not any(part in SKIP_NAMES or part.startswith(".") for part in rel.parts):
            files.append(path)
    return files


def write_store_zip(src: Path, dest: Path) -> None:
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in extension_files(src):
            rel = path.relative_to(src).as_posix()
            if rel == "manifest.json":
                zf.writestr(rel, json.dumps(store_manifest(manifest), indent=2) + "\n")
            else:
                zf.write(path, rel)


def freeze(out: Path) -> Path:
    """Run PyInstaller on the spec; returns the onedir folder."""
    dist, work = out / "dist", out / "work"
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        str(SPEC),
    ]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return dist / "sidedesk"


def assemble(onedir: Path, out: Path, ver: str, store_zip: Path) -> Path:
    name = f"sidedesk-{ver}-{os_tag()}"
    stage = out / "stage" / name
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copytree(onedir, stage / "sidedesk", symlinks=True)
    shutil.copytree(EXTENSION, stage / "extension", ignore=shutil.ignore_patterns(*SKIP_NAMES, ".*"))
    shutil.copy2(store_zip, stage / store_zip.name)
    exe = "sidedesk\\sidedesk.exe" if sys.platform == "win32" else "./sidedesk/sidedesk"
    (stage / "INSTALL.txt").write_text(INSTALL_TXT.format(version=ver, exe=exe), encoding="utf-8")
    if sys.platform == "win32":
        archive = out / f"{name}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(stage.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(stage.parent).as_posix())
    else:
        archive = out / f"{name}.tar.gz"
        with tarfile.open(archive, "w:gz") as tf:  # keeps the executable bits
            tf.add(stage, arcname=name)
    shutil.rmtree(out / "stage")
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "out", help="output folder")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    ver = version()
    started = time.monotonic()
    onedir = freeze(out)
    store_zip = out / f"sidedesk-extension-{ver}.zip"
    write_store_zip(EXTENSION, store_zip)
    archive = assemble(onedir, out, ver, store_zip)
    exe = onedir / ("sidedesk.exe" if os.name == "nt" else "sidedesk")
    print(f"frozen host: {exe}")
    print(f"store zip:   {store_zip}")
    print(f"release:     {archive}")
    print(f"built in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
