"""Turn one decoded request object into one reply object.

Validation happens here, at the edge: the envelope first (precise `bad_request` errors), then
the payload against the handler's model (`invalid`, with the failing fields but never the
submitted values, which may be secrets).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sidedesk import PROTOCOL_VERSION
from sidedesk.api.catalog import load_for
from sidedesk.api.context import Ctx
from sidedesk.api.errors import ApiError
from sidedesk.api.fast import FAST
from sidedesk.api.registry import REGISTRY
from sidedesk.api.wire import reply_error, reply_ok
from sidedesk.domain.errors import Refused

if TYPE_CHECKING:
    from pydantic import ValidationError

    from sidedesk.api.context import Services, Session

log = logging.getLogger(__name__)

ENVELOPE_KEYS = frozenset({"v", "id", "type", "payload"})


SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


def _loc_part(part: object) -> str:
    # An unexpected key is echoed only if it looks like a field name: a secret pasted into the
    # wrong place can arrive as a key, and must not come back in the reply.
    text = str(part)
    return text if isinstance(part, int) or SAFE_NAME.match(text) else "<unexpected key>"


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors without the offending input (it could be a password or an API secret)."""
    return [
        {"field": ".".join(_loc_part(p) for p in err["loc"]) or "(payload)", "problem": err["msg"]}
        for err in exc.errors(include_input=False, include_url=False, include_context=False)
    ]


def _request_id(message: dict[str, Any]) -> str | int | None:
    rid = message.get("id")
    if isinstance(rid, bool) or not isinstance(rid, str | int):
        return None
    return rid


def check_envelope(message: dict[str, Any]) -> ApiError | None:
    v = message.get("v")
    if v != PROTOCOL_VERSION or isinstance(v, bool):
        return ApiError(
            "bad_request",
            f"unsupported protocol version {v!r}; this host speaks v{PROTOCOL_VERSION} "
            "(update the extension or the host)",
        )
    if _request_id(message) is None:
        return ApiError("bad_request", "missing or invalid 'id' (a string or an integer)")
    if not isinstance(message.get("type"), str) or not message["type"]:
        return ApiError("bad_request", "missing or invalid 'type' (a non-empty string)")
    if "payload" in message and not isinstance(message["payload"], dict):
        return ApiError("bad_request", "'payload' must be a JSON object")
    extra = set(message) - ENVELOPE_KEYS
    if extra:
        return ApiError("bad_request", f"unexpected envelope field(s): {', '.join(sorted(extra))}")
    return None


def _internal(rid: str | int | None, type_: str, what: str) -> dict[str, Any]:
    ref = secrets.token_hex(4)
    log.exception("%s failed (ref %s)", what, ref)
    err = ApiError(
        "internal", f"the host hit an internal error handling {what}; see the host log (ref {ref})"
    )
    return reply_error(rid, type_, err.body())


async def dispatch(
    session: Session, services: Callable[[], Services], message: dict[str, Any]
) -> dict[str, Any]:
    """One reply for one request, whatever it holds: any failure outside a handler's own error
    handling (the envelope checks, the fast path) still answers its id with a coded error."""
    rid = _request_id(message)
    raw_type = message.get("type")
    type_ = raw_type if isinstance(raw_type, str) else ""
    try:
        return await _dispatch(session, services, message, rid, type_)
    except Exception:
        return _internal(rid, type_, ascii(type_[:40]))


async def _dispatch(
    session: Session,
    services: Callable[[], Services],
    message: dict[str, Any],
    rid: str | int | None,
    type_: str,
) -> dict[str, Any]:
    problem = check_envelope(message)
    if problem is not None:
        return reply_error(rid, type_, problem.body())
    fast = FAST.get(type_)
    if fast is not None:  # hello/ping: answered without pydantic (the start-up budget)
        payload = message.get("payload", {})
        problems = fast.check(payload)
        if problems:
            return reply_error(
                rid, type_, ApiError("invalid", f"invalid {type_} payload", {"errors": problems}).body()
            )
        return reply_ok(rid, type_, fast.run(session, payload))
    handler = REGISTRY.get(type_)
    if handler is None:
        load_for(type_)
        handler = REGISTRY.get(type_)
    if handler is None:
        return reply_error(
            rid,
            type_,
            ApiError("unknown_type", f"unknown message type {type_!r}", {"known": sorted(REGISTRY)}).body(),
        )
    from pydantic import ValidationError  # first use after the fast path: keeps pydantic off the start

    try:
        request = handler.request.model_validate(message.get("payload", {}))
    except ValidationError as exc:
        err = ApiError("invalid", f"invalid {type_} payload", {"errors": field_errors(exc)})
        return reply_error(rid, type_, err.body())
    try:
        result = await handler.fn(Ctx(session, services), request)
    except Refused as exc:  # a service's or a broker's "no", and the handlers' own ApiError
        return reply_error(rid, type_, exc.body())
    except Exception:
        return _internal(rid, type_, ascii(type_[:40]))
    return reply_ok(rid, type_, result.model_dump(mode="json"))
