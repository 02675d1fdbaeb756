"""Build and validate a native-messaging host manifest, exactly as Chromium parses it.

Every rule here is one Chromium enforces (research/chrome.md §2.1, `native_messaging_host_manifest.cc`);
breaking any of them makes the extension see "Specified native messaging host not found." except
a missing extension id, which gives "Access to the specified native messaging host is forbidden."
Each problem says what the browser will do, so `doctor` can print it as is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sidedesk.identity import origin_for

NAME_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
EXTENSION_ID_RE = re.compile(r"^[a-p]{32}$")
ORIGIN_RE = re.compile(r"^chrome-extension://([a-p]{32})/$")
NOT_FOUND = 'the browser says "Specified native messaging host not found."'
FORBIDDEN = 'the browser says "Access to the specified native messaging host is forbidden."'

DESCRIPTION = "Sidedesk host: broker connections and the key vault for the Sidedesk side panel"


class InvalidExtensionId(ValueError):
    pass


def check_extension_id(extension_id: str) -> str:
    if not EXTENSION_ID_RE.fullmatch(extension_id):
        raise InvalidExtensionId(
            f"{extension_id!r} is not an extension id: it must be 32 letters a-p "
            "(see chrome://extensions with developer mode on)"
        )
    return extension_id


def build(
    name: str, path: str, extension_ids: tuple[str, ...], description: str = DESCRIPTION
) -> dict[str, Any]:
    """The manifest for `name`, launching `path`, callable by `extension_ids` (deduplicated, in order)."""
    ids = tuple(dict.fromkeys(check_extension_id(i) for i in extension_ids))
    return {
        "name": name,
        "description": description,
        "path": path,
        "type": "stdio",
        "allowed_origins": [origin_for(i) for i in ids],
    }


def is_absolute(path: str, system: str) -> bool:
    if system == "windows":
        return PureWindowsPath(path).is_absolute()
    return PurePosixPath(path).is_absolute()


def origin_problem(origin: object) -> str | None:
    if not isinstance(origin, str):
        return f"allowed_origins entry {origin!r} is not a string; {NOT_FOUND}"
    if ORIGIN_RE.fullmatch(origin):
        return None
    if "*" in origin:
        return f"allowed_origins entry {origin!r} is a wildcard, which Chrome refuses; {NOT_FOUND}"
    if ORIGIN_RE.fullmatch(origin + "/"):
        return f"allowed_origins entry {origin!r} lacks the trailing slash; {NOT_FOUND}"
    if not origin.startswith("chrome-extension://"):
        return f"allowed_origins entry {origin!r} is not a chrome-extension:// origin; {NOT_FOUND}"
    return f"allowed_origins entry {origin!r} is not chrome-extension://<32 letters a-p>/; {NOT_FOUND}"


def validate(manifest: object, *, stem: str, system: str) -> list[str]:
    """Every reason Chromium would reject this manifest (empty when it would load it).

    `stem` is the file name without `.json` (Linux/macOS) or the registry key name (Windows).
    Relative paths are allowed on Windows only, where Chrome resolves them against the manifest.
    """
    if not isinstance(manifest, dict):
        return [f"the manifest is not a JSON object; {NOT_FOUND}"]
    problems: list[str] = []
    name = manifest.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        problems.append(
            f"name {name!r} is not a valid host name ([a-z0-9_] parts joined by dots); {NOT_FOUND}"
        )
    elif name != stem:
        problems.append(f"name {name!r} differs from the file/key name {stem!r}; {NOT_FOUND}")
    description = manifest.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(f"description is missing or empty; {NOT_FOUND}")
    path = manifest.get("path")
    if not isinstance(path, str) or not path:
        problems.append(f"path is missing; {NOT_FOUND}")
    elif not is_absolute(path, system) and system != "windows":
        problems.append(f"path {path!r} is not absolute; {NOT_FOUND}")
    if manifest.get("type") != "stdio":
        problems.append(f"type is {manifest.get('type')!r}, not 'stdio'; {NOT_FOUND}")
    origins = manifest.get("allowed_origins")
    if not isinstance(origins, list) or not origins:
        problems.append(f"allowed_origins is missing or empty; {NOT_FOUND}")
    else:
        problems.extend(p for p in (origin_problem(o) for o in origins) if p)
    return problems


def allowed_ids(manifest: dict[str, Any]) -> list[str]:
    """Extension ids from well-formed origins, in manifest order."""
    out: list[str] = []
    for origin in manifest.get("allowed_origins") or []:
        m = ORIGIN_RE.fullmatch(origin) if isinstance(origin, str) else None
        if m:
            out.append(m.group(1))
    return out


@dataclass(frozen=True)
class IdCheck:
    missing: tuple[str, ...]  # ids the host accepts that the manifest does not allow: "forbidden"
    unexpected: tuple[str, ...]  # ids the manifest allows that the host will refuse to serve


def check_ids(manifest: dict[str, Any], expected: tuple[str, ...]) -> IdCheck:
    present = allowed_ids(manifest)
    return IdCheck(
        missing=tuple(i for i in expected if i not in present),
        unexpected=tuple(i for i in present if i not in expected),
    )


def parse(text: str) -> tuple[object | None, str | None]:
    """JSON text -> (value, None) or (None, the parse error as the browser would see it)."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"the manifest is not valid JSON ({exc.msg} at line {exc.lineno}); {NOT_FOUND}"


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2) + "\n"
