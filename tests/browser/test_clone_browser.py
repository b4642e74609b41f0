"""The clone wizard in Chromium: the master's URL, a 403 for an under-privileged credential shown
in the page, fixing the credential on the credentials page, then the list, the preview, create,
"Reload data now" and the new tracker's fields page. The master is the in-process fake master
behaving as Tiki 9-23 (only tracker administrators may list trackers)."""
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.support import fake_master as fm
from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tests.support.clone import LIMITED, LIMITED_PASSWORD, tiki9_master
from tests.support.sync import config
from tikisync_web import credentials as creds
from tikisync_web.db import database
from tikisync_web.models import Tracker


def same_page(address, expected):
    """Same path and the same non-empty query parameters."""
    a, b = urlsplit(address), urlsplit(expected)
    return (a.path, parse_qs(a.query)) == (b.path, parse_qs(b.query))


def test_walk_the_clone_wizard(page, live_server, live_app, users, make_master):
    master = tiki9_master(make_master)
    with live_app.app_context(), database.connection_context():
        creds.add(config(live_app), identifier="tiki", url=master.url, method="basic",
                  username=LIMITED, secret=LIMITED_PASSWORD, allow_http=True)
    sign_in(page, live_server, "admin", PASSWORD)

    page.get_by_role("link", name="Clone a remote tracker").click()
    expect(page.get_by_role("heading", name="Clone a remote tracker")).to_be_visible()
    page.get_by_label("Master URL").fill(master.url)
    page.get_by_role("button", name="Search for trackers to clone").click()
    problem = page.locator("#clone-problem")
    expect(problem).to_contain_text("403 Forbidden")
    expect(problem).to_contain_text("admin_trackers")
    # htmx swapped the wizard and put the step's own URL in the address bar.
    assert same_page(page.url, live_server.link("tikisync.clone_trackers", url=master.url))
    assert page.evaluate("document.querySelectorAll('header.ts-nav').length") == 1

    # The way out is in the page: give the credential an account with the rights.
    problem.get_by_role("link", name="Open the credentials page").click()
    expect(page.get_by_role("heading", name="Credentials")).to_be_visible()
    page.locator("#credentials").get_by_role("link", name="Edit").click()
    page.get_by_label("User name").fill(fm.USER)
    page.get_by_label("Password or token").fill(fm.PASSWORD)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#tikisync-messages")).to_contain_text("Credential tiki saved")

    page.goto(live_server.link("tikisync.dashboard"))
    page.get_by_role("link", name="Clone a remote tracker").click()
    page.get_by_label("Master URL").fill(master.url)
    page.get_by_role("button", name="Search for trackers to clone").click()
    trackers = page.locator("#remote-trackers")
    expect(trackers).to_contain_text("SyncDemo")
    expect(trackers).to_contain_text("Demo tracker for sync tests")

    page.get_by_role("link", name="Preview the clone of SyncDemo").click()
    plan = page.locator("#clone-plan")
    expect(plan).to_be_visible()
    expect(page.locator("#plan-assignee")).to_contain_text("transformed")
    expect(page.locator("#plan-assignee")).to_contain_text("carol")
    expect(page.locator("#plan-number")).to_contain_text("skipped")
    expect(page.locator("#clone-summary")).to_contain_text("Nothing has been created yet")
    assert same_page(page.url, live_server.link("tikisync.clone_preview", url=master.url,
                                                tracker=1))
    # Back and forward show whole pages again (htmx history restores them from the server).
    page.go_back()
    expect(page.locator("#remote-trackers")).to_contain_text("SyncDemo")
    expect(page.locator("#clone-plan")).to_have_count(0)
    page.go_forward()
    expect(page.locator("#clone-plan")).to_be_visible()
    assert page.locator("header.ts-nav").count() == 1

    page.get_by_role("button", name="Create the local tracker").click()
    expect(page.locator("#clone-created")).to_contain_text("SyncDemo")
    with live_app.app_context(), database.connection_context():
        tracker = Tracker.get()
    assert page.url == live_server.link("tikisync.clone_done", tracker_id=tracker.id)

    page.get_by_role("button", name="Reload data now").click()
    expect(page.locator("#clone-job [data-state=done]")).to_contain_text("3 items read",
                                                                         timeout=20_000)

    page.get_by_role("link", name="Fields of the new tracker").click()
    fields = page.locator("#field-list")
    for perm in ("title", "amount", "priority", "assignee"):
        expect(fields).to_contain_text(perm)
    expect(fields).not_to_contain_text("number")
    expect(fields.locator("tr", has_text="assignee")).to_contain_text("was u on the master")
