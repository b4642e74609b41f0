"""The fault matrix: clone, reload, push new, push edit (one update_item per item; and
batched, in update_items requests, where the master announces them as ours does) and
resolve, each run through the UI against a fake master over loopback HTTP that fails at the
k-th request it receives (a 500, a reply lost after the write was applied, a connection cut
before or in the middle of the answer, truncated or malformed JSON, a 200 HTML page, a
result that is not a list, a stall past the client's timeout) or is down. For every case:
nothing lost on either side, nothing duplicated, no 500, every failure one line that names
the cause, and a retry that converges in one step (master and clone equal afterwards).

Quick profile (make test): each fault once per operation, at a request chosen for it.
Thorough (make reliability): at every request the operation makes, over both protocol
generations.
"""
import pytest

from tests.support.faultkit import DOWN_WORDS, FAULTS, Pair
from tests.support.report import cases, record, thorough
from tests.support.scenarios import (
    BATCHED,
    BATCHED_MASTER,
    OPERATIONS,
    WRITES,
    actions,
    add_row,
    run_case,
)

pytestmark = pytest.mark.reliability

def positions(op, fault, actions):
    """The requests to strike (1-based). Quick: one, chosen so that faults about lost replies
    strike a write where the operation writes, and the others a read; thorough: every one."""
    if thorough():
        return list(range(1, len(actions) + 1))
    writes = [n for n, a in enumerate(actions, start=1) if a in WRITES]
    reads = [n for n, a in enumerate(actions, start=1) if a not in WRITES]
    names = list(FAULTS)
    if writes and FAULTS[fault].kind not in ("500", "html"):
        return [writes[names.index(fault) % len(writes)]]
    return [reads[(names.index(fault) * 2 + 1) % len(reads)]]


@pytest.fixture
def make_pair(app, db, make_master):
    def make(gen="B", cloned=True, **master_kw):
        return Pair.make(app, make_master, gen=gen, cloned=cloned, **master_kw)
    return make


def _pair_for(make_pair, op, gen):
    if op == BATCHED:
        return make_pair(gen, **BATCHED_MASTER)
    return make_pair(gen, cloned=op != "clone")


@pytest.mark.parametrize("op", OPERATIONS + (BATCHED,))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_during_operation(make_pair, op, fault):
    gens = ("B", "A") if thorough() else ("B",)
    total = {"lost": 0, "duplicated": 0, "errors_500": 0, "unclear": 0, "notes": []}
    ran = 0
    for gen in gens:
        sequence = actions(op, gen, lambda g: _pair_for(make_pair, op, g))
        for at in positions(op, fault, sequence):
            pair = _pair_for(make_pair, op, gen)

            def strike(pair=pair, at=at):
                pair.arm(FAULTS[fault], at)
                return FAULTS[fault].words

            add_row(total, run_case(pair, op, strike))
            ran += 1
    record("fault", f"{fault} during {op}", ran, lost=total["lost"],
           duplicated=total["duplicated"], errors_500=total["errors_500"],
           unclear=total["unclear"])
    assert (total["lost"], total["duplicated"], total["errors_500"], total["unclear"]) == \
        (0, 0, 0, 0), total["notes"]


@pytest.mark.parametrize("op", OPERATIONS + (BATCHED,))
def test_master_down_during_operation(make_pair, op):
    ran = cases(1, 2)
    total = {"lost": 0, "duplicated": 0, "errors_500": 0, "unclear": 0, "notes": []}
    for n in range(ran):
        pair = _pair_for(make_pair, op, "AB"[n % 2] if n else "B")

        def strike(pair=pair):
            pair.down()
            return DOWN_WORDS

        add_row(total, run_case(pair, op, strike))
    record("fault", f"master down during {op}", ran, lost=total["lost"],
           duplicated=total["duplicated"], errors_500=total["errors_500"],
           unclear=total["unclear"])
    assert (total["lost"], total["duplicated"], total["errors_500"], total["unclear"]) == \
        (0, 0, 0, 0), total["notes"]
