"""The envelope as plain values: topic names and reply/event builders.

Pydantic-free on purpose: the start path (up to the `hello` reply) imports only this, so the
host answers within its start-up budget; `envelope.py` holds the pydantic models of the same
envelope for validation and the JSON Schema.
"""

from __future__ import annotations

from typing import Any, Literal

from sidedesk import PROTOCOL_VERSION

V1: Literal[1] = 1
Topic = Literal["status", "account", "positions", "orders", "quotes", "asl", "log"]
TOPICS: tuple[str, ...] = Topic.__args__  # type: ignore[attr-defined]


def reply_ok(request_id: str | int | None, type_: str, result: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": request_id, "type": type_, "ok": result}


def reply_error(request_id: str | int | None, type_: str, error: dict[str, Any]) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": request_id, "type": type_, "error": error}


def event(topic: str, seq: int, payload: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "type": "event", "topic": topic, "seq": seq, "payload": payload}


def batch(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Several pushes that fell due together, in one frame; each keeps its topic and seq."""
    return {"v": PROTOCOL_VERSION, "type": "batch", "events": events}
