"""Connection-level messages: hello, ping, subscribe/unsubscribe, stats."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sidedesk.api import fast
from sidedesk.api.context import percentile
from sidedesk.api.registry import handler
from sidedesk.api.wire import Topic

if TYPE_CHECKING:
    from sidedesk.api.context import Ctx


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HelloRequest(Strict):
    client: str | None = Field(None, max_length=64, strict=True, description="e.g. 'sidedesk-extension'")
    client_version: str | None = Field(None, max_length=32, strict=True)


class HelloReply(BaseModel):
    host_version: str
    protocol_version: int
    capabilities: list[str]
    vault: Literal["absent", "locked", "unlocked"]
    pid: int


@handler("hello", HelloRequest, HelloReply)
async def hello(ctx: Ctx, req: HelloRequest) -> HelloReply:
    """First message on a new port: versions, capabilities and vault state."""
    # dispatch answers hello through api/fast.py before pydantic is loaded; this is the same
    # function behind the model (kept for the schema and checked against it by a test)
    return HelloReply(**fast.hello(ctx.session, req.model_dump()))


class PingRequest(Strict):
    t: float | None = Field(
        None, strict=True, allow_inf_nan=False, description="client timestamp, echoed back"
    )
    rtt_ms: float | None = Field(
        None,
        ge=0,
        le=fast.RTT_MAX_MS,
        strict=True,
        allow_inf_nan=False,
        description="the client's last round trip",
    )


class PingReply(BaseModel):
    t: float | None
    host_time: float


@handler("ping", PingRequest, PingReply)
async def ping(ctx: Ctx, req: PingRequest) -> PingReply:
    """Echo; the client measures the native round trip and reports it in its next ping."""
    return PingReply(**fast.ping(ctx.session, req.model_dump()))


class SubscribeRequest(Strict):
    topics: list[Topic] = Field(min_length=1)


class TopicSnapshot(BaseModel):
    seq: int
    payload: Any


class SubscribeReply(BaseModel):
    snapshots: dict[str, TopicSnapshot]


@handler("subscribe", SubscribeRequest, SubscribeReply)
async def subscribe(ctx: Ctx, req: SubscribeRequest) -> SubscribeReply:
    """Full snapshot of each topic now; deltas follow as events numbered after `seq`."""
    snaps = ctx.session.stream.subscribe(list(req.topics))
    return SubscribeReply(snapshots={k: TopicSnapshot(**v) for k, v in snaps.items()})


class UnsubscribeReply(BaseModel):
    topics: list[str]


@handler("unsubscribe", SubscribeRequest, UnsubscribeReply)
async def unsubscribe(ctx: Ctx, req: SubscribeRequest) -> UnsubscribeReply:
    """Stop pushes on these topics."""
    ctx.session.stream.unsubscribe(list(req.topics))
    return UnsubscribeReply(topics=sorted(ctx.session.stream.subscribed))


class StatsRequest(Strict):
    pass


class LatencySummary(BaseModel):
    count: int
    p50: float | None
    p99: float | None
    last: float | None


class StatsReply(BaseModel):
    uptime_s: float
    frames_in: int
    frames_out: int
    bytes_in: int
    bytes_out: int
    bad_frames: int
    errors: int
    handler_us: LatencySummary
    native_rtt_ms: LatencySummary
    pushes: dict[str, int]
    push_rate_per_s: dict[str, float] = Field(description="over the last 10 s")
    coalesced: int
    coalescing_ratio: float | None = Field(description="updates offered per push sent (1 = no coalescing)")
    sources: dict[str, Any] = Field(
        description="per exchange source: event/price age, freshness class, last exchange-to-host delay (ms)"
    )


def summary(values: list[float]) -> LatencySummary:
    return LatencySummary(
        count=len(values),
        p50=percentile(values, 0.5),
        p99=percentile(values, 0.99),
        last=values[-1] if values else None,
    )


@handler("stats", StatsRequest, StatsReply)
async def stats(ctx: Ctx, req: StatsRequest) -> StatsReply:
    """Counters for the Setup tab's diagnostics."""
    c = ctx.session.counters
    co = ctx.session.stream.coalescer
    return StatsReply(
        uptime_s=round(ctx.session.clock() - ctx.session.started, 3),
        frames_in=c.frames_in,
        frames_out=c.frames_out,
        bytes_in=c.bytes_in,
        bytes_out=c.bytes_out,
        bad_frames=c.bad_frames,
        errors=ctx.session.metrics.errors,
        handler_us=summary(list(ctx.session.metrics.handler_us)),
        native_rtt_ms=summary(list(ctx.session.metrics.native_rtt_ms)),
        pushes=dict(ctx.session.stream.pushes),
        push_rate_per_s=ctx.session.stream.rates(),
        coalesced=co.offered - co.sent,
        coalescing_ratio=round(co.offered / co.sent, 2) if co.sent else None,
        sources=ctx.services.books.staleness.report(time.monotonic()),
    )
