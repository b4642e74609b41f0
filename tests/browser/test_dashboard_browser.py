"""In Chromium: the dashboard reflects a finished reload and a new conflict without a manual
refresh (it re-requests itself when the job's widget says the job ended). Screenshots of the
dashboard at 1,280 and 360 px are kept under test-results/dashboard/ (not committed)."""
import pathlib

from playwright.sync_api import expect

from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tests.support.sync import edit_here, edit_on_master, reloaded_clone
from tikisync_web.db import database

SHOTS = pathlib.Path("test-results/dashboard")


def test_dashboard_follows_a_reload_and_a_new_conflict(page, live_server, users, fake_master):
    app = live_server.app
    with database.connection_context():
        tracker = reloaded_clone(app, fake_master)
        edit_here(1, {"title": "Written here"}, username="admin")
    fake_master.settings.delay = 0.2  # the jobs run long enough to be seen running
    sign_in(page, live_server, "admin", PASSWORD)
    row = page.locator(f"#tracker-{tracker.id}")
    expect(row.locator("td").nth(1)).to_have_text("3")
    expect(row.locator(".ts-local-work")).to_contain_text("1 modified")
    expect(page.locator("#conflict-badge")).to_have_count(0)

    # A reload brings an item added on the master: the count changes by itself.
    fake_master.add_item(1, {"title": "Added on the master", "amount": "1"})
    row.get_by_role("button", name="Reload").click()
    expect(row.locator("td").nth(1)).to_have_text("4", timeout=20_000)
    expect(page.locator("#recent-jobs")).to_contain_text("Reload from source")

    # The master changes the field edited here; a check finds the conflict, and the row and
    # the header's badge say so without a refresh.
    edit_on_master(fake_master, 1, {"title": "Written on the master"})
    row = page.locator(f"#tracker-{tracker.id}")
    row.get_by_role("button", name="Check the master").click()
    expect(page.locator(f"#tracker-{tracker.id} .ts-local-work")).to_contain_text(
        "1 in conflict", timeout=20_000)
    expect(page.locator("#conflict-badge")).to_have_text("1 conflict to resolve")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"dashboard-{width}.png"), full_page=True)
        scroll, window = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= window
    page.locator(f"#tracker-{tracker.id} .ts-local-work").get_by_role(
        "link", name="1 in conflict").click()
    expect(page.locator("#item-table tbody tr")).to_have_count(1)
