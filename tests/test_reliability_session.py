"""The fault matrix over the session path of Tiki 19-23 (remote/session_path.py): clone, reload,
push new, push edit and resolve through the UI with a credential that logs in, against a fake
Tiki whose HTTP Basic is off, that has no tiki-api.php and that inserts only with a CSRF
ticket of the session (tests/support/fake_tiki_session.py). The faults of
tests/test_reliability_faults.py strike the master's answers here too, the session's own
requests included: the login form, the login post, the insert form that hands out a ticket
(and the replies whose `nextTicket` the next insert sends). Then what only a session meets:
its ticket refused after a stall, the session ending between the read before a write and
the write, the master down. The same promises: nothing lost, nothing duplicated, no 500, a
clear message, and the retry converges.

Quick profile (make test): each fault once per operation, at a login step or at the write
(or the read whose reply hands out the ticket), one-use tickets. Thorough (make
reliability): at every request the operation makes, with both ticket schemes.
"""
import pytest

from tests.support.faultkit import DOWN_WORDS, FAULTS, Pair, session_master_kw
from tests.support.report import cases, record, thorough
from tests.support.scenarios import OPERATIONS, WRITES, actions, add_row, run_case

pytestmark = pytest.mark.reliability

PAGES = ("login_form", "login", "ticket_form")  # the session's HTML requests
# A login that fails, whatever the fault, says so (and a refused ticket names the ticket).
LOGIN_WORDS = ("logging in at",)


def schemes():
    return ("one-use", "session") if thorough() else ("one-use",)


def _total():
    return {"lost": 0, "duplicated": 0, "errors_500": 0, "unclear": 0, "notes": []}


def _check(total, what, ran):
    record("fault", f"{what} (session)", ran, lost=total["lost"],
           duplicated=total["duplicated"], errors_500=total["errors_500"],
           unclear=total["unclear"])
    assert (total["lost"], total["duplicated"], total["errors_500"], total["unclear"]) == \
        (0, 0, 0, 0), total["notes"]


@pytest.fixture
def make_pair(app, db, make_master):
    def make(scheme="one-use", cloned=True):
        return Pair.make(app, make_master, gen="A", cloned=cloned, method="session",
                         **session_master_kw(scheme))
    return make


def _pair_for(make_pair, op, scheme):
    return make_pair(scheme, cloned=op != "clone")


def _sequence(make_pair, op, scheme):
    return actions(op, "A", lambda _gen: _pair_for(make_pair, op, scheme), variant=scheme)


def positions(op, fault, sequence):
    """The requests to strike (1-based). Quick: one per operation and fault, a login step for
    every other fault, else the first write for faults about lost replies (the reply before
    it, which hands out its ticket, for the others); thorough: every one."""
    if thorough():
        return list(range(1, len(sequence) + 1))
    names = list(FAULTS)
    turn = names.index(fault) + OPERATIONS.index(op)
    logins = [n for n, a in enumerate(sequence, start=1) if a in PAGES]
    writes = [n for n, a in enumerate(sequence, start=1) if a in WRITES]
    if turn % 2 == 0 or not writes:
        return [logins[turn // 2 % len(logins)]]
    if FAULTS[fault].kind in ("500", "html"):
        return [writes[0] - 1]
    return [writes[0]]


def _words(fault, sequence, at):
    """What a message about `fault` struck at `at` must say: a login step's failure says the
    login failed (or names the fault)."""
    struck = sequence[at - 1:at - 1 + FAULTS[fault].repeat]
    if any(a in ("login_form", "login") for a in struck):
        return FAULTS[fault].words + LOGIN_WORDS
    return FAULTS[fault].words


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_during_operation_over_a_session(make_pair, op, fault):
    total, ran = _total(), 0
    for scheme in schemes():
        sequence = _sequence(make_pair, op, scheme)
        for at in positions(op, fault, sequence):
            pair = _pair_for(make_pair, op, scheme)

            def strike(pair=pair, at=at, sequence=sequence):
                pair.arm(FAULTS[fault], at)
                return _words(fault, sequence, at)

            add_row(total, run_case(pair, op, strike))
            ran += 1
    _check(total, f"{fault} during {op}", ran)


@pytest.mark.parametrize("op", OPERATIONS)
def test_master_down_during_operation_over_a_session(make_pair, op):
    total, ran = _total(), cases(1, 2)
    for n in range(ran):
        pair = _pair_for(make_pair, op, schemes()[n % len(schemes())])

        def strike(pair=pair):
            pair.down()
            return DOWN_WORDS

        add_row(total, run_case(pair, op, strike))
    _check(total, f"master down during {op}", ran)
