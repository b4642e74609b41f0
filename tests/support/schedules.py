"""Helpers for schedule tests: a clock the test moves by hand, and a synchronized clone."""
import pytest

from tests.support.sync import client, connect, make_clone
from tikisync_web import credentials
from tikisync_web.jobs import schedules
from tikisync_web.sync import reload as reload_mod

START = 1_900_000_000  # a Unix time well away from today's, so no test can lean on the real one


class Clock:
    """The schedules' `now()`: stands still until the test moves it."""

    def __init__(self, start=START):
        self.time = start

    def __call__(self):
        return self.time

    def advance(self, seconds):
        self.time += int(seconds)
        return self.time


@pytest.fixture
def clock(monkeypatch):
    """Replace jobs.schedules.now by a Clock for the test."""
    fake = Clock()
    monkeypatch.setattr(schedules, "now", fake)
    return fake


def synced_clone(app, master, reload=True):
    """A clone of `master`'s tracker 1 (its credential stored once), reloaded unless told
    not to."""
    if credentials.match(master.url) is None:
        connect(app, master)
    tracker = make_clone(app, master)
    if reload:
        with client(app, master.url) as c:
            reload_mod.reload(tracker, c)
    return tracker
