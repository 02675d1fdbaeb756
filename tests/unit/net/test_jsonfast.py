from __future__ import annotations

import pytest

from sidedesk.net import jsonfast

FRAME = b'{"e":"markPriceUpdate","E":1591702613943,"s":"BTCUSDT","p":"11794.15000000"}'


def test_the_market_parser_agrees_with_the_standard_one() -> None:
    assert jsonfast.loads_market(FRAME) == jsonfast.loads(FRAME)
    assert jsonfast.loads_market(FRAME.decode()) == jsonfast.loads(FRAME)


def test_the_exact_parser_keeps_integers_beyond_64_bits() -> None:
    # why account frames never go through orjson: it would make this a float
    assert jsonfast.loads('{"id": 123456789012345678901234567890}') == {"id": 123456789012345678901234567890}


@pytest.mark.parametrize("bad", [b"", b"{", b"\xff\xfe", b'{"a":1,}'])
def test_bad_input_is_a_value_error(bad: bytes) -> None:
    with pytest.raises(ValueError):
        jsonfast.loads_market(bad)
    with pytest.raises(ValueError):
        jsonfast.loads(bad)
