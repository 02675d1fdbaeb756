"""Request parameters as Binance reads them: every value a string (REST form fields, WS raw literals).

Typed getters raise the documented errors: a missing, empty or malformed mandatory value is `-1102`,
a bad enum value has its own code (`-1116` type, `-1117` side, `-1115` timeInForce, ...).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from sidedesk_sim.binance.auth import render_ws_value
from sidedesk_sim.binance.errors import BinanceError, invalid, mandatory

DECIMAL_RE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
INT_RE = re.compile(r"^-?\d+$")


class Params:
    """Read-only view of a request's parameters; remembers which ones were read."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._v = dict(values)

    @classmethod
    def from_ws(cls, params: Mapping[str, object]) -> Params:
        return cls({k: render_ws_value(v) for k, v in params.items() if v is not None})

    @classmethod
    def from_form(cls, query: str, body: str) -> Params:
        """REST: query and urlencoded body; duplicates within one part are -1101, the query wins across."""
        merged: dict[str, str] = {}
        for part in (body, query):  # query last so that it wins
            seen: set[str] = set()
            for k, v in _parse_qsl(part):
                if k in seen:
                    raise BinanceError(-1101)
                seen.add(k)
                merged[k] = v
        return cls(merged)

    def __contains__(self, name: object) -> bool:
        return name in self._v and self._v[name] != ""

    def keys(self) -> Iterable[str]:
        return self._v.keys()

    def raw(self) -> dict[str, str]:
        return dict(self._v)

    def opt(self, name: str) -> str | None:
        v = self._v.get(name)
        return v if v not in (None, "") else None

    def req(self, name: str) -> str:
        v = self.opt(name)
        if v is None:
            raise mandatory(name)
        return v

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        v = self.req(name) if required else self.opt(name)
        if v is None:
            return None
        if not DECIMAL_RE.match(v):
            raise mandatory(name)
        try:
            d = Decimal(v)
        except InvalidOperation as exc:  # pragma: no cover - the regex already filters
            raise mandatory(name) from exc
        if not d.is_finite():
            raise mandatory(name)
        return d

    def req_decimal(self, name: str) -> Decimal:
        d = self.decimal(name, required=True)
        assert d is not None
        return d

    def integer(self, name: str, *, required: bool = False) -> int | None:
        v = self.req(name) if required else self.opt(name)
        if v is None:
            return None
        if not INT_RE.match(v):
            raise mandatory(name)
        return int(v)

    def req_int(self, name: str) -> int:
        i = self.integer(name, required=True)
        assert i is not None
        return i

    def boolean(self, name: str, default: bool = False) -> bool:
        v = self.opt(name)
        if v is None:
            return default
        low = v.lower()
        if low == "true":
            return True
        if low == "false":
            return False
        raise invalid(name)

    def enum(
        self, name: str, allowed: Iterable[str], error: int | None = None, default: str | None = None
    ) -> str:
        v = self.opt(name)
        if v is None:
            if default is not None:
                return default
            raise mandatory(name)
        if v not in set(allowed):
            raise BinanceError(error) if error is not None else invalid(name)
        return v


def _parse_qsl(raw: str) -> list[tuple[str, str]]:
    try:
        return urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeDecodeError as exc:
        raise BinanceError(-1100, msg="Illegal characters found in a parameter.") from exc


def check_timestamp(params: Params, now_ms: int) -> None:
    """Binance's rule (binance.md §3.2): ts < serverTime + 1000 and serverTime - ts <= recvWindow.

    No maximum recvWindow is enforced: the futures docs document none and use 9999999 in examples (§11 #5).
    """
    ts = params.req_int("timestamp")
    window = params.integer("recvWindow")
    if window is None:
        window = 5000
    if window <= 0:
        raise invalid("recvWindow")
    if ts >= now_ms + 1000:
        raise BinanceError(-1021, msg="Timestamp for this request was 1000ms ahead of the server's time.")
    if now_ms - ts > window:
        raise BinanceError(-1021)
