"""Tradovate's WebSocket protocol, pure (brokers.md §1.3, §1.4, §1.8, §1.9).

Server frames: `o` open, `h` heartbeat, `a[...]` a JSON array of responses `{"s","i","d"}` and
events `{"e","d"}` (one frame can carry several, mixed), `c[code,"reason"]` close. Client frames:
`[]` heartbeat, and requests `endpoint\\nid\\nquery\\nbody` (empty lines kept; `authorize` takes the
raw token as its body). Parsers are tolerant: unknown fields are ignored, a malformed frame is a
`ParseError` value, and one bad message inside `a[...]` does not lose the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

HEARTBEAT = "[]"


@dataclass(frozen=True, slots=True)
class Open:
    pass


@dataclass(frozen=True, slots=True)
class Heartbeat:
    pass


@dataclass(frozen=True, slots=True)
class Close:
    code: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    id: int
    data: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    data: Any


@dataclass(frozen=True, slots=True)
class Messages:
    items: tuple[Response | Event, ...]
    errors: tuple[str, ...] = ()  # messages of the array that could not be read


@dataclass(frozen=True, slots=True)
class ParseError:
    reason: str


Frame = Open | Heartbeat | Close | Messages | ParseError


def loads(text: str) -> Any:
    """JSON with every non-integer number as Decimal (prices never pass through float)."""
    return json.loads(text, parse_float=Decimal)


def parse_frame(data: str | bytes) -> Frame:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return ParseError("frame is not UTF-8")
    if not data:
        return ParseError("empty frame")
    kind, rest = data[0], data[1:]
    if kind == "o" and not rest.strip():
        return Open()
    if kind == "h" and not rest.strip():
        return Heartbeat()
    if kind == "c":
        try:
            body = json.loads(rest) if rest.strip() else []
        except ValueError:
            return Close(None, rest[:200])
        code = body[0] if isinstance(body, list) and body and isinstance(body[0], int) else None
        reason = body[1] if isinstance(body, list) and len(body) > 1 and isinstance(body[1], str) else ""
        return Close(code, reason)
    if kind == "a":
        try:
            body = loads(rest)
        except ValueError:
            return ParseError("a-frame is not JSON")
        if not isinstance(body, list):
            return ParseError("a-frame is not a JSON array")
        items: list[Response | Event] = []
        errors: list[str] = []
        for raw in body:
            msg = parse_message(raw)
            if isinstance(msg, ParseError):
                errors.append(msg.reason)
            else:
                items.append(msg)
        return Messages(tuple(items), tuple(errors))
    return ParseError(f"unknown frame type {kind!r}")


def parse_message(raw: Any) -> Response | Event | ParseError:
    if not isinstance(raw, dict):
        return ParseError("message is not an object")
    if "e" in raw:
        name = raw.get("e")
        if not isinstance(name, str):
            return ParseError("event name is not a string")
        return Event(name, raw.get("d"))
    status, rid = raw.get("s"), raw.get("i")
    if isinstance(status, bool) or not isinstance(status, int):
        return ParseError("response without an integer status")
    if isinstance(rid, bool) or not isinstance(rid, int):
        return ParseError("response without an integer id")
    return Response(status, rid, raw.get("d"))


# -- requests ---------------------------------------------------------------------------------------


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: object) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"))


def encode_query(query: Mapping[str, object] | str | None) -> str:
    if query is None:
        return ""
    if isinstance(query, str):
        return query
    return "&".join(f"{k}={v}" for k, v in query.items())


def encode_request(
    endpoint: str, rid: int, query: Mapping[str, object] | str | None = None, body: object = None
) -> str:
    """`endpoint\\nid\\nquery\\nbody`: the empty lines stay (brokers.md §1.3)."""
    if "\n" in endpoint or not endpoint:
        raise ValueError("endpoint must be one non-empty line")
    text = "" if body is None else dumps(body)
    return f"{endpoint}\n{rid}\n{encode_query(query)}\n{text}"


def encode_authorize(rid: int, token: str) -> str:
    """The body is the raw token, not JSON-quoted."""
    if not token or "\n" in token:
        raise ValueError("the token must be one non-empty line")
    return f"authorize\n{rid}\n\n{token}"


# -- response payloads ------------------------------------------------------------------------------


def error_text(data: Any) -> str:
    """The text of an error `d`: a string, often JSON-quoted inside (`"\\"Not found: x\\""`)."""
    if isinstance(data, str):
        text = data
        if len(text) >= 2 and text[0] == text[-1] == '"':
            try:
                inner = json.loads(text)
                text = inner if isinstance(inner, str) else text
            except ValueError:
                pass
        return text[:300]
    if isinstance(data, dict):
        for key in ("errorText", "failureText", "message", "text"):
            if isinstance(data.get(key), str):
                return str(data[key])[:300]
    return "" if data is None else str(data)[:300]


@dataclass(frozen=True, slots=True)
class Penalty:
    ticket: str
    seconds: float
    captcha: bool


def penalty_of(data: Any) -> Penalty | None:
    """`{"p-ticket","p-time"[,"p-captcha"]}` in a 200 answer (REST body or WS `d`)."""
    if not isinstance(data, dict) or not isinstance(data.get("p-ticket"), str):
        return None
    seconds = data.get("p-time", 0)
    try:
        wait = float(seconds) if not isinstance(seconds, bool) else 0.0
    except (TypeError, ValueError):
        wait = 0.0
    return Penalty(data["p-ticket"], max(0.0, wait), data.get("p-captcha") is True)


@dataclass(frozen=True, slots=True)
class Failure:
    reason: str
    text: str


def failure_of(data: Any) -> Failure | None:
    """An order command refused with `failureReason`/`failureText` (still s 200)."""
    if not isinstance(data, dict):
        return None
    reason = data.get("failureReason")
    if not isinstance(reason, str) or reason == "Success":
        return None
    text = data.get("failureText")
    return Failure(reason, text if isinstance(text, str) and text else reason)


# -- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PropsChange:
    entity_type: str
    event_type: str  # Created | Updated | Deleted
    entity: dict[str, Any]


def props_changes(data: Any) -> tuple[list[PropsChange], list[str]]:
    """The changes of one `props` event. `d` may be one object or (with splitResponses) an array,
    and `entity` may itself be an array (brokers.md §1.4): every form is flattened."""
    items = data if isinstance(data, list) else [data]
    out: list[PropsChange] = []
    errors: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            errors.append("props item is not an object")
            continue
        etype, event = item.get("entityType"), item.get("eventType")
        if not isinstance(etype, str) or not isinstance(event, str):
            errors.append("props item without entityType/eventType")
            continue
        entities = item.get("entity")
        for entity in entities if isinstance(entities, list) else [entities]:
            if isinstance(entity, dict) and "id" in entity:
                out.append(PropsChange(etype, event, entity))
            else:
                errors.append(f"{etype} entity without an id")
    return out, errors


@dataclass(frozen=True, slots=True)
class QuoteUpdate:
    contract_id: int
    bid: Decimal | None = None
    ask: Decimal | None = None
    last: Decimal | None = None
    ts_ms: int = 0


def quotes_of(data: Any) -> list[QuoteUpdate]:
    """`md` event quotes; any entry may be missing or carry only a size (merge per contract)."""
    if not isinstance(data, dict) or not isinstance(data.get("quotes"), list):
        return []
    out = []
    for q in data["quotes"]:
        if not isinstance(q, dict) or isinstance(q.get("contractId"), bool):
            continue
        cid = q.get("contractId")
        entries = q.get("entries")
        if not isinstance(cid, int) or not isinstance(entries, dict):
            continue
        out.append(
            QuoteUpdate(
                cid,
                price_of(entries.get("Bid")),
                price_of(entries.get("Offer")),
                price_of(entries.get("Trade")),
                iso_ms(q.get("timestamp")),
            )
        )
    return out


def price_of(entry: Any) -> Decimal | None:
    if not isinstance(entry, dict):
        return None
    return decimal(entry.get("price"))


def decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def iso_ms(value: Any) -> int:
    """Epoch ms of an ISO-8601 timestamp (`2026-01-15T14:30:00.626Z`); 0 when unreadable."""
    if not isinstance(value, str) or not value:
        return 0
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class Shutdown:
    reason_code: str
    reason: str = ""


def shutdown_of(data: Any) -> Shutdown:
    if isinstance(data, dict):
        return Shutdown(str(data.get("reasonCode", "")), str(data.get("reason", "") or ""))
    return Shutdown("", "")


__all__ = [
    "HEARTBEAT",
    "Close",
    "Event",
    "Failure",
    "Frame",
    "Heartbeat",
    "Messages",
    "Open",
    "ParseError",
    "Penalty",
    "PropsChange",
    "QuoteUpdate",
    "Response",
    "Shutdown",
    "decimal",
    "encode_authorize",
    "encode_query",
    "encode_request",
    "error_text",
    "failure_of",
    "iso_ms",
    "parse_frame",
    "penalty_of",
    "props_changes",
    "quotes_of",
    "shutdown_of",
]
