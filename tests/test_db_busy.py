"""Editing while a reload holds the database: the edit waits for it (up to the busy timeout),
and past that is refused with a clear, retryable message and the user's values kept — never
a 500, never "database is locked" from a lock it could have waited for."""
import threading

import pytest

from tests.support.apps import finish_app, make_app, make_user, session_of
from tests.support.faultkit import HeldReload, item_form
from tests.support.pages import soup, url
from tests.support.sync import client, connect, make_clone
from tikisync_web.db import database
from tikisync_web.models import Item, User
from tikisync_web.sync import reload as reload_mod

BUSY = "the database is busy (a reload is running); try again in a moment"


@pytest.fixture
def busy_app(request, db_url, tmp_path):
    """An app whose writes wait at most 1 s for the database (10 s by default; a test may
    ask for another wait with indirect parametrization)."""
    wait = getattr(request, "param", 1)
    app = make_app(db_url, tmp_path, TIKISYNC_DB_BUSY_TIMEOUT=wait)
    yield app
    finish_app()


@pytest.fixture
def clone(busy_app, make_master):
    master = make_master(items=[("o", {"title": f"item {n}", "amount": str(n)})
                                for n in range(60)], max_records_cap=10)
    busy_app.config["TIKISYNC_HTTP_BACKOFF"] = 0
    with database.connection_context():
        connect(busy_app, master)
        tracker = make_clone(busy_app, master)
        with client(busy_app, master.url) as c:
            reload_mod.reload(tracker, c, page_size=10)
    return master, tracker


@pytest.fixture
def web(busy_app, clone):
    """A test client signed in as an editor."""
    make_user("editor", "editor")
    web = busy_app.test_client()
    with database.connection_context():
        editor = User.get(User.username == "editor")
    with web.session_transaction() as sess:
        sess.update(session_of(editor))
    return web


def held_reload(app, master, tracker):
    """A reload that writes item 1, held by the master in the middle of its pages."""
    master.items[1]["fields"]["title"] = "changed on the master"
    return HeldReload(app, master, tracker)


def item_of(remote_id):
    with database.connection_context():
        return Item.get(Item.remote_id == remote_id)


@pytest.mark.parametrize("busy_app", [10], indirect=True)  # the default wait
def test_an_edit_during_a_reload_waits_for_it_and_is_saved(busy_app, clone, web):
    master, tracker = clone
    mine = item_of(2)
    data = dict(item_form(web, busy_app, mine.id), v_title="Edited during the reload")
    held = held_reload(busy_app, master, tracker)
    threading.Timer(0.3, held.gate.set).start()  # the reload goes on while the edit waits
    response = web.post(url(busy_app, "tikisync.item_edit", item_id=mine.id), data=data)
    held.release()
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert item_of(2).values["title"] == "Edited during the reload"
    assert item_of(1).values["title"] == "changed on the master"  # the reload went through


@pytest.mark.sqlite_only  # one writer at a time is SQLite's; the server databases lock rows
def test_an_edit_while_the_reload_outlasts_the_wait_is_refused_clearly(busy_app, clone, web):
    master, tracker = clone
    mine = item_of(2)
    data = dict(item_form(web, busy_app, mine.id), v_title="Not lost")
    held = held_reload(busy_app, master, tracker)
    try:
        response = web.post(url(busy_app, "tikisync.item_edit", item_id=mine.id), data=data)
    finally:
        held.release()
    assert response.status_code == 503
    page = soup(response)
    assert BUSY in page.get_text(" ")
    assert page.find("input", {"name": "v_title"})["value"] == "Not lost"  # the user's values
    assert item_of(2).values["title"] == "item 1"  # nothing half-saved
    again = web.post(url(busy_app, "tikisync.item_edit", item_id=mine.id), data=data)
    assert again.status_code == 303 and item_of(2).values["title"] == "Not lost"


@pytest.mark.sqlite_only
def test_the_command_line_says_the_database_is_busy_in_one_line(busy_app, clone):
    master, tracker = clone
    mine = item_of(2)
    held = held_reload(busy_app, master, tracker)
    try:
        result = busy_app.test_cli_runner().invoke(
            args=["tikisync", "item", "set", str(mine.id), "--set", "title=From the CLI"])
    finally:
        held.release()
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {BUSY}"]
    assert item_of(2).values["title"] == "item 1"
