"""The bounded wait of tests/support/waiting.py."""
import pytest

from tests.support.waiting import wait_until


def test_returns_the_first_true_answer_and_stops_asking():
    answers = iter([None, 0, "ready", "again"])
    calls = []

    def ready():
        calls.append(1)
        return next(answers)

    assert wait_until(ready, tries=5, pause=0, what="readiness") == "ready"
    assert len(calls) == 3


def test_gives_up_after_its_tries_naming_what_it_waited_for():
    calls = []
    with pytest.raises(AssertionError, match="gave up waiting for the job to end"):
        wait_until(lambda: calls.append(1), tries=4, pause=0, what="the job to end")
    assert len(calls) == 4


def test_the_failure_carries_the_details_asked_for():
    with pytest.raises(AssertionError, match="the server to answer .*:\nlast lines of its log"):
        wait_until(lambda: False, tries=2, pause=0, what="the server to answer",
                   details=lambda: "last lines of its log")
