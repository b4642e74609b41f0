"""In Chromium: a push's page names each item once the job ends (without a refresh) and links the
skipped conflict to its three-way view; an editor sees "In conflict" on the item page and in
the item list; the search box finds items by a dropdown's label. Screenshots are kept under
test-results/outcomes/ (not committed)."""
import pathlib

import pytest
from playwright.sync_api import expect

from tests.support import seed
from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tests.support.sync import conflict, edit_here, edit_on_master, reloaded_clone
from tikisync_web.db import database

SHOTS = pathlib.Path("test-results/outcomes")


def shot(page, name):
    """Screenshots at both widths, each checked to be no wider than the window."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        scroll, window = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= window, f"{name} at {width} px is {scroll} px wide"
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def conflicted(live_server, users, fake_master):
    """A reloaded clone: item 2 edited here, item 1 edited on both sides (a conflict)."""
    app = live_server.app
    with database.connection_context():
        tracker = reloaded_clone(app, fake_master)
        edited = edit_here(2, {"amount": "77"}, username="editor")
        clash = conflict(app, tracker, fake_master, 1, {"title": "Written here"},
                         {"title": "Written on the master"}, username="editor")
    return tracker, edited, clash


def test_push_page_names_each_item_and_links_the_conflict(page, live_server, conflicted,
                                                          fake_master):
    tracker, edited, clash = conflicted
    fake_master.settings.delay = 0.5  # slow enough that the page shows the job running first
    sign_in(page, live_server, "admin", PASSWORD)
    expect(page.locator("#conflict-badge")).to_have_text("1 conflict to resolve")
    page.goto(live_server.link("tikisync.push_preview", tracker_id=tracker.id))
    page.get_by_role("button", name="Push this item").click()
    expect(page.locator("#job-outcome")).to_have_attribute(
        "hx-trigger", "tikisync:job-finished from:body")
    outcome = page.locator("#push-outcome")
    expect(outcome).to_be_visible(timeout=20_000)  # fetched by itself when the job ended
    expect(page.locator("main")).not_to_contain_text("Refresh")
    pushed = outcome.locator(f"tr[data-item='{edited.id}']")
    expect(pushed).to_contain_text("Pushed")
    expect(pushed).to_contain_text("sent Amount")
    skipped = outcome.locator(f"tr[data-item='{clash.id}']")
    expect(skipped).to_contain_text("Skipped")
    shot(page, "push-outcome")
    skipped.get_by_role("link", name="Resolve…").click()
    expect(page.locator("#three-way")).to_contain_text("Written on the master")
    shot(page, "three-way")
    page.get_by_role("link", name="Overwrite the master with all my values…").click()
    expect(page.locator("#overwrite-values")).to_contain_text("Written on the master")
    shot(page, "overwrite-confirmation")
    assert fake_master.items[2]["fields"]["amount"] == "77"


def test_an_editor_sees_the_conflict_in_the_list_and_on_the_item(page, live_server,
                                                                 conflicted):
    tracker, edited, clash = conflicted
    sign_in(page, live_server, "editor", PASSWORD)
    expect(page.locator("#conflict-badge")).to_have_count(0)  # an editor cannot resolve
    page.goto(live_server.link("tikisync.items", tracker_id=tracker.id))
    page.get_by_label("Sync state").select_option(label="in conflict")
    rows = page.locator("#item-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("in conflict")
    shot(page, "items-in-conflict")
    rows.first.get_by_role("link", name=str(clash.id), exact=True).click()
    banner = page.locator("#item-sync-state")
    expect(banner).to_contain_text("In conflict")
    expect(banner).to_contain_text("Ask an administrator")
    shot(page, "item-in-conflict")


def test_search_by_a_dropdown_label(page, live_server, users):
    with database.connection_context():
        tracker = seed.make_tracker("Requests", [
            ("title", "Title", "t", {}, True),
            ("priority", "Priority", "d", {"options": ["1=Low", "2=Medium", "3=High"]}, False)])
        seed.add_item(tracker, title="Printer jam", priority="2")
        seed.add_item(tracker, title="Fire alarm", priority="3")
    sign_in(page, live_server, "viewer", PASSWORD)
    page.goto(live_server.link("tikisync.items", tracker_id=tracker.id))
    expect(page.locator("#item-table tbody tr")).to_have_count(2)
    page.get_by_label("Search").first.fill("Medium")
    rows = page.locator("#item-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Printer jam")
    expect(rows.first).to_contain_text("Medium")


def test_the_preview_flags_an_item_the_master_changed_after_the_reload(page, live_server,
                                                                      conflicted, fake_master):
    tracker, edited, clash = conflicted
    edit_on_master(fake_master, 2, {"amount": "5"})  # after the last reload and check
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(live_server.link("tikisync.sync", tracker_id=tracker.id))
    page.get_by_role("button", name="Preview the push of the selected items").click()
    row = page.locator(f"#push-plan tr[data-item='{edited.id}'][data-perm='amount']")
    expect(row).to_contain_text("changed on the master")
    expect(row.locator("td").nth(-2)).to_have_text("5")  # Master now, read just now
    expect(page.locator("#push-would-conflict")).to_be_visible()
    shot(page, "push-preview")


def test_a_large_preview_reads_the_master_as_a_job_and_shows_it_when_done(
        page, live_server, conflicted, fake_master, monkeypatch):
    from tikisync_web.views import sync_tab

    monkeypatch.setattr(sync_tab, "PREVIEW_READ_LIMIT", 0)  # every preview counts as large
    tracker, edited, clash = conflicted
    edit_on_master(fake_master, 2, {"amount": "5"})
    fake_master.settings.delay = 0.6
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(live_server.link("tikisync.push_preview", tracker_id=tracker.id))
    row = page.locator(f"#push-plan tr[data-item='{edited.id}'][data-perm='amount']")
    expect(row.locator("td").nth(-2)).to_have_text("3")  # the last reload's value
    page.get_by_role("button", name="Read the master now").click()
    expect(page.locator("#push-preview progress")).to_have_count(1)
    expect(row.locator("td").nth(-2)).to_have_text("5", timeout=20_000)  # no refresh needed
    expect(row).to_contain_text("changed on the master")
    expect(page.locator("#push-preview progress")).to_have_count(0)
