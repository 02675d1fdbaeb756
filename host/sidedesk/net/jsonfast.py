"""JSON decoding for exchange frames.

`loads` is the standard library's (exact for every number). `loads_market` uses orjson, for
market-data frames only: they are the tick path's largest cost, and carry nothing but string
prices and millisecond / update ids. orjson is not used for account frames because it turns an
integer beyond 64 bits into a float without a word.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

loads: Callable[[str | bytes], Any] = json.loads


def loads_market(data: str | bytes) -> Any:
    """Like json.loads (raises ValueError on bad input), about 1.4x faster per tick."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # the standard parser decides, and words the error
