"""Browser: a schedule set on the sync tab, its next run on the dashboard, and the run seen
happening there ("Run now" makes it due; the web process's own scheduler thread runs it)."""
import os

from playwright.sync_api import expect

from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tests.support.sync import connect, make_clone
from tests.support.waiting import wait_until
from tikisync_web.db import database
from tikisync_web.models import Item

WIDTHS = (1280, 360)


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def look_at(page, name):
    """Screenshots at both widths (kept when TIKISYNC_SCREENSHOTS names a folder); the page
    must never scroll sideways."""
    folder = os.environ.get("TIKISYNC_SCREENSHOTS")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert no_sideways_scroll(page), f"{name} scrolls sideways at {width} px"
        if folder:
            page.screenshot(path=os.path.join(folder, f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_schedule_set_on_the_sync_tab_shows_on_the_dashboard_and_runs(page, live_server,
                                                                       users, make_master):
    master = make_master()
    master.settings.delay = 0.15  # a run long enough to be seen under way
    with database.connection_context():
        connect(live_server.app, master)
        tracker = make_clone(live_server.app, master)
    sign_in(page, live_server, "admin", PASSWORD)
    page.goto(live_server.link("tikisync.sync", tracker_id=tracker.id))
    box = page.locator("#schedule")
    expect(box.locator("[data-schedule-state]")).to_have_text("Not scheduled")
    page.get_by_label("Reload from the master every").fill("15 minutes")
    page.get_by_role("button", name="Save the schedule").click()
    expect(box.locator("#reload_every-error")).to_contain_text("is not a duration")
    page.get_by_label("Reload from the master every").fill("15m")
    page.get_by_label("Push safe changes automatically after each run").check()
    page.get_by_role("button", name="Save the schedule").click()
    expect(box).to_contain_text("Schedule saved; next: reload in 15 minutes.")
    look_at(page, "sync-tab-schedule")

    page.goto(live_server.link("tikisync.dashboard"))
    status = page.locator(f"#schedule-status-{tracker.id}")
    expect(status).to_contain_text("Next reload:")
    expect(status).to_contain_text("(in 15 minutes)")
    look_at(page, "dashboard-next-run")

    page.goto(live_server.link("tikisync.sync", tracker_id=tracker.id))
    page.get_by_role("button", name="Run now").click()
    expect(box).to_contain_text("The next run is due now")
    page.goto(live_server.link("tikisync.dashboard"))
    seen = []

    def done_noting_states():
        state = status.get_attribute("data-schedule-state")
        if not seen or seen[-1] != state:
            seen.append(state)
        return state == "waiting"

    wait_until(done_noting_states, tries=400, pause=0.05, what="the scheduled run to end",
               details=lambda: f"states seen: {seen}")
    assert set(seen[:-1]) & {"due", "running"}, seen  # the dashboard followed the run
    expect(status).to_contain_text("Last reload just now: done — 3 items read, 3 added")
    expect(status).to_contain_text("(in 15 minutes)")
    look_at(page, "dashboard-after-run")
    with database.connection_context():
        assert Item.select().where(Item.tracker == tracker.id).count() == 3


def test_a_paused_schedule_says_why_and_resuming_it_runs_it(page, live_server, users,
                                                             make_master):
    from tikisync_web.jobs import schedules
    from tikisync_web.models import Schedule

    master = make_master()
    with database.connection_context():
        connect(live_server.app, master)
        tracker = make_clone(live_server.app, master)
        row = schedules.save(tracker, reload_every="30m", check_every="5m")
        # As five failed runs against a master that was down leave it (tests/test_schedules.py).
        Schedule.update(
            paused=True, failures=5, last_outcome="failed", last_kind="reload",
            last_run=schedules.now() - 120,
            last_message="no answer from http://127.0.0.1:9 (connection refused)",
            paused_reason="5 runs in a row failed; the last one said: no answer from "
                          "http://127.0.0.1:9 (connection refused)",
            notice_error="email: the SMTP server mail.example.org:25 did not take the message "
                         "(timed out)").where(Schedule.id == row.id).execute()
    sign_in(page, live_server, "admin", PASSWORD)
    status = page.locator(f"#schedule-status-{tracker.id}")
    expect(status).to_contain_text("Schedule paused. 5 runs in a row failed")
    expect(status).to_contain_text(f"tikisync schedule resume {tracker.id}")
    look_at(page, "dashboard-paused")
    status.get_by_role("link", name="synchronization tab").click()
    box = page.locator("#schedule")
    expect(box).to_contain_text("The last notice could not be delivered")
    look_at(page, "sync-tab-paused")
    box.get_by_role("button", name="Resume").click()
    expect(box).to_contain_text("Schedule resumed; its next run is due now.")
    expect(box.locator("[data-schedule-state]")).to_have_attribute("data-schedule-state",
                                                                   "waiting")
    expect(box).to_contain_text("Last reload just now: done — 3 items read, 3 added")
    expect(box).to_contain_text("Next check:")
    look_at(page, "sync-tab-resumed")
