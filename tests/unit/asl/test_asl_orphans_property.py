"""Property tests for brokers without reduce-only stops (issue #21), against simex.py's exchange
made to fill a triggered stop whatever the position (as Tradovate, Volumetrica and Alpaca do):
random marks, fills, partial and full closes, reversals, rejections and outside cancels.

Invariants, checked after every message the host handles:
- a flat position has no working stop and no answered placement left uncancelled: the engine
  cancels them in the step it learns of the flat (or of the placement's first reply or event);
- an open position has no working stop of the opposite direction (a reversal cancels them);
- at rest, a flat position leaves no stop of ours on the exchange, an open one exactly one.
On the engine before this rule every scenario with a close failed the first invariant for
`orphan_grace_ms` (3 s)."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidedesk.core.asl import AslEngine, ids
from sidedesk.core.asl.machine import Phase, StopState
from sidedesk.domain import Capabilities, OrderType, Side

from .helpers import SYMBOL
from .simex import STEP_MS, Exchange, Harness

UNIT = Decimal(1)
CENT = Decimal("0.01")
CAPS = Capabilities(
    native_trailing_stop=False,
    hedge_mode=False,
    reduce_only=False,
    modify_order=True,
    separate_conditional_orders=False,
    fractional_quantity=False,
)


class PlainExchange(Exchange):
    """A triggered stop fills in full even when it no longer reduces the position (no reduce-only);
    a market close stays a close (the adapters clip it to the position)."""

    wrong_way: int = 0  # fills of our stops that opened or grew a position

    def on_mark(self, mark: Decimal) -> list[tuple[int, Any]]:
        self.mark = mark
        out: list[tuple[int, Any]] = []
        for cid, o in list(self.orders.items()):
            r = o.req
            assert r.type is OrderType.STOP_MARKET and r.stop_price is not None
            if not (mark <= r.stop_price if r.side is Side.SELL else mark >= r.stop_price):
                continue
            del self.orders[cid]
            self.log.append(("trigger", cid))
            out.append((self.delay(), self._event(o, self._triggered())))
            signed = r.quantity if r.side is Side.BUY else -r.quantity
            if self.qty == 0 or (signed > 0) == (self.qty > 0) or abs(signed) > abs(self.qty):
                self.wrong_way += 1
            before = self.qty
            self.qty += signed
            if self.qty == 0:
                self.entry = Decimal(0)
            elif before == 0 or (self.qty > 0) != (before > 0):
                self.entry = mark
            out.append((self.delay(), self.position_event()))
        return out

    @staticmethod
    def _triggered() -> Any:
        from sidedesk.domain import OrderStatus

        return OrderStatus.TRIGGERED


class PlainHarness(Harness):
    def __init__(self, seed: int, reject_p: float) -> None:
        super().__init__(seed, native=False, reject_p=reject_p)
        self.ex = PlainExchange(self.rng, reject_p, Decimal(100))
        self.engine = AslEngine(self.profile, CAPS, tick_sizes={SYMBOL: CENT})

    def restart(self) -> AslEngine:  # not exercised here: the rebuild has its own unit tests
        raise NotImplementedError

    def check(self) -> None:
        super().check()
        m = self.engine.machine(self.key)
        if m is None:
            return
        for s in m.stops.values():
            answered = s.state is StopState.PENDING and (s.acked or s.seen_working)
            if m.phase is Phase.FLAT:
                assert s.state is not StopState.WORKING and not answered, (
                    f"t={self.now}: stop {s.client_id} {s.state} left on a flat position"
                )
            elif m.phase is Phase.ACTIVE and s.long != m.long:
                assert s.state is not StopState.WORKING and not answered, (
                    f"t={self.now}: stop {s.client_id} of the old direction left after a reversal"
                )


action = st.one_of(
    st.tuples(st.just("mark"), st.integers(-25, 25)),
    st.tuples(st.just("fill"), st.integers(1, 3)),
    st.tuples(st.just("reduce"), st.integers(1, 3)),
    st.tuples(st.just("close"), st.just(0)),
    st.tuples(st.just("reverse"), st.integers(1, 3)),
    st.tuples(st.just("wait"), st.integers(1, 40)),
    st.tuples(st.just("extcancel"), st.just(0)),
)


def run(seed: int, reject_p: float, actions: list[tuple[str, int]]) -> PlainHarness:
    h = PlainHarness(seed, reject_p)
    rng = random.Random(seed + 1)
    h.position(2 * UNIT, h.ex.mark)
    h.advance(300)
    for kind, n in actions:
        ex = h.ex
        q = abs(ex.qty)
        sign = 1 if ex.qty >= 0 else -1
        if kind == "mark":
            h.mark((ex.mark * (1 + Decimal(n) / 1000)).quantize(CENT, ROUND_HALF_UP))
        elif kind == "fill":
            add = n * UNIT
            entry = ex.mark if q == 0 else ((ex.entry * q + ex.mark * add) / (q + add)).quantize(CENT)
            h.position(Decimal(sign) * (q + add), entry)
        elif kind == "reduce":
            left = max(q - n * UNIT, Decimal(0))
            h.position(Decimal(sign) * left, ex.entry if left else Decimal(0))
        elif kind == "close":
            h.position(Decimal(0), Decimal(0))
        elif kind == "reverse":
            h.position(Decimal(-sign) * n * UNIT, ex.mark)
        elif kind == "wait":
            h.advance(n * STEP_MS)
        else:
            h.cancel_behind_back()
        h.advance(rng.randint(1, 12) * STEP_MS)
    h.ex.reject_p = 0.0
    h.advance(45_000, step=100)
    mine = [o for o in h.ex.ours() if ids.decode(o.req.client_id) is not None]
    if h.ex.qty == 0:
        assert mine == [], f"orphan stops left: {[o.req.client_id for o in mine]}"
    else:
        assert len(mine) == 1, f"expected exactly one stop, got {[o.req.client_id for o in mine]}"
        assert mine[0].req.quantity == abs(h.ex.qty)
    return h


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(
    seed=st.integers(0, 2**32),
    reject_p=st.sampled_from([0.0, 0.1, 0.3]),
    actions=st.lists(action, min_size=1, max_size=30),
)
def test_no_reduce_only_invariants(seed: int, reject_p: float, actions: list[tuple[str, int]]) -> None:
    run(seed, reject_p, actions)


def test_close_then_a_fall_through_the_old_stop_opens_nothing_after_the_round_trip() -> None:
    """Close, let the cancel arrive, then the price falls through where the stop was: nothing fires."""
    h = run(3, 0.0, [("wait", 20)])
    assert h.ex.qty == 2 and len(h.ex.orders) == 1
    h.position(Decimal(0), Decimal(0))
    h.advance(2 * 12 * STEP_MS + 100)  # the flat event's delay plus the cancel's
    assert h.ex.orders == {}
    h.mark(Decimal(90))
    h.advance(1000)
    assert h.ex.qty == 0 and isinstance(h.ex, PlainExchange) and h.ex.wrong_way == 0
