from __future__ import annotations

from sidedesk.api.registry import REGISTRY
from sidedesk.api.schema_export import SCHEMA_FILE, build_schema, render


def test_checked_in_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        "protocol.json is stale: run `make schema` and commit the result"
    )


def test_every_registered_message_is_in_the_schema() -> None:
    schema = build_schema()
    assert set(schema["messages"]) == set(REGISTRY)
    for name, entry in schema["messages"].items():
        assert entry["request"]["type"] == "object", name
        assert entry["reply"]["type"] == "object", name
    assert "event" in schema["envelope"] and "unknown_outcome" in schema["error_codes"]
