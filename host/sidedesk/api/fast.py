"""`hello` and `ping` without pydantic, so the host answers Chrome's first message before the
models (and pydantic itself) are imported.

Each message has a pure check (the payload's problems, in the same `field`/`problem` form the
model path gives) and a result builder. `system.py` keeps the pydantic models of both messages
for the JSON Schema and routes its own handlers through these functions; a test holds the two
in agreement.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sidedesk import PROTOCOL_VERSION, __version__

if TYPE_CHECKING:
    from sidedesk.api.context import Session

Problems = list[dict[str, str]]


def _text(payload: Mapping[str, Any], name: str, max_len: int, out: Problems) -> None:
    value = payload.get(name)
    if value is None:
        return
    if not isinstance(value, str):
        out.append({"field": name, "problem": "Input should be a valid string"})
    elif len(value) > max_len:
        out.append({"field": name, "problem": f"String should have at most {max_len} characters"})


def _finite(value: float) -> bool:
    try:  # an int too large for a float (309+ digits) is not a number we can use
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _number(
    payload: Mapping[str, Any], name: str, out: Problems, lo: float | None = None, hi: float | None = None
) -> None:
    value = payload.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
        out.append({"field": name, "problem": "Input should be a finite number"})
    elif lo is not None and value < lo:
        out.append({"field": name, "problem": f"Input should be greater than or equal to {lo:g}"})
    elif hi is not None and value > hi:
        out.append({"field": name, "problem": f"Input should be less than or equal to {hi:g}"})


def _unknown(payload: Mapping[str, Any], known: frozenset[str], out: Problems) -> None:
    from sidedesk.api.dispatch import SAFE_NAME  # the same rule for echoing key names

    for key in payload:
        if key not in known:
            name = key if SAFE_NAME.match(key) else "<unexpected key>"
            out.append({"field": name, "problem": "Extra inputs are not permitted"})


HELLO_FIELDS = frozenset({"client", "client_version"})
PING_FIELDS = frozenset({"t", "rtt_ms"})
RTT_MAX_MS = 600_000.0


def check_hello(payload: Mapping[str, Any]) -> Problems:
    out: Problems = []
    _unknown(payload, HELLO_FIELDS, out)
    _text(payload, "client", 64, out)
    _text(payload, "client_version", 32, out)
    return out


def hello(session: Session, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "host_version": __version__,
        "protocol_version": PROTOCOL_VERSION,
        "capabilities": session.capabilities(),
        "vault": session.vault_state(),
        "pid": os.getpid(),
    }


def check_ping(payload: Mapping[str, Any]) -> Problems:
    out: Problems = []
    _unknown(payload, PING_FIELDS, out)
    _number(payload, "t", out)
    _number(payload, "rtt_ms", out, 0.0, RTT_MAX_MS)
    return out


def ping(session: Session, payload: Mapping[str, Any]) -> dict[str, Any]:
    rtt = payload.get("rtt_ms")
    if rtt is not None:
        session.metrics.native_rtt_ms.append(float(rtt))
    t = payload.get("t")
    return {"t": None if t is None else float(t), "host_time": time.time()}


@dataclass(frozen=True, slots=True)
class Fast:
    check: Callable[[Mapping[str, Any]], Problems]
    run: Callable[[Session, Mapping[str, Any]], dict[str, Any]]


FAST: dict[str, Fast] = {"hello": Fast(check_hello, hello), "ping": Fast(check_ping, ping)}
