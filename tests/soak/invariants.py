"""The reliability invariants (DESIGN.md "Reliability invariants"), as pure checks.

Each takes plain values (the simulator's order log and account, the host's topic payloads, the
journal's records, samples of exchange-side protection) and returns a list of violations, each
a sentence that says what is wrong; an empty list means the invariant holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ASL_PREFIX = "sda-"
FINAL = frozenset({"FILLED", "CANCELED", "EXPIRED", "REJECTED", "FINISHED", "TRIGGERED"})
ENTRY_TOLERANCE = Decimal("0.00000001")  # the host rounds derived figures to 8 places


# -- 1. no duplicate orders from retries ---------------------------------------------------------------


def duplicate_orders(order_log: Iterable[Mapping[str, Any]]) -> list[str]:
    """At most one exchange order per client id.

    The trader's ids (`sdm…`, `sdh…`) are new for every intent, so a second order under one of
    them can only be a re-send. The ASL engine's ids (`sda-…`) encode position and level with a
    per-position counter, and the exchange accepts a client id again once its order is closed, so
    for those two orders under one id are a duplicate only when both were open at the same time.
    """
    lives: dict[tuple[str, str], dict[str, list[int]]] = {}
    for e in order_log:
        kind = str(e["kind"])
        cid = str(e.get("clientOrderId") or e.get("clientAlgoId") or "")
        oid = str(e["orderId"] if kind == "order" else e["algoId"])
        if not cid:
            continue
        span = lives.setdefault((kind, cid), {}).setdefault(oid, [int(e["time"]), 2**62])
        if str(e["status"]) in FINAL:
            span[1] = min(span[1], int(e["time"]))
    out = []
    for (kind, cid), spans in sorted(lives.items()):
        if len(spans) < 2:
            continue
        if not cid.startswith(ASL_PREFIX):
            out.append(f"{kind} client id {cid} was placed {len(spans)} times: {sorted(spans)}")
            continue
        ordered = sorted(spans.items(), key=lambda kv: kv[1][0])
        for (a, (_, a_end)), (b, (b_start, _)) in itertools.pairwise(ordered):
            if b_start < a_end:
                out.append(f"{kind} client id {cid}: {a} and {b} were open at the same time")
    return out


def phantom_orders(order_log: Iterable[Mapping[str, Any]], intended: set[str]) -> list[str]:
    """Every trader order on the exchange was an intent the journal holds (nothing sent unasked)."""
    out = []
    for cid in sorted({str(e.get("clientOrderId") or "") for e in order_log if e["kind"] == "order"}):
        if cid and not cid.startswith(ASL_PREFIX) and not cid.startswith("autoclose") and cid not in intended:
            out.append(f"order {cid} is on the exchange but no intent for it is in the journal")
    return out


# -- 2. local state equals the exchange's ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Truth:
    """The simulator's own account: positions {(symbol, side): (qty, entry)}, open ids, wallets."""

    positions: Mapping[tuple[str, str], tuple[Decimal, Decimal]]
    orders: set[str]
    algos: set[str]
    wallet: Mapping[str, Decimal]

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Truth:
        return cls(raw["positions"], set(raw["orders"]), set(raw["algos"]), raw["wallet"])


def state_diff(topics: Mapping[str, Any], truth: Truth, account_id: str) -> list[str]:
    """What the host's `positions`, `orders` and `account` payloads say that the exchange does not."""
    out: list[str] = []
    host_pos = {
        (r["symbol"], r["position_side"]): (Decimal(r["quantity"]), Decimal(r["entry"] or "0"))
        for r in topics["positions"]["positions"]
        if r["account_id"] == account_id and Decimal(r["quantity"]) != 0
    }
    for key in sorted(set(host_pos) | set(truth.positions)):
        h, t = host_pos.get(key), truth.positions.get(key)
        if h is None or t is None or h[0] != t[0]:
            out.append(f"position {key}: host {h and h[0]} vs exchange {t and t[0]}")
        elif abs(h[1] - t[1]) > ENTRY_TOLERANCE * max(Decimal(1), t[1]):
            out.append(f"position {key}: entry host {h[1]} vs exchange {t[1]}")
    rows = [r for r in topics["orders"]["orders"] if r["account_id"] == account_id]
    host_orders = {r["order_id"] for r in rows if not r["conditional"]}
    host_algos = {r["order_id"] for r in rows if r["conditional"]}
    for name, host, exch in (("order", host_orders, truth.orders), ("algo order", host_algos, truth.algos)):
        if missing := sorted(exch - host):
            out.append(f"open {name}s on the exchange the host does not show: {missing}")
        if extra := sorted(host - exch):
            out.append(f"{name}s the host shows open that the exchange has closed: {extra}")
    wallets = {
        r["asset"]: Decimal(r["wallet_balance"])
        for r in topics["account"]["accounts"]
        if r["account_id"] == account_id and r["wallet_balance"] is not None
    }
    for asset, amount in sorted(truth.wallet.items()):
        host_amount = wallets.get(asset)
        if host_amount is None or abs(host_amount - amount) > ENTRY_TOLERANCE:
            out.append(f"{asset} wallet: host {host_amount} vs exchange {amount}")
    return out


# -- 3. the journal loses nothing the host acknowledged ---------------------------------------------------


def journal_gaps(acked: Iterable[str], records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every order the host answered `placed` for has its intent and an outcome in the journal."""
    kinds: dict[str, set[str]] = {}
    for r in records:
        if r.get("client_id"):
            kinds.setdefault(str(r["client_id"]), set()).add(str(r["kind"]))
    out = []
    for cid in acked:
        have = kinds.get(cid, set())
        for kind in ("intent", "outcome"):
            if kind not in have:
                out.append(f"order {cid} was acknowledged but its {kind} is not in the journal")
    return out


# -- 4. no position without a working exchange-side stop beyond the window ---------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One look at the exchange: monotonic time, positions without a covering stop, and whether the
    host could act (its WS API connected, no ban or injected fault holding its requests)."""

    t: float
    unprotected: frozenset[tuple[str, str]]
    reachable: bool


def unprotected_spans(samples: Sequence[Sample], window_s: float) -> list[str]:
    """A position may lack a working stop only while it is being placed: at most `window_s` of time
    in which the host could reach the exchange (time with the connection down does not count: no
    host can place a stop through a cut cable; the stop already on the exchange is what protects)."""
    out = []
    exposed: dict[tuple[str, str], float] = {}
    worst: dict[tuple[str, str], float] = {}
    prev: Sample | None = None
    for s in samples:
        for key in list(exposed):
            if key not in s.unprotected:
                del exposed[key]
        if prev is not None and prev.reachable and s.reachable:
            for key in s.unprotected & prev.unprotected:
                exposed[key] = exposed.get(key, 0.0) + (s.t - prev.t)
                worst[key] = max(worst.get(key, 0.0), exposed[key])
        for key in s.unprotected:
            exposed.setdefault(key, 0.0)
        prev = s
    for key, secs in sorted(worst.items()):
        if secs > window_s:
            out.append(
                f"position {key} had no working stop for {secs:.2f} s of connected time (> {window_s} s)"
            )
    return out
