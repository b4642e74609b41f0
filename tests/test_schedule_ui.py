"""Schedules in the pages: the form of the sync tab, its actions, and the status the dashboard
and the sync tab show (next run, last outcome, why a schedule paused and how to resume)."""
import pytest

from tests.support.pages import soup, url
from tests.support.schedules import synced_clone
from tikisync_web import credentials, jobs
from tikisync_web.jobs import scheduler, schedules
from tikisync_web.models import Schedule, Tracker, User


@pytest.fixture
def clone(app, db, fake_master, users):
    return synced_clone(app, fake_master)


def status_of(page, tracker):
    return page.find(id=f"schedule-status-{tracker.id}")


def text(node):
    return node.get_text(" ", strip=True)


def look(app):
    return schedules.run_due(context=scheduler.context_for(app))


def test_an_admin_sets_a_schedule_on_the_sync_tab_and_the_dashboard_shows_the_next_run(
        app, client, auth, clone, clock):
    auth.become("admin")
    page = soup(client.get(url(app, "tikisync.sync", tracker_id=clone.id)))
    assert text(status_of(page, clone)) == "Not scheduled"
    form = page.find(id="schedule").find("form", action=url(app, "tikisync.schedule_save",
                                                             tracker_id=clone.id))
    assert form is not None
    response = client.post(form["action"], data={"reload_every": "15m", "check_every": "",
                                                 "auto_push": "y"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        url(app, "tikisync.sync", tracker_id=clone.id) + "#schedule")
    row = schedules.for_tracker(clone)
    assert (row.reload_every, row.check_every, row.auto_push) == (900, None, "safe")
    page = soup(client.get(url(app, "tikisync.sync", tracker_id=clone.id)))
    box = page.find(id="schedule")
    assert box.find("input", {"name": "reload_every"})["value"] == "15m"
    assert box.find("input", {"name": "auto_push"}).has_attr("checked")
    assert "Schedule saved; next: reload in 15 minutes." in text(page)
    dashboard = soup(client.get(url(app, "tikisync.dashboard")))
    status = status_of(dashboard, clone)
    assert status["data-schedule-state"] == "waiting" and not status.has_attr("hx-get")
    assert "Next reload:" in text(status) and "(in 15 minutes)" in text(status)
    assert status.find("time").text == _utc(clock() + 900)


def _utc(stamp):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%d %H:%M") + " UTC"


@pytest.mark.parametrize("posted, field, message", [
    ({"reload_every": "15x"}, "reload_every", "is not a duration"),
    ({"reload_every": "10s"}, "reload_every", "is too short"),
    ({"check_every": "forever"}, "check_every", "is not a duration"),
    ({"reload_every": "", "check_every": ""}, "reload_every", "Give at least one interval"),
    ({"reload_every": "1h", "webhook_url": "https://hooks.example.net/x"}, "webhook_url",
     "hooks.example.net"),
])
def test_a_bad_schedule_comes_back_with_its_error_and_saves_nothing(app, client, auth, clone,
                                                                   posted, field, message):
    auth.become("admin")
    response = client.post(url(app, "tikisync.schedule_save", tracker_id=clone.id), data=posted)
    assert response.status_code == 422
    page = soup(response)
    assert page.find("h1") is not None  # the whole sync tab, with the form's errors
    error = page.find(id=f"{field}-error")
    assert error is not None and message in error.text
    assert page.find("input", {"name": field})["aria-invalid"] == "true"
    assert Schedule.select().count() == 0


def test_under_htmx_the_schedule_form_swaps_only_itself(app, client, auth, clone):
    auth.become("admin")
    target = url(app, "tikisync.schedule_save", tracker_id=clone.id)
    headers = {"HX-Request": "true", "HX-Target": "schedule"}
    bad = client.post(target, data={"reload_every": "soon"}, headers=headers)
    assert bad.status_code == 422
    page = soup(bad)
    assert page.find("h1") is None and page.find(id="schedule") is not None
    good = client.post(target, data={"check_every": "5m"}, headers=headers)
    assert good.status_code == 200
    box = soup(good).find(id="schedule")
    assert "Next check:" in text(box) and "Schedule saved" in text(box)


def test_run_now_makes_the_run_due_and_the_status_polls_until_it_is_done(app, client, auth,
                                                                         clone, clock):
    auth.become("admin")
    schedules.save(clone, reload_every="2h")
    response = client.post(url(app, "tikisync.schedule_run_now", tracker_id=clone.id))
    assert response.status_code == 303
    assert schedules.for_tracker(clone).next_reload == clock()
    status_url = url(app, "tikisync.schedule_status", tracker_id=clone.id)
    due = soup(client.get(status_url)).find(id=f"schedule-status-{clone.id}")
    assert due["data-schedule-state"] == "due" and due["hx-get"] == status_url
    assert "HX-Trigger" not in client.get(status_url, headers={"HX-Request": "true"}).headers
    [job] = look(app)
    assert job.state == "done"
    last = client.get(status_url, headers={"HX-Request": "true"})
    assert "tikisync:job-finished" in last.headers["HX-Trigger"]  # the sync lists refresh
    done = soup(last).find(id=f"schedule-status-{clone.id}")
    assert done["data-schedule-state"] == "waiting" and not done.has_attr("hx-get")
    assert "Last reload just now: done — 3 items read" in text(done)
    assert "(in 2 hours)" in text(done)


def test_a_schedule_that_paused_itself_says_why_and_how_to_resume(app, client, auth, make_master,
                                                                  clock, users):
    app.config["TIKISYNC_HTTP_BACKOFF"] = 0
    master = make_master()
    tracker = synced_clone(app, master)
    schedules.save(tracker, reload_every="15m")
    master.settings.answer_status = 503
    for _ in range(120):
        clock.advance(60)
        look(app)
    auth.become("admin")
    dashboard = soup(client.get(url(app, "tikisync.dashboard")))
    status = status_of(dashboard, tracker)
    assert status["data-schedule-state"] == "paused"
    words = text(status)
    assert "Schedule paused. 5 runs in a row failed; the last one said: the master failed (503" \
        in words
    assert f"tikisync schedule resume {tracker.id}" in words
    assert status.find("a")["href"] == url(app, "tikisync.sync", tracker_id=tracker.id) + \
        "#schedule"
    sync_page = soup(client.get(url(app, "tikisync.sync", tracker_id=tracker.id)))
    buttons = [b.text for b in sync_page.find(id="schedule").find_all("button")]
    assert buttons == ["Resume", "Save the schedule"]
    master.settings.answer_status = None
    resume = sync_page.find("form", action=url(app, "tikisync.schedule_resume",
                                               tracker_id=tracker.id))
    assert client.post(resume["action"]).status_code == 303
    [job] = look(app)
    assert job.state == "done"
    auth.become("viewer")
    status = status_of(soup(client.get(url(app, "tikisync.dashboard"))), tracker)
    assert status["data-schedule-state"] == "waiting" and "Last reload" in text(status)


def test_pause_from_the_tab_stops_the_runs(app, client, auth, clone, clock):
    auth.become("admin")
    schedules.save(clone, check_every="5m")
    assert client.post(url(app, "tikisync.schedule_pause", tracker_id=clone.id)).status_code == 303
    clock.advance(3600)
    assert look(app) == []
    page = soup(client.get(url(app, "tikisync.sync", tracker_id=clone.id)))
    assert "Paused by admin." in text(status_of(page, clone))


def test_only_admins_change_schedules(app, client, auth, clone):
    schedules.save(clone, check_every="5m")
    for role in ("viewer", "editor"):
        auth.become(role)
        for endpoint in ("schedule_save", "schedule_pause", "schedule_resume",
                         "schedule_run_now"):
            response = client.post(url(app, f"tikisync.{endpoint}", tracker_id=clone.id),
                                   data={"reload_every": "1m"})
            assert response.status_code == 403, endpoint
    row = schedules.for_tracker(clone)
    assert (row.reload_every, row.paused) == (None, False)


def test_local_trackers_have_no_schedule(app, client, auth, db, users):
    local = Tracker.create(name="Local")
    auth.become("admin")
    response = client.post(url(app, "tikisync.schedule_save", tracker_id=local.id),
                           data={"reload_every": "15m"})
    assert response.status_code == 404
    dashboard = soup(client.get(url(app, "tikisync.dashboard")))
    assert status_of(dashboard, local) is None


def test_a_notice_that_could_not_be_delivered_is_shown_to_admins(app, client, auth, clone, clock,
                                                                 fake_master):
    from tikisync_web import items as item_svc
    from tikisync_web.models import Item

    app.config["TIKISYNC_WEBHOOK_URL"] = "https://hooks.example.net/x"  # not allowed
    schedules.save(clone, check_every="5m")
    item_svc.update_item(Item.get(Item.remote_id == 1), {"title": "Ours"}, username="a")
    fake_master.items[1]["fields"]["title"] = "Theirs"
    clock.advance(300)
    look(app)
    auth.become("admin")
    page = soup(client.get(url(app, "tikisync.sync", tracker_id=clone.id)))
    assert "The last notice could not be delivered: webhook: not sent to" in text(page)
    auth.become("viewer")
    dashboard = soup(client.get(url(app, "tikisync.dashboard")))
    assert "could not be delivered" not in text(dashboard)


def test_an_admin_sets_a_users_email(app, client, auth, users):
    auth.become("admin")
    target = url(app, "tikisync.user_edit", user_id=users["editor"].id)
    bad = client.post(target, data={"role": "editor", "active": "y", "email": "not an address"})
    assert bad.status_code == 422
    assert "not an email address" in soup(bad).find(id="email-error").text
    good = client.post(target, data={"role": "admin", "active": "y", "email": "ed@example.org"})
    assert good.status_code == 303
    assert User.get_by_id(users["editor"].id).email == "ed@example.org"
    listing = soup(client.get(url(app, "tikisync.users")))
    assert "ed@example.org" in text(listing)
    created = client.post(url(app, "tikisync.user_create"), data={
        "username": "fay", "role": "admin", "password": "long enough pw",
        "email": "fay@example.org"})
    assert created.status_code == 303
    assert User.get(User.username == "fay").email == "fay@example.org"


def test_the_schedule_form_accepts_an_allowed_webhook(app, client, auth, clone):
    credentials.add_origin("https://hooks.example.net", actor="test")
    auth.become("admin")
    response = client.post(url(app, "tikisync.schedule_save", tracker_id=clone.id),
                           data={"reload_every": "1h", "webhook_url": "https://hooks.example.net/x"})
    assert response.status_code == 303
    assert schedules.for_tracker(clone).webhook_url == "https://hooks.example.net/x"


def test_the_web_process_runs_due_schedules_in_a_thread_started_by_its_first_request(
        db_url, tmp_path, make_master):
    import threading

    from tests.support.apps import finish_app, make_app
    from tests.support.waiting import wait_until
    from tikisync_web.db import database
    from tikisync_web.models import Job

    def scheduler_threads():
        return [t for t in threading.enumerate() if t.name == "tikisync-scheduler"]

    app = make_app(db_url, tmp_path, TIKISYNC_JOB_RUNNER="thread",
                   TIKISYNC_SCHEDULER_TICK=0.05)
    try:
        assert scheduler_threads() == []  # not at import, not at init_app
        master = make_master()
        with database.connection_context():
            tracker = synced_clone(app, master)
            row = schedules.save(tracker, reload_every="1h")
            schedules.run_now(row)
        assert app.test_client().get(url(app, "tikisync.login")).status_code == 200
        assert len(scheduler_threads()) == 1
        app.test_client().get(url(app, "tikisync.login"))
        assert len(scheduler_threads()) == 1  # one per app, however many requests

        def ran():
            with database.connection_context():
                return Job.select().where(Job.kind == "auto-reload", Job.state == "done").count()

        wait_until(ran, tries=200, pause=0.05, what="the scheduled reload to run in the thread")
        assert scheduler.stop_all()
        assert scheduler_threads() == []
    finally:
        finish_app()
    with database.connection_context():
        assert jobs.active_for(tracker) is None
