"""Benchmark 1: the order path inside the host, native frame in -> signed frame on the socket.

Three views of the same path, because no single one is both complete and exact:

- outside-in: this process writes an `order.place` frame to the host's stdin (stamp 1); the
  simulator process stamps the signed `order.place` WS frame when it arrives (stamp 2). One clock
  (CLOCK_MONOTONIC), two processes. Includes the pipe, the loop's wake-up on stdin (a reader
  thread's hand-off on Windows), everything the host does, and loopback delivery + the simulator's
  wake-up. An upper bound.
- floor: the same stamp-2 measurement for a bare websockets client that does nothing but send, so
  the share of the outside-in figure that is loopback + measurement is known.
- host-reported `host_us`: OrderEntry.place_ticket entry -> the frame handed to the WS socket,
  stamped by the host itself (misses the frame decode, envelope check and pydantic validation). A
  lower bound.

Then a breakdown: the same pure functions the host runs, called in-process, timed per stage
(decode, validate, round, risk, journal, build, sign, encode, send), and a cProfile of the real
host process over a shorter run, which names the functions that dominate.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import HEADER, HostPipe, SimProcess, hot_spots, summary, trading_host


def ticket(i: int) -> dict[str, Any]:
    # Alternate sides so the position stays small however many orders run. ASL off: otherwise each
    # fill makes the host place and cancel protective stops, whose WS traffic competes with the next
    # order (measured apart, as `intent_to_socket_asl_on_us`, in the full run).
    side = "BUY" if i % 2 == 0 else "SELL"
    return {"ticket": {"symbol": "BTCUSDT", "side": side, "quantity": "0.002", "asl": False}}


def place_orders(host: HostPipe, n: int, gap_s: float = 0.002, asl: bool = False) -> list[dict[str, Any]]:
    """`n` serial orders, `gap_s` apart (a trader's orders find an idle host: the previous fill's
    events are processed in the gap); per order the write and reply stamps and the host's figures."""
    out = []
    for i in range(n):
        if gap_s:
            time.sleep(gap_s)
        t = ticket(i)
        t["ticket"]["asl"] = asl
        rid, data = host.frame_bytes("order.place", t)
        t_w = host.write(data)
        a = host.reply(rid, timeout=15)
        ok = a.frame.get("ok")
        if not isinstance(ok, dict):
            raise RuntimeError(f"order {i} failed: {a.frame.get('error')}")
        out.append(
            {
                "t_write": t_w,
                "t_reply": a.t_ns,
                "client_id": ok["client_id"],
                "host_us": ok.get("host_us"),
                "exchange_ms": ok.get("roundtrip_ms"),
            }
        )
        host.pending.clear()  # pushes (none subscribed) and anything else are not measured here
    return out


def measure_floor(sim: SimProcess, n: int) -> dict[str, Any]:
    """A bare client's send -> the simulator's arrival stamp (the measurement's own floor)."""
    from websockets.sync.client import connect

    samples = []
    with connect(sim.ws_api_url, compression=None) as ws:
        for i in range(n):
            frame = json.dumps(
                {
                    "id": f"f{i}",
                    "method": "order.place",
                    "params": {"symbol": "BTCUSDT", "newClientOrderId": f"floor{i}", "apiKey": "x"},
                }
            )
            t = time.perf_counter_ns()
            ws.send(frame)
            ws.recv(timeout=5)
            samples.append(t)
    stamps = sim.command({"cmd": "stamps"})["stamps"]
    lat = [(stamps[f"floor{i}"] - t) / 1000 for i, t in enumerate(samples) if f"floor{i}" in stamps]
    return summary(lat, "us")


# -- in-process breakdown ------------------------------------------------------------------------------


def _time(fn: Callable[[], Any], n: int, after: Callable[[], Any] | None = None) -> list[float]:
    """`fn`'s cost per call; `after` (untimed) runs between calls, as the host's loop would
    (the journal's fold of what was written ahead)."""
    out = []
    pc = time.perf_counter_ns
    for _ in range(n):
        t = pc()
        fn()
        out.append((pc() - t) / 1000)
        if after is not None:
            after()
    return out


def breakdown(sim: SimProcess, n: int, workdir: Path) -> dict[str, Any]:
    """Per-stage cost (µs, median and p99) of the functions the host calls for one order."""
    from sidedesk.api.dispatch import check_envelope
    from sidedesk.api.envelope import reply_ok
    from sidedesk.api.trading import PlaceReply, PlaceRequest
    from sidedesk.brokers.binance.protocol import messages as msg
    from sidedesk.brokers.binance.protocol import replies
    from sidedesk.brokers.binance.protocol.filters import parse_exchange_info
    from sidedesk.brokers.binance.protocol.signing import make_signer, ws_payload
    from sidedesk.core.orders import make_client_id, prepare
    from sidedesk.core.risk import OrderRate, RiskLimits, evaluate
    from sidedesk.domain import OrderAck, OrderStatus
    from sidedesk.native.framing import Frame, FrameDecoder, dumps, encode_body
    from sidedesk.store.journal import Journal

    with urllib.request.urlopen(sim.rest_url + "/fapi/v1/exchangeInfo", timeout=10) as resp:
        rules = parse_exchange_info(json.loads(resp.read())).rules["BTCUSDT"]
    key = sim.key()
    creds = msg.Credentials(key["apiKey"], make_signer(key["secret"]))
    body = json.dumps({"v": 1, "id": 7, "type": "order.place", "payload": ticket(0)}).encode()
    frame = HEADER.pack(len(body)) + body
    item = FrameDecoder().feed(frame)[0]
    assert isinstance(item, Frame)
    message = item.message
    req = PlaceRequest.model_validate(message["payload"])
    tk = req.ticket.ticket()
    mark = Decimal(60000)
    request = prepare(tk, rules, client_id=make_client_id("m"), mark_price=mark, hedge_mode=False)
    limits = RiskLimits(None, None, None, None)
    rate = OrderRate()
    journal = Journal(workdir / "bench-journal.sqlite3")
    call = msg.order_place(request)
    now_ms = int(time.time() * 1000)
    params = msg.ws_params(call, creds, timestamp=now_ms, recv_window=5000)
    text = msg.encode_ws("1", call.method, params)
    payload = ws_payload({**params})
    ack_text = json.dumps(
        {
            "id": "1",
            "status": 200,
            "result": {
                "orderId": 8000000001,
                "symbol": "BTCUSDT",
                "status": "NEW",
                "clientOrderId": request.client_id,
                "price": "0.00",
                "avgPrice": "0.00",
                "origQty": "0.002",
                "executedQty": "0.000",
                "cumQuote": "0.00000",
                "timeInForce": "GTC",
                "type": "MARKET",
                "reduceOnly": False,
                "side": "BUY",
                "positionSide": "BOTH",
                "updateTime": now_ms,
            },
            "rateLimits": [
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300, "count": 1}
            ],
        }
    )
    ack = OrderAck("8000000001", request.client_id, OrderStatus.NEW, Decimal(0), None, False, now_ms)

    def risk() -> Any:
        notional = request.quantity * mark * rules.contract_multiplier
        return evaluate(
            limits,
            order_notional=notional,
            position_notional_after=notional,
            reduces_only=False,
            source="panel",
            orders_last_minute=rate.count(now_ms),
            quote=rules.quote_asset,
        )

    def reply() -> bytes:
        r = PlaceReply(status="placed", client_id=ack.client_id, order_id=ack.order_id, order_status="NEW")
        return encode_body(dumps(reply_ok(7, "order.place", r.model_dump(mode="json"))))

    stages: dict[str, Callable[[], Any]] = {
        "decode (frame + JSON)": lambda: FrameDecoder().feed(frame),
        "validate (envelope + pydantic)": lambda: (
            check_envelope(message),
            PlaceRequest.model_validate(message["payload"]).ticket.ticket(),
        ),
        "round (prepare + client id)": lambda: prepare(
            tk, rules, client_id=make_client_id("m"), mark_price=mark, hedge_mode=False
        ),
        "risk (evaluate)": risk,
        # on the path: the write-ahead line (its SQLite commit runs while the exchange answers)
        "journal (intent, write-ahead)": lambda: journal.write_ahead(
            "intent", {"source": "panel", "request": request}, account="acc", client_id=request.client_id
        ),
        "build (order.place params)": lambda: msg.order_place(request),
        "sign (params + HMAC)": lambda: msg.ws_params(call, creds, timestamp=now_ms, recv_window=5000),
        "encode (WS JSON)": lambda: msg.encode_ws("1", call.method, params),
    }
    ack_stages: dict[str, Callable[[], Any]] = {
        "parse ack": lambda: replies.order_ack(msg.parse_ws_reply(ack_text).result),  # type: ignore[union-attr]
        "journal (SQLite outcome)": lambda: journal.append(
            "outcome", {"status": "NEW", "ack": ack}, account="acc", client_id=request.client_id
        ),
        "reply (model + JSON + frame)": reply,
    }
    parts = {
        "HMAC only (of sign)": lambda: creds.signer.sign(payload),
    }
    out: dict[str, Any] = {"intent": {}, "ack": {}, "detail": {}}
    for group, table in (("intent", stages), ("ack", ack_stages), ("detail", parts)):
        for name, fn in table.items():
            _time(fn, min(200, n), after=journal.flush)  # warm
            out[group][name] = summary(_time(fn, n, after=journal.flush), "us")
    out["intent"]["send (websockets, loopback)"] = summary(asyncio.run(_send_cost(text, n)), "us")
    journal.close()
    out["intent_sum_p50_us"] = sum(s["p50"] for s in out["intent"].values())
    out["ack_sum_p50_us"] = sum(s["p50"] for s in out["ack"].values())
    return out


async def _send_cost(text: str, n: int) -> list[float]:
    """`await ws.send(text)` on a live loopback connection (compression off, as net/ws.py)."""
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import ServerConnection, serve

    got = 0
    done = asyncio.Event()

    async def sink(conn: ServerConnection) -> None:
        nonlocal got
        async for _ in conn:
            got += 1
            if got >= n + 50:
                done.set()

    out = []
    async with serve(sink, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}", compression=None) as ws:
            for _ in range(50):
                await ws.send(text)
            pc = time.perf_counter_ns
            for _ in range(n):
                t = pc()
                await ws.send(text)
                out.append((pc() - t) / 1000)
                await asyncio.sleep(0)  # let the sink read, as the host's loop would
            await asyncio.wait_for(done.wait(), 10)
    return out


# -- the benchmark ------------------------------------------------------------------------------------------


def native_ping(host: HostPipe, n: int) -> list[float]:
    """`ping` round trips over the pipes (µs): the native-messaging hop both ways, no trading."""
    out = []
    for _ in range(n):
        rid, data = host.frame_bytes("ping", {"t": 1.0})
        t = host.write(data)
        out.append((host.reply(rid).t_ns - t) / 1000)
    return out


def outside_in(sim: SimProcess, rows: list[dict[str, Any]]) -> list[float]:
    stamps = sim.command({"cmd": "stamps"})["stamps"]
    return [(stamps[r["client_id"]] - r["t_write"]) / 1000 for r in rows if r["client_id"] in stamps]


def run(
    sim: SimProcess,
    host: HostPipe,
    *,
    orders: int,
    warmup: int,
    profile_orders: int,
    asl_on_orders: int = 0,
    breakdown_n: int = 20_000,
) -> dict[str, Any]:
    place_orders(host, warmup)
    sim.command({"cmd": "stamps"})  # drop the warm-up's stamps
    t0 = time.perf_counter()
    rows = place_orders(host, orders)
    elapsed = time.perf_counter() - t0
    outside = outside_in(sim, rows)
    asl_on = outside_in(sim, place_orders(host, asl_on_orders, asl=True)) if asl_on_orders else []
    ping = native_ping(host, min(orders, 2000))
    floor = measure_floor(sim, min(orders, 2000))
    inside = [float(r["host_us"]) for r in rows if r["host_us"] is not None]
    roundtrip = [(r["t_reply"] - r["t_write"]) / 1e6 for r in rows]
    with tempfile.TemporaryDirectory(prefix="sidedesk-bench-") as tmp:
        parts = breakdown(sim, breakdown_n, Path(tmp))
        profile = profile_host(sim, Path(tmp), profile_orders)
    return {
        "orders": orders,
        "orders_per_s": orders / elapsed,
        "intent_to_socket_us": summary(outside, "us"),
        "host_reported_us": summary(inside, "us"),
        "floor_us": floor,
        "native_ping_rtt_us": summary(ping, "us"),
        # outside-in less the two hops that are not the host's work: loopback WS delivery + stamp
        # (the floor) and the pipe into the host (half a ping round trip); an estimate, not a sample
        "estimate_in_host_us": {
            q: summary(outside, "us")[q] - floor[q] - summary(ping, "us")[q] / 2 for q in ("p50", "p99")
        },
        "intent_to_socket_asl_on_us": summary(asl_on, "us") if asl_on else None,
        "roundtrip_ms": summary(roundtrip, "ms"),
        "breakdown": parts,
        "profile": profile,
        "samples": {"intent_to_socket_us": outside, "host_reported_us": inside},
    }


def profile_host(sim: SimProcess, tmp: Path, n: int) -> dict[str, Any]:
    """The same orders through a host running under cProfile: where the time goes, per order."""
    home = tmp / "profiled-host"
    home.mkdir()
    stats = tmp / "host.prof"
    host = trading_host(home, sim, profile_to=stats)
    try:
        place_orders(host, 20)
        rows = place_orders(host, n)
    finally:
        host.stop()
    if not stats.exists():
        return {"error": "the profiled host wrote no statistics"}
    hs = hot_spots(stats, len(rows))
    # the whole order handler as seen under the profiler, for scale
    hs["note"] = "µs per order under cProfile (inflated ~2-3x); compare rows with each other"
    return hs
