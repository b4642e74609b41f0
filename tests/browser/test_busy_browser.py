"""Browser: saving an item while a reload holds the database past the wait. The form comes
back with what was typed and says the database is busy; saving again once the reload is done
works. Looked at 1,280 and 360 px wide: nothing scrolls sideways."""
import pytest
from playwright.sync_api import expect

from tests.support.apps import PASSWORD, finish_app, make_app, make_user
from tests.support.browser import LiveServer, sign_in
from tests.support.faultkit import HeldReload
from tests.support.sync import client, connect, make_clone
from tikisync_web.db import database
from tikisync_web.models import Item
from tikisync_web.sync import reload as reload_mod

pytestmark = pytest.mark.sqlite_only  # one writer at a time is SQLite's own


@pytest.fixture
def busy_server(db_url, tmp_path):
    """A live server whose writes wait at most half a second for the database."""
    app = make_app(db_url, tmp_path, TIKISYNC_JOB_RUNNER="thread",
                   TIKISYNC_DB_BUSY_TIMEOUT=0.5, TIKISYNC_HTTP_BACKOFF=0)
    make_user("admin", "admin")
    server = LiveServer(app)
    yield server
    server.stop()
    finish_app()


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [1280, 360])
def test_an_edit_refused_while_a_reload_runs_keeps_what_was_typed(page, busy_server,
                                                                  make_master, tmp_path, width):
    app = busy_server.app
    master = make_master(items=[("o", {"title": f"item {n}"}) for n in range(30)],
                         max_records_cap=5)
    with database.connection_context():
        connect(app, master)
        tracker = make_clone(app, master)
        with client(app, master.url) as c:
            reload_mod.reload(tracker, c, page_size=5)
        item = Item.get(Item.tracker == tracker, Item.remote_id == 3)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, busy_server, "admin", PASSWORD)
    page.goto(busy_server.link("tikisync.item_edit", item_id=item.id))
    page.get_by_label("Title").fill("Typed while the reload ran")
    master.items[1]["fields"]["title"] = "changed on the master"
    held = HeldReload(app, master, tracker, page_size=5)
    try:
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Save").click()
        assert answer.value.status == 503
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("the database is busy (a reload is running); try again "
                                      "in a moment")
        expect(page.get_by_label("Title")).to_have_value("Typed while the reload ran")
        assert no_sideways_scroll(page)
        page.screenshot(path=str(tmp_path / f"busy-{width}.png"), full_page=True)
    finally:
        held.release()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#tikisync-messages")).to_contain_text(f"Item #{item.id} saved.")
    with database.connection_context():
        assert Item.get_by_id(item.id).values["title"] == "Typed while the reload ran"
