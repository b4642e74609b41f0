"""Due schedules run by real `tikisync worker` processes sharing a PostgreSQL database: each
due run is taken by exactly one of them, and a worker killed mid-run leaves the run to be
picked up again."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import databases
from tests.support.apps import make_app
from tests.support.schedules import synced_clone
from tests.support.waiting import wait_until
from tikisync_web.db import database
from tikisync_web.jobs import schedules
from tikisync_web.models import AuditEvent, Item, Job, Schedule

pytestmark = pytest.mark.once
BIN = Path(sys.executable).parent


@pytest.fixture
def pg_app(tmp_path):
    if os.environ.get("TIKISYNC_SKIP_POSTGRESQL"):
        pytest.skip("TIKISYNC_SKIP_POSTGRESQL is set")
    url = databases.create_server_database("postgresql")
    app = make_app(url, tmp_path)
    yield app
    if not database.is_closed():
        database.close()
    databases.drop_server_database(url, "postgresql")


def worker(app, name, *args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TIKISYNC_")}
    environ.update(TIKISYNC_DATABASE=app.config["TIKISYNC_DATABASE"],
                   TIKISYNC_SECRET_KEY=app.config["SECRET_KEY"], **env)
    return subprocess.Popen([str(BIN / "tikisync"), "worker", "--name", name, *args],
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def make_due(trackers, every="1h"):
    """Schedules for `trackers`, due now on the real clock (the workers' own)."""
    for tracker in trackers:
        row = schedules.save(tracker, reload_every=every)
        Schedule.update(next_reload=int(time.time()) - 1).where(Schedule.id == row.id).execute()


def scheduled_reloads():
    return list(AuditEvent.select().where(AuditEvent.action == "tracker.reload",
                                          AuditEvent.username == schedules.USERNAME))


def test_two_workers_never_run_the_same_due_run_twice(pg_app, fake_master):
    app = pg_app
    fake_master.settings.delay = 0.02  # long enough for the two workers to overlap
    with database.connection_context():
        trackers = [synced_clone(app, fake_master, reload=False) for _ in range(12)]
        make_due(trackers)
    workers = [worker(app, f"worker-{n}", "--exit-when-idle", "--poll", "0.05") for n in (1, 2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    with database.connection_context():
        runs = list(Job.select().where(Job.kind == "auto-reload"))
        assert sorted(j.tracker_id for j in runs) == sorted(t.id for t in trackers)
        assert {j.state for j in runs} == {"done"}, [(j.id, j.state, j.error) for j in runs]
        assert {j.worker for j in runs} <= {"worker-1", "worker-2"}
        assert sorted(e.tracker_id for e in scheduled_reloads()) == sorted(t.id for t in trackers)
        now = int(time.time())
        for row in Schedule.select():
            assert (row.last_outcome, row.job_id) == ("ok", None)
            assert now < row.next_reload <= now + 3600
    ran = [int(err.strip().split()[-2]) for _, err in outputs]
    assert sum(ran) == 12


def test_a_worker_killed_mid_run_leaves_the_run_to_be_picked_up_again(pg_app, make_master):
    app = pg_app
    master = make_master(items=[])
    for n in range(30):
        master.add_item(1, {"title": f"item {n}"})
    with database.connection_context():
        [tracker] = [synced_clone(app, master, reload=False)]
        make_due([tracker])
    master.settings.max_records_cap = 2  # fifteen pages...
    master.settings.delay = 0.3  # ...slow enough to kill the worker in the middle
    first = worker(app, "worker-killed", "--poll", "0.05")
    try:
        def mid_run():
            with database.connection_context():
                job = Job.get_or_none(Job.kind == "auto-reload")
                return job is not None and job.state == "running" and master.page_count >= 3

        wait_until(mid_run, tries=400, pause=0.05, what="the scheduled reload to be under way",
                   details=lambda: first.stderr.read() if first.poll() is not None else "")
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    with database.connection_context():
        assert Item.select().count() == 0  # nothing half-applied
        killed = Job.get(Job.kind == "auto-reload")
        assert killed.state == "running"  # as the dead worker left it
    master.settings.delay = 0
    second = worker(app, "worker-2", "--poll", "0.1", "--max-jobs", "1",
                    TIKISYNC_JOB_STALE_SECONDS="1")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    with database.connection_context():
        runs = list(Job.select().where(Job.kind == "auto-reload").order_by(Job.id))
        assert [(j.state, j.worker) for j in runs] == [("interrupted", "worker-killed"),
                                                       ("done", "worker-2")]
        assert Item.select().count() == 30
        row = Schedule.get()
        assert (row.last_outcome, row.failures, row.job_id) == ("ok", 0, None)
        assert len(scheduled_reloads()) == 1
