"""Jobs: one active job per tracker, runners, progress widget, stale heartbeats."""
import threading
import time

import pytest

from tests.support.pages import soup, url
from tests.support.waiting import wait_until
from tikisync_web import jobs
from tikisync_web.models import Job, Tracker

RELEASE = threading.Event()


@jobs.handler("test-count")
def _count(job, progress, context):
    progress.total(3, "counting")
    for n in range(3):
        progress.step(n + 1, f"item {n + 1}")
    return {"counted": 3, "params": job.params}


@jobs.handler("test-fail")
def _fail(job, progress, context):
    raise jobs.JobFailed("the master said no")


@jobs.handler("test-wait")
def _wait(job, progress, context):
    progress.total(10, "waiting")
    progress.step(4)
    RELEASE.wait(10)
    return {}


@pytest.fixture
def tracker(db):
    return Tracker.create(name="T")


def test_inline_job_runs_to_done_with_result(tracker):
    job = jobs.enqueue("test-count", tracker=tracker, params={"x": 1}, runner="inline")
    done = jobs.start(job)
    assert done.state == "done"
    assert (done.done, done.total) == (3, 3)
    assert done.result == {"counted": 3, "params": {"x": 1}}
    assert done.lock_key is None


def test_failed_job_keeps_reason_and_releases_tracker(tracker):
    job = jobs.start(jobs.enqueue("test-fail", tracker=tracker, runner="inline"))
    assert job.state == "failed" and job.error == "the master said no"
    again = jobs.enqueue("test-count", tracker=tracker, runner="inline")
    assert again.state == "queued"


def test_second_job_for_same_tracker_is_refused(tracker):
    first = jobs.enqueue("test-count", tracker=tracker, runner="worker")
    with pytest.raises(jobs.JobBusy) as refused:
        jobs.enqueue("test-count", tracker=tracker, runner="worker")
    assert refused.value.job.id == first.id
    assert "already queued" in str(refused.value)
    other = Tracker.create(name="Other")
    assert jobs.enqueue("test-count", tracker=other, runner="worker").id != first.id


def test_claim_runs_once(db):
    job = jobs.enqueue("test-count", runner="worker")
    assert jobs.claim(job.id, "a") is True
    assert jobs.claim(job.id, "b") is False
    assert Job.get_by_id(job.id).worker == "a"


def test_stale_running_job_is_interrupted_and_unlocks(tracker, monkeypatch):
    job = jobs.enqueue("test-count", tracker=tracker, runner="worker")
    jobs.claim(job.id, "gone-host:1")
    stale = time.time() - jobs.runner.STALE_SECONDS - 5
    Job.update(heartbeat=stale).where(Job.id == job.id).execute()
    assert jobs.reap_stale() == [job.id]
    row = Job.get_by_id(job.id)
    assert row.state == "interrupted" and row.lock_key is None
    assert "nothing was half-applied" in row.error
    jobs.enqueue("test-count", tracker=tracker, runner="worker")  # the tracker is free again


def test_worker_loop_runs_queued_jobs_and_stops_when_idle(db):
    ids = [jobs.enqueue("test-count", runner="worker").id for _ in range(3)]
    assert jobs.work(worker="w1", exit_when_idle=True) == 3
    assert {Job.get_by_id(i).state for i in ids} == {"done"}


def test_progress_widget_polls_until_done_then_triggers(app, client, auth, tracker):
    auth.login("viewer")
    RELEASE.clear()
    job = jobs.enqueue("test-wait", tracker=tracker, runner="thread")
    jobs.start(job, app=app)
    # Running is written when the job is claimed, a moment before the handler reports its
    # figures: wait for those, or a loaded machine asks in between and sees "0 of ?".
    def reported():
        live = jobs.snapshot(Job.get_by_id(job.id))
        return (live.state, live.done, live.total) == ("running", 4, 10)

    wait_until(reported, tries=200, pause=0.02, what="the job to start and report 4 of 10")
    response = client.get(url(app, "tikisync.job_progress", job_id=job.id),
                          headers={"HX-Request": "true"})
    widget = soup(response).find(id=f"job-{job.id}")
    assert widget["hx-get"] == url(app, "tikisync.job_progress", job_id=job.id)
    assert widget["hx-trigger"].startswith("load delay:")
    progress = widget.find("progress")
    assert (progress["value"], progress["max"]) == ("4", "10")
    assert "4 of 10 items" in widget.text
    assert "HX-Trigger" not in response.headers
    RELEASE.set()
    wait_until(lambda: Job.get_by_id(job.id).state == "done", tries=200, pause=0.02,
               what="the job to end")
    final = client.get(url(app, "tikisync.job_progress", job_id=job.id),
                       headers={"HX-Request": "true"})
    widget = soup(final).find(id=f"job-{job.id}")
    assert not widget.has_attr("hx-trigger") and not widget.has_attr("hx-get")
    assert "tikisync:job-finished" in final.headers["HX-Trigger"]
    page = soup(client.get(url(app, "tikisync.job", job_id=job.id)))
    assert page.find("html") is not None and page.find(id=f"job-{job.id}") is not None


def test_progress_value_is_clamped(app, client, auth, tracker):
    auth.login("viewer")
    job = jobs.enqueue("test-count", tracker=tracker, runner="worker")
    jobs.claim(job.id)
    Job.update(done=15, total=10).where(Job.id == job.id).execute()
    widget = soup(client.get(url(app, "tikisync.job_progress", job_id=job.id))).find("progress")
    assert widget["value"] == "10" and widget["max"] == "10"


# What a job is called on its widget: every kind the handlers register has a name.
KIND_NAMES = {"reload": "Reload from source", "check": "Check the master for changes",
              "meta": "Reload field definitions", "push": "Push to the master",
              "preview": "Read the master for a push preview"}


def test_every_job_kind_is_named_on_its_progress_widget(app, client, auth, tracker):
    auth.login("viewer")
    registered = {kind for kind, handler in jobs.HANDLERS.items()
                  if handler.__module__ == "tikisync_web.jobs.handlers"}
    assert registered == set(KIND_NAMES), "a new job kind needs a name in views/labels.py"
    for kind, name in KIND_NAMES.items():
        job = Job.create(kind=kind, tracker=tracker, state="done")
        widget = soup(client.get(url(app, "tikisync.job_progress", job_id=job.id)))
        assert widget.find(id=f"job-{job.id}").strong.get_text() == name
