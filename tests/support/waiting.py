"""Bounded waits: count tries, never read the clock, and say what was awaited when giving up.

    wait_until(lambda: job_state() == "done", tries=200, pause=0.02, what="the job to end")

A slow machine then fails with the name of what it waited for, not with a timing assertion.
"""
import time


def wait_until(predicate, *, tries, pause, what, details=None):
    """Call `predicate` until it returns something true, and return that; at most `tries`
    calls, `pause` seconds apart. Gives up with an AssertionError naming `what`, followed by
    the text of `details()` when given (a log's tail, the last state seen)."""
    for attempt in range(tries):
        result = predicate()
        if result:
            return result
        if attempt + 1 < tries:
            time.sleep(pause)
    message = f"gave up waiting for {what} ({tries} tries, {pause} s apart)"
    raise AssertionError(message + (f":\n{details()}" if details else ""))
