"""The versioned envelope every frame uses, as pydantic models (also exported as JSON Schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sidedesk.api.wire import TOPICS, V1, Topic, event, reply_error, reply_ok

__all__ = [
    "TOPICS",
    "Chunk",
    "ErrorBody",
    "Event",
    "Reply",
    "Request",
    "Topic",
    "event",
    "reply_error",
    "reply_ok",
]

RequestId = str | int


class Request(BaseModel):
    """Extension -> host."""

    model_config = ConfigDict(extra="forbid")
    v: Literal[1] = Field(description="protocol version")
    id: RequestId = Field(description="echoed in the reply")
    type: str = Field(description="message type, e.g. 'hello'")
    payload: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class Reply(BaseModel):
    """Host -> extension, answering one request: exactly one of `ok` and `error` is present."""

    v: Literal[1] = V1
    id: RequestId | None
    type: str
    ok: Any | None = None
    error: ErrorBody | None = None


class Event(BaseModel):
    """Host -> extension push. `seq` grows by one per push on each topic, so a gap is visible."""

    v: Literal[1] = V1
    type: Literal["event"] = "event"
    topic: Topic
    seq: int
    payload: Any


class Chunk(BaseModel):
    """One piece of a frame too large for native messaging; `data` pieces concatenate to its JSON text."""

    v: Literal[1] = V1
    type: Literal["chunk"] = "chunk"
    chunk_id: int
    index: int
    count: int
    data: str


class Batch(BaseModel):
    """Host -> extension: pushes of several topics that fell due at the same moment."""

    v: Literal[1] = V1
    type: Literal["batch"] = "batch"
    events: list[Event]
