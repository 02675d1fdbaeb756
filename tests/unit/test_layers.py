"""The house's rule, from the code's own imports: every import points down the layers, and the
ground floors (domain/, core/) import no I/O, no asyncio and nothing above them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "host" / "sidedesk"

# Higher may import lower or its own layer, never higher.
LAYERS: dict[str, int] = {
    "domain": 0,
    "core": 1,
    "logs": 1,
    "identity": 1,
    "net": 1,
    "store": 1,
    "vault": 1,
    "brokers": 2,
    "app": 3,
    "localstream": 3,
    "trading": 3,
    "api": 4,
    "runtime": 5,
    "native": 5,
    "service": 5,
    "install": 5,
    "sim": 6,  # (left the package: host/sidedesk_sim)
    "demo": 6,
    "main": 7,
    "cli": 7,
    "service_cli": 7,
}
GROUND_FORBIDDEN = ("asyncio", "socket", "websockets", "aiohttp", "sqlite3", "threading", "sidedesk_sim")


def imports(path: Path) -> list[str]:
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
    return out


def room(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


MODULES = sorted(p for p in PKG.rglob("*.py") if room(p) != "__init__" and "_pb2" not in p.name)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_down_the_layers(path: Path) -> None:
    mine = room(path)
    assert mine in LAYERS, f"{mine}/ has no layer: add it to LAYERS"
    for module in imports(path):
        parts = module.split(".")
        if parts[0] != "sidedesk" or len(parts) < 2:
            continue
        theirs = parts[1]
        if theirs == mine or theirs not in LAYERS:
            continue
        assert LAYERS[theirs] <= LAYERS[mine], f"{path.relative_to(PKG)} imports {module} (a layer above)"


@pytest.mark.parametrize(
    "path", [p for p in MODULES if room(p) in ("domain", "core")], ids=lambda p: str(p.relative_to(PKG))
)
def test_ground_floors_are_pure(path: Path) -> None:
    for module in imports(path):
        top = module.split(".")[0]
        assert top not in GROUND_FORBIDDEN, f"{path.relative_to(PKG)} imports {module}"
        if top == "sidedesk":
            allowed = {"domain"} if room(path) == "domain" else {"domain", "core"}
            assert module.split(".")[1] in allowed, f"{path.relative_to(PKG)} imports {module}"


# Every broker has one shape: protocol/ (pure: builds, parses, signs, maps), session.py (I/O),
# adapter.py (the Broker), config.py (typed config from the vault entry), checks.py (Test connection).
BROKERS = ("alpaca", "binance", "tradovate", "volumetrica")
PROTOCOL_FORBIDDEN = ("asyncio", "socket", "websockets", "aiohttp", "httpx", "sqlite3", "threading")
ABOVE_PROTOCOL = ("session", "adapter", "checks", "app", "api")


def targets(path: Path) -> list[str]:
    """Every module a file imports, `from a.b import c` counted as `a.b.c` too (c may be a module)."""
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out.extend(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
    return out


def _broker_modules(name: str) -> list[Path]:
    return sorted(p for p in (PKG / "brokers" / name).rglob("*.py") if "_pb2" not in p.name)


@pytest.mark.parametrize("name", BROKERS)
def test_every_broker_has_the_same_shape(name: str) -> None:
    folder = PKG / "brokers" / name
    for part in ("protocol/__init__.py", "session.py", "adapter.py", "config.py", "checks.py"):
        assert (folder / part).is_file(), f"brokers/{name}/{part} is missing"


@pytest.mark.parametrize(
    "path",
    [p for name in BROKERS for p in _broker_modules(name) if "protocol" in p.relative_to(PKG).parts],
    ids=lambda p: str(p.relative_to(PKG)),
)
def test_broker_protocol_is_pure(path: Path) -> None:
    for module in targets(path):
        parts = module.split(".")
        assert parts[0] not in PROTOCOL_FORBIDDEN, f"{path.relative_to(PKG)} imports {module}"
        if parts[0] != "sidedesk":
            continue
        assert parts[1] not in ABOVE_PROTOCOL, f"{path.relative_to(PKG)} imports {module}"
        if parts[1] == "brokers" and len(parts) > 3:
            assert parts[3] not in ABOVE_PROTOCOL, f"{path.relative_to(PKG)} imports {module}"


@pytest.mark.parametrize("name", BROKERS)
def test_broker_session_does_not_import_the_adapter(name: str) -> None:
    path = PKG / "brokers" / name / "session.py"
    for module in targets(path):
        assert module.split(".")[-1] not in ("adapter", "checks"), (
            f"brokers/{name}/session.py imports {module}"
        )


def test_broker_registry_rows_build_their_adapters() -> None:
    from sidedesk.brokers.registry import REGISTRY

    assert sorted(row.name for row in REGISTRY.values()) == sorted(BROKERS)
    for entry_type, row in REGISTRY.items():
        adapter = row.adapter_class()
        assert adapter.__module__ == f"sidedesk.brokers.{row.name}.adapter"  # type: ignore[attr-defined]
        assert row.config.__module__ == f"sidedesk.brokers.{row.name}.config"
        assert entry_type.model_fields["broker"].annotation.__args__ == (row.name,)  # type: ignore[union-attr]
