"""`tikisync worker` processes sharing a PostgreSQL database: every queued job runs once."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import databases
from tests.support.apps import make_app
from tests.support.sync import connect, make_clone
from tikisync_web import jobs
from tikisync_web.db import database
from tikisync_web.models import AuditEvent, Item, Job

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


def test_two_workers_run_ten_queued_reloads_each_exactly_once(pg_app, fake_master):
    app = pg_app
    for n in range(25):
        fake_master.add_item(1, {"title": f"item {n}"})
    fake_master.settings.delay = 0.02  # long enough for the two workers to overlap
    with database.connection_context():
        connect(app, fake_master)
        trackers = [make_clone(app, fake_master) for _ in range(10)]
        queued = [jobs.enqueue("reload", tracker=t, runner="worker", username="test")
                  for t in trackers]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKISYNC_")}
    env.update(TIKISYNC_DATABASE=app.config["TIKISYNC_DATABASE"],
               TIKISYNC_SECRET_KEY=app.config["SECRET_KEY"])
    workers = [subprocess.Popen([str(BIN / "tikisync"), "worker", "--exit-when-idle",
                                 "--poll", "0.1", "--name", f"worker-{n}"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in (1, 2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    with database.connection_context():
        finished = [Job.get_by_id(j.id) for j in queued]
        assert {j.state for j in finished} == {"done"}, [(j.id, j.state, j.error) for j in finished]
        assert {j.worker for j in finished} <= {"worker-1", "worker-2"}
        reloads = AuditEvent.select().where(AuditEvent.action == "tracker.reload")
        assert sorted(e.tracker_id for e in reloads) == sorted(t.id for t in trackers)
        for tracker in trackers:
            assert Item.select().where(Item.tracker == tracker).count() == 28
    ran = sum(int(out[1].strip().split()[-2]) for out in outputs)
    assert ran == 10


def test_two_workers_share_two_large_reloads_and_small_jobs_each_run_once(pg_app, make_master):
    """Two trackers of 3,000 items and six small ones queued at once: two `tikisync worker`
    processes take them all between them, each job once (one run, one reload audit event per
    tracker), both workers busy, every item stored once."""
    app = pg_app
    big = make_master(items=[], max_records_cap=250, delay=0.05)  # 12 pages of 250 each
    for n in range(3000):
        big.add_item(1, {"title": f"big item {n}", "amount": str(n)})
    small = make_master(delay=0.05)  # long enough for both workers to be up
    with database.connection_context():
        connect(app, big)
        connect(app, small)
        large = [make_clone(app, big) for _ in range(2)]
        trackers = large + [make_clone(app, small) for _ in range(6)]
        queued = [jobs.enqueue("reload", tracker=t, runner="worker", username="test")
                  for t in trackers]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKISYNC_")}
    env.update(TIKISYNC_DATABASE=app.config["TIKISYNC_DATABASE"],
               TIKISYNC_SECRET_KEY=app.config["SECRET_KEY"])
    workers = [subprocess.Popen([str(BIN / "tikisync"), "worker", "--exit-when-idle",
                                 "--no-schedules", "--poll", "0.05", "--name", f"worker-{n}"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
               for n in (1, 2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    ran = [int(out[1].strip().split()[-2]) for out in outputs]
    assert sum(ran) == len(queued) and min(ran) >= 1, outputs
    with database.connection_context():
        finished = [Job.get_by_id(j.id) for j in queued]
        assert [(j.state, j.error) for j in finished] == [("done", "")] * len(queued)
        assert {j.worker for j in finished} == {"worker-1", "worker-2"}
        reloads = AuditEvent.select().where(AuditEvent.action == "tracker.reload")
        assert sorted(e.tracker_id for e in reloads) == sorted(t.id for t in trackers)
        for tracker in large:
            assert Item.select().where(Item.tracker == tracker).count() == 3000
            assert (Item.select(Item.remote_id).where(Item.tracker == tracker)
                    .distinct().count()) == 3000
