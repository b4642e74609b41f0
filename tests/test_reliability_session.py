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
# A login that fails, whatever the fault, may say so; a ticket that could not be had, or was
# refused, names the ticket (a page cut short or replaced cannot be told from Tiki's own).
PAGE_WORDS = {"login_form": ("logging in at",), "login": ("logging in at",),
              "ticket_form": ("security ticket",)}
# A message about a login or a ticket never claims a write may have been applied.
NOT_A_WRITE = ("may have been applied",)


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
    """The requests to strike (1-based). Quick: a login step for every other fault and
    operation, else the first write for faults about lost replies (the reply before it,
    which hands out its ticket, for the others); both for push new; thorough: every one."""
    if thorough():
        return list(range(1, len(sequence) + 1))
    names = list(FAULTS)
    turn = names.index(fault) + OPERATIONS.index(op)
    logins = [n for n, a in enumerate(sequence, start=1) if a in PAGES]
    writes = [n for n, a in enumerate(sequence, start=1) if a in WRITES]
    login = logins[turn // 2 % len(logins)]
    if not writes:
        return [login]
    write = writes[0] - 1 if FAULTS[fault].kind in ("500", "html") else writes[0]
    if op == "push new":
        return [login, write]
    return [login] if turn % 2 == 0 else [write]


def _words(fault, struck):
    """What a message about `fault` striking the requests `struck` must say: the fault's words,
    or for a session page what its failure means."""
    words = FAULTS[fault].words
    for action in struck:
        words += PAGE_WORDS.get(action, ())
    return words


def _never(struck):
    """A fault on a session page ends the attempt there (the requests after it are not sent):
    what it says is about a login or a ticket."""
    return NOT_A_WRITE if struck[0] in PAGES else ()


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_during_operation_over_a_session(make_pair, op, fault):
    total, ran = _total(), 0
    for scheme in schemes():
        sequence = _sequence(make_pair, op, scheme)
        for at in positions(op, fault, sequence):
            pair = _pair_for(make_pair, op, scheme)
            struck = sequence[at - 1:at - 1 + FAULTS[fault].repeat]

            def strike(pair=pair, at=at, struck=struck):
                pair.arm(FAULTS[fault], at)
                return _words(fault, struck)

            add_row(total, run_case(pair, op, strike, _never(struck)))
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


def _at_first_write(master, then):
    """Call `then()` once, when the master receives the operation's first write (before it
    acts on it)."""
    done = []

    def hook(stage, action, number):
        if stage == "before" and action in WRITES and not done:
            done.append(action)
            then()

    master.faults.hook = hook


def _run_event(make_pair, op, what, arm, words=(), never=()):
    """Cases of one session event, one per ticket scheme of the profile, as a row. `arm(pair)`
    sets the event up; a failure must carry one of `words` (none: the operation must work
    at the first attempt) and none of `never`."""
    total, ran = _total(), 0
    for scheme in schemes():
        pair = _pair_for(make_pair, op, scheme)

        def strike(pair=pair):
            pair.calm()
            arm(pair)
            return words

        add_row(total, run_case(pair, op, strike, never))
        ran += 1
    _check(total, f"{what} during {op}", ran)


def _end_sessions(pair):
    pair.master.session_store.by_id.clear()  # its lifetime is over, or the master restarted


@pytest.mark.parametrize("op", ("push new", "push edit", "resolve"))
def test_the_session_ends_between_the_read_before_and_the_write(make_pair, op):
    """Tiki checks the session and its ticket before it writes: one fresh login, and the
    write goes through at the first attempt."""
    _run_event(make_pair, op, "session ended between the read-before and the write",
               lambda pair: _at_first_write(pair.master, lambda: _end_sessions(pair)))


def test_a_ticket_refused_after_a_stall(make_pair):
    """An insert stalls past the timeout (applied: the push finds the item and adopts it),
    then the master refuses the next insert's ticket: a fresh login, the insert form's
    ticket, that insert once; the push works at the first attempt."""
    def arm(pair):
        pair.strike("stall", on="insert_item", at={1})
        pair.strike("refuse_ticket", on="insert_item", at={2})

    _run_event(make_pair, "push new", "ticket refused after a stall", arm)


def test_a_ticket_refused_twice(make_pair):
    """Refused again after the fresh login: that insert fails, saying so; nothing was
    inserted, and the next push inserts it once."""
    _run_event(make_pair, "push new", "ticket refused twice",
               lambda pair: pair.strike("refuse_ticket", on="insert_item", at={1, 2}),
               ("does not match a ticket on the server",))


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_on_the_insert_forms_ticket(make_pair, fault):
    """The session ended before an insert: the refused ticket sends the client to log in
    again and fetch the insert form for a ticket, and that request fails."""
    def arm(pair):
        _at_first_write(pair.master, lambda: _end_sessions(pair))
        kind = FAULTS[fault].kind
        pair.strike(kind, on="ticket_form", at=range(1, 1 + FAULTS[fault].repeat))

    _run_event(make_pair, "push new", f"{fault} on the insert form's ticket", arm,
               _words(fault, ["ticket_form"]), NOT_A_WRITE)
