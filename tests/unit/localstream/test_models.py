"""The published schema is current, and the stream's models cover exactly the desk's views."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from sidedesk.core.asl.model import AslEvent, PositionKey
from sidedesk.domain import (
    BalanceEvent,
    OrderEvent,
    OrderStatus,
    OrderType,
    PositionEvent,
    PositionSide,
    QuoteEvent,
    Side,
)
from sidedesk.localstream import models
from sidedesk.localstream.schema import SCHEMA_FILE, render
from sidedesk.main import compose
from sidedesk.runtime import Host
from sidedesk.store.config import HostConfig, LocalStreamSettings
from sidedesk.store.paths import Paths
from tests.support.transport import NullTransport


def test_checked_in_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        "localstream/schema.json is out of date: run `python -m sidedesk.localstream.schema --write`"
    )


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


async def test_models_match_the_desk_views(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "l")
    host = Host(NullTransport(), paths, HostConfig(), compose=compose)
    desk = host.services.books
    now = int(time.time() * 1000)
    d = Decimal
    desk.on_event(
        "acc", PositionEvent("acc", "BTCUSDT", PositionSide.BOTH, d("1"), d("100"), mark_price=d("101"))
    )
    desk.on_event("acc", BalanceEvent("acc", "USDT", d("1000"), ts_ms=now))
    desk.on_event("acc", QuoteEvent("BTCUSDT", bid=d("100"), ask=d("102"), mark=d("101"), ts_ms=now))
    desk.on_event(
        "acc",
        OrderEvent(
            "acc",
            "BTCUSDT",
            "1",
            "c1",
            Side.SELL,
            OrderType.STOP_MARKET,
            OrderStatus.NEW,
            d("1"),
            d("0"),
            stop_price=d("90"),
            reduce_only=True,
            update_time_ms=now,
        ),
    )
    key = PositionKey("acc", "BTCUSDT", PositionSide.BOTH)
    ev = AslEvent(
        key, now, "placed", True, True, d("1"), d("100"), 0, "c1", "hard", "stop", d("90"), None, d("101")
    )
    asl_row = {**ev.to_payload(), "position_id": "acc|BTCUSDT|BOTH"}
    views: list[tuple[type[BaseModel], dict[str, Any]]] = [
        (models.PositionRow, desk.positions_view()["positions"][0]),
        (models.PnlTotal, desk.positions_view()["totals"][0]),
        (models.OrderRow, desk.orders_view()["orders"][0]),
        (models.AccountRow, desk.account_view()["accounts"][0]),
        (models.Quote, desk.quotes_view()["quotes"]["BTCUSDT"]),
        (models.StatusPayload, {k: v for k, v in host.status().items() if k != "pid"}),
        (models.AslPosition, asl_row),
    ]
    for model, row in views:
        assert set(row) == _fields(model), f"{model.__name__} differs from the host's view: update models.py"
        model.model_validate(row)
    topics = {
        "positions": desk.positions_view,
        "orders": desk.orders_view,
        "account": desk.account_view,
        "quotes": desk.quotes_view,
        "asl": host.services.protection.view,
        "status": host.status,
    }
    for topic, fn in topics.items():
        assert models.payload_json(topic, fn())
    assert "pid" not in models.payload_json("status", host.status())
    await host.shutdown()


def test_client_messages_are_strict() -> None:
    ok = models.CLIENT_MESSAGE.validate_json('{"type":"subscribe","topics":["positions"],"id":"a"}')
    assert isinstance(ok, models.Subscribe)
    for bad in ('{"type":"subscribe","topics":["log"]}', '{"type":"ping","x":1}', '{"type":"place"}', "[]",
                '{"type":"ping","id":' + "9" * 30 + "}"):  # fmt: skip
        with pytest.raises(ValidationError):
            models.CLIENT_MESSAGE.validate_json(bad)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"port": 443}, "1024 to 65535"),
        ({"port": 70000}, "65535"),
        ({"batch_ms": 0}, "batch_ms"),
        ({"allowed_origins": ["null"]}, "origin"),
        ({"allowed_origins": ["localhost:3000"]}, "origin"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_settings_validation(changes: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        LocalStreamSettings.model_validate(changes)
    assert needle in str(err.value)


def test_settings_defaults_and_normalisation() -> None:
    s = LocalStreamSettings.model_validate(
        {"allowed_origins": ["http://LOCALHOST:3000/", "http://localhost:3000"]}
    )
    assert not s.enabled and s.batch_ms == 1000 and s.heartbeat_s == 15 and s.idle_timeout_s == 30
    assert s.allowed_origins == ["http://localhost:3000"]
    assert HostConfig().localstream == LocalStreamSettings()
