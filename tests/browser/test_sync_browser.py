"""Browser: a reload with live progress, and a conflict resolved field by field."""
import re

from playwright.sync_api import expect

from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tests.support.sync import connect, edit_on_master, make_clone, reloaded_clone
from tests.support.waiting import wait_until
from tikisync_web.db import database
from tikisync_web.models import Item


def test_reload_of_2000_items_shows_progress_and_refreshes_the_list(page, live_server, users,
                                                                      make_master):
    master = make_master(items=[])
    for n in range(2000):
        master.add_item(1, {"title": f"remote item {n:04d}", "amount": str(n)})
    master.settings.max_records_cap = 100  # twenty pages...
    master.settings.delay = 0.08  # ...slow enough to watch
    with database.connection_context():
        connect(live_server.app, master)
        tracker = make_clone(live_server.app, master)
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(live_server.link("tikisync.items", tracker_id=tracker.id))
    expect(page.locator("#item-table")).to_contain_text("No items")
    page.get_by_role("button", name="Reload data from source").click()
    bar = page.locator("#items-job progress")
    expect(bar).to_have_attribute("max", "2000")
    seen = set()

    def done_noting_the_bar():
        widget = page.locator("#items-job [data-state]")
        if widget.count() and widget.first.get_attribute("data-state") == "done":
            return True
        value = bar.first.get_attribute("value") if bar.count() else None
        if value is not None:
            seen.add(int(value))
        return False

    wait_until(done_noting_the_bar, tries=600, pause=0.05, what="the reload job to be done",
               details=lambda: f"values of the bar seen: {sorted(seen)}")
    assert any(0 < v < 2000 for v in seen), seen  # the bar moved while the job ran
    expect(page.locator("#items-job")).to_contain_text("Finished")
    # The item table refreshed by itself on the job's end event.
    expect(page.locator("#item-table")).to_contain_text(re.compile(r"of 2000"))
    expect(page.locator("#item-table")).to_contain_text("remote item 0000")


def test_conflict_seen_resolved_per_field_and_pushed(page, live_server, users, fake_master):
    app = live_server.app
    with database.connection_context():
        tracker = reloaded_clone(app, fake_master)
        mine = Item.get(Item.remote_id == 1)
    sign_in(page, live_server, "admin", PASSWORD)
    # Edit the item here through the form, and the same field (plus another) on the master.
    page.goto(live_server.link("tikisync.item_edit", item_id=mine.id))
    page.get_by_label("Title").fill("Title written here")
    page.get_by_label("Amount").fill("10")
    page.get_by_role("button", name="Save").click()
    edit_on_master(fake_master, 1, {"title": "Title written on the master", "amount": "20"})
    page.goto(live_server.link("tikisync.sync", tracker_id=tracker.id))
    page.get_by_role("button", name="Check the master for changes").click()
    conflicts = page.locator("#sync-conflicts")
    expect(conflicts.locator(".ts-count-badge")).to_have_text("1")  # lists refresh on the event
    conflicts.get_by_role("link", name="Resolve…").click()
    table = page.locator("#three-way")
    expect(table.locator("tr[data-perm=title]")).to_contain_text("Title written here")
    expect(table.locator("tr[data-perm=title]")).to_contain_text("Title written on the master")
    table.locator("tr[data-perm=title] input[value=mine]").check()
    table.locator("tr[data-perm=amount] input[value=theirs]").check()
    page.get_by_role("button", name="Apply these choices").click()
    expect(page.locator("#sync-modified .ts-count-badge")).to_have_text("1")
    page.locator("#sync-modified input[name=items]").first.check()
    page.get_by_role("button", name="Preview the push of the selected items").click()
    expect(page.locator("#push-plan")).to_contain_text("Title written here")
    page.get_by_role("button", name="Push this item").click()
    expect(page.locator("[data-state=done]")).to_be_visible()
    assert fake_master.items[1]["fields"]["title"] == "Title written here"
    assert fake_master.items[1]["fields"]["amount"] == "20"
    with database.connection_context():
        here = Item.get_by_id(mine.id)
    assert (here.values["title"], here.values["amount"]) == ("Title written here", "20")
