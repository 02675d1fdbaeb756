"""Server side of Tradovate's SockJS-like text frames (brokers.md §1.3). Pure.

Server frames: `o` (open), `h` (heartbeat), `a[...]` (JSON array of responses and events), and
`c[code,"reason"]` (close). Client frames: `[]` (heartbeat) or a request of four lines
`endpoint\\nid\\nquery\\nbody`; endpoints are matched case-insensitively (the official samples
mix cases), the body is JSON or, for `authorize`, the raw token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

OPEN = "o"
HEARTBEAT = "h"
CLIENT_HEARTBEAT = "[]"


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        # prices/quantities go out as JSON numbers, as Tradovate sends them
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: object) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"))


def array_frame(messages: list[dict[str, Any]]) -> str:
    return "a" + dumps(messages)


def close_frame(code: int, reason: str) -> str:
    return "c" + dumps([code, reason])


def response(request_id: int, status: int, data: object = None) -> dict[str, Any]:
    out: dict[str, Any] = {"s": status, "i": request_id}
    if data is not None:
        out["d"] = data
    return out


def error_text(text: str) -> str:
    """Error `d` as observed: a JSON-encoded string inside the string (`"\\"Not found: x\\""`)."""
    return json.dumps(text)


def event(name: str, data: object) -> dict[str, Any]:
    return {"e": name, "d": data}


def props(entity_type: str, event_type: str, entity: dict[str, Any]) -> dict[str, Any]:
    return event("props", {"entityType": entity_type, "eventType": event_type, "entity": entity})


@dataclass(frozen=True)
class Request:
    endpoint: str  # lower-cased
    id: int
    query: dict[str, str]
    body: str  # raw text (JSON, a raw token, or empty)

    def json_body(self) -> Any:
        """The body as JSON (None when empty); raises ValueError when it is not JSON."""
        if not self.body.strip():
            return None
        return json.loads(self.body, parse_float=Decimal)


class BadFrame(ValueError):
    pass


def parse_query(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        out[key.strip().lower()] = value.strip()
    return out


def parse_request(text: str) -> Request:
    """One client request; raises BadFrame (with a message for the client) when malformed."""
    parts = text.split("\n", 3)
    if len(parts) < 2:
        raise BadFrame("a request is endpoint\\nid\\nquery\\nbody")
    endpoint = parts[0].strip().strip("/").lower()
    if not endpoint:
        raise BadFrame("empty endpoint")
    try:
        rid = int(parts[1].strip())
    except ValueError:
        raise BadFrame("the request id must be an integer") from None
    query = parse_query(parts[2]) if len(parts) > 2 else {}
    body = parts[3] if len(parts) > 3 else ""
    return Request(endpoint, rid, query, body)
