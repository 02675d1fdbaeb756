"""Property tests: random price paths, partial fills, rejections, outside cancels and restarts
against a small simulated exchange (see simex.py)."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidedesk.core.asl import AslEngine, PlaceStop, ids
from sidedesk.domain import OrderStatus

from .helpers import SYMBOL, caps
from .simex import STEP_MS, Harness

UNIT = Decimal("0.001")
CENT = Decimal("0.01")

action = st.one_of(
    st.tuples(st.just("mark"), st.integers(-15, 25)),
    st.tuples(st.just("fill"), st.integers(1, 5)),
    st.tuples(st.just("reduce"), st.integers(1, 3)),
    st.tuples(st.just("wait"), st.integers(1, 40)),
    st.tuples(st.just("restart"), st.just(0)),
    st.tuples(st.just("extcancel"), st.just(0)),
)


def run_scenario(
    seed: int, native: bool, long: bool, reject_p: float, actions: list[tuple[str, int]]
) -> Harness:
    h = Harness(seed, native=native, reject_p=reject_p)
    rng = random.Random(seed + 1)
    sign = 1 if long else -1
    units = 2
    h.position(Decimal(sign * units) * UNIT, h.ex.mark)
    h.advance(300)
    for kind, n in actions:
        ex = h.ex
        if kind == "mark":
            h.mark((ex.mark * (1 + Decimal(n * sign) / 1000)).quantize(CENT, ROUND_HALF_UP))
        elif kind == "fill":
            q = abs(ex.qty)
            add = n * UNIT
            entry = ex.mark if q == 0 else ((ex.entry * q + ex.mark * add) / (q + add)).quantize(CENT)
            h.position(Decimal(sign) * (q + add), entry)
        elif kind == "reduce":
            q = max(abs(ex.qty) - n * UNIT, Decimal(0))
            h.position(Decimal(sign) * q, ex.entry if q else Decimal(0))
        elif kind == "wait":
            h.advance(n * STEP_MS)
        elif kind == "restart":
            check_rebuild(h)
            h.restart()
        else:
            h.cancel_behind_back()
        h.advance(rng.randint(1, 12) * STEP_MS)
    # quiesce: no rejections, steady price; everything settles
    h.ex.reject_p = 0.0
    h.advance(45_000, step=100)
    ex = h.ex
    mine = [o for o in ex.ours() if ids.decode(o.req.client_id) is not None]
    if ex.qty == 0:
        assert mine == [], f"orphan stops left: {[o.req.client_id for o in mine]}"
    else:
        assert len(mine) == 1, f"expected exactly one stop, got {[o.req.client_id for o in mine]}"
        [o] = mine
        assert o.req.quantity == abs(ex.qty)
        assert o.req.reduce_only
        m = h.engine.machine(h.key)
        assert m is not None
        p = ids.decode(o.req.client_id)
        assert p is not None
        if p.level is not None:
            assert p.level <= m.level
    return h


def check_rebuild(h: Harness) -> None:
    """Rebuild from the exchange's open orders now: deterministic, order-independent, equivalent."""
    open_orders = [h.ex._event(o, o_status()) for o in h.ex.ours()]
    positions = [h.ex.position_event()] if h.ex.qty != 0 else []

    def build(orders: list) -> tuple[AslEngine, list]:  # type: ignore[type-arg]
        return AslEngine.rebuild(
            h.profile,
            caps(h.native),
            orders,
            positions,
            h.now,
            tick_sizes={SYMBOL: CENT},
            marks={SYMBOL: h.ex.mark},
        )

    e1, out1 = build(open_orders)
    e2, out2 = build(list(reversed(open_orders)))
    assert e1.view(h.key) == e2.view(h.key)
    assert [type(o) for o in out1] == [type(o) for o in out2]
    m1 = e1.machine(h.key)
    if h.ex.qty == 0:
        assert m1 is None
        return
    assert m1 is not None
    closing_long = h.ex.qty > 0
    ours = {
        o.client_id
        for o in open_orders
        if (p := ids.decode(o.client_id)) is not None and p.long == closing_long and p.tag != ids.TAG_CLOSE
    }
    v = m1.view()
    # every open stop of ours for the position is known again; ids continue above them
    assert v.working | v.cancelling == ours
    for cid in ours:
        p = ids.decode(cid)
        assert p is not None and p.seq <= v.seq
    assert v.quantity == abs(h.ex.qty)
    assert v.long == closing_long
    tag_levels = [p.level for c in ours if (p := ids.decode(c)) is not None and p.level is not None]
    assert v.level >= max(tag_levels, default=0)
    orig = h.engine.machine(h.key)
    if orig is not None and orig.phase.value == "active" and orig.long == closing_long:
        assert v.level <= max(orig.level, max(tag_levels, default=0))
    # no duplicate: when the engine was at rest (nothing in flight, the exchange holding exactly
    # its stops) and a covering stop is at the current level, the rebuilt engine places nothing
    cur = v.current
    at_rest = (
        orig is not None
        and orig.pending is None
        and orig.retry_at is None
        and not orig.dirty
        and not h.q
        and set(orig.stops) == {o.client_id for o in open_orders}
    )
    if cur is not None and at_rest:
        s = m1.stops[cur]
        pc = ids.decode(cur)
        assert pc is not None
        if s.quantity == v.quantity and pc.level == v.level:
            assert not [o for o in out1 if isinstance(o, PlaceStop)], out1


def o_status() -> OrderStatus:
    return OrderStatus.NEW


scenario = st.lists(action, min_size=1, max_size=30)
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@SETTINGS
@given(
    seed=st.integers(0, 2**32),
    long=st.booleans(),
    reject_p=st.sampled_from([0.0, 0.1, 0.3]),
    actions=scenario,
)
def test_native_trailing_invariants(
    seed: int, long: bool, reject_p: float, actions: list[tuple[str, int]]
) -> None:
    run_scenario(seed, True, long, reject_p, actions)


@SETTINGS
@given(
    seed=st.integers(0, 2**32),
    long=st.booleans(),
    reject_p=st.sampled_from([0.0, 0.1, 0.3]),
    actions=scenario,
)
def test_software_trailing_invariants(
    seed: int, long: bool, reject_p: float, actions: list[tuple[str, int]]
) -> None:
    run_scenario(seed, False, long, reject_p, actions)


def test_rally_walks_every_level_in_order() -> None:
    """A steady rally: the exchange log shows place new -> (confirm) -> cancel old per level."""
    h = run_scenario(7, True, True, 0.0, [("mark", 5)] * 10)
    tags = [ids.decode(c).tag for a, c in h.ex.log if a == "place"]  # type: ignore[union-attr]
    assert tags == ["0", "1", "2", "3"]
    log = [(a, ids.decode(c).tag) for a, c in h.ex.log]  # type: ignore[union-attr]
    for old, new in (("0", "1"), ("1", "2"), ("2", "3")):
        assert log.index(("place", new)) < log.index(("cancel", old))
