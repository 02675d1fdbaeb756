"""Tokens, handshake checks, scopes and the token bucket (pure modules)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidedesk.localstream import scope
from sidedesk.localstream.handshake import Refusal, check, offered_protocols, origin_allowed, presented_token
from sidedesk.localstream.limits import TokenBucket
from sidedesk.localstream.tokens import MAX_TOKENS, TokenError, TokenSet, looks_like_token, mask_token


def test_token_lifecycle() -> None:
    s0 = TokenSet()
    s1, rec, token = s0.create("journal", ["b", "a", "a"], now=1.0)
    assert len(s0) == 0 and len(s1) == 1  # sets are values: the old one is unchanged
    assert looks_like_token(token) and rec.accounts == ("a", "b") and rec.scope == frozenset({"a", "b"})
    assert rec.masked == mask_token(token) and token not in rec.model_dump_json()
    assert s1.find(token) == rec and s1.find(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    s2, rot, new = s1.rotate(rec.id, now=2.0)
    assert (rot.id, rot.name, rot.accounts, rot.rotated_at) == (rec.id, "journal", ("a", "b"), 2.0)
    assert s2.find(token) is None and s2.find(new) == rot
    again = TokenSet.from_storage(s2.to_storage())
    assert again.find(new) == rot and list(again) == [rot]
    assert len(s2.revoke(rec.id)) == 0
    with pytest.raises(TokenError, match="no local-stream token"):
        s2.revoke("000000000000")


def test_token_rules() -> None:
    s, _, _ = TokenSet().create("one", None)
    with pytest.raises(TokenError, match="already has this name"):
        s.create(" ONE ", None)
    with pytest.raises(TokenError, match="at least one account"):
        s.create("two", [])
    with pytest.raises(TokenError, match="name"):
        s.create("bad\x07name", None)
    full = TokenSet()
    for i in range(MAX_TOKENS):
        full, _, _ = full.create(f"t{i}", None)
    with pytest.raises(TokenError, match=f"at most {MAX_TOKENS}"):
        full.create("one more", None)
    with pytest.raises(TokenError, match="not readable"):
        TokenSet.from_storage([{"id": "x"}])
    assert len(TokenSet.from_storage(None)) == 0


@given(st.text(max_size=60))
def test_find_never_raises_on_any_presented_string(text: str) -> None:
    s, _, _ = TokenSet().create("t", None)
    assert s.find(text) is None


def test_origins_and_token_parsing() -> None:
    allowed = ["http://localhost:3000"]
    assert origin_allowed(None, allowed)
    assert origin_allowed("HTTP://localhost:3000/", allowed)
    assert not origin_allowed("http://localhost:3001", allowed)
    assert not origin_allowed("null", [*allowed, "null"])
    assert presented_token("Bearer  abc ", []) == "abc"
    assert presented_token("bearer abc", []) == "abc"
    assert presented_token("Basic abc", ["bearer.x"]) is None  # a header that is not ours wins
    assert presented_token(None, offered_protocols(["sidedesk.v1, bearer.tok"])) == "tok"
    assert presented_token(None, ["bearer."]) is None


def test_check_order_origin_then_vault_then_token_then_limit() -> None:
    tokens, rec, token = TokenSet().create("t", None)
    base = {"protocols": [], "allowed_origins": [], "connections_of": lambda _: 0, "max_per_token": 2}
    r = check(origin="https://evil.example", authorization=f"Bearer {token}", tokens=tokens, **base)  # type: ignore[arg-type]
    assert isinstance(r, Refusal) and r.status == 403
    r = check(origin=None, authorization=f"Bearer {token}", tokens=None, **base)  # type: ignore[arg-type]
    assert isinstance(r, Refusal) and r.status == 503
    r = check(origin=None, authorization=None, tokens=tokens, **base)  # type: ignore[arg-type]
    assert isinstance(r, Refusal) and (r.status, r.reason) == (401, "auth_missing")
    assert check(origin=None, authorization=f"Bearer {token}", tokens=tokens, **base) == rec  # type: ignore[arg-type]
    full = {**base, "connections_of": lambda _: 2}
    r = check(origin=None, authorization=f"Bearer {token}", tokens=tokens, **full)  # type: ignore[arg-type]
    assert isinstance(r, Refusal) and r.status == 429
    for refusal in (r,):
        assert token not in refusal.text


def test_token_bucket() -> None:
    b = TokenBucket(rate=2, burst=3)
    assert [b.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not b.take(0.4)  # 0.8 refilled: not yet one
    assert b.take(0.5)
    assert b.take(10.0) and b.take(10.0) and b.take(10.0) and not b.take(10.0)  # capped at the burst


POSITIONS = {
    "positions": [
        {"account_id": "a", "symbol": "BTCUSDT", "settle_asset": "USDT", "unrealized_pnl": "1.5"},
        {"account_id": "b", "symbol": "ETHUSDT", "settle_asset": "USDT", "unrealized_pnl": "-4"},
        {"account_id": "a", "symbol": "SOLUSDC", "settle_asset": "USDC", "unrealized_pnl": None},
    ],
    "totals": [{"asset": "USDT", "unrealized_pnl": "-2.5"}],
}


def test_scopes() -> None:
    a = frozenset({"a"})
    out = scope.positions(POSITIONS, a)
    assert [r["symbol"] for r in out["positions"]] == ["BTCUSDT", "SOLUSDC"]
    assert out["totals"] == [{"asset": "USDT", "unrealized_pnl": "1.5"}]
    assert scope.positions(POSITIONS, None) is POSITIONS
    assert scope.positions(POSITIONS, frozenset()) == {"positions": [], "totals": []}
    orders = {"orders": [{"account_id": "b", "symbol": "XRPUSDT"}, {"account_id": "a", "symbol": "ADAUSDT"}]}
    assert scope.orders(orders, a) == {"orders": [{"account_id": "a", "symbol": "ADAUSDT"}]}
    assert scope.symbols_of(POSITIONS, orders, a) == {"BTCUSDT", "SOLUSDC", "ADAUSDT"}
    status = {"vault": "unlocked", "brokers": [{"account_id": "a"}, {"account_id": "b"}]}
    assert scope.status(status, a) == {"vault": "unlocked", "brokers": [{"account_id": "a"}]}
    asl = {"enabled": True, "positions": {"a|X|BOTH": {"account_id": "a"}, "b|Y|BOTH": {"account_id": "b"}}}
    assert scope.asl(asl, a) == {"enabled": True, "positions": {"a|X|BOTH": {"account_id": "a"}}}
    quotes = {"quotes": {"BTCUSDT": {}, "ETHUSDT": {}}}
    assert scope.restrict("quotes", quotes, a, {"BTCUSDT"}) == {"quotes": {"BTCUSDT": {}}}
    assert scope.restrict("quotes", quotes, None) == quotes
    assert scope.restrict("account", {"accounts": [{"account_id": "b"}]}, a) == {"accounts": []}


def test_a_token_for_a_login_sees_every_account_of_it() -> None:
    """A token limited to a vault entry sees each account of its login (`ENTRY:ACCOUNT`), and a
    token for one account of it sees only that one."""
    rows = {
        "orders": [
            {"account_id": "e1:700001", "symbol": "MESZ6"},
            {"account_id": "e1:700002", "symbol": "ESZ6"},
            {"account_id": "e2:1", "symbol": "NQZ6"},
            {"account_id": "e10", "symbol": "MNQZ6"},
        ]
    }
    assert [r["symbol"] for r in scope.orders(rows, frozenset({"e1"}))["orders"]] == ["MESZ6", "ESZ6"]
    assert [r["symbol"] for r in scope.orders(rows, frozenset({"e1:700002"}))["orders"]] == ["ESZ6"]
    asl = {"positions": {"e1:700001|MESZ6|BOTH": {"account_id": "e1:700001"}}}
    assert scope.asl(asl, frozenset({"e1"})) == asl
    assert scope.asl(asl, frozenset({"e2"})) == {"positions": {}}


def test_a_limited_token_sees_only_its_accounts_unprotected_positions() -> None:
    """The status view's Unprotected rows name an account and its position: a token for one
    login sees that login's rows only (it saw every account's before)."""
    status = {
        "vault": "locked",
        "brokers": [{"account_id": "e1:700001"}, {"account_id": "e2"}],
        "unprotected": [
            {"account_id": "e1:700001", "symbol": "MESZ6", "reason": "locked"},
            {"account_id": "e1:700002", "symbol": "ESZ6", "reason": "asl_off"},
            {"account_id": "e2", "symbol": "BTCUSDT", "reason": "locked"},
            {"account_id": "e10", "symbol": "ETHUSDT", "reason": "locked"},
        ],
    }
    e1 = scope.restrict("status", status, frozenset({"e1"}))
    assert [u["symbol"] for u in e1["unprotected"]] == ["MESZ6", "ESZ6"]
    assert [b["account_id"] for b in e1["brokers"]] == ["e1:700001"]
    assert [u["symbol"] for u in scope.status(status, frozenset({"e2"}))["unprotected"]] == ["BTCUSDT"]
    assert scope.status(status, frozenset({"e3"}))["unprotected"] == []
    assert scope.status(status, None) is status
