"""Schedules with a clock the test moves: due runs run once, never beside another job of the
tracker, stranded runs are run again, failures back off and pause, auto-push stays safe."""
import threading

import pytest

from tests.support.schedules import synced_clone
from tikisync_web import items as item_svc
from tikisync_web import jobs
from tikisync_web.db import database
from tikisync_web.jobs import scheduler, schedules
from tikisync_web.models import AuditEvent, Item, Job, Schedule
from tikisync_web.sync import status as status_mod

MINUTE = 60


def look(app, runner="inline", **kw):
    """One look at the schedules, as the scheduler thread, a worker or run-due makes it."""
    return schedules.run_due(runner, context=scheduler.context_for(app), **kw)


def reloads_of(tracker):
    return AuditEvent.select().where(AuditEvent.action == "tracker.reload",
                                     AuditEvent.tracker == tracker).count()


def test_a_due_run_runs_once_and_the_next_one_on_its_beat(app, db, fake_master, clock):
    tracker = synced_clone(app, fake_master)
    start = clock()
    schedules.save(tracker, reload_every="15m", actor="test")
    assert look(app) == []  # nothing is due yet
    clock.advance(15 * MINUTE - 1)
    assert look(app) == []
    clock.advance(1)
    [job] = look(app)
    assert (job.kind, job.state) == ("auto-reload", "done")
    assert reloads_of(tracker) == 2  # the clone's own reload, then the scheduled one
    assert look(app) == []  # the same moment again: nothing more
    clock.advance(14 * MINUTE)
    assert look(app) == []
    clock.advance(MINUTE)
    assert len(look(app)) == 1
    assert reloads_of(tracker) == 3
    row = schedules.for_tracker(tracker)
    assert row.next_reload == start + 45 * MINUTE  # on the beat, whenever the look came
    assert (row.last_outcome, row.failures, row.job_id) == ("ok", 0, None)


def test_looks_racing_for_the_same_due_runs_take_each_exactly_once(app, db, fake_master, clock):
    trackers = [synced_clone(app, fake_master, reload=False) for _ in range(4)]
    for tracker in trackers:
        schedules.save(tracker, reload_every="10m", check_every="2m")
    clock.advance(10 * MINUTE)
    start = threading.Barrier(6)
    taken = []

    def race():
        with database.connection_context():
            start.wait(timeout=30)
            taken.extend(look(app, "worker", at=clock()))

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(job.tracker_id for job in taken) == sorted(t.id for t in trackers)
    queued = Job.select().where(Job.kind.startswith("auto-"))
    assert sorted(j.tracker_id for j in queued) == sorted(t.id for t in trackers)
    assert {j.kind for j in queued} == {"auto-reload"}  # the reload covers the check due too
    for tracker in trackers:
        row = schedules.for_tracker(tracker)
        assert row.job_id is not None and row.next_reload == clock() + 10 * MINUTE


def test_a_run_never_overlaps_another_job_of_its_tracker(app, db, fake_master, clock):
    tracker = synced_clone(app, fake_master)
    schedules.save(tracker, check_every="5m")
    manual = jobs.enqueue("reload", tracker=tracker, runner="worker", username="alice")
    clock.advance(5 * MINUTE)
    assert look(app) == []  # the tracker is busy: the run waits
    row = schedules.for_tracker(tracker)
    assert row.next_check == clock() + schedules.BUSY_DELAY and row.job_id is None
    jobs.run(manual.id)
    clock.advance(schedules.BUSY_DELAY)
    [job] = look(app)
    assert job.state == "done" and job.result["kind"] == "check"


def test_a_run_whose_process_died_is_picked_up_again(app, db, fake_master, clock):
    tracker = synced_clone(app, fake_master)
    schedules.save(tracker, reload_every="1h")
    clock.advance(60 * MINUTE)
    [queued] = look(app, "worker")
    assert jobs.claim(queued.id, "gone-host:1")  # a worker took it, then died mid-run
    stale = jobs.runner.time.time() - jobs.runner.STALE_SECONDS - 5
    Job.update(heartbeat=stale).where(Job.id == queued.id).execute()
    [again] = look(app)  # the next look, on any process, runs it again
    assert Job.get_by_id(queued.id).state == "interrupted"
    assert again.id != queued.id and again.state == "done"
    row = schedules.for_tracker(tracker)
    assert (row.last_outcome, row.failures, row.job_id) == ("ok", 0, None)
    assert row.next_reload == clock() + 60 * MINUTE


def test_a_master_down_for_an_hour_costs_a_few_requests_then_the_schedule_pauses(
        app, db, make_master, clock):
    app.config["TIKISYNC_HTTP_BACKOFF"] = 0  # the client's own retries, without real sleeps
    master = make_master()
    tracker = synced_clone(app, master)
    schedules.save(tracker, reload_every="15m")
    master.settings.answer_status = 503  # down: every request answered 503
    before = len(master.requests)
    runs = []
    for _ in range(2 * 60 * 4):  # two hours, a look every 15 s
        clock.advance(15)
        runs += [(clock(), job) for job in look(app)]
    assert [job.state for _, job in runs] == ["failed"] * 5
    gaps = [b[0] - a[0] for a, b in zip(runs, runs[1:], strict=False)]
    assert gaps == [60, 120, 240, 480]  # growing delays...
    row = schedules.for_tracker(tracker)
    assert row.paused and "5 runs in a row failed" in row.paused_reason  # ...then a pause
    # Each failed run is one read tried four times (the client's own retries): 20 requests in
    # two hours, where a look every 15 s would have sent 1,920.
    assert len(master.requests) - before == 5 * 4
    master.settings.answer_status = None
    schedules.resume(row, actor="test")
    [job] = look(app)
    assert job.state == "done"
    row = schedules.for_tracker(tracker)
    assert (row.paused, row.failures, row.last_outcome) == (False, 0, "ok")


def test_auto_push_sends_safe_work_and_leaves_a_conflict_for_a_person(app, db, fake_master,
                                                                      clock):
    tracker = synced_clone(app, fake_master)
    schedules.save(tracker, check_every="10m", auto_push="safe")
    safe = Item.get(Item.remote_id == 1)
    item_svc.update_item(safe, {"title": "Edited here"}, username="alice")
    contested = Item.get(Item.remote_id == 2)
    item_svc.update_item(contested, {"amount": "30"}, username="alice")
    fake_master.items[2]["fields"]["amount"] = "300"  # the master changed the same field
    new = item_svc.create_item(tracker, {"title": "Made here"}, username="alice")
    clock.advance(10 * MINUTE)
    [job] = look(app)
    assert job.state == "done", job.error
    pushed = {row["id"]: row["kind"] for row in job.result["push"]["pushed"]}
    assert pushed == {safe.id: "edit", new.id: "new"}
    assert fake_master.items[1]["fields"]["title"] == "Edited here"
    assert [i["fields"]["title"] for i in fake_master.tracker_items(1)].count("Made here") == 1
    assert fake_master.items[2]["fields"]["amount"] == "300"  # the conflict was not pushed
    assert status_mod.classify(tracker)["conflicts"] == [contested.id]
    assert Item.get_by_id(contested.id).values["amount"] == "30"  # nor lost here
    clock.advance(10 * MINUTE)
    [again] = look(app)
    assert again.result["push"] is None  # nothing safe left; the conflict still waits
    assert fake_master.items[2]["fields"]["amount"] == "300"


def test_without_auto_push_nothing_is_sent(app, db, fake_master, clock):
    tracker = synced_clone(app, fake_master)
    schedules.save(tracker, reload_every="10m")
    item_svc.update_item(Item.get(Item.remote_id == 1), {"title": "Edited here"}, username="a")
    clock.advance(10 * MINUTE)
    [job] = look(app)
    assert job.state == "done" and job.result["push"] is None
    assert fake_master.items[1]["fields"]["title"] == "First item"


def test_a_check_of_a_tracker_never_reloaded_reloads_it(app, db, fake_master, clock):
    tracker = synced_clone(app, fake_master, reload=False)
    schedules.save(tracker, check_every="5m")
    clock.advance(5 * MINUTE)
    [job] = look(app)
    assert job.result["kind"] == "reload" and Item.select().count() == 3


def test_paused_schedules_and_switched_off_sync_run_nothing(app, db, fake_master, clock):
    from tikisync_web import settings

    tracker = synced_clone(app, fake_master)
    row = schedules.save(tracker, reload_every="5m")
    schedules.pause(row, actor="test")
    clock.advance(60 * MINUTE)
    assert look(app) == []
    schedules.resume(schedules.for_tracker(tracker), actor="test")
    settings.put(settings.REMOTE_SYNC, "n")
    assert look(app) == []
    settings.put(settings.REMOTE_SYNC, "y")
    assert len(look(app)) == 1


@pytest.mark.parametrize("text, seconds", [("15m", 900), ("2h", 7200), ("1h30m", 5400),
                                           ("1d", 86400), (" 90 S ", 90), ("off", None)])
def test_durations_people_write(text, seconds):
    from tikisync_web import durations

    assert durations.parse(text) == seconds


@pytest.mark.parametrize("text", ["15", "15x", "m15", "-5m", "0m", "30s", "31d", "1.5h"])
def test_durations_that_cannot_be_used(text):
    from tikisync_web import durations

    with pytest.raises(durations.DurationError):
        durations.parse(text)


def test_saving_a_schedule_keeps_what_was_not_given(app, db, fake_master, clock):
    tracker = synced_clone(app, fake_master, reload=False)
    row = schedules.save(tracker, reload_every="1h", auto_push="safe")
    assert (row.reload_every, row.check_every, row.next_reload) == (3600, None, clock() + 3600)
    clock.advance(600)
    row = schedules.save(tracker, check_every="5m")
    assert (row.reload_every, row.check_every, row.auto_push) == (3600, 300, "safe")
    assert row.next_reload == clock() - 600 + 3600  # unchanged interval: same due time
    with pytest.raises(schedules.ScheduleInvalid) as bad:
        schedules.save(tracker, reload_every="soon", webhook_url="http://elsewhere.test/hook")
    assert set(bad.value.errors) == {"reload_every", "webhook_url"}
    assert Schedule.get_by_id(row.id).reload_every == 3600  # nothing saved
    assert schedules.save(tracker, reload_every=None, check_every=None) is None
    assert Schedule.select().count() == 0


def test_only_the_newest_scheduled_runs_are_kept(app, db, fake_master, clock, monkeypatch):
    from tikisync_web.jobs import scheduled

    monkeypatch.setattr(scheduled, "JOB_HISTORY", 3)
    tracker = synced_clone(app, fake_master)
    manual = jobs.run(jobs.enqueue("check", tracker=tracker, runner="inline").id)
    schedules.save(tracker, check_every="5m")
    taken = []
    for _ in range(6):
        clock.advance(5 * MINUTE)
        taken += look(app)
    left = [j.id for j in Job.select().where(Job.kind == "auto-check").order_by(Job.id)]
    # Pruned when a run ends, before its own row is final: the newest three that had ended
    # then, and the last run itself.
    assert left == [j.id for j in taken[-4:]]
    assert Job.get_or_none(Job.id == manual.id) is not None  # other jobs are left alone
