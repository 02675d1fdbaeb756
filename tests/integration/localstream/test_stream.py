"""What a connected program receives: snapshots, numbered events, isolation, batching."""

from __future__ import annotations

import asyncio
import json

from tests.integration.localstream.conftest import ALL, Env, Host, events


async def test_subscribe_gives_a_full_snapshot_then_numbered_events(env: Env) -> None:
    a = env.accounts[0]
    env.position(a, "BTCUSDT", "0.5", entry="100", mark="110")
    _, secret = await env.token("all")
    c = await env.client(secret)
    assert c.hello["accounts"] is None and c.hello["batch_ms"] == 1000
    snaps = await c.subscribe(*ALL)
    assert sorted(snaps) == sorted(ALL)
    pos = snaps["positions"]
    assert pos["seq"] == 0 and pos["type"] == "snapshot"
    (row,) = pos["payload"]["positions"]
    assert (row["symbol"], row["quantity"], row["unrealized_pnl"]) == ("BTCUSDT", "0.5", "5")
    assert snaps["status"]["payload"]["vault"] == "unlocked" and "pid" not in snaps["status"]["payload"]

    env.balance(a, "1000")
    ev = await c.until(lambda m: m["type"] == "event" and m["topic"] == "account")
    assert ev["seq"] == 1 and ev["payload"]["accounts"][0]["wallet_balance"] == "1000"
    env.balance(a, "1001")
    ev = await c.until(lambda m: m["type"] == "event" and m["topic"] == "account")
    assert ev["seq"] == 2 and ev["payload"]["accounts"][0]["wallet_balance"] == "1001"
    # a second subscribe repeats the current seq in its snapshot; events continue after it
    snaps = await c.subscribe("account")
    assert snaps["account"]["seq"] == 2
    env.balance(a, "1002")
    ev = await c.until(lambda m: m["type"] == "event" and m["topic"] == "account")
    assert ev["seq"] == 3
    await c.close()


async def test_unsubscribe_stops_delivery(env: Env) -> None:
    a = env.accounts[0]
    _, secret = await env.token("all")
    c = await env.client(secret)
    await c.subscribe("account", "orders")
    env.balance(a, "10")
    await c.until(lambda m: m["type"] == "event" and m["topic"] == "account")
    await c.send({"type": "unsubscribe", "topics": ["account"], "id": 7})
    ack = await c.until(lambda m: m["type"] == "unsubscribed")
    assert ack == {"v": 1, "type": "unsubscribed", "id": 7, "topics": ["orders"]}
    for wallet in ("11", "12", "13"):
        env.balance(a, wallet)
        await asyncio.sleep(0.15)  # past the account topic's 100 ms coalescing
    assert events(await c.barrier(), "account") == []
    # and a connection still subscribed did get them (so the silence above means something)
    c2 = await env.client(secret)
    await c2.subscribe("account")
    env.balance(a, "14")
    ev = await c2.until(lambda m: m["type"] == "event" and m["topic"] == "account")
    assert ev["payload"]["accounts"][0]["wallet_balance"] == "14"
    await c.close()
    await c2.close()


async def test_a_token_limited_to_an_account_sees_only_that_account(env: Env) -> None:
    alpha, beta = env.accounts
    env.position(alpha, "BTCUSDT", "1", entry="100", mark="110")
    env.position(beta, "ETHUSDT", "-2", entry="50", mark="40")
    env.balance(alpha, "500")
    env.balance(beta, "700")
    env.quote("BTCUSDT", "110")
    env.quote("ETHUSDT", "40")
    env.quote("XRPUSDT", "0.5")
    _, sa = await env.token("alpha only", [alpha])
    _, sb = await env.token("beta only", [beta])
    _, sall = await env.token("everything")
    ca, cb, call_ = await env.client(sa), await env.client(sb), await env.client(sall)
    assert ca.hello["accounts"] == [alpha] and cb.hello["accounts"] == [beta]

    sa_snaps, sb_snaps, sall_snaps = (
        await ca.subscribe(*ALL),
        await cb.subscribe(*ALL),
        await call_.subscribe(*ALL),
    )

    def accounts_in(snaps: dict[str, dict[str, object]]) -> set[str]:
        text = json.dumps({t: s["payload"] for t, s in snaps.items()})
        return {acc for acc in env.accounts if acc in text}

    assert accounts_in(sa_snaps) == {alpha}
    assert accounts_in(sb_snaps) == {beta}
    assert accounts_in(sall_snaps) == {alpha, beta}
    assert sa_snaps["positions"]["payload"]["totals"] == [{"asset": "USDT", "unrealized_pnl": "10"}]
    assert sb_snaps["positions"]["payload"]["totals"] == [{"asset": "USDT", "unrealized_pnl": "20"}]
    assert sall_snaps["positions"]["payload"]["totals"] == [{"asset": "USDT", "unrealized_pnl": "30"}]
    # quotes: the watchlist (BTCUSDT) and the token's own symbols, not the other account's
    assert set(sa_snaps["quotes"]["payload"]["quotes"]) == {"BTCUSDT"}
    assert set(sb_snaps["quotes"]["payload"]["quotes"]) == {"BTCUSDT", "ETHUSDT"}
    assert set(sall_snaps["quotes"]["payload"]["quotes"]) == {"BTCUSDT", "ETHUSDT", "XRPUSDT"}

    # a change on beta reaches beta's and the full token's clients, and nothing reaches alpha's
    env.balance(beta, "701")
    ev = await cb.until(lambda m: m["type"] == "event" and m["topic"] == "account")
    assert [r["wallet_balance"] for r in ev["payload"]["accounts"]] == ["701"]
    await call_.until(lambda m: m["type"] == "event" and m["topic"] == "account")
    assert [m for m in await ca.barrier() if m["type"] == "event"] == []
    for c in (ca, cb, call_):
        await c.close()


async def test_position_updates_are_batched_in_the_window(host: Host) -> None:
    env = await Env(host).setup(batch_ms=1000)
    a = env.accounts[0]
    _, secret = await env.token("all")
    c = await env.client(secret)
    await c.subscribe("positions")
    env.position(a, "BTCUSDT", "1")
    first = await c.until(lambda m: m["type"] == "event" and m["topic"] == "positions")
    assert first["payload"]["positions"][0]["quantity"] == "1"
    # four more updates, each in its own loop turn, within the window: one event, the latest state
    for qty in ("2", "3", "4", "5"):
        env.position(a, "BTCUSDT", qty)
        await asyncio.sleep(0.01)
    assert events(await c.barrier(), "positions") == []  # held for the rest of the window
    second = await c.until(lambda m: m["type"] == "event" and m["topic"] == "positions")
    assert second["seq"] == first["seq"] + 1
    assert second["payload"]["positions"][0]["quantity"] == "5"
    assert events(await c.barrier(), "positions") == []
    await c.close()


async def test_bad_messages_get_an_error_and_the_connection_goes_on(env: Env) -> None:
    _, secret = await env.token("all")
    c = await env.client(secret)
    cases = [
        ("not json", "bad_request"),
        (json.dumps({"type": "order.place", "id": 3, "symbol": "BTCUSDT"}), "bad_request"),
        (json.dumps({"type": "subscribe", "topics": ["log"]}), "bad_request"),
        (json.dumps({"type": "subscribe", "topics": []}), "bad_request"),
        (json.dumps({"type": "ping", "extra": "sdls_secretish"}), "bad_request"),
    ]
    for raw, code in cases:
        await c.ws.send(raw)
        err = await c.until(lambda m: m["type"] == "error")
        assert err["code"] == code
        assert "order.place" not in err["message"] and "sdls_secretish" not in err["message"]
    await c.ws.send(b"\x00binary")
    err = await c.until(lambda m: m["type"] == "error")
    assert err["message"] == "send JSON text frames"
    assert (await c.barrier()) == []
    assert env.svc.stats()["errors"] == {"bad_request": 6}
    await c.close()
