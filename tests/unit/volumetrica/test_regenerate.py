"""Regenerating the protobuf module from proto/volumetrica.proto gives the committed files byte for byte."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_generated_module_is_current(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "build" / "gen_proto.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    written = gen.generate(tmp_path)
    assert {p.name for p in written} == {"volumetrica_pb2.py", "volumetrica_pb2.pyi"}
    package = ROOT / "host" / "sidedesk" / "brokers" / "volumetrica" / "protocol"
    for p in written:
        assert p.read_bytes() == (package / p.name).read_bytes(), f"{p.name} is stale: run `make proto`"
